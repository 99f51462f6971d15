package stack

import (
	"context"
	"fmt"
	"sort"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
)

// tagKeys lists the keys of the configuration's `tags:` that a resource
// was given, so that a key removed from the configuration is removed from
// the resource too, while tags others put on it (cost allocation,
// automation) are left alone.
const tagKeys = "provision:tags"

// tagKeysValue is the value of tagKeys for the configuration's tags.
func tagKeysValue(tags map[string]string) string {
	keys := make([]string, 0, len(tags))
	for k := range tags {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return strings.Join(keys, ",")
}

// tagChange is what it takes to bring a resource's tags in line with the
// configuration's `tags:`.
type tagChange struct {
	set    map[string]string
	remove []string
}

func (t tagChange) empty() bool { return len(t.set) == 0 && len(t.remove) == 0 }

// tagDrift compares a resource's tags with the configuration's: a key
// missing or with another value is set, a key the tool put there earlier
// (listed in provision:tags) that the configuration no longer has is
// removed. The reasons are the plan's lines.
func (e *Env) tagDrift(have map[string]string) (tagChange, []string) {
	want := e.Cfg.Tags
	c := tagChange{set: map[string]string{}}
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
			c.set[k] = want[k]
			reasons = append(reasons, fmt.Sprintf("add tag %s=%s", k, want[k]))
		case v != want[k]:
			c.set[k] = want[k]
			reasons = append(reasons, fmt.Sprintf("tag %s: %s -> %s", k, v, want[k]))
		}
	}
	if prev := have[tagKeys]; prev != "" {
		for _, k := range strings.Split(prev, ",") {
			if _, still := want[k]; !still {
				if _, present := have[k]; present {
					c.remove = append(c.remove, k)
					reasons = append(reasons, "remove tag "+k+" (no longer in tags:)")
				}
			}
		}
	}
	if len(reasons) == 0 {
		return tagChange{}, nil
	}
	switch wantKeys := tagKeysValue(want); {
	case wantKeys != "":
		c.set[tagKeys] = wantKeys
	case have[tagKeys] != "":
		c.remove = append(c.remove, tagKeys)
	}
	return c, reasons
}

// tagMapOf turns any API's tags into a map, given how to read one.
func tagMapOf[T any](tags []T, kv func(T) (key, value *string)) map[string]string {
	m := make(map[string]string, len(tags))
	for _, t := range tags {
		k, v := kv(t)
		m[aws.ToString(k)] = aws.ToString(v)
	}
	return m
}

// ec2TagMap turns EC2 tags into a map.
func ec2TagMap(tags []ec2types.Tag) map[string]string {
	return tagMapOf(tags, func(t ec2types.Tag) (*string, *string) { return t.Key, t.Value })
}

// retagEC2 applies a tag change to an EC2 resource (any id CreateTags
// takes: vpc-, subnet-, eipalloc-, lt-, i-, ...).
func (e *Env) retagEC2(ctx context.Context, id string, c tagChange) error {
	if len(c.set) > 0 {
		var tags []ec2types.Tag
		for k, v := range c.set {
			tags = append(tags, ec2types.Tag{Key: aws.String(k), Value: aws.String(v)})
		}
		if _, err := e.EC2.CreateTags(ctx, &ec2.CreateTagsInput{Resources: []string{id}, Tags: tags}); err != nil {
			return fmt.Errorf("tag %s: %w", id, err)
		}
	}
	if len(c.remove) > 0 {
		var tags []ec2types.Tag
		for _, k := range c.remove {
			tags = append(tags, ec2types.Tag{Key: aws.String(k)})
		}
		if _, err := e.EC2.DeleteTags(ctx, &ec2.DeleteTagsInput{Resources: []string{id}, Tags: tags}); err != nil {
			return fmt.Errorf("remove tags from %s: %w", id, err)
		}
	}
	return nil
}
