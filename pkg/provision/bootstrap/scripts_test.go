package bootstrap

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// fakeCommands puts stand-ins for aws, curl and sleep first on PATH. Each
// records its arguments (one line per call) in args.log; aws answers
// get-parameter with the stored token and stores what put-parameter reads
// from its file:// value; curl records its standard input and answers
// like GitLab's /runners/verify.
func fakeCommands(t *testing.T, storedToken string) (bin, dir string) {
	t.Helper()
	dir = t.TempDir()
	bin = filepath.Join(dir, "bin")
	if err := os.MkdirAll(bin, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "stored"), []byte(storedToken), 0o600); err != nil {
		t.Fatal(err)
	}
	scripts := map[string]string{
		"aws": `echo "aws $*" >> "$FAKE_DIR/args.log"
case "$*" in
  *get-parameter*) cat "$FAKE_DIR/stored"; echo ;;
  *put-parameter*) for a in "$@"; do case "$a" in file://*) cp "${a#file://}" "$FAKE_DIR/stored"; echo put >> "$FAKE_DIR/puts" ;; esac; done ;;
esac`,
		"curl":  `echo "curl $*" >> "$FAKE_DIR/args.log"; cat > "$FAKE_DIR/curl.stdin"; echo '{"id":12,"token":"x","token_expires_at":"2027-02-25T10:00:00.000Z"}'`,
		"sleep": `exit 0`,
	}
	for name, body := range scripts {
		if err := os.WriteFile(filepath.Join(bin, name), []byte("#!/bin/bash\n"+body+"\n"), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	return bin, dir
}

func runScript(t *testing.T, script, bin, fakeDir, runnerDir string) string {
	t.Helper()
	path := filepath.Join(fakeDir, "script")
	if err := os.WriteFile(path, []byte(script), 0o700); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("bash", path)
	cmd.Env = append(os.Environ(), "PATH="+bin+":"+os.Getenv("PATH"), "FAKE_DIR="+fakeDir, "PROVISION_RUNNER_DIR="+runnerDir)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("script failed: %v\n%s", err, out)
	}
	return string(out)
}

func noTokenInArguments(t *testing.T, fakeDir, token string) {
	t.Helper()
	args, _ := os.ReadFile(filepath.Join(fakeDir, "args.log"))
	if len(args) == 0 {
		t.Fatal("no command was called")
	}
	if strings.Contains(string(args), token) {
		t.Errorf("the token was passed as a command argument (visible in /proc):\n%s", args)
	}
}

// The boot script writes config.toml with the token and its expiry, and
// the renewal script stores a renewed token in SSM: both without the
// token in any command's arguments.
func TestBootScriptsKeepTheTokenOutOfArguments(t *testing.T) {
	if _, err := exec.LookPath("bash"); err != nil {
		t.Skip("bash is not installed")
	}
	const token = "glrt-boot-token-value-123"
	m := managers()["manager-docker-autoscaler.yaml"]
	bin, fake := fakeCommands(t, token)
	runnerDir := filepath.Join(fake, "etc")
	if err := os.MkdirAll(runnerDir, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(runnerDir, "config.toml.template"), must(ConfigTOML(m.Runner)), 0o600); err != nil {
		t.Fatal(err)
	}

	runScript(t, TokenScript(m), bin, fake, runnerDir)
	configPath := filepath.Join(runnerDir, "config.toml")
	info, err := os.Stat(configPath)
	if err != nil || info.Mode().Perm() != 0o600 {
		t.Fatalf("config.toml: %v %v", info, err)
	}
	data, _ := os.ReadFile(configPath)
	c := decodeStrict(t, data)
	r := c.Runners[0]
	if r.Token != token || !r.TokenExpiresAt.Equal(time.Date(2027, 2, 25, 10, 0, 0, 0, time.UTC)) || time.Since(r.TokenObtainedAt) > time.Hour {
		t.Errorf("config.toml runner: token ok=%v obtained=%v expires=%v", r.Token == token, r.TokenObtainedAt, r.TokenExpiresAt)
	}
	stdin, _ := os.ReadFile(filepath.Join(fake, "curl.stdin"))
	if !strings.Contains(string(stdin), token) {
		t.Errorf("the token did not reach GitLab's verify on curl's standard input: %q", stdin)
	}
	noTokenInArguments(t, fake, token)

	// gitlab-runner renewed its token and rewrote config.toml (it writes
	// double quotes).
	const renewed = "glrt-renewed-token-value-456"
	renewedConfig := strings.Replace(string(data), "token = '"+token+"'", `token = "`+renewed+`"`, 1)
	if renewedConfig == string(data) {
		t.Fatalf("config.toml does not hold the token as expected:\n%s", data)
	}
	if err := os.WriteFile(configPath, []byte(renewedConfig), 0o600); err != nil {
		t.Fatal(err)
	}
	runScript(t, TokenSyncScript(m), bin, fake, runnerDir)
	stored, _ := os.ReadFile(filepath.Join(fake, "stored"))
	if string(stored) != renewed {
		t.Errorf("the renewed token was not stored in SSM")
	}
	noTokenInArguments(t, fake, renewed)
	// Nothing renewed: nothing written.
	runScript(t, TokenSyncScript(m), bin, fake, runnerDir)
	if puts, _ := os.ReadFile(filepath.Join(fake, "puts")); strings.Count(string(puts), "put") != 1 {
		t.Errorf("put-parameter calls: %q, want exactly one", puts)
	}
}
