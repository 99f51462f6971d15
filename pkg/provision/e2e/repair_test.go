package e2e

import (
	"context"
	"strconv"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/autoscaling"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/aws/aws-sdk-go-v2/service/iam"

	"github.com/provision-dev/provision/pkg/provision/awstest"
)

// Drift of every kind that up repairs with a call of its own: an extra
// and a missing egress rule, an extra and a changed ACL entry, an extra
// route, a subnet moved to another route table, a manager stopped and in
// another group, a launch template with another default version, an Auto
// Scaling group resized, a role's trust policy replaced; IPv6 turned on
// later; a network interface someone left in the subnet at down. Each
// is shown in the plan and repaired by one up, and the suite sees every
// call the IAM policy allows.
func TestRepairsEveryDrift(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	ctx := context.Background()
	cfg := awsConfig(h.moto.URL)
	noIPv6 := strings.Replace(baseConfig, "private_subnet_cidr: 192.168.0.128/25\n", "private_subnet_cidr: 192.168.0.128/25\n  ipv6: false\n", 1)
	h.writeConfig(noIPv6)
	h.mustRun(0, "up", "--auto-approve")
	n := describeNetwork(t, h.ec2, "net")
	mgr := manager(t, h, "net")
	runnerSG := aws.ToString(n.sgRunner.GroupId)
	asg := autoscaling.NewFromConfig(cfg)
	// A job's machine, as the fleeting plugin starts it.
	must(t, second(asg.SetDesiredCapacity(ctx, &autoscaling.SetDesiredCapacityInput{AutoScalingGroupName: aws.String(groupName(t, h)), DesiredCapacity: aws.Int32(1)})))

	// Security group egress: the "all" rule revoked, another added.
	must(t, second(h.ec2.RevokeSecurityGroupEgress(ctx, &ec2.RevokeSecurityGroupEgressInput{GroupId: &runnerSG, IpPermissions: []ec2types.IpPermission{
		{IpProtocol: aws.String("-1"), IpRanges: []ec2types.IpRange{{CidrIp: aws.String("0.0.0.0/0")}}}}})))
	must(t, second(h.ec2.AuthorizeSecurityGroupEgress(ctx, &ec2.AuthorizeSecurityGroupEgressInput{GroupId: &runnerSG, IpPermissions: []ec2types.IpPermission{
		{IpProtocol: aws.String("tcp"), FromPort: aws.Int32(25), ToPort: aws.Int32(25), IpRanges: []ec2types.IpRange{{CidrIp: aws.String("198.51.100.0/24")}}}}})))
	// ACL: an extra entry, and the return-traffic rule narrowed.
	pub := n.aclPublic.NetworkAclId
	must(t, second(h.ec2.CreateNetworkAclEntry(ctx, &ec2.CreateNetworkAclEntryInput{NetworkAclId: pub, RuleNumber: aws.Int32(150), Protocol: aws.String("6"),
		RuleAction: ec2types.RuleActionAllow, CidrBlock: aws.String("0.0.0.0/0"), Egress: aws.Bool(false), PortRange: &ec2types.PortRange{From: aws.Int32(3389), To: aws.Int32(3389)}})))
	must(t, second(h.ec2.ReplaceNetworkAclEntry(ctx, &ec2.ReplaceNetworkAclEntryInput{NetworkAclId: pub, RuleNumber: aws.Int32(200), Protocol: aws.String("6"),
		RuleAction: ec2types.RuleActionAllow, CidrBlock: aws.String("0.0.0.0/0"), Egress: aws.Bool(false), PortRange: &ec2types.PortRange{From: aws.Int32(1024), To: aws.Int32(2048)}})))
	// Routes: an extra route, and the private subnet moved to the public table.
	must(t, second(h.ec2.CreateRoute(ctx, &ec2.CreateRouteInput{RouteTableId: n.rtPublic.RouteTableId, DestinationCidrBlock: aws.String("10.50.0.0/16"), GatewayId: n.igw.InternetGatewayId})))
	for _, a := range n.rtPrivate.Associations {
		if aws.ToString(a.SubnetId) == aws.ToString(n.private.SubnetId) {
			must(t, second(h.ec2.ReplaceRouteTableAssociation(ctx, &ec2.ReplaceRouteTableAssociationInput{AssociationId: a.RouteTableAssociationId, RouteTableId: n.rtPublic.RouteTableId})))
		}
	}
	// The manager: stopped, and put into the VPC's default group too.
	def, err := h.ec2.DescribeSecurityGroups(ctx, &ec2.DescribeSecurityGroupsInput{Filters: []ec2types.Filter{
		{Name: aws.String("vpc-id"), Values: []string{aws.ToString(n.vpc.VpcId)}}, {Name: aws.String("group-name"), Values: []string{"default"}}}})
	must(t, err)
	must(t, second(h.ec2.ModifyInstanceAttribute(ctx, &ec2.ModifyInstanceAttributeInput{InstanceId: mgr.InstanceId,
		Groups: []string{aws.ToString(mgr.SecurityGroups[0].GroupId), aws.ToString(def.SecurityGroups[0].GroupId)}})))
	must(t, second(h.ec2.StopInstances(ctx, &ec2.StopInstancesInput{InstanceIds: []string{aws.ToString(mgr.InstanceId)}})))
	// The launch template: a new default version with another type.
	lts, err := h.ec2.DescribeLaunchTemplates(ctx, &ec2.DescribeLaunchTemplatesInput{LaunchTemplateNames: []string{"net-runner"}})
	must(t, err)
	lt := lts.LaunchTemplates[0].LaunchTemplateId
	v, err := h.ec2.CreateLaunchTemplateVersion(ctx, &ec2.CreateLaunchTemplateVersionInput{LaunchTemplateId: lt, SourceVersion: aws.String("$Default"),
		LaunchTemplateData: &ec2types.RequestLaunchTemplateData{InstanceType: ec2types.InstanceTypeM5Large}})
	must(t, err)
	must(t, second(h.ec2.ModifyLaunchTemplate(ctx, &ec2.ModifyLaunchTemplateInput{LaunchTemplateId: lt, DefaultVersion: aws.String(strconv.FormatInt(aws.ToInt64(v.LaunchTemplateVersion.VersionNumber), 10))})))
	// The group resized by hand.
	must(t, second(asg.UpdateAutoScalingGroup(ctx, &autoscaling.UpdateAutoScalingGroupInput{AutoScalingGroupName: aws.String(groupName(t, h)), MaxSize: aws.Int32(3)})))
	// The role's trust policy replaced.
	must(t, second(iam.NewFromConfig(cfg).UpdateAssumeRolePolicy(ctx, &iam.UpdateAssumeRolePolicyInput{RoleName: aws.String("net-eu-west-1-manager"),
		PolicyDocument: aws.String(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"lambda.amazonaws.com"},"Action":"sts:AssumeRole"}]}`)})))

	p := h.mustRun(2, "plan", "--detailed-exitcode")
	for _, want := range []string{"~ sg/runner", "~ nacl/public", "~ rtb/public", "~ rtb/private", "~ instance/manager", "~ lt/runner", "~ asg/runner", "~ iam/manager"} {
		if !strings.Contains(p.stdout, want) {
			t.Errorf("the plan does not show %q:\n%s", want, p.stdout)
		}
	}
	h.mustRun(0, "up", "--auto-approve")
	h.mustRun(0, "plan", "--detailed-exitcode")

	// IPv6 turned on later: the VPC and both subnets get their blocks.
	h.writeConfig(baseConfig)
	h.mustRun(0, "up", "--auto-approve")
	h.mustRun(0, "plan", "--detailed-exitcode")

	// A network interface someone left in the private subnet: down names
	// it and goes on once it is gone; the machine in the group is
	// unprotected and terminated.
	eni, err := h.ec2.CreateNetworkInterface(ctx, &ec2.CreateNetworkInterfaceInput{SubnetId: n.private.SubnetId, Description: aws.String("left behind")})
	must(t, err)
	h.proxy.SetFault(awstest.SubnetDependencies(h.moto.URL, region))
	r := h.run("down", "--auto-approve", "--timeout", "5s")
	eniID := aws.ToString(eni.NetworkInterface.NetworkInterfaceId)
	if r.code == 0 || !strings.Contains(r.stdout+r.stderr, eniID) {
		t.Fatalf("down does not name the network interface that holds the subnet: %s", r)
	}
	must(t, second(h.ec2.DeleteNetworkInterface(ctx, &ec2.DeleteNetworkInterfaceInput{NetworkInterfaceId: &eniID})))
	h.proxy.SetFault(nil)
	h.mustRun(0, "down", "--auto-approve")
}

// second keeps the error of a call that returns an answer and an error.
func second[T any](_ T, err error) error { return err }
