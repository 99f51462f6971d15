package awsapi

import (
	"os/exec"
	"path/filepath"
	"testing"
)

// clients.go and the fakes are what scripts/clientgen makes of calls.txt:
// a call added by hand to one of them, or to the list alone, fails here.
func TestClientsAreGenerated(t *testing.T) {
	cmd := exec.Command("go", "run", filepath.Join(moduleRoot(t), "scripts", "clientgen"), "-dir", ".", "-check")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
}
