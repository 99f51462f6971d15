package resource

import (
	"reflect"
	"testing"
)

// The configuration's tags are added and changed; a key removed from it
// is removed only when the tool put it there (provision:tags says so).
func TestTagDrift(t *testing.T) {
	want := map[string]string{"team": "platform", "env": "prod"}
	c, reasons := Drift(want, map[string]string{"team": "ci", "cost-center": "42", TagKeys: "owner,team", "owner": "ops", "Name": "x"})
	wantChange := TagChange{Set: map[string]string{"team": "platform", "env": "prod", TagKeys: "env,team"}, Remove: []string{"owner"}}
	if !reflect.DeepEqual(c, wantChange) {
		t.Errorf("change = %+v, want %+v", c, wantChange)
	}
	wantReasons := []string{"add tag env=prod", "tag team: ci -> platform", "remove tag owner (no longer in tags:)"}
	if !reflect.DeepEqual(reasons, wantReasons) {
		t.Errorf("reasons = %q", reasons)
	}
	// In line: nothing to do, even without provision:tags (made before it existed).
	if c, reasons := Drift(want, map[string]string{"team": "platform", "env": "prod"}); !c.Empty() || reasons != nil {
		t.Errorf("in-line tags drift: %+v %q", c, reasons)
	}
	// tags: emptied: the tool's keys go, and provision:tags with them.
	want = nil
	c, _ = Drift(want, map[string]string{"team": "platform", TagKeys: "team"})
	if !reflect.DeepEqual(c.Remove, []string{"team", TagKeys}) || len(c.Set) != 0 {
		t.Errorf("emptied tags: %+v", c)
	}
}
