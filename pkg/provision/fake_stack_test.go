package provision_test

import (
	"slices"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"go.uber.org/zap"

	"github.com/provision-dev/provision/pkg/provision"
	"github.com/provision-dev/provision/pkg/provision/awsapi"
	"github.com/provision-dev/provision/pkg/provision/awsapi/awsfake"
	"github.com/provision-dev/provision/pkg/provision/config"
	"github.com/provision-dev/provision/pkg/provision/gitlab"
	"github.com/provision-dev/provision/pkg/provision/stack"
	"github.com/provision-dev/provision/pkg/provision/stack/stacktest"
	"github.com/provision-dev/provision/pkg/state"
)

// fakeStack is an AWSStack whose environments are built over one set of
// fake clients (through the NewEnv seam), with what it was asked to build.
type fakeStack struct {
	s    provision.AWSStack
	c    *awsfake.Clients
	base *stack.Env // stacktest's environment: what Discover would find
	// gitlab is the GitLab the environments talk to.
	gitlab *gitlab.API

	mu    sync.Mutex
	built []stack.EnvOptions
}

// newFakeStack is an AWSStack of stack "ci" over fakes (change adjusts the
// configuration). Each environment is stack.NewEnv's own, the run's
// options, findings and shared reads included, with the fakes in place of
// the AWS clients.
func newFakeStack(t *testing.T, change func(*config.Config)) *fakeStack {
	t.Helper()
	base, c := stacktest.NewEnv(t, change)
	f := &fakeStack{c: c, base: base, gitlab: base.GitLab}
	f.s = provision.AWSStack{Cfg: base.Cfg, Secrets: base.Secrets, Log: zap.NewNop(), Reads: awsapi.NewReads()}
	f.s.NewEnv = func(ledger *state.Ledger, o stack.EnvOptions) *stack.Env {
		f.mu.Lock()
		f.built = append(f.built, o)
		f.mu.Unlock()
		e := stack.NewEnv(base.Cfg, aws.Config{Region: base.Region}, f.s.Secrets, ledger, f.s.Log, o)
		e.EC2, e.IAM, e.ASG, e.SSM, e.KMS, e.S3, e.STS, e.Logs = c.EC2, c.IAM, c.AutoScaling, c.SSM, c.KMS, c.S3, c.STS, c.Logs
		e.GitLab = f.gitlab
		return e
	}
	return f
}

// options are the options of every environment built so far.
func (f *fakeStack) options() []stack.EnvOptions {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.built)
}

// ledger is an empty state of the stack.
func ledger() *state.Ledger { return state.NewLedger(state.New("ci", "eu-west-1"), nil) }

// up builds the whole stack over the fakes and returns its state.
func (f *fakeStack) up(t *testing.T) *state.Ledger {
	t.Helper()
	stacktest.AnswerCreations(f.c)
	l := ledger()
	if r := stacktest.Walk(t, f.s.NewEnv(l, stack.EnvOptions{Found: f.base.Discovered()}), true, false); r.Err() != nil {
		t.Fatalf("up over the fakes: %v", r.Err())
	}
	return l
}

// Images of the account the discovery fixture describes.
const (
	amiAL2023 = "ami-0a1b2c3d4e5f60001"
	amiECS    = "ami-0a1b2c3d4e5f60002"
)

// answerDiscovery makes the fakes describe stacktest's healthy account,
// in the GovCloud partition, whose instance types are sold in eu-west-1b
// and -1c only and whose latest images are amiAL2023 (8 GiB) and amiECS
// (30 GiB).
func (f *fakeStack) answerDiscovery() {
	a := stacktest.NewAccount()
	a.AccountID, a.Caller = "210987654321", "arn:aws-us-gov:iam::210987654321:user/ops"
	for t := range a.Offered {
		a.Offered[t] = []string{"eu-west-1b", "eu-west-1c"}
	}
	a.Params = map[string]string{
		"/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-x86_64": amiAL2023,
		"/aws/service/ecs/optimized-ami/amazon-linux-2023/recommended/image_id": amiECS,
	}
	a.RootGB = map[string]int32{amiAL2023: 8, amiECS: 30}
	a.Answer(f.c)
}
