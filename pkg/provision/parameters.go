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
	in := &ssm.PutParameterInput{
		Name:        &name,
		Value:       aws.String(token.Reveal()),
		Type:        ssmtypes.ParameterTypeSecureString,
		Description: aws.String(fmt.Sprintf("provision %s: GitLab runner authentication token", env.Cfg.Stack)),
		Overwrite:   aws.Bool(overwrite),
	}
	if !overwrite {
		in.Tags = ssmTags(tags)
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
		if _, err := env.SSM.AddTagsToResource(ctx, &ssm.AddTagsToResourceInput{ResourceId: &name, ResourceType: ssmtypes.ResourceTypeForTaggingParameter, Tags: ssmTags(tags)}); err != nil {
			return fmt.Errorf("tag %s: %w", name, err)
		}
	}
	return nil
}

// ssmTags turns a tag map into SSM's tags.
func ssmTags(m map[string]string) []ssmtypes.Tag {
	var tags []ssmtypes.Tag
	for k, v := range m {
		tags = append(tags, ssmtypes.Tag{Key: aws.String(k), Value: aws.String(v)})
	}
	return tags
}

// parameterTags reads a parameter's tags (GetParameter does not return them).
func parameterTags(ctx context.Context, env *Env, p parameter) (map[string]string, error) {
	out, err := env.SSM.ListTagsForResource(ctx, &ssm.ListTagsForResourceInput{ResourceType: ssmtypes.ResourceTypeForTaggingParameter, ResourceId: p.Name})
	if err != nil {
		return nil, fmt.Errorf("read the tags of %s: %w", aws.ToString(p.Name), err)
	}
	return tagMapOf(out.TagList, func(t ssmtypes.Tag) (*string, *string) { return t.Key, t.Value }), nil
}

// retagParameter changes a parameter's tags.
func retagParameter(ctx context.Context, env *Env, p parameter, c tagChange) error {
	if len(c.set) > 0 {
		if _, err := env.SSM.AddTagsToResource(ctx, &ssm.AddTagsToResourceInput{ResourceType: ssmtypes.ResourceTypeForTaggingParameter, ResourceId: p.Name, Tags: ssmTags(c.set)}); err != nil {
			return fmt.Errorf("tag %s: %w", aws.ToString(p.Name), err)
		}
	}
	if len(c.remove) > 0 {
		if _, err := env.SSM.RemoveTagsFromResource(ctx, &ssm.RemoveTagsFromResourceInput{ResourceType: ssmtypes.ResourceTypeForTaggingParameter, ResourceId: p.Name, TagKeys: c.remove}); err != nil {
			return fmt.Errorf("remove tags from %s: %w", aws.ToString(p.Name), err)
		}
	}
	return nil
}
