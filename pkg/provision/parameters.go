package provision

import (
	"context"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ssm"
	ssmtypes "github.com/aws/aws-sdk-go-v2/service/ssm/types"

	"github.com/provision-dev/provision/pkg/plan"
)

// SSM parameters: reading, writing and deleting the token parameter,
// shared by ssm/token and gitlab/runner.

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
	return nil
}
