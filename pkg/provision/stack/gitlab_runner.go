package stack

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ssm"
	ssmtypes "github.com/aws/aws-sdk-go-v2/service/ssm/types"

	"github.com/provision-dev/provision/pkg/plan"
	"github.com/provision-dev/provision/pkg/provision/config"
	"github.com/provision-dev/provision/pkg/provision/gitlab"
	"github.com/provision-dev/provision/pkg/provision/resource"
)

// gitlabRunnerKind creates the runner record through GitLab's API (with
// gitlab.create_runner and GITLAB_TOKEN) and puts its token straight into
// the token parameter: GitLab shows a new token only once, so the two are
// one step. It takes the place of ssm/token.
type gitlabRunnerKind struct {
	env *Env
	f   config.Fleet
}

// runnerRecord is what find knows about the runner.
type runnerRecord struct {
	id        int64 // 0: unknown
	parameter bool  // the token parameter exists
	gone      bool  // GitLab says the runner no longer exists
}

// gitlabRunnerFix: the token is written again, under the stack's secrets
// key (a parameter put before the stack had one is under aws/ssm).
type gitlabRunnerFix struct{ reencrypt bool }

func newGitLabRunnerStep(env *Env, f config.Fleet) plan.Step {
	return resource.NewStep[runnerRecord, gitlabRunnerFix](env.shared(), "gitlab-runner", gitlabRunnerKind{env, f})
}

func (k gitlabRunnerKind) StepID() plan.ID  { return FleetStep(StepGitLabRunner, k.f.Name) }
func (k gitlabRunnerKind) Needs() []plan.ID { return k.env.secretsKeyNeeds() }

func (k gitlabRunnerKind) Describe() plan.Change {
	if k.env.Cfg.GitLab.CreateRunner == nil {
		// A teardown of a stack that was built with create_runner.
		return plan.Change{Step: k.StepID(), Kind: "gitlab-runner", Name: "runner", Attrs: []plan.Attr{{Key: "token", Value: k.env.Names().TokenParameter(k.f.Name) + " (SecureString)"}}}
	}
	cr := k.env.Cfg.CreateRunnerFor(k.f)
	c := plan.Change{Step: k.StepID(), Kind: "gitlab-runner", Name: cr.Description, Attrs: []plan.Attr{
		{Key: "type", Value: cr.RunnerType},
		{Key: "token", Value: k.env.Names().TokenParameter(k.f.Name) + " (SecureString)"},
	}}
	if len(cr.TagList) > 0 {
		c.Attrs = append(c.Attrs, plan.Attr{Key: "tags", Value: strings.Join(cr.TagList, ",")})
	}
	return c
}

// Hooks names the optional parts of resource.Step this kind has.
func (k gitlabRunnerKind) Hooks() resource.Hooks[runnerRecord, gitlabRunnerFix] {
	return resource.Hooks[runnerRecord, gitlabRunnerFix]{FindForDelete: k.findForDelete, ShownOnCreate: k.shownOnCreate, ShownOnDelete: k.shownOnDelete}
}

// shownOnDelete says in the destroy plan what becomes of the runner the
// stack created: deleted, its token no longer works (or kept).
func (k gitlabRunnerKind) shownOnDelete(r runnerRecord) []string {
	runner := "the runner"
	if r.id != 0 {
		runner = "runner #" + strconv.FormatInt(r.id, 10)
	}
	if k.env.KeepRunner {
		return []string{runner + " stays in GitLab and its token keeps working (down --keep-runner)"}
	}
	return []string{"deletes " + runner + " in GitLab, which provision created: its token stops working (down --keep-runner keeps it)"}
}

// Find reads the runner id from the state, else from the parameter's tag,
// and with GITLAB_TOKEN asks GitLab whether the runner still exists. The
// runner exists for this step only with its token in the parameter.
func (k gitlabRunnerKind) Find(ctx context.Context) (resource.Found[runnerRecord], error) {
	r, err := k.lookup(ctx)
	if err != nil {
		return resource.Found[runnerRecord]{}, err
	}
	if r.parameter && r.id != 0 && !k.env.Secrets.GitLabToken.Empty() {
		_, err := k.env.GitLab.RunnerStatus(ctx, k.env.Secrets.GitLabToken.Reveal(), r.id)
		switch {
		case errors.Is(err, gitlab.ErrNotFound):
			r.gone = true
		case err != nil:
			return resource.Found[runnerRecord]{}, fmt.Errorf("check runner %d in GitLab: %w", r.id, err)
		}
	}
	return resource.Found[runnerRecord]{Cur: r, Exists: r.parameter && !r.gone}, nil
}

// findForDelete: anything to clean up, the parameter or a runner id.
func (k gitlabRunnerKind) findForDelete(ctx context.Context) (resource.Found[runnerRecord], error) {
	r, err := k.lookup(ctx)
	return resource.Found[runnerRecord]{Cur: r, Exists: r.parameter || r.id != 0}, err
}

func (k gitlabRunnerKind) lookup(ctx context.Context) (runnerRecord, error) {
	var r runnerRecord
	if rec := k.env.Ledger.Get(string(k.StepID())); rec != nil && rec.ID != "" {
		r.id, _ = strconv.ParseInt(rec.ID, 10, 64)
	}
	p, err := GetParameter(ctx, k.env.SSM, k.env.Names().TokenParameter(k.f.Name), false)
	if err != nil || p == nil {
		return r, err
	}
	r.parameter = true
	if r.id == 0 {
		out, err := k.env.SSM.ListTagsForResource(ctx, &ssm.ListTagsForResourceInput{ResourceId: p.Name, ResourceType: ssmtypes.ResourceTypeForTaggingParameter})
		if err != nil {
			return r, fmt.Errorf("read the tags of %s: %w", aws.ToString(p.Name), err)
		}
		for _, t := range out.TagList {
			if aws.ToString(t.Key) == tagGitLabRunnerID {
				r.id, _ = strconv.ParseInt(aws.ToString(t.Value), 10, 64)
			}
		}
	}
	return r, nil
}

func (k gitlabRunnerKind) Record(r runnerRecord) resource.Recorded {
	id := ""
	if r.id != 0 {
		id = strconv.FormatInt(r.id, 10)
	}
	return resource.Recorded{ID: id, Attrs: map[string]string{string(AttrParameter): k.env.Names().TokenParameter(k.f.Name)}}
}

func (k gitlabRunnerKind) shownOnCreate(prior resource.Found[runnerRecord]) []string {
	switch r := prior.Cur; {
	case r.gone:
		return []string{fmt.Sprintf("runner %d no longer exists in GitLab", r.id)}
	case r.id != 0 && !r.parameter:
		return []string{fmt.Sprintf("the token of runner %d is lost: replace the runner", r.id)}
	}
	return nil
}

func (k gitlabRunnerKind) Diff(ctx context.Context, _ runnerRecord) (gitlabRunnerFix, []string, error) {
	reason, err := keyDrift(ctx, k.env, k.env.Names().TokenParameter(k.f.Name))
	if err != nil || reason == "" {
		return gitlabRunnerFix{}, nil, err
	}
	return gitlabRunnerFix{reencrypt: true}, []string{reason}, nil
}

// Create makes the runner and stores its token; a runner whose token was
// lost is deleted first.
func (k gitlabRunnerKind) Create(ctx context.Context, _ string, prior resource.Found[runnerRecord]) (runnerRecord, gitlabRunnerFix, error) {
	user := k.env.Secrets.GitLabToken
	if user.Empty() {
		return runnerRecord{}, gitlabRunnerFix{}, fmt.Errorf("%s is not set: gitlab.create_runner needs a GitLab token with the %s scopes", EnvGitLabToken, strings.Join(CreateRunnerScopes, " and "))
	}
	if old := prior.Cur; old.id != 0 && !old.gone {
		if err := k.env.GitLab.DeleteRunner(ctx, user.Reveal(), old.id); err != nil {
			return runnerRecord{}, gitlabRunnerFix{}, fmt.Errorf("remove runner %d, whose token is lost: %w", old.id, err)
		}
	}
	cr := k.env.Cfg.CreateRunnerFor(k.f)
	id, token, err := k.env.GitLab.CreateRunner(ctx, user.Reveal(), gitlab.RunnerSpec{
		RunnerType: cr.RunnerType, GroupID: int64(cr.GroupID), ProjectID: int64(cr.ProjectID),
		Description: cr.Description, TagList: cr.TagList, RunUntagged: cr.RunUntagged,
	})
	if err != nil {
		return runnerRecord{}, gitlabRunnerFix{}, err
	}
	if err := putToken(ctx, k.env, k.StepID(), prior.Cur.parameter, NewSecret(token), map[string]string{tagGitLabRunnerID: strconv.FormatInt(id, 10)}); err != nil {
		return runnerRecord{}, gitlabRunnerFix{}, fmt.Errorf("runner %d was created but its token could not be stored (delete the runner in GitLab and run `provision up` again): %w", id, err)
	}
	return runnerRecord{id: id, parameter: true}, gitlabRunnerFix{}, nil
}

// Update writes the token again, with the value it holds.
func (k gitlabRunnerKind) Update(ctx context.Context, r runnerRecord, f gitlabRunnerFix) error {
	if !f.reencrypt {
		return nil
	}
	p, err := GetParameter(ctx, k.env.SSM, k.env.Names().TokenParameter(k.f.Name), true)
	if err != nil || p == nil {
		return err
	}
	var tags map[string]string
	if r.id != 0 {
		tags = map[string]string{tagGitLabRunnerID: strconv.FormatInt(r.id, 10)}
	}
	return putToken(ctx, k.env, k.StepID(), true, NewSecret(aws.ToString(p.Value)), tags)
}

// Remove deletes the runner in GitLab with its own token (no user token
// needed), then the parameter.
func (k gitlabRunnerKind) Remove(ctx context.Context, r runnerRecord) error {
	p, err := GetParameter(ctx, k.env.SSM, k.env.Names().TokenParameter(k.f.Name), true)
	if err != nil {
		return err
	}
	switch {
	case k.env.KeepRunner:
		k.env.Log.Warn("down --keep-runner: the runner stays in GitLab and its token stays valid", zapRunnerID(r.id))
	case p != nil:
		if err := k.env.GitLab.DeleteRunnerByToken(ctx, aws.ToString(p.Value)); err != nil {
			return fmt.Errorf("delete runner %d in GitLab: %w (if that GitLab is gone for good, run `provision down --keep-runner`: it deletes the token parameter and leaves the runner record alone)", r.id, err)
		}
	case r.id != 0 && !k.env.Secrets.GitLabToken.Empty():
		if err := k.env.GitLab.DeleteRunner(ctx, k.env.Secrets.GitLabToken.Reveal(), r.id); err != nil {
			return fmt.Errorf("delete runner %d in GitLab: %w", r.id, err)
		}
	case r.id != 0:
		k.env.Log.Warn("the runner's token is gone and GITLAB_TOKEN is not set: delete the runner in GitLab by hand", zapRunnerID(r.id))
	}
	return DeleteParameter(ctx, k.env.SSM, k.env.Names().TokenParameter(k.f.Name))
}

// CreateRunnerScopes are what GITLAB_TOKEN needs with create_runner:
// POST /user/runners takes create_runner; reading a runner's status
// (plan, status) and deleting it by id (a lost token, down) take
// manage_runner (GitLab's "Runners API" and "Personal access token
// scopes"). The api scope covers both.
var CreateRunnerScopes = []string{"create_runner", "manage_runner"}
