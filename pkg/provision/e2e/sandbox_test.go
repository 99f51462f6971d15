package e2e

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// The README's "Try it by hand" walkthrough, against scripts/sandbox: the
// sandbox comes up and says what to type; what it says works, twice in a
// row (down keeps the runner of the token the user gave, so the token
// still works for the second up); Ctrl-C stops it and its emulator.
func TestSandboxWalkthrough(t *testing.T) {
	t.Parallel()
	root, err := filepath.Abs("../../..")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	sandbox := exec.Command(filepath.Join(root, "scripts", "sandbox"), dir)
	sandbox.Dir = root
	var out strings.Builder
	sandbox.Stdout, sandbox.Stderr = &out, &out
	sandbox.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := sandbox.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { _ = syscall.Kill(-sandbox.Process.Pid, syscall.SIGKILL) }()
	ready := filepath.Join(dir, ".sandbox", "ready")
	for i := 0; i < 600; i++ {
		if _, err := os.Stat(ready); err == nil {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	if _, err := os.Stat(ready); err != nil {
		t.Fatalf("the sandbox did not come up:\n%s", out.String())
	}
	for _, want := range []string{"source " + dir + "/sandbox.env", "provision up --auto-approve --no-wait", "Ctrl-C here stops the sandbox"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("the sandbox does not say %q:\n%s", want, out.String())
		}
	}
	walk := `set -e
source sandbox.env
provision plan
provision up --auto-approve --no-wait
provision status || [ $? -eq 2 ]
provision down --auto-approve
`
	for round := 1; round <= 2; round++ {
		sh := exec.Command("bash", "-c", walk)
		sh.Dir = dir
		sh.Env = atATerminal(os.Environ())
		got, err := sh.CombinedOutput()
		if err != nil || !strings.Contains(string(got), "Apply complete!") || !strings.Contains(string(got), "Destroy complete!") {
			t.Fatalf("walkthrough round %d: %v\n%s", round, err, got)
		}
		if round == 2 && !strings.Contains(string(got), "stays and its token keeps working") {
			t.Errorf("down does not say the runner stays:\n%s", got)
		}
	}
	if err := syscall.Kill(-sandbox.Process.Pid, syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- sandbox.Wait() }()
	select {
	case <-done:
	case <-time.After(20 * time.Second):
		t.Fatalf("Ctrl-C did not stop the sandbox:\n%s", out.String())
	}
	if !strings.Contains(out.String(), "sandbox stopped") {
		t.Errorf("the sandbox did not say it stopped:\n%s", out.String())
	}
}

// atATerminal is the environment of a person trying the sandbox by hand:
// the test's own, without the CI job's CI=true, which would make provision
// refuse the sandbox's local state file as one that goes with the job.
func atATerminal(env []string) []string {
	var kept []string
	for _, kv := range env {
		if !strings.HasPrefix(kv, "CI=") {
			kept = append(kept, kv)
		}
	}
	return kept
}
