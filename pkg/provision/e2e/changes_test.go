package e2e

import (
	"context"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/autoscaling"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/aws/aws-sdk-go-v2/service/iam"
)

// A changed `tags:` is shown on every resource and applied to every one;
// a key taken out of `tags:` is removed again. A changed manager type is
// a -/+ replacement that says what forces it and that it interrupts jobs,
// and the result line counts what the plan announced.
func TestPlansSayWhatWillHappen(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	h.writeConfig(baseConfig)
	h.mustRun(0, "up", "--auto-approve")

	h.writeConfig(strings.Replace(baseConfig, "tags: {team: ci}", "tags: {team: platform, env: prod}", 1))
	p := h.mustRun(2, "plan", "--detailed-exitcode")
	// Every AWS resource with tags of its own: all but the address
	// association and GitLab's rules.
	const taggedSteps = fullSteps - 2
	if n := strings.Count(p.stdout, "tag team: ci -> platform"); n != taggedSteps {
		t.Errorf("%d resources show the tag change, want %d:\n%s", n, taggedSteps, p.stdout)
	}
	if n := strings.Count(p.stdout, "add tag env=prod"); n != taggedSteps {
		t.Errorf("%d resources show the new tag, want %d", n, taggedSteps)
	}
	up := h.mustRun(0, "up", "--auto-approve")
	if !strings.Contains(up.stdout, "Apply complete! Resources: 0 added, 28 changed, 0 destroyed.") {
		t.Errorf("up result:\n%s", up.stdout)
	}
	h.mustRun(0, "plan", "--detailed-exitcode")
	checkTagged(t, h, map[string]string{"team": "platform", "env": "prod"})

	h.writeConfig(strings.Replace(baseConfig, "tags: {team: ci}", "tags: {team: platform}", 1))
	p = h.mustRun(2, "plan", "--detailed-exitcode")
	if n := strings.Count(p.stdout, "remove tag env (no longer in tags:)"); n != taggedSteps {
		t.Errorf("%d resources show the removed tag, want %d:\n%s", n, taggedSteps, p.stdout)
	}
	h.mustRun(0, "up", "--auto-approve")
	checkTagged(t, h, map[string]string{"team": "platform", "env": ""})

	// A replacement.
	h.writeConfig(strings.Replace(baseConfig, "tags: {team: ci}", "tags: {team: platform}", 1) + "manager: {instance_type: t3.small}\n")
	p = h.mustRun(2, "plan", "--detailed-exitcode")
	for _, want := range []string{
		"-/+ instance/manager",
		"must be replaced: instance type t3.micro -> t3.small",
		"the old one stops taking jobs and finishes those it runs",
		"+ asg/runner", // the new manager's own group
		"- drain/manager",
		"~ eip/manager-assoc",
		"Plan: 2 to add, 1 to change, 2 to destroy.",
	} {
		if !strings.Contains(p.stdout, want) {
			t.Errorf("the replacement plan does not show %q:\n%s", want, p.stdout)
		}
	}
	up = h.mustRun(0, "up", "--auto-approve")
	if !strings.Contains(up.stdout, "Apply complete! Resources: 2 added, 1 changed, 2 destroyed.") || strings.Contains(up.stdout, "Also ") {
		t.Errorf("the result does not count what the plan announced:\n%s", up.stdout)
	}
	h.mustRun(0, "plan", "--detailed-exitcode")
	h.mustRun(0, "down", "--auto-approve")
}

// checkTagged reads the tags of the stack's EC2 resources, its Auto
// Scaling group and its role; want "" means the key must be absent.
func checkTagged(t *testing.T, h *harness, want map[string]string) {
	t.Helper()
	ctx := context.Background()
	cfg := awsConfig(h.moto.URL)
	out, err := h.ec2.DescribeTags(ctx, &ec2.DescribeTagsInput{Filters: []ec2types.Filter{{Name: aws.String("key"), Values: []string{"provision:stack"}}}})
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range out.Tags {
		if aws.ToString(d.Value) != "net" {
			continue
		}
		id := aws.ToString(d.ResourceId)
		tags, err := h.ec2.DescribeTags(ctx, &ec2.DescribeTagsInput{Filters: []ec2types.Filter{{Name: aws.String("resource-id"), Values: []string{id}}}})
		if err != nil {
			t.Fatal(err)
		}
		have := map[string]string{}
		for _, x := range tags.Tags {
			have[aws.ToString(x.Key)] = aws.ToString(x.Value)
		}
		if have["provision:step"] == "machines/runner" || strings.HasPrefix(id, "vol-") {
			continue // made by others with the tags of their time
		}
		for k, v := range want {
			if have[k] != v {
				t.Errorf("%s (%s): tag %s = %q, want %q", id, have["provision:step"], k, have[k], v)
			}
		}
	}
	g, err := autoscaling.NewFromConfig(cfg).DescribeAutoScalingGroups(ctx, &autoscaling.DescribeAutoScalingGroupsInput{AutoScalingGroupNames: []string{groupName(t, h)}})
	if err != nil || len(g.AutoScalingGroups) != 1 {
		t.Fatalf("group: %v", err)
	}
	have := map[string]string{}
	for _, x := range g.AutoScalingGroups[0].Tags {
		have[aws.ToString(x.Key)] = aws.ToString(x.Value)
	}
	role, err := iam.NewFromConfig(cfg).GetRole(ctx, &iam.GetRoleInput{RoleName: aws.String("net-eu-west-1-manager")})
	if err != nil {
		t.Fatal(err)
	}
	roleTags := map[string]string{}
	for _, x := range role.Role.Tags {
		roleTags[aws.ToString(x.Key)] = aws.ToString(x.Value)
	}
	for k, v := range want {
		if have[k] != v || roleTags[k] != v {
			t.Errorf("tag %s: group %q, role %q, want %q", k, have[k], roleTags[k], v)
		}
	}
}
