package provision

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
	"github.com/provision-dev/provision/pkg/provision/gitlab"
)

// gitlabRunnerStep creates the runner record through GitLab's API (with
// gitlab.create_runner and GITLAB_TOKEN) and puts its token straight into
// the token parameter: GitLab shows a new token only once, so the two are
// one step. It takes the place of ssm/token.
type gitlabRunnerStep struct{ env *Env }

func newGitLabRunnerStep(env *Env) *gitlabRunnerStep { return &gitlabRunnerStep{env: env} }

func (s *gitlabRunnerStep) ID() plan.ID          { return stepGitLabRunner }
func (s *gitlabRunnerStep) DependsOn() []plan.ID { return nil }

func (s *gitlabRunnerStep) change() plan.Change {
	cr := s.env.Cfg.GitLab.CreateRunner
	c := plan.Change{Step: stepGitLabRunner, Kind: "gitlab-runner", Name: cr.Description, Attrs: []plan.Attr{
		{Key: "type", Value: cr.RunnerType},
		{Key: "token", Value: s.env.TokenParameter() + " (SecureString)"},
	}}
	if len(cr.TagList) > 0 {
		c.Attrs = append(c.Attrs, plan.Attr{Key: "tags", Value: strings.Join(cr.TagList, ",")})
	}
	return c
}

// runnerFound is what Plan knows about an existing runner.
type runnerFound struct {
	id        int64 // 0: unknown
	parameter bool
}

func (s *gitlabRunnerStep) Plan(ctx context.Context) (plan.Change, error) {
	c := s.change()
	f, err := s.find(ctx)
	if err != nil {
		return c, err
	}
	c.Detail = f
	if f.id != 0 {
		c.ID = strconv.FormatInt(f.id, 10)
	}
	switch {
	case !f.parameter:
		c.Action = plan.Create
		if f.id != 0 {
			c.Reasons = []string{fmt.Sprintf("the token of runner %d is lost: replace the runner", f.id)}
		}
		return c, nil
	case f.id != 0 && !s.env.Secrets.GitLabToken.Empty():
		_, err := s.env.GitLab.RunnerStatus(ctx, s.env.Secrets.GitLabToken.Reveal(), f.id)
		if errors.Is(err, gitlab.ErrNotFound) {
			c.Action = plan.Create
			c.Reasons = []string{fmt.Sprintf("runner %d no longer exists in GitLab", f.id)}
			return c, nil
		}
		if err != nil {
			return c, fmt.Errorf("check runner %d in GitLab: %w", f.id, err)
		}
	}
	return c, s.env.created(stepGitLabRunner, "gitlab-runner", c.ID, map[string]string{"parameter": s.env.TokenParameter()})
}

func (s *gitlabRunnerStep) Apply(ctx context.Context, c plan.Change) error {
	user := s.env.Secrets.GitLabToken
	if user.Empty() {
		return fmt.Errorf("%s is not set: gitlab.create_runner needs a GitLab token with the %s scopes", EnvGitLabToken, strings.Join(createRunnerScopes, " and "))
	}
	if f, _ := c.Detail.(*runnerFound); f != nil && f.id != 0 {
		if err := s.env.GitLab.DeleteRunner(ctx, user.Reveal(), f.id); err != nil {
			return fmt.Errorf("remove runner %d, whose token is lost: %w", f.id, err)
		}
	}
	cr := s.env.Cfg.GitLab.CreateRunner
	id, token, err := s.env.GitLab.CreateRunner(ctx, user.Reveal(), gitlab.RunnerSpec{
		RunnerType: cr.RunnerType, GroupID: int64(cr.GroupID), ProjectID: int64(cr.ProjectID),
		Description: cr.Description, TagList: cr.TagList, RunUntagged: cr.RunUntagged,
	})
	if err != nil {
		return err
	}
	idText := strconv.FormatInt(id, 10)
	exists, err := getParameter(ctx, s.env.SSM, s.env.TokenParameter(), false)
	if err != nil {
		return err
	}
	if err := putToken(ctx, s.env, stepGitLabRunner, exists != nil, NewSecret(token), map[string]string{tagGitLabRunnerID: idText}); err != nil {
		return fmt.Errorf("runner %d was created but its token could not be stored (delete the runner in GitLab and run `provision up` again): %w", id, err)
	}
	return s.env.created(stepGitLabRunner, "gitlab-runner", idText, map[string]string{"parameter": s.env.TokenParameter()})
}

func (s *gitlabRunnerStep) PlanDelete(ctx context.Context) (plan.Change, error) {
	c := s.change()
	f, err := s.find(ctx)
	if err != nil {
		return c, err
	}
	if !f.parameter && f.id == 0 {
		return c, s.env.forget(stepGitLabRunner)
	}
	if f.id != 0 {
		c.ID = strconv.FormatInt(f.id, 10)
	}
	c.Action = plan.Delete
	c.Detail = f
	return c, nil
}

// Delete removes the runner from GitLab with its own token (no user token
// needed), then the parameter.
func (s *gitlabRunnerStep) Delete(ctx context.Context, c plan.Change) error {
	f := c.Detail.(*runnerFound)
	p, err := getParameter(ctx, s.env.SSM, s.env.TokenParameter(), true)
	if err != nil {
		return err
	}
	switch {
	case s.env.KeepRunner:
		s.env.Log.Warn("down --keep-runner: the runner stays in GitLab and its token stays valid", zapRunnerID(f.id))
	case p != nil:
		if err := s.env.GitLab.DeleteRunnerByToken(ctx, aws.ToString(p.Value)); err != nil {
			return fmt.Errorf("delete runner %s in GitLab: %w (if that GitLab is gone for good, remove gitlab.create_runner from the configuration and run `provision down --discover`: it deletes the token parameter and leaves the runner record alone)", c.ID, err)
		}
	case f.id != 0 && !s.env.Secrets.GitLabToken.Empty():
		if err := s.env.GitLab.DeleteRunner(ctx, s.env.Secrets.GitLabToken.Reveal(), f.id); err != nil {
			return fmt.Errorf("delete runner %d in GitLab: %w", f.id, err)
		}
	case f.id != 0:
		s.env.Log.Warn("the runner's token is gone and GITLAB_TOKEN is not set: delete the runner in GitLab by hand", zapRunnerID(f.id))
	}
	if err := deleteParameter(ctx, s.env.SSM, s.env.TokenParameter()); err != nil {
		return err
	}
	return s.env.forget(stepGitLabRunner)
}

// find reads the runner id from state, else from the parameter's tag.
func (s *gitlabRunnerStep) find(ctx context.Context) (*runnerFound, error) {
	f := &runnerFound{}
	if r := s.env.Ledger.Get(string(stepGitLabRunner)); r != nil && r.ID != "" {
		f.id, _ = strconv.ParseInt(r.ID, 10, 64)
	}
	p, err := getParameter(ctx, s.env.SSM, s.env.TokenParameter(), false)
	if err != nil || p == nil {
		return f, err
	}
	f.parameter = true
	if f.id == 0 {
		out, err := s.env.SSM.ListTagsForResource(ctx, &ssm.ListTagsForResourceInput{ResourceId: p.Name, ResourceType: ssmtypes.ResourceTypeForTaggingParameter})
		if err != nil {
			return nil, fmt.Errorf("read the tags of %s: %w", aws.ToString(p.Name), err)
		}
		for _, t := range out.TagList {
			if aws.ToString(t.Key) == tagGitLabRunnerID {
				f.id, _ = strconv.ParseInt(aws.ToString(t.Value), 10, 64)
			}
		}
	}
	return f, nil
}
