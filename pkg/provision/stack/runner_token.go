package stack

import (
	"context"
	"fmt"
	"strconv"

	"github.com/aws/aws-sdk-go-v2/aws"
	ssmtypes "github.com/aws/aws-sdk-go-v2/service/ssm/types"

	"github.com/provision-dev/provision/pkg/plan"
	"github.com/provision-dev/provision/pkg/provision/config"
	"github.com/provision-dev/provision/pkg/provision/resource"
)

// runnerTokenKind keeps GITLAB_RUNNER_TOKEN in an SSM SecureString
// parameter, the only place the token is stored; the manager reads it at
// boot with its instance role.
type runnerTokenKind struct {
	env *Env
	f   config.Fleet
}

type parameter = *ssmtypes.Parameter

// tokenFix: the parameter must be written again, with GITLAB_RUNNER_TOKEN
// (overwrite) or with the value it holds, under the stack's secrets key
// (reencrypt).
type tokenFix struct{ overwrite, reencrypt bool }

func newRunnerTokenStep(env *Env, f config.Fleet) plan.Step {
	return resource.NewStep[parameter, tokenFix](env.shared(), "ssm-parameter", runnerTokenKind{env, f})
}

func (k runnerTokenKind) StepID() plan.ID  { return FleetStep(StepToken, k.f.Name) }
func (k runnerTokenKind) Needs() []plan.ID { return k.env.secretsKeyNeeds() }

func (k runnerTokenKind) Describe() plan.Change {
	return plan.Change{Step: k.StepID(), Kind: "ssm-parameter", Name: k.env.Names().TokenParameter(k.f.Name),
		Attrs: []plan.Attr{{Key: "type", Value: "SecureString"}, {Key: "value", Value: "from " + k.variable() + " (hidden)"}}}
}

// Hooks names the optional parts of resource.Step this kind has.
func (k runnerTokenKind) Hooks() resource.Hooks[parameter, tokenFix] {
	return resource.Hooks[parameter, tokenFix]{Tags: k.tagsOf, Retag: k.retag, ShownOnDelete: k.shownOnDelete}
}

// variable is the environment variable of the fleet's token.
func (k runnerTokenKind) variable() string { return k.f.TokenVariable(EnvRunnerToken) }

// deletesRunner: the token came from the user (GITLAB_RUNNER_TOKEN), so its
// runner may serve more than this stack: down keeps it unless told.
func (k runnerTokenKind) deletesRunner() bool { return k.env.DeleteRunner && !k.env.KeepRunner }

// shownOnDelete says in the destroy plan what becomes of the runner.
func (k runnerTokenKind) shownOnDelete(parameter) []string {
	runner := "the runner in GitLab"
	if id := k.env.Ledger.Get(string(k.StepID())).Attr(string(AttrRunnerID)); id != "" {
		runner = "runner #" + id + " in GitLab"
	}
	if k.deletesRunner() {
		return []string{"deletes " + runner + " (down --delete-runner): its token stops working"}
	}
	return []string{runner + " stays and its token keeps working (the token came from " + k.variable() + "; down --delete-runner deletes it)"}
}

// Find reads the parameter, decrypted when there is a token to compare.
func (k runnerTokenKind) Find(ctx context.Context) (resource.Found[parameter], error) {
	p, err := k.env.StackParameter(ctx, k.env.Names().TokenParameter(k.f.Name))
	return resource.Found[parameter]{Cur: p, Exists: p != nil}, err
}

// Record keeps the runner's id in GitLab (for `provision output`), as
// preflight learned it, or as recorded before when this run did not ask.
func (k runnerTokenKind) Record(p parameter) resource.Recorded {
	id := k.env.Ledger.Get(string(k.StepID())).Attr(string(AttrRunnerID))
	// Preflight learns the id of the first fleet's runner only.
	if k.env.RunnerID != 0 && k.f.Name == k.env.Cfg.FirstFleet().Name {
		id = strconv.FormatInt(k.env.RunnerID, 10)
	}
	if id == "" {
		return resource.Recorded{ID: aws.ToString(p.Name)}
	}
	return resource.Recorded{ID: aws.ToString(p.Name), Attrs: map[string]string{string(AttrRunnerID): id}}
}

// Diff: the value changes only to a token GitLab accepts. A parameter
// holding a token that gitlab-runner renewed (preflight found
// GITLAB_RUNNER_TOKEN outdated but the stored one valid) is kept.
func (k runnerTokenKind) Diff(ctx context.Context, p parameter) (tokenFix, []string, error) {
	token := k.env.Secrets.RunnerTokenOf(k.f.Name)
	switch {
	case p.Type != ssmtypes.ParameterTypeSecureString:
		return tokenFix{overwrite: true}, []string{"store it as a SecureString"}, nil
	case !token.Empty() && !k.env.tokenRenewed(k.f.Name) && aws.ToString(p.Value) != token.Reveal():
		return tokenFix{overwrite: true}, []string{"replace the value with " + k.variable() + " (values not shown)"}, nil
	}
	reason, err := keyDrift(ctx, k.env, k.env.Names().TokenParameter(k.f.Name))
	if err != nil || reason == "" || p.Value == nil {
		return tokenFix{}, nil, err
	}
	return tokenFix{reencrypt: true}, []string{reason}, nil
}

func (k runnerTokenKind) Create(ctx context.Context, _ string, _ resource.Found[parameter]) (parameter, tokenFix, error) {
	p, err := k.put(ctx, false)
	return p, tokenFix{}, err
}

func (k runnerTokenKind) Update(ctx context.Context, p parameter, f tokenFix) error {
	switch {
	case f.overwrite:
		_, err := k.put(ctx, true)
		return err
	case f.reencrypt:
		// The value stays: it may be a token gitlab-runner renewed.
		return putToken(ctx, k.env, k.StepID(), true, NewSecret(aws.ToString(p.Value)), nil)
	}
	return nil
}

func (k runnerTokenKind) put(ctx context.Context, overwrite bool) (parameter, error) {
	token := k.env.Secrets.RunnerTokenOf(k.f.Name)
	if token.Empty() {
		return nil, fmt.Errorf("%s is not set: export the runner authentication token (glrt-...) before `provision up`", k.variable())
	}
	if err := putToken(ctx, k.env, k.StepID(), overwrite, token, nil); err != nil {
		return nil, err
	}
	return &ssmtypes.Parameter{Name: aws.String(k.env.Names().TokenParameter(k.f.Name))}, nil
}

// Remove deletes the runner in GitLab with the token in the parameter,
// then the parameter. Deleting only the parameter would leave the token
// valid: anyone who ever read it could still take the jobs of this runner,
// with their CI variables; but a token the user gave may serve other
// stacks too, so its runner is deleted only with `down --delete-runner`,
// and the destroy plan says which.
func (k runnerTokenKind) Remove(ctx context.Context, p parameter) error {
	if k.deletesRunner() {
		if err := k.deleteRunner(ctx); err != nil {
			return err
		}
	}
	return DeleteParameter(ctx, k.env.SSM, aws.ToString(p.Name))
}

func (k runnerTokenKind) deleteRunner(ctx context.Context) error {
	p, err := GetParameter(ctx, k.env.SSM, k.env.Names().TokenParameter(k.f.Name), true)
	if err != nil || p == nil {
		return err
	}
	if k.env.Cfg.GitLab.URL == "" {
		return fmt.Errorf("gitlab.url is not set, so the runner that %s belongs to cannot be deleted in GitLab: set gitlab.url, or run `provision down --keep-runner` to keep the runner (its token stays valid)", k.env.Names().TokenParameter(k.f.Name))
	}
	if err := k.env.GitLab.DeleteRunnerByToken(ctx, aws.ToString(p.Value)); err != nil {
		return fmt.Errorf("delete the runner in GitLab: %w (to keep the runner and its token, for instance when GitLab is gone for good, run `provision down --keep-runner`)", err)
	}
	return nil
}

func (k runnerTokenKind) tagsOf(ctx context.Context, p parameter) (map[string]string, error) {
	return parameterTags(ctx, k.env, p)
}

func (k runnerTokenKind) retag(ctx context.Context, p parameter, c resource.TagChange) error {
	return retagParameter(ctx, k.env, p, c)
}
