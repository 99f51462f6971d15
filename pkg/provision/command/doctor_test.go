package command

import (
	"context"
	"encoding/json"
	"errors"
	"testing"

	"github.com/provision-dev/provision/pkg/provision/ops"
)

// doctor passes when every flow passes.
func TestDoctorAllPass(t *testing.T) {
	ct := newCommandTest(t)
	ct.built()
	code, err := Doctor(context.Background(), ct.options(false, ""), DoctorOptions{})
	ct.want("doctor", code, 0, err, `Stack "unit" in eu-west-1`, "  PASS  a -> b", "All 1 checks pass.")
}

// A blocked flow fails doctor with exit 2, naming what blocks it.
func TestDoctorBlockedFlow(t *testing.T) {
	ct := newCommandTest(t)
	ct.built()
	st := &scriptedStack{fakeStack: fakeStack{ct.world}, doctor: func() ([]ops.Flow, error) {
		return []ops.Flow{{Name: "manager -> GitLab", Blocked: "sg-1 has no rule for 443"}, {Name: "boot", OK: true, Note: "online"}}, nil
	}}
	code, err := Doctor(context.Background(), st.use(ct.options(false, "")), DoctorOptions{})
	ct.want("doctor", code, DoctorFailed, err, "  FAIL  manager -> GitLab", "blocked: sg-1 has no rule for 443", "note: online", "1 of 2 checks fail")
}

// doctor --json gives the flows and how many failed.
func TestDoctorJSON(t *testing.T) {
	ct := newCommandTest(t)
	ct.built()
	st := &scriptedStack{fakeStack: fakeStack{ct.world}, doctor: func() ([]ops.Flow, error) {
		return []ops.Flow{{Name: "x", Blocked: "y"}}, nil
	}}
	code, err := Doctor(context.Background(), st.use(ct.options(false, "")), DoctorOptions{JSON: true})
	ct.want("doctor --json", code, DoctorFailed, err)
	var rep struct {
		Stack  string     `json:"stack"`
		Flows  []ops.Flow `json:"flows"`
		Failed int        `json:"failed"`
	}
	if err := json.Unmarshal(ct.out.Bytes(), &rep); err != nil || rep.Stack != "unit" || rep.Failed != 1 || len(rep.Flows) != 1 || rep.Flows[0].Blocked != "y" {
		t.Errorf("doctor --json: %+v %v\n%s", rep, err, ct.out.String())
	}
}

// Without a state there is nothing to check; a failed check is an error.
func TestDoctorErrors(t *testing.T) {
	ct := newCommandTest(t)
	ctx := context.Background()
	code, err := Doctor(ctx, ct.options(false, ""), DoctorOptions{})
	ct.want("doctor without a state", code, 1, err, "has no state file", "provision up")
	ct.built()
	st := &scriptedStack{fakeStack: fakeStack{ct.world}, doctor: func() ([]ops.Flow, error) { return nil, errors.New("describe failed") }}
	code, err = Doctor(ctx, st.use(ct.options(false, "")), DoctorOptions{})
	ct.want("doctor when AWS fails", code, 1, err, "describe failed")
}

// doctor colours its verdicts on a terminal, and only there.
func TestDoctorVerdictColours(t *testing.T) {
	if got := paintVerdict(true, true); got != "\x1b[32mPASS\x1b[0m" {
		t.Errorf("coloured PASS: %q", got)
	}
	if got := paintVerdict(true, false); got != "\x1b[31mFAIL\x1b[0m" {
		t.Errorf("coloured FAIL: %q", got)
	}
	if paintVerdict(false, false) != "FAIL" || paintVerdict(false, true) != "PASS" {
		t.Errorf("plain verdicts are coloured")
	}
}
