package provision

import (
	"context"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ssm"
	ssmtypes "github.com/aws/aws-sdk-go-v2/service/ssm/types"

	"github.com/provision-dev/provision/pkg/plan"
)

// runnerTokenStep keeps GITLAB_RUNNER_TOKEN in an SSM SecureString
// parameter, the only place the token is stored; the manager reads it at
// boot with its instance role.
type runnerTokenStep struct{ env *Env }

func newRunnerTokenStep(env *Env) *runnerTokenStep { return &runnerTokenStep{env: env} }

func (s *runnerTokenStep) ID() plan.ID          { return stepToken }
func (s *runnerTokenStep) DependsOn() []plan.ID { return nil }

func (s *runnerTokenStep) change() plan.Change {
	return plan.Change{Step: stepToken, Kind: "ssm-parameter", Name: s.env.TokenParameter(),
		Attrs: []plan.Attr{{Key: "type", Value: "SecureString"}, {Key: "value", Value: "from " + EnvRunnerToken + " (hidden)"}}}
}

func (s *runnerTokenStep) Plan(ctx context.Context) (plan.Change, error) {
	c := s.change()
	token := s.env.Secrets.RunnerToken
	p, err := getParameter(ctx, s.env.SSM, s.env.TokenParameter(), !token.Empty())
	if err != nil {
		return c, err
	}
	if p == nil {
		c.Action = plan.Create
		return c, s.env.markGone(stepToken)
	}
	c.ID = aws.ToString(p.Name)
	if err := s.env.created(stepToken, "ssm-parameter", c.ID, nil); err != nil {
		return c, err
	}
	if p.Type != ssmtypes.ParameterTypeSecureString {
		c.Reasons = append(c.Reasons, "store it as a SecureString")
	} else if !token.Empty() && aws.ToString(p.Value) != token.Reveal() {
		c.Reasons = append(c.Reasons, "replace the value with "+EnvRunnerToken+" (values not shown)")
	}
	if len(c.Reasons) > 0 {
		c.Action = plan.Update
	}
	return c, nil
}

func (s *runnerTokenStep) Apply(ctx context.Context, c plan.Change) error {
	token := s.env.Secrets.RunnerToken
	if token.Empty() {
		return fmt.Errorf("%s is not set: export the runner authentication token (glrt-...) before `provision up`", EnvRunnerToken)
	}
	return putToken(ctx, s.env, stepToken, c.Action == plan.Update, token, nil)
}

func (s *runnerTokenStep) PlanDelete(ctx context.Context) (plan.Change, error) {
	c := s.change()
	p, err := getParameter(ctx, s.env.SSM, s.env.TokenParameter(), false)
	if err != nil || p == nil {
		if err == nil {
			err = s.env.forget(stepToken)
		}
		return c, err
	}
	c.ID = aws.ToString(p.Name)
	c.Action = plan.Delete
	return c, nil
}

// Delete deletes the runner in GitLab with the token in the parameter,
// then the parameter. Deleting only the parameter would leave the token
// valid: anyone who ever read it could still take the jobs of this runner,
// with their CI variables. `down --keep-runner` keeps the runner, for a
// token that something else uses too.
func (s *runnerTokenStep) Delete(ctx context.Context, c plan.Change) error {
	if !s.env.KeepRunner {
		if err := s.deleteRunner(ctx); err != nil {
			return err
		}
	}
	if err := deleteParameter(ctx, s.env.SSM, c.ID); err != nil {
		return err
	}
	return s.env.forget(stepToken)
}

func (s *runnerTokenStep) deleteRunner(ctx context.Context) error {
	p, err := getParameter(ctx, s.env.SSM, s.env.TokenParameter(), true)
	if err != nil || p == nil {
		return err
	}
	if s.env.Cfg.GitLab.URL == "" {
		return fmt.Errorf("gitlab.url is not set, so the runner that %s belongs to cannot be deleted in GitLab: set gitlab.url, or run `provision down --keep-runner` to keep the runner (its token stays valid)", s.env.TokenParameter())
	}
	if err := s.env.GitLab.DeleteRunnerByToken(ctx, aws.ToString(p.Value)); err != nil {
		return fmt.Errorf("delete the runner in GitLab: %w (to keep the runner and its token, for instance when GitLab is gone for good, run `provision down --keep-runner`)", err)
	}
	return nil
}

// getParameter returns the parameter, or nil when it does not exist.
func getParameter(ctx context.Context, c *ssm.Client, name string, decrypt bool) (*ssmtypes.Parameter, error) {
	out, err := c.GetParameter(ctx, &ssm.GetParameterInput{Name: &name, WithDecryption: aws.Bool(decrypt)})
	if isNotFound(err) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read SSM parameter %s: %w", name, err)
	}
	return out.Parameter, nil
}

func deleteParameter(ctx context.Context, c *ssm.Client, name string) error {
	_, err := c.DeleteParameter(ctx, &ssm.DeleteParameterInput{Name: &name})
	if err != nil && !isNotFound(err) {
		return fmt.Errorf("delete SSM parameter %s: %w", name, err)
	}
	return nil
}

// putToken writes the token parameter. Tags can only be given when the
// parameter is created; an overwrite adds them separately.
func putToken(ctx context.Context, env *Env, step plan.ID, overwrite bool, token Secret, extraTags map[string]string) error {
	name := env.TokenParameter()
	tags := env.tagMap(step, "runner-token")
	for k, v := range extraTags {
		tags[k] = v
	}
	var ssmTags []ssmtypes.Tag
	for k, v := range tags {
		ssmTags = append(ssmTags, ssmtypes.Tag{Key: aws.String(k), Value: aws.String(v)})
	}
	in := &ssm.PutParameterInput{
		Name:        &name,
		Value:       aws.String(token.Reveal()),
		Type:        ssmtypes.ParameterTypeSecureString,
		Description: aws.String(fmt.Sprintf("provision %s: GitLab runner authentication token", env.Cfg.Stack)),
		Overwrite:   aws.Bool(overwrite),
	}
	if !overwrite {
		in.Tags = ssmTags
	}
	if _, err := env.SSM.PutParameter(ctx, in); err != nil {
		if errorCode(err) == "ParameterAlreadyExists" {
			in.Overwrite, in.Tags = aws.Bool(true), nil
			overwrite = true
			_, err = env.SSM.PutParameter(ctx, in)
		}
		if err != nil {
			// The SDK's error names the operation and AWS's message, never the value.
			return fmt.Errorf("store the runner token in %s: %w", name, err)
		}
	}
	if overwrite {
		if _, err := env.SSM.AddTagsToResource(ctx, &ssm.AddTagsToResourceInput{ResourceId: &name, ResourceType: ssmtypes.ResourceTypeForTaggingParameter, Tags: ssmTags}); err != nil {
			return fmt.Errorf("tag %s: %w", name, err)
		}
	}
	return env.created(step, "ssm-parameter", name, nil)
}
