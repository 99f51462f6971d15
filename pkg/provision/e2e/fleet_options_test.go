package e2e

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/autoscaling"
	asgtypes "github.com/aws/aws-sdk-go-v2/service/autoscaling/types"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/aws-sdk-go-v2/service/ssm"
)

// Working hours and metrics: runners.schedule becomes autoscaler policies
// after the default one in the manager's config.toml; manager.metrics_cidrs
// turns on the metrics endpoint on the private address and admits exactly
// those addresses on 9252, in the manager's group and the public ACL;
// removing it closes both again.
func TestScheduleAndMetrics(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	options := `runners:
  schedule:
    - periods: ["* 8-19 * * mon-fri"]
      timezone: Asia/Tokyo
      idle_count: 2
      idle_time: 20m
manager:
  metrics_cidrs: [198.51.100.0/24]
`
	h.writeConfig(baseConfig + options)
	h.mustRun(0, "up", "--auto-approve", "--no-wait")

	ud := runnerConfig(t, h, "net")
	for _, want := range []string{
		"listen_address = '@PRIVATE_IP@:9252'",
		"periods = ['* 8-19 * * mon-fri']",
		"timezone = 'Asia/Tokyo'",
		"idle_count = 2",
		"idle_time = '20m0s'",
	} {
		if !strings.Contains(ud, want) {
			t.Errorf("the manager's config.toml lacks %q", want)
		}
	}
	if strings.Index(ud, "idle_count = 0") > strings.Index(ud, "idle_count = 2") {
		t.Errorf("the default policy must come first (the autoscaler uses the last that matches)")
	}
	n := describeNetwork(t, h.ec2, "net")
	if !admits(n.sgManager.IpPermissions, "198.51.100.0/24", 9252) {
		t.Errorf("the manager's group does not admit the metrics sources on 9252: %+v", n.sgManager.IpPermissions)
	}
	if !aclAllows(n.aclPublic, 130, "198.51.100.0/24", 9252) {
		t.Errorf("the public ACL does not admit the metrics sources on 9252: %+v", n.aclPublic.Entries)
	}
	h.mustRun(0, "plan", "--detailed-exitcode")

	h.writeConfig(baseConfig)
	h.mustRun(0, "up", "--auto-approve", "--no-wait")
	n = describeNetwork(t, h.ec2, "net")
	if admits(n.sgManager.IpPermissions, "198.51.100.0/24", 9252) || aclAllows(n.aclPublic, 130, "198.51.100.0/24", 9252) {
		t.Errorf("without metrics_cidrs port 9252 must be closed again")
	}
	h.mustRun(0, "down", "--auto-approve")
}

// admits reports whether a group's inbound rules admit cidr on a TCP port.
func admits(perms []ec2types.IpPermission, cidr string, port int32) bool {
	for _, p := range perms {
		if aws.ToString(p.IpProtocol) != "tcp" || aws.ToInt32(p.FromPort) > port || aws.ToInt32(p.ToPort) < port {
			continue
		}
		for _, r := range p.IpRanges {
			if aws.ToString(r.CidrIp) == cidr {
				return true
			}
		}
	}
	return false
}

// aclAllows reports whether an ACL has the inbound rule number allowing
// cidr on a TCP port.
func aclAllows(acl ec2types.NetworkAcl, rule int32, cidr string, port int32) bool {
	for _, e := range acl.Entries {
		if !aws.ToBool(e.Egress) && aws.ToInt32(e.RuleNumber) == rule && e.RuleAction == ec2types.RuleActionAllow &&
			aws.ToString(e.CidrBlock) == cidr && e.PortRange != nil && aws.ToInt32(e.PortRange.From) <= port && aws.ToInt32(e.PortRange.To) >= port {
			return true
		}
	}
	return false
}

// Spot with a fallback: the group launches through a mixed-instances
// policy (the types in order, on-demand base 0, the configured on-demand
// share, price-capacity-optimized Spot), capacity rebalancing stays off and
// the launch template asks for no market itself; a new share is an update;
// without spot and extra types the group launches from the template alone.
func TestSpotMixedInstances(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	spot := "runners:\n  spot: true\n  instance_types: [t3a.medium, m5.large]\n  on_demand_percentage: %d\n"
	h.writeConfig(baseConfig + fmt.Sprintf(spot, 20))
	h.mustRun(0, "up", "--auto-approve", "--no-wait")
	g := runnerGroup(t, h)
	p := g.MixedInstancesPolicy
	if p == nil || p.InstancesDistribution == nil || p.LaunchTemplate == nil {
		t.Fatalf("no mixed-instances policy: %+v", g)
	}
	var types []string
	for _, o := range p.LaunchTemplate.Overrides {
		types = append(types, aws.ToString(o.InstanceType))
	}
	d := p.InstancesDistribution
	if strings.Join(types, ",") != "t3.medium,t3a.medium,m5.large" || aws.ToInt32(d.OnDemandBaseCapacity) != 0 ||
		aws.ToInt32(d.OnDemandPercentageAboveBaseCapacity) != 20 || aws.ToString(d.SpotAllocationStrategy) != "price-capacity-optimized" {
		t.Errorf("mixed-instances policy: types %v, distribution %+v", types, d)
	}
	if aws.ToBool(g.CapacityRebalance) || !aws.ToBool(g.NewInstancesProtectedFromScaleIn) {
		t.Errorf("capacity rebalance must stay off and scale-in protection on: %+v", g)
	}
	if ltd := defaultTemplateData(t, h); ltd.InstanceMarketOptions != nil {
		t.Errorf("the launch template must not ask for Spot itself: %+v", ltd.InstanceMarketOptions)
	}
	h.mustRun(0, "plan", "--detailed-exitcode")

	h.writeConfig(baseConfig + fmt.Sprintf(spot, 50))
	plan := h.mustRun(2, "plan", "--detailed-exitcode")
	if !strings.Contains(plan.stdout, "on demand 20% -> 50% (base 0)") {
		t.Errorf("the plan does not show the new on-demand share:\n%s", plan.stdout)
	}
	h.mustRun(0, "up", "--auto-approve", "--no-wait")
	if d := runnerGroup(t, h).MixedInstancesPolicy.InstancesDistribution; aws.ToInt32(d.OnDemandPercentageAboveBaseCapacity) != 50 {
		t.Errorf("on-demand share not updated: %+v", d)
	}

	h.writeConfig(baseConfig)
	h.mustRun(0, "up", "--auto-approve", "--no-wait")
	if g := runnerGroup(t, h); g.MixedInstancesPolicy != nil || g.LaunchTemplate == nil {
		t.Errorf("without spot the group launches from the template alone: %+v", g)
	}
	h.mustRun(0, "plan", "--detailed-exitcode")
	h.mustRun(0, "down", "--auto-approve")
}

func runnerGroup(t *testing.T, h *harness) asgtypes.AutoScalingGroup {
	t.Helper()
	out, err := autoscaling.NewFromConfig(awsConfig(h.moto.URL)).DescribeAutoScalingGroups(context.Background(), &autoscaling.DescribeAutoScalingGroupsInput{AutoScalingGroupNames: []string{groupName(t, h)}})
	if err != nil || len(out.AutoScalingGroups) != 1 {
		t.Fatalf("asg: %v", err)
	}
	return out.AutoScalingGroups[0]
}

// Cheaper egress: every stack has the free S3 gateway endpoint on the
// private route table; network.endpoints adds interface endpoints in the
// private subnet with private DNS behind sg/endpoints (443 from the VPC),
// and the private ACL lets the manager's subnet reach them; dropping them
// deletes them; down leaves none.
func TestVPCEndpoints(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	h.writeConfig(strings.Replace(baseConfig, "network:\n", "network:\n  endpoints: [ssm, ecr]\n", 1))
	h.mustRun(0, "up", "--auto-approve", "--no-wait")
	n := describeNetwork(t, h.ec2, "net")
	eps := stackEndpoints(t, h)
	s3 := eps["com.amazonaws.eu-west-1.s3"]
	// Two zones: the gateway routes from both private tables, and each
	// interface endpoint has a network interface in both private subnets.
	if s3.VpcEndpointType != ec2types.VpcEndpointTypeGateway || len(s3.RouteTableIds) != 2 || !slices.Contains(s3.RouteTableIds, aws.ToString(n.rtPrivate.RouteTableId)) {
		t.Errorf("S3 gateway endpoint: %+v", s3)
	}
	for _, svc := range []string{"ssm", "ecr.api", "ecr.dkr"} {
		e := eps["com.amazonaws.eu-west-1."+svc]
		if e.VpcEndpointType != ec2types.VpcEndpointTypeInterface || !aws.ToBool(e.PrivateDnsEnabled) ||
			len(e.SubnetIds) != 2 || !slices.Contains(e.SubnetIds, aws.ToString(n.private.SubnetId)) || len(e.Groups) != 1 {
			t.Errorf("%s endpoint: %+v", svc, e)
		}
	}
	if !aclAllows(n.aclPrivate, 104, "192.168.0.0/27", 443) {
		t.Errorf("the private ACL does not let the manager's subnet reach the endpoints: %+v", n.aclPrivate.Entries)
	}
	h.mustRun(0, "plan", "--detailed-exitcode")

	// The private route table taken off the S3 endpoint by hand is put back.
	if _, err := h.ec2.ModifyVpcEndpoint(context.Background(), &ec2.ModifyVpcEndpointInput{VpcEndpointId: s3.VpcEndpointId, RemoveRouteTableIds: s3.RouteTableIds}); err != nil {
		t.Fatal(err)
	}
	drift := h.mustRun(2, "plan", "--detailed-exitcode")
	if !strings.Contains(drift.stdout, "~ vpce/s3") || !strings.Contains(drift.stdout, "route S3 from "+aws.ToString(n.rtPrivate.RouteTableId)) {
		t.Errorf("the plan does not put the route table back on the S3 endpoint:\n%s", drift.stdout)
	}
	h.mustRun(0, "up", "--auto-approve", "--no-wait")
	h.mustRun(0, "plan", "--detailed-exitcode")

	h.writeConfig(baseConfig)
	plan := h.mustRun(2, "plan", "--detailed-exitcode")
	if !strings.Contains(plan.stdout, "- vpce/ssm") || !strings.Contains(plan.stdout, "- sg/endpoints") {
		t.Errorf("the plan does not remove the interface endpoints:\n%s", plan.stdout)
	}
	h.mustRun(0, "up", "--auto-approve", "--no-wait")
	if eps := stackEndpoints(t, h); len(eps) != 1 {
		t.Errorf("only the S3 gateway endpoint should be left: %v", eps)
	}
	h.mustRun(0, "down", "--auto-approve")
	if left := h.tagged("net"); len(left) > 0 {
		t.Fatalf("down left: %v", left)
	}
}

// stackEndpoints are the stack's live endpoints by service name.
func stackEndpoints(t *testing.T, h *harness) map[string]ec2types.VpcEndpoint {
	t.Helper()
	out, err := h.ec2.DescribeVpcEndpoints(context.Background(), &ec2.DescribeVpcEndpointsInput{Filters: []ec2types.Filter{{Name: aws.String("tag:provision:stack"), Values: []string{"net"}}}})
	if err != nil {
		t.Fatal(err)
	}
	m := map[string]ec2types.VpcEndpoint{}
	for _, e := range out.VpcEndpoints {
		if !strings.EqualFold(string(e.State), "deleted") {
			m[aws.ToString(e.ServiceName)] = e
		}
	}
	return m
}

// The shared cache: a bucket of the stack, private, encrypted, owned by
// the account, expiring objects; config.toml points [runners.cache] at it
// with the instance role and the manager's role may use its objects only;
// a setting removed by hand is put back; down empties and deletes it.
func TestCacheBucket(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	h.writeConfig(baseConfig + "cache: {s3: true, expire_days: 7}\n")
	h.mustRun(0, "up", "--auto-approve", "--no-wait")
	ctx := context.Background()
	s3c := s3.NewFromConfig(awsConfig(h.moto.URL), func(o *s3.Options) { o.UsePathStyle = true })
	sum := sha256.Sum256([]byte("123456789012/" + region + "/net"))
	name := aws.String("net-cache-" + hex.EncodeToString(sum[:])[:12])
	pab, err := s3c.GetPublicAccessBlock(ctx, &s3.GetPublicAccessBlockInput{Bucket: name})
	if err != nil || !aws.ToBool(pab.PublicAccessBlockConfiguration.BlockPublicAcls) || !aws.ToBool(pab.PublicAccessBlockConfiguration.RestrictPublicBuckets) {
		t.Fatalf("bucket %s: public access block %+v %v", aws.ToString(name), pab, err)
	}
	if enc, err := s3c.GetBucketEncryption(ctx, &s3.GetBucketEncryptionInput{Bucket: name}); err != nil ||
		enc.ServerSideEncryptionConfiguration.Rules[0].ApplyServerSideEncryptionByDefault.SSEAlgorithm != s3types.ServerSideEncryptionAes256 {
		t.Errorf("encryption: %v", err)
	}
	if own, err := s3c.GetBucketOwnershipControls(ctx, &s3.GetBucketOwnershipControlsInput{Bucket: name}); err != nil ||
		own.OwnershipControls.Rules[0].ObjectOwnership != s3types.ObjectOwnershipBucketOwnerEnforced {
		t.Errorf("ownership: %v", err)
	}
	if lc, err := s3c.GetBucketLifecycleConfiguration(ctx, &s3.GetBucketLifecycleConfigurationInput{Bucket: name}); err != nil ||
		len(lc.Rules) != 1 || aws.ToInt32(lc.Rules[0].Expiration.Days) != 7 {
		t.Errorf("lifecycle: %+v %v", lc, err)
	}
	ud := runnerConfig(t, h, "net")
	for _, want := range []string{"[runners.cache]", "Type = 's3'", "BucketName = '" + aws.ToString(name) + "'", "AuthenticationType = 'iam'", "BucketLocation = '" + region + "'"} {
		if !strings.Contains(ud, want) {
			t.Errorf("config.toml lacks %q", want)
		}
	}
	pol, err := iam.NewFromConfig(awsConfig(h.moto.URL)).GetRolePolicy(ctx, &iam.GetRolePolicyInput{RoleName: aws.String("net-eu-west-1-manager"), PolicyName: aws.String("provision")})
	if doc, _ := url.QueryUnescape(aws.ToString(pol.PolicyDocument)); err != nil || !strings.Contains(doc, "arn:aws:s3:::"+aws.ToString(name)+"/*") {
		t.Errorf("the manager's role may not use the cache: %s %v", doc, err)
	}
	h.mustRun(0, "plan", "--detailed-exitcode")
	if out := h.mustRun(0, "output", "cache_bucket"); strings.TrimSpace(out.stdout) != aws.ToString(name) {
		t.Errorf("output cache_bucket = %q, want %s", out.stdout, aws.ToString(name))
	}

	// A cached object, and a setting removed by hand.
	if _, err := s3c.PutObject(ctx, &s3.PutObjectInput{Bucket: name, Key: aws.String("project/1/cache.zip"), Body: strings.NewReader("zip")}); err != nil {
		t.Fatal(err)
	}
	if _, err := s3c.DeletePublicAccessBlock(ctx, &s3.DeletePublicAccessBlockInput{Bucket: name}); err != nil {
		t.Fatal(err)
	}
	plan := h.mustRun(2, "plan", "--detailed-exitcode")
	if !strings.Contains(plan.stdout, "block every kind of public access") {
		t.Errorf("the plan does not show the public access block put back:\n%s", plan.stdout)
	}
	h.mustRun(0, "up", "--auto-approve", "--no-wait")
	h.mustRun(0, "plan", "--detailed-exitcode")

	h.mustRun(0, "down", "--auto-approve")
	if _, err := s3c.HeadBucket(ctx, &s3.HeadBucketInput{Bucket: name}); err == nil {
		t.Errorf("down left the cache bucket")
	}
}

// groupName is the runner machines' group of the current manager
// generation, as `provision output` gives it.
func groupName(t *testing.T, h *harness) string {
	t.Helper()
	return strings.TrimSpace(h.mustRun(0, "output", "autoscaling_group").stdout)
}

// Replacing the manager without failing its jobs: the new manager scales a
// group of its own (a group is never scaled by two managers), the old one
// is asked to drain and finishes its jobs, then it and its group go; a
// manager that does not finish within manager.drain_timeout is terminated
// all the same; down leaves no group, manager or drain parameter.
func TestManagerReplacementDrains(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	h.writeConfig(baseConfig + "manager: {drain_timeout: 4s}\n")
	h.mustRun(0, "up", "--auto-approve")
	oldManager, oldGroup := aws.ToString(manager(t, h, "net").InstanceId), groupName(t, h)

	h.writeConfig(baseConfig + "manager: {drain_timeout: 4s, instance_type: t3.small}\n")
	plan := h.mustRun(2, "plan", "--detailed-exitcode")
	for _, want := range []string{"-/+ instance/manager", "+ asg/runner", "- drain/manager", oldManager + " stops taking jobs and finishes those it runs (up to 4s)", "then its group " + oldGroup + " goes"} {
		if !strings.Contains(plan.stdout, want) {
			t.Errorf("the plan does not show %q:\n%s", want, plan.stdout)
		}
	}
	up := h.mustRun(0, "up", "--auto-approve")
	if strings.Contains(up.stderr, "did not finish its jobs") {
		t.Errorf("the old manager drained, but up says it did not:\n%s", up.stderr)
	}
	newManager, newGroup := aws.ToString(manager(t, h, "net").InstanceId), groupName(t, h)
	if newManager == oldManager || newGroup == oldGroup || !strings.HasPrefix(newGroup, "net-runners-") {
		t.Fatalf("manager %s -> %s, group %s -> %s: want new ones", oldManager, newManager, oldGroup, newGroup)
	}
	ctx := context.Background()
	asg := autoscaling.NewFromConfig(awsConfig(h.moto.URL))
	if out, err := asg.DescribeAutoScalingGroups(ctx, &autoscaling.DescribeAutoScalingGroupsInput{AutoScalingGroupNames: []string{oldGroup}}); err != nil || len(out.AutoScalingGroups) != 0 {
		t.Errorf("the old group %s survives its manager: %v", oldGroup, err)
	}
	if out, err := h.ec2.DescribeInstances(ctx, &ec2.DescribeInstancesInput{InstanceIds: []string{oldManager}}); err != nil || out.Reservations[0].Instances[0].State.Name != ec2types.InstanceStateNameTerminated {
		t.Errorf("the old manager is not terminated: %v", err)
	}
	d, err := ssm.NewFromConfig(awsConfig(h.moto.URL)).GetParameter(ctx, &ssm.GetParameterInput{Name: aws.String("/provision/net/drain")})
	if err != nil || aws.ToString(d.Parameter.Value) != "drained "+oldManager {
		t.Errorf("the drain was not asked of %s and answered: %+v %v", oldManager, d, err)
	}
	h.mustRun(0, "plan", "--detailed-exitcode")

	// A manager that does not finish its jobs in time goes all the same.
	h.manager.noDrain = true
	h.writeConfig(baseConfig + "manager: {drain_timeout: 4s, instance_type: t3.medium}\n")
	up = h.mustRun(0, "up", "--auto-approve")
	if !strings.Contains(up.stderr, newManager+" did not finish its jobs within manager.drain_timeout 4s") {
		t.Errorf("up does not say the drain timed out:\n%s", up.stderr)
	}
	h.mustRun(0, "plan", "--detailed-exitcode")
	h.manager.noDrain = false

	h.mustRun(0, "down", "--auto-approve")
	if left := h.tagged("net"); len(left) > 0 {
		t.Fatalf("down left: %v", left)
	}
	if out, err := asg.DescribeAutoScalingGroups(ctx, &autoscaling.DescribeAutoScalingGroupsInput{}); err != nil || len(out.AutoScalingGroups) != 0 {
		t.Errorf("down left groups: %v", err)
	}
	if _, err := ssm.NewFromConfig(awsConfig(h.moto.URL)).GetParameter(ctx, &ssm.GetParameterInput{Name: aws.String("/provision/net/drain")}); err == nil {
		t.Errorf("down left the drain parameter")
	}
}
