package ops

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/ssm"

	"github.com/provision-dev/provision/pkg/provision/gitlab"
	"github.com/provision-dev/provision/pkg/provision/gitlabtest"
)

// gitlabWith points l at a GitLab stand-in that knows the stack's runner
// token, expiring at expires (zero: never), or no runner at all.
func (l *live) gitlabWith(t *testing.T, known bool, expires time.Time) *gitlabtest.Server {
	t.Helper()
	gl := gitlabtest.New()
	t.Cleanup(gl.Close)
	gl.SetRunnerTokenExpiry(expires)
	if known {
		gl.AddRunner("glrt-fake-runner-token")
	}
	l.e.GitLab = gitlab.New(gl.URL)
	return gl
}

// The token flow blocks a token GitLab rejects or cannot read, and warns of one expiring soon.
func TestDoctorTokenFlow(t *testing.T) {
	const name = "the runner token in SSM is valid"
	l := upLive(t, nil)

	l.gitlabWith(t, false, time.Time{})
	if f := flowNamed(t, doctor(t, l), name); f.OK || !strings.Contains(f.Blocked, gitlab.ErrTokenRejected.Error()) {
		t.Errorf("rejected token: %+v", f)
	}

	soon := time.Now().Add(3 * 24 * time.Hour).UTC().Truncate(time.Second)
	l.gitlabWith(t, true, soon)
	if f := flowNamed(t, doctor(t, l), name); !f.OK || f.Note != "expires "+soon.Format(time.RFC3339)+", soon: gitlab-runner renews it only while it runs" {
		t.Errorf("token expiring in 3 days: %+v", f)
	}

	later := time.Now().Add(90 * 24 * time.Hour).UTC().Truncate(time.Second)
	l.gitlabWith(t, true, later)
	if f := flowNamed(t, doctor(t, l), name); !f.OK || f.Note != "expires "+later.Format(time.RFC3339) {
		t.Errorf("token expiring in 90 days: %+v", f)
	}

	param := l.e.Names().TokenParameter("default")
	if _, err := l.e.SSM.DeleteParameter(context.Background(), &ssm.DeleteParameterInput{Name: &param}); err != nil {
		t.Fatal(err)
	}
	if f := flowNamed(t, doctor(t, l), name); f.OK || !strings.Contains(f.Blocked, "cannot read /provision/ci/runner-token") {
		t.Errorf("no parameter: %+v", f)
	}
}
