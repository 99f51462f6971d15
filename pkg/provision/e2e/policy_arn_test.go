package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"regexp"
	"sort"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/autoscaling"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/aws/aws-sdk-go-v2/service/ssm"
	ssmtypes "github.com/aws/aws-sdk-go-v2/service/ssm/types"
	"github.com/aws/aws-sdk-go-v2/service/sts"
)

// The emulator evaluates no policy, so a policy that names a wrong ARN
// (an IAM role without its path, say) passes every other test while AWS
// would deny every call it is meant to allow. checkPolicyARNs reads the
// inline policy of a role the tool wrote and holds every ARN in it against
// the ARNs AWS itself returned for the stack's resources:
//   - an ARN without wildcards must be exactly the ARN of a resource that exists;
//   - an ARN with wildcards must match such a resource, unless it names a kind
//     the tool cannot know in advance (instance/*, volume/*, ...), and then
//     its partition, region and account must be the caller's.
func checkPolicyARNs(t *testing.T, h *harness, roleName string) {
	t.Helper()
	ctx := context.Background()
	cfg := awsConfig(h.moto.URL)
	iamc := iam.NewFromConfig(cfg)
	pol, err := iamc.GetRolePolicy(ctx, &iam.GetRolePolicyInput{RoleName: aws.String(roleName), PolicyName: aws.String("provision")})
	if err != nil {
		t.Fatalf("policy of %s: %v", roleName, err)
	}
	doc, _ := url.QueryUnescape(aws.ToString(pol.PolicyDocument))
	real := realARNs(t, h, ctx)
	id, err := sts.NewFromConfig(cfg).GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
	if err != nil {
		t.Fatal(err)
	}
	account := aws.ToString(id.Account)
	kinds := regexp.MustCompile(`^arn:aws:ec2:` + region + `:(` + account + `)?:(instance|volume|key-pair|image|network-interface|spot-instances-request)/[^/]*[*?]$`)
	for _, arn := range arnsIn(t, doc) {
		if !strings.ContainsAny(arn, "*?") {
			if !real[arn] {
				t.Errorf("policy of %s names %s, which is not the ARN of anything AWS returned (%d known)", roleName, arn, len(real))
			}
			continue
		}
		if kinds.MatchString(arn) {
			continue
		}
		pattern := regexp.MustCompile("^" + strings.NewReplacer(`\*`, ".*", `\?`, ".").Replace(regexp.QuoteMeta(arn)) + "$")
		matched := false
		for r := range real {
			matched = matched || pattern.MatchString(r)
		}
		if !matched {
			t.Errorf("policy of %s names %s, which matches no ARN that AWS returned", roleName, arn)
		}
	}
}

// arnsIn collects every string that starts with arn: in a policy document:
// resources and condition values alike.
func arnsIn(t *testing.T, doc string) []string {
	var v any
	if err := json.Unmarshal([]byte(doc), &v); err != nil {
		t.Fatalf("policy is not JSON: %v\n%s", err, doc)
	}
	seen := map[string]bool{}
	var walk func(any)
	walk = func(x any) {
		switch x := x.(type) {
		case map[string]any:
			for _, y := range x {
				walk(y)
			}
		case []any:
			for _, y := range x {
				walk(y)
			}
		case string:
			if strings.HasPrefix(x, "arn:") {
				seen[x] = true
			}
		}
	}
	walk(v)
	var out []string
	for a := range seen {
		out = append(out, a)
	}
	sort.Strings(out)
	return out
}

// realARNs lists the ARNs AWS gives for what exists: roles, instance
// profiles, Auto Scaling groups, parameters, KMS keys, subnets, groups and
// VPCs.
func realARNs(t *testing.T, h *harness, ctx context.Context) map[string]bool {
	cfg := awsConfig(h.moto.URL)
	out := map[string]bool{}
	add := func(arn *string) {
		if a := aws.ToString(arn); a != "" {
			out[a] = true
		}
	}
	iamc := iam.NewFromConfig(cfg)
	roles, err := iamc.ListRoles(ctx, &iam.ListRolesInput{})
	must(t, err)
	for _, r := range roles.Roles {
		add(r.Arn)
	}
	profiles, err := iamc.ListInstanceProfiles(ctx, &iam.ListInstanceProfilesInput{})
	must(t, err)
	for _, p := range profiles.InstanceProfiles {
		add(p.Arn)
	}
	groups, err := autoscaling.NewFromConfig(cfg).DescribeAutoScalingGroups(ctx, &autoscaling.DescribeAutoScalingGroupsInput{})
	must(t, err)
	for _, g := range groups.AutoScalingGroups {
		add(g.AutoScalingGroupARN)
	}
	ssmc := ssm.NewFromConfig(cfg)
	params, err := ssmc.DescribeParameters(ctx, &ssm.DescribeParametersInput{ParameterFilters: []ssmtypes.ParameterStringFilter{
		{Key: aws.String("Name"), Option: aws.String("BeginsWith"), Values: []string{"/provision/"}}}})
	must(t, err)
	for _, p := range params.Parameters {
		got, err := ssmc.GetParameter(ctx, &ssm.GetParameterInput{Name: p.Name})
		must(t, err)
		add(got.Parameter.ARN)
	}
	// Log groups (the ARN without the ":*" DescribeLogGroups also gives)
	// and their streams.
	logs := cloudwatchlogs.NewFromConfig(cfg)
	lgs, err := logs.DescribeLogGroups(ctx, &cloudwatchlogs.DescribeLogGroupsInput{})
	must(t, err)
	for _, g := range lgs.LogGroups {
		add(g.LogGroupArn)
		streams, err := logs.DescribeLogStreams(ctx, &cloudwatchlogs.DescribeLogStreamsInput{LogGroupName: g.LogGroupName})
		must(t, err)
		for _, s := range streams.LogStreams {
			add(s.Arn)
		}
	}
	kmsc := kms.NewFromConfig(cfg)
	keys, err := kmsc.ListKeys(ctx, &kms.ListKeysInput{})
	must(t, err)
	for _, k := range keys.Keys {
		add(k.KeyArn)
	}
	c := ec2.NewFromConfig(cfg)
	subnets, err := c.DescribeSubnets(ctx, &ec2.DescribeSubnetsInput{})
	must(t, err)
	for _, s := range subnets.Subnets {
		add(s.SubnetArn)
	}
	sgs, err := c.DescribeSecurityGroups(ctx, &ec2.DescribeSecurityGroupsInput{})
	must(t, err)
	for _, g := range sgs.SecurityGroups {
		if g.SecurityGroupArn != nil {
			add(g.SecurityGroupArn)
		} else {
			add(aws.String(fmt.Sprintf("arn:aws:ec2:%s:%s:security-group/%s", region, aws.ToString(g.OwnerId), aws.ToString(g.GroupId))))
		}
	}
	vpcs, err := c.DescribeVpcs(ctx, &ec2.DescribeVpcsInput{})
	must(t, err)
	for _, v := range vpcs.Vpcs {
		// DescribeVpcs returns no ARN: this is the documented form, from the owner AWS returned.
		add(aws.String(fmt.Sprintf("arn:aws:ec2:%s:%s:vpc/%s", region, aws.ToString(v.OwnerId), aws.ToString(v.VpcId))))
	}
	return out
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}
