// Package stack holds the AWS steps of a runner environment: Env (what
// every step shares), the step ids (names.go), the graph (stack.go), and
// one file per resource kind. The generic step is package resource; what
// runs before a plan is package preflight; what the commands show besides
// plans is package ops.
package stack

import (
	"context"
	"net/netip"
	"os"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/autoscaling"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/ssm"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"go.uber.org/zap"

	"github.com/provision-dev/provision/pkg/plan"
	"github.com/provision-dev/provision/pkg/provision/awsapi"
	"github.com/provision-dev/provision/pkg/provision/config"
	"github.com/provision-dev/provision/pkg/provision/gitlab"
	"github.com/provision-dev/provision/pkg/provision/resource"
	"github.com/provision-dev/provision/pkg/state"
)

// Env is what every step shares: the configuration, the AWS clients, the
// zone chosen for both subnets, and the ledger where steps record what they
// found or made.
type Env struct {
	Cfg    *config.Config
	Region string
	// Zone is the first zone's Availability Zone (the manager's); Zones
	// every zone's, first zone first.
	Zone   string
	Zones  []string
	EC2    awsapi.EC2
	STS    awsapi.STS
	IAM    awsapi.IAM
	ASG    awsapi.AutoScaling
	SSM    awsapi.SSM
	KMS    awsapi.KMS
	S3     awsapi.S3
	Logs   awsapi.Logs
	GitLab *gitlab.API
	Ledger *state.Ledger
	Log    *zap.Logger

	// Teardown: the graph is walked to delete; it then includes the steps
	// of every variant of the configuration.
	Teardown bool
	// KeepRunner: a teardown leaves the runner in GitLab (down --keep-runner).
	KeepRunner bool
	// DeleteRunner: a teardown deletes in GitLab the runner of a token the
	// user gave (down --delete-runner); by default it stays.
	DeleteRunner bool
	// KeepLogs: a teardown leaves the manager's log group (down --keep-logs).
	KeepLogs bool
	// NoWaitDrain: a replaced manager is asked to drain and not waited
	// for (up --no-wait); it powers itself off when its jobs end.
	NoWaitDrain bool
	// StoredTokenRenewed: the parameter holds a token gitlab-runner renewed,
	// which GitLab accepts while GITLAB_RUNNER_TOKEN is the outdated one.
	StoredTokenRenewed bool
	// RenewedFleets: the same for the other fleets, by name.
	RenewedFleets map[string]bool
	// FoundFleets are the fleets FindFleets found by their tags.
	FoundFleets []string

	// Secrets come from the environment only.
	Secrets Secrets
	// Found by Discover: the caller's account and the images to launch.
	Account Identity
	Images  Images
	// RunnerTokenExpiresAt is when GITLAB_RUNNER_TOKEN expires, as GitLab
	// said at preflight (zero: never, or not checked).
	RunnerTokenExpiresAt time.Time
	// RunnerID is GitLab's id of the runner whose token the stack uses,
	// from preflight's /runners/verify (0: not known in this run).
	RunnerID int64
	// GitLab6: GitLab's name resolves to a global IPv6 address (Discover).
	GitLab6 bool
	// Resolver looks up GitLab's name; nil: the system's resolver.
	Resolver Resolver

	// Facts this run looked up once: instance type architectures and
	// images (preflight validates both types, then resolves the images).
	factsMu sync.Mutex
	archs   map[string]string
	images  map[string]Image

	// reads are the answers this run shares between steps.
	reads *awsapi.Reads

	// OnRead, when set, hears every step whose record IDOf or AttrOf reads:
	// a test checks that each step reads only what it depends on, so the
	// graph's edges follow from what the kinds read.
	OnRead func(step plan.ID)

	// replacing holds the steps whose plan in this walk is a replacement:
	// what depends on them says so in its own plan line.
	replacing resource.Replacements
}

// records is where the steps keep what they found or made.
func (e *Env) records() resource.Records {
	return resource.Records{Ledger: e.Ledger, Stack: e.Cfg.Stack}
}

// shared is what every resource step of this walk shares.
func (e *Env) shared() resource.Shared {
	return resource.Shared{Records: e.records(), Tags: e.Cfg.Tags, EC2: e.EC2, Replacing: &e.replacing}
}

// lookupOwned is resource.LookupOwned with the id the step recorded.
func lookupOwned[T any](e *Env, step plan.ID, items []T, id func(T) string, owned func(T) bool) resource.Found[T] {
	return resource.LookupOwned(e.Ledger.Get(string(step)).RecordedID(), items, id, owned)
}

// EnvOptions is what a run decided before its environment is built.
type EnvOptions struct {
	// Teardown: the graph is walked to delete (every variant's steps).
	Teardown bool
	// KeepRunner: a teardown leaves the runner in GitLab.
	KeepRunner bool
	// DeleteRunner: a teardown deletes the runner of a user-given token.
	DeleteRunner bool
	// KeepLogs: a teardown leaves the manager's log group.
	KeepLogs bool
	// NoWaitDrain: up asks a replaced manager to drain and goes on; the
	// manager powers itself off when its jobs end (up --no-wait).
	NoWaitDrain bool
	// Found is what Discover or Preflight found earlier in the run.
	Found Discovery
	// Reads is the run's cache of shared describes (nil: none).
	Reads *awsapi.Reads
}

// NewEnv builds the clients for one walk, whole: what the run found and
// decided is given here and not changed afterwards.
func NewEnv(cfg *config.Config, awsCfg aws.Config, secrets Secrets, ledger *state.Ledger, log *zap.Logger, o EnvOptions) *Env {
	e := &Env{
		Cfg:    cfg,
		Region: awsCfg.Region,
		EC2:    ec2.NewFromConfig(awsCfg, o.Reads.EC2Options),
		STS:    sts.NewFromConfig(awsCfg),
		IAM:    iam.NewFromConfig(awsCfg),
		ASG:    autoscaling.NewFromConfig(awsCfg, o.Reads.ASGOptions),
		SSM:    ssm.NewFromConfig(awsCfg, o.Reads.SSMOptions),
		KMS:    kms.NewFromConfig(awsCfg),
		// With an endpoint of one's own (an emulator) buckets are
		// addressed by path, not by host name.
		S3: s3.NewFromConfig(awsCfg, func(o *s3.Options) {
			o.UsePathStyle = awsCfg.BaseEndpoint != nil || os.Getenv("AWS_ENDPOINT_URL") != ""
		}),
		Logs:         cloudwatchlogs.NewFromConfig(awsCfg),
		GitLab:       gitlab.New(cfg.GitLab.URL),
		Secrets:      secrets,
		Ledger:       ledger,
		Log:          log,
		Teardown:     o.Teardown,
		KeepRunner:   o.KeepRunner,
		DeleteRunner: o.DeleteRunner,
		KeepLogs:     o.KeepLogs,
		NoWaitDrain:  o.NoWaitDrain,
		reads:        o.Reads,
	}
	e.use(o.Found)
	return e
}

// IDOf returns the AWS id a step recorded, or "" while it is unknown.
func (e *Env) IDOf(step plan.ID) string {
	e.noteRead(step)
	if r := e.Ledger.Get(string(step)); r != nil && (r.Status == state.StatusCreated || r.Status == state.StatusExternal) {
		return r.ID
	}
	return ""
}

// AttrOf returns an attribute a step recorded.
func (e *Env) AttrOf(step plan.ID, key Attr) string {
	e.noteRead(step)
	return e.Ledger.Get(string(step)).Attr(string(key))
}

// noteRead tells OnRead which step's record is read.
func (e *Env) noteRead(step plan.ID) {
	if e.OnRead != nil {
		e.OnRead(step)
	}
}

// name is the Name tag of a role, e.g. ci-runners-vpc.
func (e *Env) name(role string) string { return e.Cfg.Stack + "-" + role }

// knownAfterApply stands in for an id that does not exist yet.
const knownAfterApply = "(known after apply)"

func orUnknown(id string) string { return or(id, knownAfterApply) }

// or returns value, or placeholder while value is unknown.
func or(value, placeholder string) string {
	if value == "" {
		return placeholder
	}
	return value
}

func zapRunnerID(id int64) zap.Field { return zap.Int64("runner_id", id) }

// Resolver looks up a host's addresses; net.DefaultResolver is one.
type Resolver interface {
	LookupNetIP(ctx context.Context, network, host string) ([]netip.Addr, error)
}

// gitlabIPv6Paths reports whether GitLab's group must admit the stack's
// IPv6 sources: GitLab has an IPv6 address and the stack has IPv6.
func (e *Env) gitlabIPv6Paths() bool {
	return e.GitLab6 && e.Cfg.Network.IPv6
}
