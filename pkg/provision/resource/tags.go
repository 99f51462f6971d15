package resource

import (
	"context"
	"fmt"
	"sort"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
)

// TagKeys lists the keys of the configuration's `tags:` that a resource
// was given, so that a key removed from the configuration is removed from
// the resource too, while tags others put on it (cost allocation,
// automation) are left alone.
const TagKeys = "provision:tags"

// TagKeysValue is the value of TagKeys for the configuration's tags.
func TagKeysValue(tags map[string]string) string {
	keys := make([]string, 0, len(tags))
	for k := range tags {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return strings.Join(keys, ",")
}

// TagChange is what it takes to bring a resource's tags in line with the
// configuration's `tags:`.
type TagChange struct {
	Set    map[string]string
	Remove []string
}

// Empty reports whether there is nothing to change.
func (t TagChange) Empty() bool { return len(t.Set) == 0 && len(t.Remove) == 0 }

// Drift compares a resource's tags (have) with the configuration's
// (want): a key missing or with another value is set, a key the tool put
// there earlier (listed in provision:tags) that the configuration no
// longer has is removed. The reasons are the plan's lines.
func Drift(want, have map[string]string) (TagChange, []string) {
	c := TagChange{Set: map[string]string{}}
	var reasons []string
	keys := make([]string, 0, len(want))
	for k := range want {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		v, ok := have[k]
		switch {
		case !ok:
			c.Set[k] = want[k]
			reasons = append(reasons, fmt.Sprintf("add tag %s=%s", k, want[k]))
		case v != want[k]:
			c.Set[k] = want[k]
			reasons = append(reasons, fmt.Sprintf("tag %s: %s -> %s", k, v, want[k]))
		}
	}
	if prev := have[TagKeys]; prev != "" {
		for _, k := range strings.Split(prev, ",") {
			if _, still := want[k]; !still {
				if _, present := have[k]; present {
					c.Remove = append(c.Remove, k)
					reasons = append(reasons, "remove tag "+k+" (no longer in tags:)")
				}
			}
		}
	}
	if len(reasons) == 0 {
		return TagChange{}, nil
	}
	switch wantKeys := TagKeysValue(want); {
	case wantKeys != "":
		c.Set[TagKeys] = wantKeys
	case have[TagKeys] != "":
		c.Remove = append(c.Remove, TagKeys)
	}
	return c, reasons
}

// TagMapOf turns any API's tags into a map, given how to read one.
func TagMapOf[T any](tags []T, kv func(T) (key, value *string)) map[string]string {
	m := make(map[string]string, len(tags))
	for _, t := range tags {
		k, v := kv(t)
		m[aws.ToString(k)] = aws.ToString(v)
	}
	return m
}

// EC2TagMap turns EC2 tags into a map.
func EC2TagMap(tags []ec2types.Tag) map[string]string {
	return TagMapOf(tags, func(t ec2types.Tag) (*string, *string) { return t.Key, t.Value })
}

// EC2Tagger is the part of the EC2 API that changes tags.
type EC2Tagger interface {
	CreateTags(ctx context.Context, in *ec2.CreateTagsInput, optFns ...func(*ec2.Options)) (*ec2.CreateTagsOutput, error)
	DeleteTags(ctx context.Context, in *ec2.DeleteTagsInput, optFns ...func(*ec2.Options)) (*ec2.DeleteTagsOutput, error)
}

// RetagEC2 applies a tag change to an EC2 resource (any id CreateTags
// takes: vpc-, subnet-, eipalloc-, lt-, i-, ...).
func RetagEC2(ctx context.Context, client EC2Tagger, id string, c TagChange) error {
	if len(c.Set) > 0 {
		var tags []ec2types.Tag
		for k, v := range c.Set {
			tags = append(tags, ec2types.Tag{Key: aws.String(k), Value: aws.String(v)})
		}
		if _, err := client.CreateTags(ctx, &ec2.CreateTagsInput{Resources: []string{id}, Tags: tags}); err != nil {
			return fmt.Errorf("tag %s: %w", id, err)
		}
	}
	if len(c.Remove) > 0 {
		var tags []ec2types.Tag
		for _, k := range c.Remove {
			tags = append(tags, ec2types.Tag{Key: aws.String(k)})
		}
		if _, err := client.DeleteTags(ctx, &ec2.DeleteTagsInput{Resources: []string{id}, Tags: tags}); err != nil {
			return fmt.Errorf("remove tags from %s: %w", id, err)
		}
	}
	return nil
}
