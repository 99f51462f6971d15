package ops

import (
	"context"
	"encoding/json"
	"net/netip"
	"slices"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/aws/aws-sdk-go-v2/service/ssm"

	"github.com/provision-dev/provision/pkg/provision/awsapi/awsfake"
	"github.com/provision-dev/provision/pkg/provision/bootstrap"
	"github.com/provision-dev/provision/pkg/provision/config"
	"github.com/provision-dev/provision/pkg/provision/stack"
	"github.com/provision-dev/provision/pkg/provision/stack/stacktest"
)

// gitlabIP is where GitLab's name resolves in these tests: a public
// address, as doctor expects of a GitLab on the internet.
var gitlabIP = netip.MustParseAddr("203.0.113.80")

// managerPrivateIP is the manager's address in the public subnet.
const managerPrivateIP = "192.168.0.10"

// fixedResolver answers every lookup with its addresses.
type fixedResolver []netip.Addr

func (r fixedResolver) LookupNetIP(context.Context, string, string) ([]netip.Addr, error) {
	return r, nil
}

// live is a stack after a whole `up` over the fakes, and AWS's later
// describes of its network answering with what up requested: the ACL
// entries, routes and security group rules it created, the Elastic IPs it
// allocated, the manager with its profile and its Elastic IP. A test
// changes the maps to break the network the way a person might by hand.
type live struct {
	e       *stack.Env
	c       *awsfake.Clients
	acls    map[string][]ec2types.NetworkAclEntry // by ACL id
	routes  map[string][]ec2types.Route           // by route table id
	ingress map[string][]ec2types.IpPermission    // by group id
	egress  map[string][]ec2types.IpPermission    // by group id
	// managerEIP is the address associated with the manager ("": none).
	managerEIP string
}

// upLive runs `up` over the fakes (change adjusts the configuration) and
// answers the network's describes as AWS would afterwards.
func upLive(t *testing.T, change func(*config.Config)) *live {
	t.Helper()
	e, c := stacktest.NewEnv(t, func(cfg *config.Config) {
		cfg.GitLab.URL = "https://gitlab.example.com"
		if change != nil {
			change(cfg)
		}
	})
	e.Resolver = fixedResolver{gitlabIP}
	gitlabAPI := e.GitLab
	stacktest.AnswerCreations(c)
	if r := stacktest.Walk(t, e, true, false); r.Err() != nil {
		t.Fatalf("up over the fakes: %v", r.Err())
	}
	e.GitLab = gitlabAPI
	l := &live{e: e, c: c, acls: map[string][]ec2types.NetworkAclEntry{}, routes: map[string][]ec2types.Route{},
		ingress: map[string][]ec2types.IpPermission{}, egress: map[string][]ec2types.IpPermission{}}
	for _, in := range awsfake.Inputs[*ec2.CreateNetworkAclEntryInput](c, "CreateNetworkAclEntry") {
		l.acls[aws.ToString(in.NetworkAclId)] = append(l.acls[aws.ToString(in.NetworkAclId)], ec2types.NetworkAclEntry{
			Egress: in.Egress, Protocol: in.Protocol, RuleAction: in.RuleAction, RuleNumber: in.RuleNumber,
			CidrBlock: in.CidrBlock, Ipv6CidrBlock: in.Ipv6CidrBlock, PortRange: in.PortRange, IcmpTypeCode: in.IcmpTypeCode})
	}
	for _, in := range awsfake.Inputs[*ec2.CreateRouteInput](c, "CreateRoute") {
		l.routes[aws.ToString(in.RouteTableId)] = append(l.routes[aws.ToString(in.RouteTableId)], ec2types.Route{
			DestinationCidrBlock: in.DestinationCidrBlock, DestinationIpv6CidrBlock: in.DestinationIpv6CidrBlock,
			GatewayId: in.GatewayId, NatGatewayId: in.NatGatewayId, EgressOnlyInternetGatewayId: in.EgressOnlyInternetGatewayId,
			State: ec2types.RouteStateActive})
	}
	for _, in := range awsfake.Inputs[*ec2.AuthorizeSecurityGroupIngressInput](c, "AuthorizeSecurityGroupIngress") {
		l.ingress[aws.ToString(in.GroupId)] = append(l.ingress[aws.ToString(in.GroupId)], in.IpPermissions...)
	}
	for _, in := range awsfake.Inputs[*ec2.AuthorizeSecurityGroupEgressInput](c, "AuthorizeSecurityGroupEgress") {
		l.egress[aws.ToString(in.GroupId)] = append(l.egress[aws.ToString(in.GroupId)], in.IpPermissions...)
	}
	if len(awsfake.Inputs[*ec2.AssociateAddressInput](c, "AssociateAddress")) == 1 {
		l.managerEIP = e.AttrOf(stack.StepManagerAddress, "public_ip")
	}
	l.answer()
	return l
}

// answer installs the describes of the live network.
func (l *live) answer() {
	e, c := l.e, l.c
	bySubnet := map[string]struct{ acl, routes string }{
		e.IDOf(stack.StepPublicSubnet):  {e.IDOf("nacl/public"), e.IDOf("rtb/public")},
		e.IDOf(stack.StepPrivateSubnet): {e.IDOf("nacl/private"), e.IDOf("rtb/private")},
	}
	subnetOf := func(fs []ec2types.Filter) string {
		for _, f := range fs {
			if aws.ToString(f.Name) == "association.subnet-id" && len(f.Values) == 1 {
				return f.Values[0]
			}
		}
		return ""
	}
	c.EC2.DescribeNetworkAclsFn = func(_ context.Context, in *ec2.DescribeNetworkAclsInput) (*ec2.DescribeNetworkAclsOutput, error) {
		s, ok := bySubnet[subnetOf(in.Filters)]
		if !ok {
			return &ec2.DescribeNetworkAclsOutput{}, nil
		}
		return &ec2.DescribeNetworkAclsOutput{NetworkAcls: []ec2types.NetworkAcl{{NetworkAclId: aws.String(s.acl), Entries: l.acls[s.acl]}}}, nil
	}
	c.EC2.DescribeRouteTablesFn = func(_ context.Context, in *ec2.DescribeRouteTablesInput) (*ec2.DescribeRouteTablesOutput, error) {
		s, ok := bySubnet[subnetOf(in.Filters)]
		if !ok {
			return &ec2.DescribeRouteTablesOutput{}, nil
		}
		return &ec2.DescribeRouteTablesOutput{RouteTables: []ec2types.RouteTable{{RouteTableId: aws.String(s.routes), Routes: l.routes[s.routes]}}}, nil
	}
	c.EC2.DescribeSecurityGroupsFn = func(_ context.Context, in *ec2.DescribeSecurityGroupsInput) (*ec2.DescribeSecurityGroupsOutput, error) {
		out := &ec2.DescribeSecurityGroupsOutput{}
		for _, id := range in.GroupIds {
			out.SecurityGroups = append(out.SecurityGroups, ec2types.SecurityGroup{GroupId: aws.String(id), IpPermissions: l.ingress[id], IpPermissionsEgress: l.egress[id]})
		}
		return out, nil
	}
	c.EC2.DescribeAddressesFn = func(_ context.Context, in *ec2.DescribeAddressesInput) (*ec2.DescribeAddressesOutput, error) {
		out := &ec2.DescribeAddressesOutput{}
		for _, step := range []string{string(stack.StepManagerAddress), string(stack.StepNATAddress)} {
			r := e.Ledger.Get(step)
			if r != nil && slices.Contains(in.AllocationIds, r.ID) {
				out.Addresses = append(out.Addresses, ec2types.Address{AllocationId: aws.String(r.ID), PublicIp: aws.String(r.Attr("public_ip"))})
			}
		}
		return out, nil
	}
	c.EC2.DescribeInstancesFn = func(_ context.Context, in *ec2.DescribeInstancesInput) (*ec2.DescribeInstancesOutput, error) {
		id := e.IDOf(stack.StepManager)
		if !slices.Contains(in.InstanceIds, id) {
			return &ec2.DescribeInstancesOutput{}, nil
		}
		i := ec2types.Instance{InstanceId: aws.String(id), State: &ec2types.InstanceState{Name: ec2types.InstanceStateNameRunning},
			PrivateIpAddress: aws.String(managerPrivateIP), IamInstanceProfile: &ec2types.IamInstanceProfile{Arn: aws.String("arn:aws:iam::123456789012:instance-profile/provision/ci-eu-west-1-manager")}}
		if l.managerEIP != "" {
			i.PublicIpAddress = aws.String(l.managerEIP)
		}
		return &ec2.DescribeInstancesOutput{Reservations: []ec2types.Reservation{{Instances: []ec2types.Instance{i}}}}, nil
	}
}

// reportBoot makes the manager's boot report say r.
func (l *live) reportBoot(t *testing.T, r stack.BootReport) {
	t.Helper()
	v, err := json.Marshal(r)
	if err != nil {
		t.Fatal(err)
	}
	name := l.e.Names().BootParameter()
	if _, err := l.e.SSM.PutParameter(context.Background(), &ssm.PutParameterInput{Name: &name, Value: aws.String(string(v))}); err != nil {
		t.Fatal(err)
	}
}

// online is the report of a manager whose boot is done.
var online = stack.BootReport{Stage: bootstrap.StageOnline, Status: "ok", Time: time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)}
