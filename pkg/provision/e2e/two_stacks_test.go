package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/autoscaling"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/ssm"
	ssmtypes "github.com/aws/aws-sdk-go-v2/service/ssm/types"

	"github.com/provision-dev/provision/pkg/provision/awstest"
	"github.com/provision-dev/provision/pkg/provision/policy"
	"github.com/provision-dev/provision/pkg/provision/stack"
)

// stackReach is what one stack built and the policies it acts with.
type stackReach struct {
	name     string
	groups   map[string]string // ARN -> the group's provision:stack tag
	buckets  []string          // ARNs
	params   []string          // ARNs
	operator []policy.PolicyDocument
	manager  []policy.PolicyDocument // the manager role's policy, then its boundary
}

// readReach collects a stack's groups, cache bucket and parameters from
// the emulator, its printed operator policy and its manager's policy.
func readReach(t *testing.T, h *harness, stackName, config string) stackReach {
	t.Helper()
	ctx := context.Background()
	cfg := awsConfig(h.moto.URL)
	r := stackReach{name: stackName, groups: map[string]string{}}
	groups, err := autoscaling.NewFromConfig(cfg).DescribeAutoScalingGroups(ctx, &autoscaling.DescribeAutoScalingGroupsInput{})
	must(t, err)
	for _, g := range groups.AutoScalingGroups {
		for _, tag := range g.Tags {
			if aws.ToString(tag.Key) == stack.TagStack && aws.ToString(tag.Value) == stackName {
				r.groups[aws.ToString(g.AutoScalingGroupARN)] = stackName
			}
		}
	}
	buckets, err := s3.NewFromConfig(cfg, func(o *s3.Options) { o.UsePathStyle = true }).ListBuckets(ctx, &s3.ListBucketsInput{})
	must(t, err)
	for _, b := range buckets.Buckets {
		if name := aws.ToString(b.Name); strings.HasPrefix(name, stackName+"-cache-") && len(name) == len(stackName)+len("-cache-")+12 {
			r.buckets = append(r.buckets, "arn:aws:s3:::"+name)
		}
	}
	params, err := ssm.NewFromConfig(cfg).DescribeParameters(ctx, &ssm.DescribeParametersInput{ParameterFilters: []ssmtypes.ParameterStringFilter{
		{Key: aws.String("Path"), Option: aws.String("Recursive"), Values: []string{"/provision/" + stackName}}}})
	must(t, err)
	for _, p := range params.Parameters {
		r.params = append(r.params, "arn:aws:ssm:"+region+":123456789012:parameter"+aws.ToString(p.Name))
	}
	if len(r.groups) == 0 || len(r.buckets) != 1 || len(r.params) < 2 {
		t.Fatalf("stack %s: groups %v, buckets %v, parameters %v", stackName, r.groups, r.buckets, r.params)
	}
	path := filepath.Join(h.dir, stackName+".yaml")
	must(t, os.WriteFile(path, []byte(config), 0o644))
	for part := 1; ; part++ {
		out := h.run("iam-policy", "-c", path, "--part", fmt.Sprint(part))
		if out.code != 0 {
			break
		}
		r.operator = append(r.operator, policyOf(t, out.stdout))
	}
	pol, err := iam.NewFromConfig(cfg).GetRolePolicy(ctx, &iam.GetRolePolicyInput{RoleName: aws.String(stackName + "-" + region + "-manager"), PolicyName: aws.String("provision")})
	must(t, err)
	doc, _ := url.QueryUnescape(aws.ToString(pol.PolicyDocument))
	r.manager = []policy.PolicyDocument{policyOf(t, doc), stack.BoundaryPolicy(stackName, region)}
	return r
}

func policyOf(t *testing.T, doc string) policy.PolicyDocument {
	t.Helper()
	var p policy.PolicyDocument
	if err := json.Unmarshal([]byte(doc), &p); err != nil {
		t.Fatalf("not a policy: %v\n%s", err, doc)
	}
	return p
}

// may is whether a's policies allow action on resource, tagged as the
// resource is: the operator by its policy, the manager by its role's
// policy and its boundary together.
func (a stackReach) may(who, action, resource, tag string) bool {
	req := awstest.Request{Action: action, Resource: resource, Context: map[string][]string{"aws:RequestedRegion": {region}}}
	if tag != "" {
		req.Context["aws:ResourceTag/"+stack.TagStack] = []string{tag}
	}
	if who == "operator" {
		return awstest.Allowed(a.operator, req)
	}
	return awstest.Allowed(a.manager[:1], req) && awstest.Allowed(a.manager[1:], req)
}

// Stacks "ci" and "ci-runners-x" side by side: the name of one starts
// with the other's group prefix, yet neither's operator policy nor
// manager role reaches the other's groups, cache bucket or parameters,
// while each reaches its own.
func TestTwoStacksDoNotReachEachOther(t *testing.T) {
	h := newHarness(t)
	configs := map[string]string{}
	for _, stack := range []string{"ci", "ci-runners-x"} {
		configs[stack] = strings.Replace(baseConfig, "stack: net", "stack: "+stack, 1) + "cache: {s3: true}\n"
		h.writeConfig(configs[stack])
		h.mustRun(0, "up", "--auto-approve", "--no-wait")
	}
	// writeConfig filled in GitLab's address and group.
	fill := strings.NewReplacer("GITLAB_URL", h.gitlab.URL, "GITLAB_SG", h.gitlabSG)
	reach := map[string]stackReach{}
	for stack, config := range configs {
		reach[stack] = readReach(t, h, stack, fill.Replace(config))
	}
	checks := []struct {
		who     string
		actions []string
		of      func(stackReach) map[string]string
	}{
		{"operator", []string{"autoscaling:UpdateAutoScalingGroup", "autoscaling:DeleteAutoScalingGroup"}, func(r stackReach) map[string]string { return r.groups }},
		{"manager", []string{"autoscaling:SetDesiredCapacity", "autoscaling:TerminateInstanceInAutoScalingGroup"}, func(r stackReach) map[string]string { return r.groups }},
		{"operator", []string{"s3:DeleteBucket", "s3:PutBucketTagging"}, func(r stackReach) map[string]string { return untagged(r.buckets, "") }},
		{"operator", []string{"s3:DeleteObject"}, func(r stackReach) map[string]string { return untagged(r.buckets, "/cache.zip") }},
		{"manager", []string{"s3:GetObject", "s3:PutObject"}, func(r stackReach) map[string]string { return untagged(r.buckets, "/cache.zip") }},
		{"operator", []string{"ssm:GetParameter", "ssm:PutParameter", "ssm:DeleteParameter"}, func(r stackReach) map[string]string { return untagged(r.params, "") }},
		{"manager", []string{"ssm:GetParameter", "ssm:PutParameter"}, func(r stackReach) map[string]string { return untagged(r.token(), "") }},
	}
	for _, a := range reach {
		for _, b := range reach {
			for _, c := range checks {
				for resource, tag := range c.of(b) {
					for _, action := range c.actions {
						if got, want := a.may(c.who, action, resource, tag), a.name == b.name; got != want {
							t.Errorf("stack %s's %s may %s on %s (stack %s): %v, want %v", a.name, c.who, action, resource, b.name, got, want)
						}
					}
				}
			}
		}
	}
	for _, stack := range []string{"ci", "ci-runners-x"} {
		h.mustRun(0, "down", "--auto-approve", "-c", filepath.Join(h.dir, stack+".yaml"))
	}
}

// token is the runner token's parameter, the one the manager renews.
func (r stackReach) token() []string {
	for _, p := range r.params {
		if strings.HasSuffix(p, "/runner-token") {
			return []string{p}
		}
	}
	return nil
}

// untagged lists ARNs (with a suffix) that carry no tag condition here.
func untagged(arns []string, suffix string) map[string]string {
	out := map[string]string{}
	for _, a := range arns {
		out[a+suffix] = ""
	}
	return out
}
