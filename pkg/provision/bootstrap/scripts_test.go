package bootstrap

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

// fakeCommands puts stand-ins for aws, curl, sleep and the machine's own
// commands (dnf, systemctl, gitlab-runner) first on PATH. Each records its
// arguments (one line per call) in args.log; aws answers get-parameter
// with the stored token, stores what put-parameter reads from its file://
// value and records boot reports (put-parameter of manager-boot) in
// reports.log; curl records its standard input and answers like GitLab's
// /runners/verify with FAKE_HTTP_CODE (default 200), writing the body to
// its -o file; FAKE_FAIL names a command that fails.
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
	if err := os.WriteFile(filepath.Join(dir, "sshkey"), []byte(fakeSSHKey), 0o600); err != nil {
		t.Fatal(err)
	}
	scripts := map[string]string{
		"aws": `echo "aws $*" >> "$FAKE_DIR/args.log"
case "$*" in
  *get-parameter*runner-config*Parameter.Version*) cat "$FAKE_DIR/config-version" ;;
  *get-parameter*runner-config:*) all="$*"; v=${all##*runner-config:}; v=${v%% *}; cat "$FAKE_DIR/config-template.$v" ;;
  *get-parameter*runner-ssh-key*) cat "$FAKE_DIR/sshkey" ;;
  *get-parameter*/drain*) cat "$FAKE_DIR/drain" ;;
  *get-parameter*runner-token.*) all="$*"; f=${all##*runner-token.}; f=${f%% *}; cat "$FAKE_DIR/stored.$f"; echo ;;
  *get-parameter*) cat "$FAKE_DIR/stored"; echo ;;
  *manager-boot*) prev=""; for a in "$@"; do [[ $prev == --value ]] && printf '%s\n' "$a" >> "$FAKE_DIR/reports.log"; prev=$a; done ;;
  *put-parameter*)
    n=$(cat "$FAKE_DIR/put-attempts" 2>/dev/null || echo 0); echo $((n + 1)) > "$FAKE_DIR/put-attempts"
    if (( n < ${FAKE_PUT_FAILS:-0} )); then echo "An error occurred (ThrottlingException) when calling the PutParameter operation: Rate exceeded" >&2; exit 254; fi
    target=stored; for a in "$@"; do case "$a" in */runner-token.*) target=stored.${a##*runner-token.} ;; esac; done
    for a in "$@"; do case "$a" in file://*) cp "${a#file://}" "$FAKE_DIR/$target"; echo "put $target" >> "$FAKE_DIR/puts" ;; esac; done ;;
esac`,
		"curl": `echo "curl $*" >> "$FAKE_DIR/args.log"
case "$*" in
  */latest/api/token*) echo imds-token; exit 0 ;;
  */meta-data/local-ipv4*) echo 192.168.0.10; exit 0 ;;
  */meta-data/instance-id*) echo i-0123456789abcdef0; exit 0 ;;
esac
cat > "$FAKE_DIR/curl.stdin"
prev=""; out=/dev/stdout; for a in "$@"; do [[ $prev == -o ]] && out=$a; prev=$a; done
if [[ $* != */runners/verify* ]]; then echo 'exit 0' > "$out"; exit 0; fi
code=${FAKE_HTTP_CODE:-200}
case $code in
  200) if [[ -n ${FAKE_VERIFY_BODY:-} ]]; then printf '%s' "$FAKE_VERIFY_BODY" > "$out"; else echo '{"id":12,"token":"x","token_expires_at":"2027-02-25T10:00:00.000Z"}' > "$out"; fi ;;
  000) echo "curl: (28) Connection timed out after 10001 milliseconds" >&2; printf 000; exit 28 ;;
  *) echo '{"message":"403 Forbidden"}' > "$out" ;;
esac
printf '%s' "$code"`,
		"sleep": `exit 0`,
	}
	for _, name := range []string{"dnf", "systemctl", "gitlab-runner", "provision-install-docker-machine"} {
		scripts[name] = `echo "` + name + ` $*" >> "$FAKE_DIR/args.log"
if [[ ${FAKE_FAIL:-} == "` + name + `" ]]; then echo "` + name + `: Cannot download repomd.xml: Curl error (28): Timeout was reached" >&2; exit 1; fi`
	}
	for name, body := range scripts {
		if err := os.WriteFile(filepath.Join(bin, name), []byte("#!/bin/bash\n"+body+"\n"), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	return bin, dir
}

const fakeSSHKey = "-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAA\n-----END OPENSSH PRIVATE KEY-----\n"

func runScript(t *testing.T, script, bin, fakeDir, runnerDir string) string {
	t.Helper()
	out, err := runScriptEnv(script, bin, fakeDir, runnerDir)
	if err != nil {
		t.Fatalf("script failed: %v\n%s", err, out)
	}
	return out
}

// runScriptEnv runs a script with the stand-ins, the boot scripts of m in
// PROVISION_SBIN, and extra environment variables.
func runScriptEnv(script, bin, fakeDir, runnerDir string, env ...string) (string, error) {
	path := filepath.Join(fakeDir, "script")
	if err := os.WriteFile(path, []byte(script), 0o700); err != nil {
		return "", err
	}
	cmd := exec.Command("bash", path)
	cmd.Env = append(os.Environ(), "PATH="+bin+":"+os.Getenv("PATH"), "FAKE_DIR="+fakeDir, "PROVISION_RUNNER_DIR="+runnerDir, "PROVISION_SBIN="+bin,
		"PROVISION_VALUES="+filepath.Join(fakeDir, "values"), "PROVISION_STATE="+filepath.Join(fakeDir, "state"))
	cmd.Env = append(cmd.Env, env...)
	out, err := cmd.CombinedOutput()
	return string(out), err
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
	m.Metrics = true
	bin, fake, runnerDir := bootMachine(t, m, token)

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
	// The metrics endpoint listens on the private address the instance
	// metadata gives, only.
	if c.ListenAddress != "192.168.0.10:9252" {
		t.Errorf("listen_address %q, want the private address and port 9252", c.ListenAddress)
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

// bootReport is one line the report script wrote.
type bootReport struct {
	Stage, Status, Detail, Time string
}

// bootMachine sets up a fake machine: stand-in commands, the config
// template and the manager's scripts where the boot script finds them.
func bootMachine(t *testing.T, m Manager, token string) (bin, fake, runnerDir string) {
	t.Helper()
	bin, fake = fakeCommands(t, token)
	runnerDir = filepath.Join(fake, "etc")
	if err := os.MkdirAll(runnerDir, 0o700); err != nil {
		t.Fatal(err)
	}
	r := m.Runner
	if r.Executor == DockerAutoscaler {
		r.AutoScalingGroup = GroupPlaceholder
	}
	files := map[string]string{
		filepath.Join(fake, "config-template.1"):      string(must(ConfigTOML(r))),
		filepath.Join(fake, "config-version"):         "1\n",
		filepath.Join(fake, "values"):                 ManagerValues(m),
		filepath.Join(bin, "provision-boot-report"):   ReportScript(m),
		filepath.Join(bin, "provision-runner-config"): TokenScript(m),
	}
	for path, body := range files {
		if err := os.WriteFile(path, []byte(body), 0o700); err != nil {
			t.Fatal(err)
		}
	}
	return bin, fake, runnerDir
}

func readReports(t *testing.T, fake string) []bootReport {
	t.Helper()
	data, _ := os.ReadFile(filepath.Join(fake, "reports.log"))
	var out []bootReport
	for _, line := range strings.Split(strings.TrimSpace(string(data)), "\n") {
		if line == "" {
			continue
		}
		var r bootReport
		if err := json.Unmarshal([]byte(line), &r); err != nil {
			t.Fatalf("a boot report is not JSON: %q: %v", line, err)
		}
		if _, err := time.Parse(time.RFC3339, r.Time); err != nil {
			t.Errorf("report time %q: %v", r.Time, err)
		}
		out = append(out, r)
	}
	return out
}

func stagesOf(reports []bootReport) string {
	var s []string
	for _, r := range reports {
		s = append(s, r.Stage+"="+r.Status)
	}
	return strings.Join(s, " ")
}

// The boot reports every stage in order and ends with "online"; a failing
// stage is reported with its output and stops the boot; the token is in
// no report and no argument.
func TestBootReportsEachStage(t *testing.T) {
	if _, err := exec.LookPath("bash"); err != nil {
		t.Skip("bash is not installed")
	}
	const token = "glrt-boot-token-value-123"
	for name, m := range managers() {
		t.Run(name, func(t *testing.T) {
			bin, fake, runnerDir := bootMachine(t, m, token)
			out, err := runScriptEnv(BootScript(m), bin, fake, runnerDir)
			if err != nil {
				t.Fatalf("boot failed: %v\n%s", err, out)
			}
			want := "packages=ok docker=ok gitlab-runner-installed=ok token-read=ok token-verified=ok config-written=ok plugin-installed=ok service-running=ok online=ok"
			if got := stagesOf(readReports(t, fake)); got != want {
				t.Errorf("stages:\n got %s\nwant %s", got, want)
			}
			noTokenInArguments(t, fake, token)
			// With static keys the machines' private key is where
			// config.toml's key_path points, readable by root only.
			key, err := os.Stat(filepath.Join(runnerDir, "runner-ssh-key"))
			if m.StaticKey && (err != nil || key.Mode().Perm() != 0o600) {
				t.Errorf("the machines' key is not written with mode 0600: %v %v", key, err)
			}
			if !m.StaticKey && err == nil {
				t.Errorf("a key was written without static keys")
			}
		})
	}

	m := managers()["manager-docker-autoscaler.yaml"]
	cases := []struct {
		name       string
		env        []string
		stored     string
		wantStages string
		wantDetail string
	}{
		{"package repository not reachable", []string{"FAKE_FAIL=dnf"}, token, "packages=failed", "Cannot download repomd.xml"},
		{"token rejected", []string{"FAKE_HTTP_CODE=403"}, token, "packages=ok docker=ok gitlab-runner-installed=ok token-read=ok token-verified=failed", "GitLab rejected the runner token in /provision/ci-runners/runner-token (HTTP 403)"},
		{"GitLab not reachable", []string{"FAKE_HTTP_CODE=000"}, token, "packages=ok docker=ok gitlab-runner-installed=ok token-read=ok token-verified=failed", "not reachable from this machine on 443"},
		{"parameter holds no runner token", nil, "glpat-not-a-runner-token", "packages=ok docker=ok gitlab-runner-installed=ok token-read=failed", "does not hold a runner authentication token"},
		{"no SSH key", []string{"FAKE_NO_SSH_KEY=1"}, token, "packages=ok docker=ok gitlab-runner-installed=ok token-read=ok token-verified=ok config-written=failed", "does not hold the machines' SSH key"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			bin, fake, runnerDir := bootMachine(t, m, c.stored)
			if slices.Contains(c.env, "FAKE_NO_SSH_KEY=1") {
				_ = os.WriteFile(filepath.Join(fake, "sshkey"), []byte("ParameterNotFound"), 0o600)
			}
			out, err := runScriptEnv(BootScript(m), bin, fake, runnerDir, c.env...)
			if err == nil {
				t.Fatalf("the boot went on after a failed stage:\n%s", out)
			}
			reports := readReports(t, fake)
			if got := stagesOf(reports); got != c.wantStages {
				t.Errorf("stages:\n got %s\nwant %s", got, c.wantStages)
			}
			if last := reports[len(reports)-1]; !strings.Contains(last.Detail, c.wantDetail) {
				t.Errorf("detail %q does not say %q", last.Detail, c.wantDetail)
			}
			data, _ := os.ReadFile(filepath.Join(fake, "reports.log"))
			if strings.Contains(string(data), token) {
				t.Errorf("a report holds the token:\n%s", data)
			}
		})
	}
}

// A detail with quotes, backslashes, newlines and a token is valid JSON
// and shows no token.
func TestReportEscapesDetail(t *testing.T) {
	if _, err := exec.LookPath("bash"); err != nil {
		t.Skip("bash is not installed")
	}
	m := managers()["manager-docker-autoscaler.yaml"]
	bin, fake, runnerDir := bootMachine(t, m, "glrt-x")
	script := `"$PROVISION_SBIN/provision-boot-report" docker failed "$(printf 'line "one" \\ back\n\tglrt-secret_value.1 two\r\x01')"`
	if out, err := runScriptEnv("#!/bin/bash\n"+script+"\n", bin, fake, runnerDir); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	r := readReports(t, fake)
	if len(r) != 1 || r[0].Detail != "line \"one\" \\ back\n glrt-[redacted] two" || r[0].Status != "failed" {
		t.Errorf("report %+v", r)
	}
}

// A drain request naming this instance stops gitlab-runner (gracefully:
// the drop-in sends SIGQUIT to gitlab-runner alone, KillMode=mixed) and
// is answered; one naming another instance is left alone.
func TestDrainScriptAnswersItsOwnRequest(t *testing.T) {
	if _, err := exec.LookPath("bash"); err != nil {
		t.Skip("bash is not installed")
	}
	m := managers()["manager-docker-autoscaler.yaml"]
	if dropIn := serviceDropIn(m); !strings.Contains(dropIn, "KillMode=mixed") || !strings.Contains(dropIn, "KillSignal=SIGQUIT") || !strings.Contains(dropIn, "TimeoutStopSec=86400") {
		t.Errorf("gitlab-runner's drop-in does not stop it gracefully:\n%s", dropIn)
	}
	for _, c := range []struct {
		asked    string
		stopping bool
	}{{"i-0123456789abcdef0", true}, {"i-0ther", false}, {"none", false}} {
		bin, fake := fakeCommands(t, "glrt-x")
		if err := os.WriteFile(filepath.Join(fake, "drain"), []byte(c.asked+"\n"), 0o600); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(fake, "values"), []byte(ManagerValues(m)), 0o600); err != nil {
			t.Fatal(err)
		}
		const config = "[[runners]]\n  token = \"glrt-x\"\n  token_obtained_at = 2026-01-01T00:00:00Z\n  token_expires_at = 2027-01-01T00:00:00Z\n"
		if err := os.WriteFile(filepath.Join(fake, "config.toml"), []byte(config), 0o600); err != nil {
			t.Fatal(err)
		}
		out, err := runScriptEnv(DrainScript(m), bin, fake, fake)
		if err != nil {
			t.Fatalf("drain script: %v\n%s", err, out)
		}
		// Draining, gitlab-runner renews no token (the next manager's) and
		// no new configuration is applied.
		after, _ := os.ReadFile(filepath.Join(fake, "config.toml"))
		_, marked := os.Stat(filepath.Join(fake, "state", "draining"))
		if c.stopping && (!strings.Contains(string(after), "token_expires_at = 0001-01-01T00:00:00Z") || marked != nil || !strings.Contains(string(after), `token = "glrt-x"`)) {
			t.Errorf("a draining manager may still renew its token or apply configurations:\n%s (marked: %v)", after, marked)
		}
		if !c.stopping && string(after) != config {
			t.Errorf("a drain for another instance touched config.toml:\n%s", after)
		}
		args, _ := os.ReadFile(filepath.Join(fake, "args.log"))
		stopped := strings.Contains(string(args), "systemctl stop gitlab-runner") && strings.Contains(string(args), "systemctl poweroff")
		answered := strings.Contains(string(args), "--value drained i-0123456789abcdef0")
		if stopped != c.stopping || answered != c.stopping {
			t.Errorf("asked %q: stopped %v, answered %v, want %v:\n%s", c.asked, stopped, answered, c.stopping, args)
		}
	}
}

// GitLab's answer is outside text: an expiry that is not a datetime would
// be written into config.toml unquoted and could add a runner of its own
// (a shell executor on the manager). It is taken as "does not expire".
func TestTokenExpiryIsADatetimeOrNothing(t *testing.T) {
	if _, err := exec.LookPath("bash"); err != nil {
		t.Skip("bash is not installed")
	}
	const token = "glrt-boot-token-value-123"
	m := managers()["manager-docker-autoscaler.yaml"]
	bin, fake, runnerDir := bootMachine(t, m, token)
	evil := `{"token_expires_at":"2030-01-01T00:00:00Z` + "\n[[runners]]\n  name = 'x'\n  executor = 'shell'\n#" + `"}`
	if out, err := runScriptEnv(TokenScript(m), bin, fake, runnerDir, "FAKE_VERIFY_BODY="+evil); err != nil {
		t.Fatalf("token script: %v\n%s", err, out)
	}
	data, _ := os.ReadFile(filepath.Join(runnerDir, "config.toml"))
	c := decodeStrict(t, data)
	if len(c.Runners) != 1 || !c.Runners[0].TokenExpiresAt.IsZero() {
		t.Errorf("config.toml from a hostile expiry: %d runners, expires %v\n%s", len(c.Runners), c.Runners[0].TokenExpiresAt, data)
	}
}

// A new version of the runner configuration is applied to config.toml
// with the token gitlab-runner renewed since the boot and this manager's
// group, and reported; the same version is not applied twice; a draining
// manager applies nothing.
func TestConfigApplyScript(t *testing.T) {
	if _, err := exec.LookPath("bash"); err != nil {
		t.Skip("bash is not installed")
	}
	const token, renewed = "glrt-boot-token-value-123", "glrt-renewed-token-value-456"
	m := managers()["manager-docker-autoscaler.yaml"]
	bin, fake, runnerDir := bootMachine(t, m, token)
	if out, err := runScriptEnv(BootScript(m), bin, fake, runnerDir); err != nil {
		t.Fatalf("boot: %v\n%s", err, out)
	}
	configPath := filepath.Join(runnerDir, "config.toml")
	booted, _ := os.ReadFile(configPath)
	if c := decodeStrict(t, booted); c.Runners[0].Autoscaler.PluginConfig.Name != m.Group {
		t.Errorf("booted with group %v, want %s", c.Runners[0].Autoscaler.PluginConfig.Name, m.Group)
	}
	// gitlab-runner renewed its token.
	renewedConfig := strings.Replace(string(booted), "token = '"+token+"'", `token = "`+renewed+`"`, 1)
	if err := os.WriteFile(configPath, []byte(renewedConfig), 0o600); err != nil {
		t.Fatal(err)
	}
	r := m.Runner
	r.AutoScalingGroup, r.MaxInstances, r.IdleCount = GroupPlaceholder, 40, 3
	if err := os.WriteFile(filepath.Join(fake, "config-template.2"), must(ConfigTOML(r)), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(fake, "config-version"), []byte("2\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	before := len(readReports(t, fake))
	runScript(t, ConfigApplyScript(m), bin, fake, runnerDir)
	data, _ := os.ReadFile(configPath)
	c := decodeStrict(t, data)
	a := c.Runners[0].Autoscaler
	if a.MaxInstances != 40 || a.Policy[0].IdleCount != 3 || c.Runners[0].Token != renewed || a.PluginConfig.Name != m.Group ||
		!c.Runners[0].TokenExpiresAt.Equal(time.Date(2027, 2, 25, 10, 0, 0, 0, time.UTC)) {
		t.Errorf("applied: max %d idle %d renewed token kept %v group %v expires %v", a.MaxInstances, a.Policy[0].IdleCount, c.Runners[0].Token == renewed, a.PluginConfig.Name, c.Runners[0].TokenExpiresAt)
	}
	if info, err := os.Stat(configPath); err != nil || info.Mode().Perm() != 0o600 {
		t.Errorf("config.toml mode: %v %v", info, err)
	}
	reports := readReports(t, fake)
	if len(reports) != before+1 || reports[len(reports)-1].Stage != "online" || !strings.Contains(reports[len(reports)-1].Detail, "version 2") {
		t.Errorf("reports after applying: %+v", reports[before:])
	}
	raw, _ := os.ReadFile(filepath.Join(fake, "reports.log"))
	if !strings.Contains(string(raw), `"config":"2"`) {
		t.Errorf("the report does not carry the version applied:\n%s", raw)
	}
	noTokenInArguments(t, fake, renewed)

	// The same version again: nothing to do.
	runScript(t, ConfigApplyScript(m), bin, fake, runnerDir)
	if n := len(readReports(t, fake)); n != before+1 {
		t.Errorf("the same version was applied twice")
	}
	// Draining: a newer version waits for the next manager.
	if err := os.WriteFile(filepath.Join(fake, "state", "draining"), nil, 0o600); err != nil {
		t.Fatal(err)
	}
	r.MaxInstances = 50
	_ = os.WriteFile(filepath.Join(fake, "config-template.3"), must(ConfigTOML(r)), 0o600)
	_ = os.WriteFile(filepath.Join(fake, "config-version"), []byte("3\n"), 0o600)
	runScript(t, ConfigApplyScript(m), bin, fake, runnerDir)
	if again, _ := os.ReadFile(configPath); string(again) != string(data) {
		t.Errorf("a draining manager applied a new configuration")
	}
}

// A renewed token whose put fails is put again with backoff; when every
// attempt fails the script fails, and its timer runs it again later.
func TestTokenSyncRetries(t *testing.T) {
	if _, err := exec.LookPath("bash"); err != nil {
		t.Skip("bash is not installed")
	}
	m := managers()["manager-docker-autoscaler.yaml"]
	if !strings.Contains(tokenSyncTimer, "OnUnitActiveSec=600") {
		t.Errorf("no timer reconciles the token:\n%s", tokenSyncTimer)
	}
	for _, c := range []struct {
		fails  string
		stored bool
	}{{"2", true}, {"9", false}} {
		bin, fake := fakeCommands(t, "glrt-old-token")
		_ = os.WriteFile(filepath.Join(fake, "values"), []byte(ManagerValues(m)), 0o600)
		_ = os.WriteFile(filepath.Join(fake, "config.toml"), []byte("[[runners]]\n  token = \"glrt-renewed-token\"\n"), 0o600)
		out, err := runScriptEnv(TokenSyncScript(m), bin, fake, fake, "FAKE_PUT_FAILS="+c.fails)
		stored, _ := os.ReadFile(filepath.Join(fake, "stored"))
		if (err == nil) != c.stored || (string(stored) == "glrt-renewed-token") != c.stored {
			t.Errorf("%s failing puts: err %v, stored %q\n%s", c.fails, err, stored, out)
		}
		if !c.stored && !strings.Contains(out, "the timer tries again") {
			t.Errorf("a lost put does not say it is tried again:\n%s", out)
		}
	}
}

// Several fleets: the boot fills each fleet's entry with its own token
// (its own parameter) and group; a renewal of one fleet's token is stored
// in that fleet's parameter only; a configuration that adds a fleet and
// drops another is applied by the same manager, the new fleet's token read
// from SSM and checked with GitLab, the kept fleet's renewed token kept.
func TestFleetsScripts(t *testing.T) {
	if _, err := exec.LookPath("bash"); err != nil {
		t.Skip("bash is not installed")
	}
	const token, armToken, bigToken, renewedArm = "glrt-default-token-1", "glrt-arm-token-2", "glrt-big-token-3", "glrt-arm-renewed-4"
	m := managers()["manager-docker-autoscaler.yaml"]
	bin, fake, runnerDir := bootMachine(t, m, token)
	fleet := func(name string) Runner {
		r := m.Runner
		r.Fleet, r.AutoScalingGroup = name, GroupPlaceholder
		if name != DefaultFleet {
			r.AutoScalingGroup += "." + name
		}
		return r
	}
	write := func(name, body string) {
		t.Helper()
		if err := os.WriteFile(filepath.Join(fake, name), []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	template := string(must(ConfigTOML(fleet(DefaultFleet), fleet("arm"))))
	// A manager from before fleets looks for the bare placeholder, and so
	// refuses a template of several fleets rather than half fill it.
	if strings.Contains(template, TokenPlaceholder) || !strings.Contains(template, "@RUNNER_TOKEN:default@") {
		t.Errorf("a template of several fleets has the bare placeholder, or not the default fleet's own:\n%s", template)
	}
	write("config-template.1", template)
	write("stored.arm", armToken)
	write("stored.big", bigToken)
	if out, err := runScriptEnv(BootScript(m), bin, fake, runnerDir); err != nil {
		t.Fatalf("boot: %v\n%s", err, out)
	}
	configPath := filepath.Join(runnerDir, "config.toml")
	booted, _ := os.ReadFile(configPath)
	c := decodeStrict(t, booted)
	if len(c.Runners) != 2 || c.Runners[0].Token != token || c.Runners[1].Token != armToken ||
		c.Runners[0].Autoscaler.PluginConfig.Name != m.Group || c.Runners[1].Autoscaler.PluginConfig.Name != m.Group+".arm" || c.Concurrent != 2*m.Concurrent {
		t.Fatalf("booted config.toml:\n%s", booted)
	}
	if strings.Contains(string(booted), "@") {
		t.Errorf("a placeholder is left:\n%s", booted)
	}
	reports := readReports(t, fake)
	if !strings.Contains(stagesOf(reports), "token-read=ok token-verified=ok") || !strings.Contains(reports[len(reports)-1].Stage, "online") {
		t.Errorf("boot stages: %s", stagesOf(reports))
	}

	// gitlab-runner renews the arm fleet's token: it goes to its parameter.
	renewed := strings.Replace(string(booted), "token = '"+armToken+"'", `token = "`+renewedArm+`"`, 1)
	write("etc/config.toml", renewed)
	runScript(t, TokenSyncScript(m), bin, fake, runnerDir)
	if got, _ := os.ReadFile(filepath.Join(fake, "stored.arm")); string(got) != renewedArm {
		t.Errorf("stored.arm = %q, want the renewed token", got)
	}
	if got, _ := os.ReadFile(filepath.Join(fake, "stored")); string(got) != token {
		t.Errorf("the default fleet's parameter changed: %q", got)
	}

	// Version 2: default and big; arm goes.
	write("config-template.2", string(must(ConfigTOML(fleet(DefaultFleet), fleet("big")))))
	write("config-version", "2\n")
	runScript(t, ConfigApplyScript(m), bin, fake, runnerDir)
	applied, _ := os.ReadFile(configPath)
	c = decodeStrict(t, applied)
	if len(c.Runners) != 2 || c.Runners[0].Token != token || c.Runners[1].Token != bigToken || c.Runners[1].Name != m.Stack+" big" ||
		c.Runners[1].Autoscaler.PluginConfig.Name != m.Group+".big" || strings.Contains(string(applied), "arm") {
		t.Errorf("applied config.toml:\n%s", applied)
	}
	for _, secret := range []string{token, armToken, bigToken, renewedArm} {
		noTokenInArguments(t, fake, secret)
	}
}
