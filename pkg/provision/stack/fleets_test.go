package stack

import (
	"fmt"
	"testing"

	"github.com/provision-dev/provision/pkg/provision/config"
	"github.com/provision-dev/provision/pkg/state"
)

// Fleet names that come from AWS (tags, parameter names) or from the state
// reach step ids, AWS names and the manager's scripts: only names a
// configuration could hold are taken, whatever else a hand-edited state or
// another account's tag says.
func TestHostileFleetNamesAreNotTaken(t *testing.T) {
	for tag, want := range map[string]string{
		"asg/runner.arm":               "arm",
		"lt/runner.big-2":              "big-2",
		"asg/runner.$(reboot)":         "",
		"asg/runner.arm;rm -rf /":      "",
		"asg/runner.ARM":               "",
		"asg/runner.abcdefghijklmnopq": "",
		"vpc.arm":                      "",
		"asg/runner":                   "",
	} {
		if got, ok := fleetOfTag(tag); got != want || ok != (want != "") {
			t.Errorf("fleetOfTag(%q) = %q, %v; want %q", tag, got, ok, want)
		}
	}
	ledger := state.NewLedger(state.New("ci", "eu-west-1"), nil)
	for _, step := range []string{"asg/runner[arm]", "asg/runner[$(reboot)]", "ssm/token[a b]", "lt/runner[ok-1]"} {
		if err := ledger.Put(step, &state.Resource{Type: "x", ID: "id", Status: state.StatusCreated}); err != nil {
			t.Fatal(err)
		}
	}
	cfg := config.Defaults()
	cfg.Stack = "ci"
	e := &Env{Cfg: &cfg, Ledger: ledger, Teardown: true}
	var names []string
	for _, f := range e.fleets() {
		names = append(names, f.Name)
	}
	if got := fmt.Sprint(names); got != "[default arm ok-1]" {
		t.Errorf("a teardown covers fleets %s, want [default arm ok-1]", got)
	}
}
