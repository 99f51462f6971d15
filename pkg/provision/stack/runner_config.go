package stack

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ssm"
	ssmtypes "github.com/aws/aws-sdk-go-v2/service/ssm/types"
	"github.com/pelletier/go-toml/v2"

	"github.com/provision-dev/provision/pkg/plan"
	"github.com/provision-dev/provision/pkg/provision/awsapi"
	"github.com/provision-dev/provision/pkg/provision/bootstrap"
	"github.com/provision-dev/provision/pkg/provision/config"
	"github.com/provision-dev/provision/pkg/provision/resource"
)

// runnerConfigKind is the runner configuration: gitlab-runner's
// config.toml with the token and the manager's group as placeholders, in
// an SSM parameter that the manager reads at boot and applies again within
// bootstrap.ConfigPollSeconds of each change (gitlab-runner reloads
// config.toml by itself). Tuning (limits, idle settings, schedules, the
// job image) is then a new version of this parameter, not a new manager.
// It holds no secret, but it is a SecureString under the stack's key all
// the same: it says where the manager sends the token (url) and what it
// runs as root (the plugin), so changing it must take what reading the
// token takes, not ssm:PutParameter alone.
type runnerConfigKind struct{ env *Env }

type runnerConfig = *ssmtypes.Parameter

// configFix is the configuration to write.
type configFix struct {
	value string
	rekey bool // put it again under the stack's secrets key
}

// ssmStandardLimit is the largest value of a Standard parameter (4 KB);
// ssmAdvancedLimit an Advanced one's (8 KB), which a stack of several
// fleets may need: each [[runners]] entry is 1-1.5 KB.
const (
	ssmStandardLimit = 4096
	ssmAdvancedLimit = 8192
)

func newRunnerConfigStep(env *Env) plan.Step {
	return resource.NewStep[runnerConfig, configFix](env.shared(), "ssm-parameter", runnerConfigKind{env})
}

func (k runnerConfigKind) StepID() plan.ID { return StepRunnerConfig }

// Needs: docker+machine's configuration names the VPC, the machines'
// subnet and their group.
func (k runnerConfigKind) Needs() []plan.ID {
	needs := k.env.secretsKeyNeeds()
	if !k.env.Cfg.Machines() && !k.env.Teardown {
		return needs
	}
	return append(needs, StepVPC, StepPrivateSubnet, StepRunnerGroup)
}

// Hooks: the configuration's tags follow `tags:`, as the other parameters'.
func (k runnerConfigKind) Hooks() resource.Hooks[runnerConfig, configFix] {
	return resource.Hooks[runnerConfig, configFix]{Tags: k.tagsOf, Retag: k.retag}
}

func (k runnerConfigKind) tagsOf(ctx context.Context, p runnerConfig) (map[string]string, error) {
	return parameterTags(ctx, k.env, p)
}

func (k runnerConfigKind) retag(ctx context.Context, p runnerConfig, c resource.TagChange) error {
	return retagParameter(ctx, k.env, p, c)
}

func (k runnerConfigKind) Describe() plan.Change {
	c := plan.Change{Step: StepRunnerConfig, Kind: "ssm-parameter", Name: k.env.Names().RunnerConfigParameter()}
	concurrent, max := 0, 0
	for _, f := range k.env.Cfg.FleetList() {
		concurrent, max = concurrent+f.Concurrent, max+f.MaxInstances
	}
	c.Attrs = []plan.Attr{{Key: "type", Value: "SecureString"}, {Key: "concurrent", Value: fmt.Sprint(concurrent)}, {Key: "max_instances", Value: fmt.Sprint(max)},
		{Key: "applied", Value: fmt.Sprintf("by the manager within %d s", bootstrap.ConfigPollSeconds)}}
	return c
}

func (k runnerConfigKind) Find(ctx context.Context) (resource.Found[runnerConfig], error) {
	p, err := k.env.StackParameter(ctx, k.env.Names().RunnerConfigParameter())
	if err != nil || p == nil {
		return resource.Found[runnerConfig]{}, err
	}
	return resource.Found[runnerConfig]{Cur: p, Exists: true}, nil
}

func (k runnerConfigKind) Record(p runnerConfig) resource.Recorded {
	return resource.Recorded{ID: k.env.Names().RunnerConfigParameter(), Attrs: map[string]string{string(AttrVersion): fmt.Sprint(p.Version)}}
}

// Diff names the keys that change, as gitlab-runner's config.toml has
// them: "runners.autoscaler.max_instances 10 -> 20".
func (k runnerConfigKind) Diff(ctx context.Context, p runnerConfig) (configFix, []string, error) {
	want, err := k.env.RunnerConfig()
	if err != nil {
		return configFix{}, nil, err
	}
	var f configFix
	var reasons []string
	if got := aws.ToString(p.Value); got != want {
		f.value = want
		if reasons = ConfigChanges(got, want); len(reasons) == 0 {
			reasons = []string{"rewrite it (same settings, other text)"}
		}
	}
	// A parameter a String (as the first version wrote it) or under
	// another key is put again under the stack's key.
	if p.Type != ssmtypes.ParameterTypeSecureString {
		f.value, f.rekey = want, true
		reasons = append(reasons, "make it a SecureString under the stack's secrets key (whoever may change it decides where the token goes)")
	} else if drift, err := keyDrift(ctx, k.env, k.env.Names().RunnerConfigParameter()); err != nil {
		return configFix{}, nil, err
	} else if drift != "" {
		f.value, f.rekey = want, true
		reasons = append(reasons, drift)
	}
	return f, reasons, nil
}

func (k runnerConfigKind) Create(ctx context.Context, _ string, _ resource.Found[runnerConfig]) (runnerConfig, configFix, error) {
	want, err := k.env.RunnerConfig()
	if err != nil {
		return nil, configFix{}, err
	}
	if err := k.put(ctx, want, false); err != nil {
		return nil, configFix{}, err
	}
	p, err := GetParameter(ctx, k.env.SSM, k.env.Names().RunnerConfigParameter(), false)
	if err != nil || p == nil {
		return nil, configFix{}, plan.TryAgainf("%s is not visible yet: %v", k.env.Names().RunnerConfigParameter(), err)
	}
	return p, configFix{}, nil
}

func (k runnerConfigKind) Update(ctx context.Context, _ runnerConfig, f configFix) error {
	if f.value == "" {
		return nil
	}
	return k.put(ctx, f.value, true)
}

func (k runnerConfigKind) put(ctx context.Context, value string, overwrite bool) error {
	name := k.env.Names().RunnerConfigParameter()
	key, err := k.env.secretsKeyForPut()
	if err != nil {
		return err
	}
	in := &ssm.PutParameterInput{Name: &name, Value: &value, Type: ssmtypes.ParameterTypeSecureString, KeyId: aws.String(key), Overwrite: aws.Bool(overwrite),
		Description: aws.String(fmt.Sprintf("provision %s: gitlab-runner's config.toml (token and group filled in on the manager)", k.env.Cfg.Stack))}
	if !overwrite {
		in.Tags = ssmTags(k.env.tagMap(StepRunnerConfig, "runner-config"))
	}
	// Several fleets may pass 4 KB: Parameter Store's intelligent tiering
	// makes the parameter Advanced (0.05 USD a month) only when the value
	// needs it, and never tries to make an Advanced one Standard again,
	// which SSM refuses ("Changing a standard parameter to an advanced
	// parameter" in the Systems Manager user guide): so every put says so,
	// also a stack of one fleet that had several. Under 4 KB it stays
	// Standard.
	in.Tier = ssmtypes.ParameterTierIntelligentTiering
	_, err = k.env.SSM.PutParameter(ctx, in)
	if awsapi.ErrorCode(err) == "ParameterAlreadyExists" {
		in.Overwrite, in.Tags = aws.Bool(true), nil
		_, err = k.env.SSM.PutParameter(ctx, in)
	}
	if err != nil {
		return awsapi.RetryableCreate(fmt.Errorf("write the runner configuration %s: %w", name, err))
	}
	return nil
}

func (k runnerConfigKind) Remove(ctx context.Context, _ runnerConfig) error {
	return DeleteParameter(ctx, k.env.SSM, k.env.Names().RunnerConfigParameter())
}

// RunnerConfig renders config.toml for the parameter: the token, its dates
// and the manager's group stay placeholders. It must fit in the
// parameter (Standard, or Advanced for several fleets): checked here, so
// plan says so before up changes anything.
func (e *Env) RunnerConfig() (string, error) {
	var runs []bootstrap.Runner
	for _, f := range e.Cfg.FleetList() {
		runs = append(runs, e.runnerSettings(f, bootstrap.GroupPlaceholder))
	}
	out, err := bootstrap.ConfigTOML(runs...)
	// Several fleets may use an Advanced parameter (see put).
	limit, fix := ssmStandardLimit, "use fewer or shorter runners.schedule periods or tags"
	if len(e.Cfg.Fleets) > 1 {
		limit, fix = ssmAdvancedLimit, "use fewer fleets, or fewer or shorter schedule periods and tags"
	}
	if err == nil && len(out) > limit {
		err = fmt.Errorf("the runner configuration (config.toml) is %d characters, more than the %d an SSM parameter holds: %s", len(out), limit, fix)
	}
	return string(out), err
}

// runnerSettings are what config.toml says of a fleet, for a manager of
// this generation's group.
func (e *Env) runnerSettings(f config.Fleet, group string) bootstrap.Runner {
	r := f.RunnersConfig
	idle, _ := time.ParseDuration(r.IdleTime) // validated
	run := bootstrap.Runner{
		Fleet: f.Name, Stack: e.Cfg.Stack, Region: e.Region, GitLabURL: e.Cfg.GitLab.URL, Executor: r.Executor,
		Concurrent: r.Concurrent, MaxInstances: r.MaxInstances, CapacityPerInstance: r.CapacityPerInstance,
		IdleCount: r.IdleCount, IdleTime: idle, Image: r.Image, Privileged: r.Privileged, MaxUseCount: r.MaxUseCount,
	}
	run.Metrics = len(e.Cfg.Manager.MetricsCIDRs) > 0
	if f.Autoscaler() {
		run.AutoScalingGroup, run.StaticKey, run.Windows = fleetName(group, f.Name), f.StaticSSHKeys(), f.Windows()
		if e.Cfg.Cache.S3 {
			run.CacheBucket = e.CacheBucketName()
		}
		for _, s := range r.Schedule {
			idle, _ := time.ParseDuration(s.IdleTime) // validated
			run.Schedule = append(run.Schedule, bootstrap.Policy{Periods: s.Periods, Timezone: s.Timezone, IdleCount: s.IdleCount, IdleTime: idle})
		}
		return run
	}
	run.VPCID, run.SubnetID, run.Zone = e.IDOf(StepVPC), e.IDOf(StepPrivateSubnet), e.Zone
	run.SecurityGroupName, run.InstanceType, run.InstanceProfile = e.name("runner"), r.InstanceType, e.Names().IAM("runner")
	// Without runners.ami the driver picks its own default image, which
	// its SSH provisioner knows how to set up.
	run.AMI, run.RootSizeGB, run.Spot, run.SSHUser = r.AMI, r.VolumeSizeGB, r.Spot, r.SSHUser
	run.Tags = map[string]string{TagStack: e.Cfg.Stack, TagStep: string(StepMachines)}
	for key, v := range e.Cfg.Tags {
		run.Tags[key] = v
	}
	return run
}

// ConfigChanges lists the keys whose values differ between two
// configurations, each as "key old -> new" (a list compared whole).
func ConfigChanges(from, to string) []string {
	a, b := flatTOML(from), flatTOML(to)
	keys := slices.Sorted(maps.Keys(a))
	for key := range b {
		if _, ok := a[key]; !ok {
			keys = append(keys, key)
		}
	}
	slices.Sort(keys)
	var out []string
	for _, key := range keys {
		old, had := a[key]
		now, has := b[key]
		switch {
		case !had:
			out = append(out, fmt.Sprintf("%s = %s", shown(key), shown(now)))
		case !has:
			out = append(out, fmt.Sprintf("%s removed (was %s)", shown(key), shown(old)))
		case old != now:
			out = append(out, fmt.Sprintf("%s %s -> %s", shown(key), shown(old), shown(now)))
		}
	}
	return out
}

// flatTOML maps each key of a TOML document to its value, tables joined
// with dots and arrays of tables by index: runners[0].autoscaler.max_instances.
func flatTOML(doc string) map[string]string {
	var v map[string]any
	out := map[string]string{}
	// The dates are placeholders where TOML wants datetimes.
	doc = strings.NewReplacer(bootstrap.TokenObtainedPlaceholder, "0001-01-01T00:00:00Z", bootstrap.TokenExpiresPlaceholder, "0001-01-01T00:00:00Z").Replace(doc)
	if toml.Unmarshal([]byte(doc), &v) != nil {
		return out
	}
	var walk func(prefix string, v any)
	walk = func(prefix string, v any) {
		switch t := v.(type) {
		case map[string]any:
			for k, x := range t {
				walk(strings.TrimPrefix(prefix+"."+k, "."), x)
			}
		case []any:
			tables := len(t) > 0
			for _, x := range t {
				_, isMap := x.(map[string]any)
				tables = tables && isMap
			}
			if !tables {
				out[prefix] = fmt.Sprint(t)
				return
			}
			for i, x := range t {
				walk(fmt.Sprintf("%s[%d]", prefix, i), x)
			}
		default:
			out[prefix] = fmt.Sprint(t)
		}
	}
	walk("", v)
	return out
}

// shown writes a key or value of the configuration for a plan line: the
// current one comes from AWS, and a value with a line break or another
// control character is quoted, so it cannot start a line of its own.
func shown(v string) string {
	for _, r := range v {
		if !unicode.IsPrint(r) {
			return strconv.Quote(v)
		}
	}
	return v
}
