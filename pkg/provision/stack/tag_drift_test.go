package stack

import (
	"reflect"
	"testing"

	"github.com/provision-dev/provision/pkg/provision/config"
)

// The configuration's tags are added and changed; a key removed from it
// is removed only when the tool put it there (provision:tags says so).
func TestTagDrift(t *testing.T) {
	e := &Env{Cfg: &config.Config{Tags: map[string]string{"team": "platform", "env": "prod"}}}
	c, reasons := e.tagDrift(map[string]string{"team": "ci", "cost-center": "42", tagKeys: "owner,team", "owner": "ops", "Name": "x"})
	want := tagChange{set: map[string]string{"team": "platform", "env": "prod", tagKeys: "env,team"}, remove: []string{"owner"}}
	if !reflect.DeepEqual(c, want) {
		t.Errorf("change = %+v, want %+v", c, want)
	}
	wantReasons := []string{"add tag env=prod", "tag team: ci -> platform", "remove tag owner (no longer in tags:)"}
	if !reflect.DeepEqual(reasons, wantReasons) {
		t.Errorf("reasons = %q", reasons)
	}
	// In line: nothing to do, even without provision:tags (made before it existed).
	if c, reasons := e.tagDrift(map[string]string{"team": "platform", "env": "prod"}); !c.empty() || reasons != nil {
		t.Errorf("in-line tags drift: %+v %q", c, reasons)
	}
	// tags: emptied: the tool's keys go, and provision:tags with them.
	e.Cfg.Tags = nil
	c, _ = e.tagDrift(map[string]string{"team": "platform", tagKeys: "team"})
	if !reflect.DeepEqual(c.remove, []string{"team", tagKeys}) || len(c.set) != 0 {
		t.Errorf("emptied tags: %+v", c)
	}
}
