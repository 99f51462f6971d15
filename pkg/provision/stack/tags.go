package stack

import (
	"sort"

	"github.com/aws/aws-sdk-go-v2/aws"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"

	"github.com/provision-dev/provision/pkg/plan"
	"github.com/provision-dev/provision/pkg/provision/resource"
)

// Ownership tags: every resource the stack creates carries both, and
// discovery (down without state, adoption after a crash) relies on them.
const (
	TagStack = "provision:stack"
	TagStep  = "provision:step"
)

// tagMap returns every tag a resource of this step carries.
func (e *Env) tagMap(step plan.ID, role string) map[string]string {
	m := map[string]string{}
	for k, v := range e.Cfg.Tags {
		m[k] = v
	}
	m[TagStack] = e.Cfg.Stack
	m[TagStep] = StepTag(step)
	m["Name"] = e.name(role)
	if len(e.Cfg.Tags) > 0 {
		m[resource.TagKeys] = resource.TagKeysValue(e.Cfg.Tags)
	}
	return m
}

func (e *Env) ec2Tags(step plan.ID, role string) []ec2types.Tag {
	return tagList(e.tagMap(step, role), func(k, v string) ec2types.Tag { return ec2types.Tag{Key: aws.String(k), Value: aws.String(v)} })
}

// tagList turns a tag map into an API's tags, sorted by key (a stable
// request, and a stable plan).
func tagList[T any](m map[string]string, tag func(key, value string) T) []T {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	tags := make([]T, 0, len(keys))
	for _, k := range keys {
		tags = append(tags, tag(k, m[k]))
	}
	return tags
}

// tagSpec tags a resource at creation, so a crash right after the create
// call leaves something discovery can find.
func (e *Env) tagSpec(rt ec2types.ResourceType, step plan.ID, role string) []ec2types.TagSpecification {
	return []ec2types.TagSpecification{{ResourceType: rt, Tags: e.ec2Tags(step, role)}}
}

// ownerFilters select resources of this stack and step.
func (e *Env) ownerFilters(step plan.ID) []ec2types.Filter {
	return []ec2types.Filter{
		{Name: aws.String("tag:" + TagStack), Values: []string{e.Cfg.Stack}},
		{Name: aws.String("tag:" + TagStep), Values: []string{StepTag(step)}},
	}
}

// ownedBy checks the ownership tags in code: some APIs (and the emulator)
// ignore tag filters, so a filter alone is not proof.
func (e *Env) ownedBy(tags []ec2types.Tag, step plan.ID) bool {
	return TagValue(tags, TagStack) == e.Cfg.Stack && TagValue(tags, TagStep) == StepTag(step)
}

func TagValue(tags []ec2types.Tag, key string) string {
	for _, t := range tags {
		if aws.ToString(t.Key) == key {
			return aws.ToString(t.Value)
		}
	}
	return ""
}

func Filter(name string, values ...string) ec2types.Filter {
	return ec2types.Filter{Name: aws.String(name), Values: values}
}
