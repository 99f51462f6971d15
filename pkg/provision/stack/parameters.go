package stack

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ssm"
	ssmtypes "github.com/aws/aws-sdk-go-v2/service/ssm/types"

	"github.com/provision-dev/provision/pkg/plan"
	"github.com/provision-dev/provision/pkg/provision/awsapi"
	"github.com/provision-dev/provision/pkg/provision/resource"
)

// SSM parameters: reading, writing and deleting the token parameter,
// shared by ssm/token and gitlab/runner.

// GetParameter returns the parameter, or nil when it does not exist.
func GetParameter(ctx context.Context, c awsapi.SSM, name string, decrypt bool) (*ssmtypes.Parameter, error) {
	out, err := c.GetParameter(ctx, &ssm.GetParameterInput{Name: &name, WithDecryption: aws.Bool(decrypt)})
	if awsapi.IsNotFound(err) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read SSM parameter %s: %w", name, err)
	}
	return out.Parameter, nil
}

func DeleteParameter(ctx context.Context, c awsapi.SSM, name string) error {
	_, err := c.DeleteParameter(ctx, &ssm.DeleteParameterInput{Name: &name})
	if err != nil && !awsapi.IsNotFound(err) {
		return fmt.Errorf("delete SSM parameter %s: %w", name, err)
	}
	return nil
}

// putToken writes the token parameter, under the stack's secrets key.
// Tags can only be given when the parameter is created; an overwrite adds
// them separately.
func putToken(ctx context.Context, env *Env, step plan.ID, overwrite bool, token Secret, extraTags map[string]string) error {
	_, fleet, _ := FleetOf(step)
	name := env.Names().TokenParameter(fleet)
	key, err := env.secretsKeyForPut()
	if err != nil {
		return err
	}
	tags := env.tagMap(step, "runner-token")
	for k, v := range extraTags {
		tags[k] = v
	}
	in := &ssm.PutParameterInput{
		Name:        &name,
		Value:       aws.String(token.Reveal()),
		Type:        ssmtypes.ParameterTypeSecureString,
		KeyId:       aws.String(key),
		Description: aws.String(fmt.Sprintf("provision %s: GitLab runner authentication token", env.Cfg.Stack)),
		Overwrite:   aws.Bool(overwrite),
	}
	if !overwrite {
		in.Tags = ssmTags(tags)
	}
	if _, err := env.SSM.PutParameter(ctx, in); err != nil {
		if awsapi.ErrorCode(err) == "ParameterAlreadyExists" {
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

// secretsKeyForPut is the KeyId a SecureString is put with. Every put
// names it: an overwrite that names none keeps the parameter's key, so a
// parameter under aws/ssm would stay there.
func (e *Env) secretsKeyForPut() (string, error) {
	key := e.secretsKeyID()
	if key == "" {
		return "", fmt.Errorf("the stack's KMS key (%s) does not exist yet, so no SecureString can be put under it: run `provision up` again", StepSecretsKey)
	}
	return key, nil
}

// parameterKeys reads which KMS key each of the stack's SecureStrings is
// encrypted with (GetParameter does not say), in one DescribeParameters
// call the run shares: parameter name to KeyId.
func (e *Env) parameterKeys(ctx context.Context) (map[string]string, error) {
	names := []string{e.Names().SSHKeyParameter(), e.Names().RunnerConfigParameter()}
	for _, f := range e.fleets() {
		names = append(names, e.Names().TokenParameter(f.Name))
	}
	return awsapi.SharedRead(ctx, e.reads, "parameter-keys", func(ctx context.Context) (map[string]string, error) {
		// Every page: a filtered list may come in pages of any size.
		pages := ssm.NewDescribeParametersPaginator(e.SSM, &ssm.DescribeParametersInput{ParameterFilters: []ssmtypes.ParameterStringFilter{
			{Key: aws.String("Name"), Option: aws.String("Equals"), Values: names},
		}})
		keys := map[string]string{}
		for pages.HasMorePages() {
			out, err := pages.NextPage(ctx)
			if err != nil {
				return nil, fmt.Errorf("read which KMS keys encrypt %s: %w", strings.Join(names, ", "), err)
			}
			for _, p := range out.Parameters {
				keys[aws.ToString(p.Name)] = aws.ToString(p.KeyId)
			}
		}
		return keys, nil
	})
}

// keyDrift is why a SecureString must be encrypted again ("" when it is
// under the stack's secrets key): one a version before this key put is
// under aws/ssm, which every principal of the account may decrypt through
// SSM.
func keyDrift(ctx context.Context, e *Env, name string) (string, error) {
	have, err := e.parameterKeys(ctx)
	if err != nil {
		return "", err
	}
	keyID, ok := have[name]
	if !ok {
		return "", nil
	}
	want, err := e.secretsKeyNames(ctx)
	if err != nil || slices.Contains(want, keyID) {
		return "", err
	}
	if keyID == "" {
		keyID = "alias/aws/ssm"
	}
	label := e.Cfg.Secrets.KMSKeyID
	if e.Cfg.OwnSecretsKey() {
		label = "the stack's key " + e.Names().SecretsKeyAlias()
	}
	return fmt.Sprintf("it is encrypted with %s, not with %s: encrypt it again (the value stays)", keyID, label), nil
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
	return resource.TagMapOf(out.TagList, func(t ssmtypes.Tag) (*string, *string) { return t.Key, t.Value }), nil
}

// retagParameter changes a parameter's tags.
func retagParameter(ctx context.Context, env *Env, p parameter, c resource.TagChange) error {
	if len(c.Set) > 0 {
		if _, err := env.SSM.AddTagsToResource(ctx, &ssm.AddTagsToResourceInput{ResourceType: ssmtypes.ResourceTypeForTaggingParameter, ResourceId: p.Name, Tags: ssmTags(c.Set)}); err != nil {
			return fmt.Errorf("tag %s: %w", aws.ToString(p.Name), err)
		}
	}
	if len(c.Remove) > 0 {
		if _, err := env.SSM.RemoveTagsFromResource(ctx, &ssm.RemoveTagsFromResourceInput{ResourceType: ssmtypes.ResourceTypeForTaggingParameter, ResourceId: p.Name, TagKeys: c.Remove}); err != nil {
			return fmt.Errorf("remove tags from %s: %w", aws.ToString(p.Name), err)
		}
	}
	return nil
}
