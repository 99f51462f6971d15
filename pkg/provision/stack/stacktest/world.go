// Package stacktest gives unit tests an environment over fake AWS clients
// (package awsfake) and a GitLab stand-in: no emulator, no network.
package stacktest

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"
	"sync"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/autoscaling"
	asgtypes "github.com/aws/aws-sdk-go-v2/service/autoscaling/types"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
	logstypes "github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs/types"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	iamtypes "github.com/aws/aws-sdk-go-v2/service/iam/types"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	kmstypes "github.com/aws/aws-sdk-go-v2/service/kms/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/aws-sdk-go-v2/service/ssm"
	ssmtypes "github.com/aws/aws-sdk-go-v2/service/ssm/types"
	"github.com/aws/smithy-go"

	"github.com/provision-dev/provision/pkg/provision/awsapi/awsfake"
)

// World makes the fakes answer creations the way AWS does, with a new id,
// and later describes with what was made: enough for a whole `up` to run
// over the fakes. It keeps only what the kinds read back; attachments,
// rules and routes are requests the tests read from the calls.
type World struct {
	mu        sync.Mutex
	n         int
	vpcs      []ec2types.Vpc
	subnets   []ec2types.Subnet
	groups    []ec2types.SecurityGroup
	instances []ec2types.Instance
	nats      []ec2types.NatGateway
	acls      []ec2types.NetworkAcl
	asgs      []asgtypes.AutoScalingGroup
	igws      []ec2types.InternetGateway
	eigws     []ec2types.EgressOnlyInternetGateway
	routes    []ec2types.RouteTable
	addresses []ec2types.Address
	endpoints []ec2types.VpcEndpoint
	keyPairs  []ec2types.KeyPairInfo
	templates []ec2types.LaunchTemplate
	versions  map[string]*ec2types.LaunchTemplateVersion
	keys      map[string]kmstypes.KeyMetadata
	profiles  map[string]iamtypes.InstanceProfile
	buckets   map[string]*bucket
	policies  map[string]string
	params    map[string]ssmtypes.Parameter
	roles     map[string]iamtypes.Role
	logGroups map[string]*logGroup
}

// logGroup is a CloudWatch Logs group as the world keeps it.
type logGroup struct {
	group logstypes.LogGroup
	tags  map[string]string
}

func (w *World) id(prefix string) string {
	w.n++
	return fmt.Sprintf("%s-%04d", prefix, w.n)
}

func SpecTags(specs []ec2types.TagSpecification) []ec2types.Tag {
	var out []ec2types.Tag
	for _, s := range specs {
		out = append(out, s.Tags...)
	}
	return out
}

func byIDs[T any](items []T, ids []string, id func(T) string) []T {
	if len(ids) == 0 {
		return append([]T(nil), items...)
	}
	var out []T
	for _, it := range items {
		if slices.Contains(ids, id(it)) {
			out = append(out, it)
		}
	}
	return out
}

// associate puts subnet in acl (made on the fly for a VPC's default ACL)
// and returns the association's id; w.mu is held.
func (w *World) associate(subnet, acl string) string {
	i := slices.IndexFunc(w.acls, func(a ec2types.NetworkAcl) bool { return aws.ToString(a.NetworkAclId) == acl })
	if i < 0 {
		w.acls = append(w.acls, ec2types.NetworkAcl{NetworkAclId: aws.String(acl), IsDefault: aws.Bool(true)})
		i = len(w.acls) - 1
	}
	id := w.id("aclassoc")
	w.acls[i].Associations = append(w.acls[i].Associations, ec2types.NetworkAclAssociation{NetworkAclAssociationId: aws.String(id), NetworkAclId: aws.String(acl), SubnetId: aws.String(subnet)})
	return id
}

// without is items less the one whose id is gone.
func without[T any](items []T, id func(T) *string, gone *string) []T {
	return slices.DeleteFunc(items, func(it T) bool { return aws.ToString(id(it)) == aws.ToString(gone) })
}

// templateData is what DescribeLaunchTemplateVersions answers for the
// data a template was made with: the same fields, in the answer's types.
func templateData(in *ec2types.RequestLaunchTemplateData) *ec2types.ResponseLaunchTemplateData {
	if in == nil {
		return nil
	}
	d := &ec2types.ResponseLaunchTemplateData{ImageId: in.ImageId, InstanceType: in.InstanceType, KeyName: in.KeyName, UserData: in.UserData,
		SecurityGroupIds: in.SecurityGroupIds}
	if in.MetadataOptions != nil {
		d.MetadataOptions = &ec2types.LaunchTemplateInstanceMetadataOptions{HttpTokens: ec2types.LaunchTemplateHttpTokensState(in.MetadataOptions.HttpTokens),
			HttpPutResponseHopLimit: in.MetadataOptions.HttpPutResponseHopLimit, HttpEndpoint: ec2types.LaunchTemplateInstanceMetadataEndpointState(in.MetadataOptions.HttpEndpoint)}
	}
	return d
}

// AnswerCreations installs the world's answers in c.
func AnswerCreations(c *awsfake.Clients) *World {
	w := &World{params: map[string]ssmtypes.Parameter{}, roles: map[string]iamtypes.Role{}, versions: map[string]*ec2types.LaunchTemplateVersion{},
		keys: map[string]kmstypes.KeyMetadata{}, profiles: map[string]iamtypes.InstanceProfile{}, buckets: map[string]*bucket{}, policies: map[string]string{}}
	lock := func() func() { w.mu.Lock(); return w.mu.Unlock }
	// GitLab's security group exists, outside the stack.
	w.groups = append(w.groups, gitlabGroup())
	group := func(id *string) *ec2types.SecurityGroup {
		for i := range w.groups {
			if aws.ToString(w.groups[i].GroupId) == aws.ToString(id) {
				return &w.groups[i]
			}
		}
		return &ec2types.SecurityGroup{}
	}
	e := c.EC2
	e.CreateVpcFn = func(_ context.Context, in *ec2.CreateVpcInput) (*ec2.CreateVpcOutput, error) {
		defer lock()()
		v := ec2types.Vpc{VpcId: aws.String(w.id("vpc")), CidrBlock: in.CidrBlock, Tags: SpecTags(in.TagSpecifications), State: ec2types.VpcStateAvailable}
		if aws.ToBool(in.AmazonProvidedIpv6CidrBlock) {
			v.Ipv6CidrBlockAssociationSet = []ec2types.VpcIpv6CidrBlockAssociation{{Ipv6CidrBlock: aws.String("2001:db8:1200::/56"),
				Ipv6CidrBlockState: &ec2types.VpcCidrBlockState{State: ec2types.VpcCidrBlockStateCodeAssociated}}}
		}
		w.vpcs = append(w.vpcs, v)
		return &ec2.CreateVpcOutput{Vpc: &v}, nil
	}
	e.DescribeVpcsFn = func(_ context.Context, in *ec2.DescribeVpcsInput) (*ec2.DescribeVpcsOutput, error) {
		defer lock()()
		return &ec2.DescribeVpcsOutput{Vpcs: byIDs(w.vpcs, in.VpcIds, func(v ec2types.Vpc) string { return aws.ToString(v.VpcId) })}, nil
	}
	e.CreateSubnetFn = func(_ context.Context, in *ec2.CreateSubnetInput) (*ec2.CreateSubnetOutput, error) {
		defer lock()()
		s := ec2types.Subnet{SubnetId: aws.String(w.id("subnet")), VpcId: in.VpcId, CidrBlock: in.CidrBlock, AvailabilityZone: in.AvailabilityZone,
			Tags: SpecTags(in.TagSpecifications), State: ec2types.SubnetStateAvailable}
		if in.Ipv6CidrBlock != nil {
			s.Ipv6CidrBlockAssociationSet = []ec2types.SubnetIpv6CidrBlockAssociation{{Ipv6CidrBlock: in.Ipv6CidrBlock,
				Ipv6CidrBlockState: &ec2types.SubnetCidrBlockState{State: ec2types.SubnetCidrBlockStateCodeAssociated}}}
		}
		w.subnets = append(w.subnets, s)
		w.associate(aws.ToString(s.SubnetId), "acl-default-"+aws.ToString(in.VpcId))
		return &ec2.CreateSubnetOutput{Subnet: &s}, nil
	}
	e.DescribeSubnetsFn = func(_ context.Context, in *ec2.DescribeSubnetsInput) (*ec2.DescribeSubnetsOutput, error) {
		defer lock()()
		return &ec2.DescribeSubnetsOutput{Subnets: byIDs(w.subnets, in.SubnetIds, func(s ec2types.Subnet) string { return aws.ToString(s.SubnetId) })}, nil
	}
	e.CreateInternetGatewayFn = func(_ context.Context, in *ec2.CreateInternetGatewayInput) (*ec2.CreateInternetGatewayOutput, error) {
		defer lock()()
		g := ec2types.InternetGateway{InternetGatewayId: aws.String(w.id("igw")), Tags: SpecTags(in.TagSpecifications)}
		w.igws = append(w.igws, g)
		return &ec2.CreateInternetGatewayOutput{InternetGateway: &g}, nil
	}
	e.AttachInternetGatewayFn = func(_ context.Context, in *ec2.AttachInternetGatewayInput) (*ec2.AttachInternetGatewayOutput, error) {
		defer lock()()
		for i := range w.igws {
			if aws.ToString(w.igws[i].InternetGatewayId) == aws.ToString(in.InternetGatewayId) {
				w.igws[i].Attachments = []ec2types.InternetGatewayAttachment{{VpcId: in.VpcId, State: ec2types.AttachmentStatus("available")}}
			}
		}
		return &ec2.AttachInternetGatewayOutput{}, nil
	}
	e.DescribeInternetGatewaysFn = func(_ context.Context, in *ec2.DescribeInternetGatewaysInput) (*ec2.DescribeInternetGatewaysOutput, error) {
		defer lock()()
		return &ec2.DescribeInternetGatewaysOutput{InternetGateways: byIDs(w.igws, in.InternetGatewayIds, func(g ec2types.InternetGateway) string { return aws.ToString(g.InternetGatewayId) })}, nil
	}
	e.CreateEgressOnlyInternetGatewayFn = func(_ context.Context, in *ec2.CreateEgressOnlyInternetGatewayInput) (*ec2.CreateEgressOnlyInternetGatewayOutput, error) {
		defer lock()()
		g := ec2types.EgressOnlyInternetGateway{EgressOnlyInternetGatewayId: aws.String(w.id("eigw")), Tags: SpecTags(in.TagSpecifications),
			Attachments: []ec2types.InternetGatewayAttachment{{VpcId: in.VpcId, State: ec2types.AttachmentStatusAttached}}}
		w.eigws = append(w.eigws, g)
		return &ec2.CreateEgressOnlyInternetGatewayOutput{EgressOnlyInternetGateway: &g}, nil
	}
	e.DescribeEgressOnlyInternetGatewaysFn = func(_ context.Context, in *ec2.DescribeEgressOnlyInternetGatewaysInput) (*ec2.DescribeEgressOnlyInternetGatewaysOutput, error) {
		defer lock()()
		return &ec2.DescribeEgressOnlyInternetGatewaysOutput{EgressOnlyInternetGateways: byIDs(w.eigws, in.EgressOnlyInternetGatewayIds,
			func(g ec2types.EgressOnlyInternetGateway) string { return aws.ToString(g.EgressOnlyInternetGatewayId) })}, nil
	}
	e.CreateRouteTableFn = func(_ context.Context, in *ec2.CreateRouteTableInput) (*ec2.CreateRouteTableOutput, error) {
		defer lock()()
		r := ec2types.RouteTable{RouteTableId: aws.String(w.id("rtb")), VpcId: in.VpcId, Tags: SpecTags(in.TagSpecifications)}
		w.routes = append(w.routes, r)
		return &ec2.CreateRouteTableOutput{RouteTable: &r}, nil
	}
	e.DescribeRouteTablesFn = func(_ context.Context, in *ec2.DescribeRouteTablesInput) (*ec2.DescribeRouteTablesOutput, error) {
		defer lock()()
		return &ec2.DescribeRouteTablesOutput{RouteTables: byIDs(w.routes, in.RouteTableIds, func(r ec2types.RouteTable) string { return aws.ToString(r.RouteTableId) })}, nil
	}
	e.CreateNetworkAclFn = func(_ context.Context, in *ec2.CreateNetworkAclInput) (*ec2.CreateNetworkAclOutput, error) {
		defer lock()()
		a := ec2types.NetworkAcl{NetworkAclId: aws.String(w.id("acl")), VpcId: in.VpcId, Tags: SpecTags(in.TagSpecifications)}
		w.acls = append(w.acls, a)
		return &ec2.CreateNetworkAclOutput{NetworkAcl: &a}, nil
	}
	e.DescribeNetworkAclsFn = func(_ context.Context, in *ec2.DescribeNetworkAclsInput) (*ec2.DescribeNetworkAclsOutput, error) {
		defer lock()()
		return &ec2.DescribeNetworkAclsOutput{NetworkAcls: byIDs(w.acls, in.NetworkAclIds, func(a ec2types.NetworkAcl) string { return aws.ToString(a.NetworkAclId) })}, nil
	}
	e.ReplaceNetworkAclAssociationFn = func(_ context.Context, in *ec2.ReplaceNetworkAclAssociationInput) (*ec2.ReplaceNetworkAclAssociationOutput, error) {
		defer lock()()
		subnet := ""
		for i := range w.acls {
			w.acls[i].Associations = slices.DeleteFunc(slices.Clone(w.acls[i].Associations), func(a ec2types.NetworkAclAssociation) bool {
				if aws.ToString(a.NetworkAclAssociationId) == aws.ToString(in.AssociationId) {
					subnet = aws.ToString(a.SubnetId)
					return true
				}
				return false
			})
		}
		return &ec2.ReplaceNetworkAclAssociationOutput{NewAssociationId: aws.String(w.associate(subnet, aws.ToString(in.NetworkAclId)))}, nil
	}
	e.AllocateAddressFn = func(_ context.Context, in *ec2.AllocateAddressInput) (*ec2.AllocateAddressOutput, error) {
		defer lock()()
		w.n++
		a := ec2types.Address{AllocationId: aws.String(fmt.Sprintf("eipalloc-%04d", w.n)), PublicIp: aws.String(fmt.Sprintf("198.51.100.%d", w.n%250+1)),
			Domain: ec2types.DomainTypeVpc, Tags: SpecTags(in.TagSpecifications)}
		w.addresses = append(w.addresses, a)
		return &ec2.AllocateAddressOutput{AllocationId: a.AllocationId, PublicIp: a.PublicIp}, nil
	}
	e.AssociateAddressFn = func(_ context.Context, in *ec2.AssociateAddressInput) (*ec2.AssociateAddressOutput, error) {
		defer lock()()
		id := w.id("eipassoc")
		for i := range w.addresses {
			if aws.ToString(w.addresses[i].AllocationId) == aws.ToString(in.AllocationId) {
				w.addresses[i].AssociationId, w.addresses[i].InstanceId = aws.String(id), in.InstanceId
			}
		}
		return &ec2.AssociateAddressOutput{AssociationId: aws.String(id)}, nil
	}
	e.DescribeAddressesFn = func(_ context.Context, in *ec2.DescribeAddressesInput) (*ec2.DescribeAddressesOutput, error) {
		defer lock()()
		return &ec2.DescribeAddressesOutput{Addresses: byIDs(w.addresses, in.AllocationIds, func(a ec2types.Address) string { return aws.ToString(a.AllocationId) })}, nil
	}
	e.CreateNatGatewayFn = func(_ context.Context, in *ec2.CreateNatGatewayInput) (*ec2.CreateNatGatewayOutput, error) {
		defer lock()()
		n := ec2types.NatGateway{NatGatewayId: aws.String(w.id("nat")), SubnetId: in.SubnetId, State: ec2types.NatGatewayStateAvailable,
			Tags: SpecTags(in.TagSpecifications), NatGatewayAddresses: []ec2types.NatGatewayAddress{{AllocationId: in.AllocationId}}}
		w.nats = append(w.nats, n)
		return &ec2.CreateNatGatewayOutput{NatGateway: &n}, nil
	}
	e.DescribeNatGatewaysFn = func(_ context.Context, in *ec2.DescribeNatGatewaysInput) (*ec2.DescribeNatGatewaysOutput, error) {
		defer lock()()
		return &ec2.DescribeNatGatewaysOutput{NatGateways: byIDs(w.nats, in.NatGatewayIds, func(n ec2types.NatGateway) string { return aws.ToString(n.NatGatewayId) })}, nil
	}
	e.CreateSecurityGroupFn = func(_ context.Context, in *ec2.CreateSecurityGroupInput) (*ec2.CreateSecurityGroupOutput, error) {
		defer lock()()
		g := ec2types.SecurityGroup{GroupId: aws.String(w.id("sg")), GroupName: in.GroupName, VpcId: in.VpcId, Tags: SpecTags(in.TagSpecifications)}
		w.groups = append(w.groups, g)
		return &ec2.CreateSecurityGroupOutput{GroupId: g.GroupId}, nil
	}
	e.DescribeSecurityGroupsFn = func(_ context.Context, in *ec2.DescribeSecurityGroupsInput) (*ec2.DescribeSecurityGroupsOutput, error) {
		defer lock()()
		return &ec2.DescribeSecurityGroupsOutput{SecurityGroups: byIDs(w.groups, in.GroupIds, func(g ec2types.SecurityGroup) string { return aws.ToString(g.GroupId) })}, nil
	}
	e.AuthorizeSecurityGroupIngressFn = func(_ context.Context, in *ec2.AuthorizeSecurityGroupIngressInput) (*ec2.AuthorizeSecurityGroupIngressOutput, error) {
		defer lock()()
		g := group(in.GroupId)
		g.IpPermissions = append(g.IpPermissions, in.IpPermissions...)
		return &ec2.AuthorizeSecurityGroupIngressOutput{Return: aws.Bool(true)}, nil
	}
	e.AuthorizeSecurityGroupEgressFn = func(_ context.Context, in *ec2.AuthorizeSecurityGroupEgressInput) (*ec2.AuthorizeSecurityGroupEgressOutput, error) {
		defer lock()()
		g := group(in.GroupId)
		g.IpPermissionsEgress = append(g.IpPermissionsEgress, in.IpPermissions...)
		return &ec2.AuthorizeSecurityGroupEgressOutput{Return: aws.Bool(true)}, nil
	}
	e.CreateVpcEndpointFn = func(_ context.Context, in *ec2.CreateVpcEndpointInput) (*ec2.CreateVpcEndpointOutput, error) {
		defer lock()()
		v := ec2types.VpcEndpoint{VpcEndpointId: aws.String(w.id("vpce")), ServiceName: in.ServiceName, VpcId: in.VpcId,
			VpcEndpointType: in.VpcEndpointType, State: ec2types.StateAvailable, RouteTableIds: in.RouteTableIds, SubnetIds: in.SubnetIds,
			PrivateDnsEnabled: in.PrivateDnsEnabled, Tags: SpecTags(in.TagSpecifications)}
		for _, g := range in.SecurityGroupIds {
			v.Groups = append(v.Groups, ec2types.SecurityGroupIdentifier{GroupId: aws.String(g)})
		}
		w.endpoints = append(w.endpoints, v)
		return &ec2.CreateVpcEndpointOutput{VpcEndpoint: &v}, nil
	}
	e.DescribeVpcEndpointsFn = func(_ context.Context, in *ec2.DescribeVpcEndpointsInput) (*ec2.DescribeVpcEndpointsOutput, error) {
		defer lock()()
		return &ec2.DescribeVpcEndpointsOutput{VpcEndpoints: byIDs(w.endpoints, in.VpcEndpointIds, func(v ec2types.VpcEndpoint) string { return aws.ToString(v.VpcEndpointId) })}, nil
	}
	e.CreateLaunchTemplateFn = func(_ context.Context, in *ec2.CreateLaunchTemplateInput) (*ec2.CreateLaunchTemplateOutput, error) {
		defer lock()()
		lt := ec2types.LaunchTemplate{LaunchTemplateId: aws.String(w.id("lt")), LaunchTemplateName: in.LaunchTemplateName,
			LatestVersionNumber: aws.Int64(1), DefaultVersionNumber: aws.Int64(1), Tags: SpecTags(in.TagSpecifications)}
		w.templates = append(w.templates, lt)
		w.versions[aws.ToString(lt.LaunchTemplateId)] = &ec2types.LaunchTemplateVersion{LaunchTemplateId: lt.LaunchTemplateId, VersionNumber: aws.Int64(1),
			DefaultVersion: aws.Bool(true), LaunchTemplateData: templateData(in.LaunchTemplateData)}
		return &ec2.CreateLaunchTemplateOutput{LaunchTemplate: &lt}, nil
	}
	e.DescribeLaunchTemplatesFn = func(_ context.Context, in *ec2.DescribeLaunchTemplatesInput) (*ec2.DescribeLaunchTemplatesOutput, error) {
		defer lock()()
		return &ec2.DescribeLaunchTemplatesOutput{LaunchTemplates: byIDs(w.templates, in.LaunchTemplateIds, func(t ec2types.LaunchTemplate) string { return aws.ToString(t.LaunchTemplateId) })}, nil
	}
	e.DescribeLaunchTemplateVersionsFn = func(_ context.Context, in *ec2.DescribeLaunchTemplateVersionsInput) (*ec2.DescribeLaunchTemplateVersionsOutput, error) {
		defer lock()()
		if v := w.versions[aws.ToString(in.LaunchTemplateId)]; v != nil {
			return &ec2.DescribeLaunchTemplateVersionsOutput{LaunchTemplateVersions: []ec2types.LaunchTemplateVersion{*v}}, nil
		}
		return &ec2.DescribeLaunchTemplateVersionsOutput{}, nil
	}
	e.ImportKeyPairFn = func(_ context.Context, in *ec2.ImportKeyPairInput) (*ec2.ImportKeyPairOutput, error) {
		defer lock()()
		k := ec2types.KeyPairInfo{KeyPairId: aws.String(w.id("key")), KeyName: in.KeyName, KeyType: ec2types.KeyTypeEd25519, Tags: SpecTags(in.TagSpecifications)}
		w.keyPairs = append(w.keyPairs, k)
		return &ec2.ImportKeyPairOutput{KeyPairId: k.KeyPairId, KeyName: k.KeyName, Tags: k.Tags}, nil
	}
	e.DescribeKeyPairsFn = func(_ context.Context, in *ec2.DescribeKeyPairsInput) (*ec2.DescribeKeyPairsOutput, error) {
		defer lock()()
		return &ec2.DescribeKeyPairsOutput{KeyPairs: byIDs(w.keyPairs, in.KeyNames, func(k ec2types.KeyPairInfo) string { return aws.ToString(k.KeyName) })}, nil
	}
	e.RunInstancesFn = func(_ context.Context, in *ec2.RunInstancesInput) (*ec2.RunInstancesOutput, error) {
		defer lock()()
		i := ec2types.Instance{InstanceId: aws.String(w.id("i")), ImageId: in.ImageId, InstanceType: in.InstanceType, SubnetId: in.SubnetId,
			State: &ec2types.InstanceState{Name: ec2types.InstanceStateNameRunning}, Tags: SpecTags(in.TagSpecifications)}
		for _, g := range in.SecurityGroupIds {
			i.SecurityGroups = append(i.SecurityGroups, ec2types.GroupIdentifier{GroupId: aws.String(g)})
		}
		w.instances = append(w.instances, i)
		return &ec2.RunInstancesOutput{Instances: []ec2types.Instance{i}}, nil
	}
	e.DescribeInstancesFn = func(_ context.Context, in *ec2.DescribeInstancesInput) (*ec2.DescribeInstancesOutput, error) {
		defer lock()()
		is := byIDs(w.instances, in.InstanceIds, func(i ec2types.Instance) string { return aws.ToString(i.InstanceId) })
		if len(is) == 0 {
			return &ec2.DescribeInstancesOutput{}, nil
		}
		return &ec2.DescribeInstancesOutput{Reservations: []ec2types.Reservation{{Instances: is}}}, nil
	}
	c.IAM.CreateRoleFn = func(_ context.Context, in *iam.CreateRoleInput) (*iam.CreateRoleOutput, error) {
		defer lock()()
		r := iamtypes.Role{RoleName: in.RoleName, Path: in.Path, Arn: aws.String("arn:aws:iam::123456789012:role" + aws.ToString(in.Path) + aws.ToString(in.RoleName)),
			Tags: in.Tags, AssumeRolePolicyDocument: in.AssumeRolePolicyDocument, PermissionsBoundary: &iamtypes.AttachedPermissionsBoundary{PermissionsBoundaryArn: in.PermissionsBoundary}}
		w.roles[aws.ToString(in.RoleName)] = r
		return &iam.CreateRoleOutput{Role: &r}, nil
	}
	c.IAM.GetRoleFn = func(_ context.Context, in *iam.GetRoleInput) (*iam.GetRoleOutput, error) {
		defer lock()()
		r, ok := w.roles[aws.ToString(in.RoleName)]
		if !ok {
			return nil, &smithy.GenericAPIError{Code: "NoSuchEntity"}
		}
		return &iam.GetRoleOutput{Role: &r}, nil
	}
	c.IAM.CreateInstanceProfileFn = func(_ context.Context, in *iam.CreateInstanceProfileInput) (*iam.CreateInstanceProfileOutput, error) {
		defer lock()()
		p := iamtypes.InstanceProfile{InstanceProfileName: in.InstanceProfileName, Path: in.Path, Tags: in.Tags,
			Arn: aws.String("arn:aws:iam::123456789012:instance-profile" + aws.ToString(in.Path) + aws.ToString(in.InstanceProfileName))}
		w.profiles[aws.ToString(in.InstanceProfileName)] = p
		return &iam.CreateInstanceProfileOutput{InstanceProfile: &p}, nil
	}
	c.IAM.AddRoleToInstanceProfileFn = func(_ context.Context, in *iam.AddRoleToInstanceProfileInput) (*iam.AddRoleToInstanceProfileOutput, error) {
		defer lock()()
		p := w.profiles[aws.ToString(in.InstanceProfileName)]
		p.Roles = append(p.Roles, w.roles[aws.ToString(in.RoleName)])
		w.profiles[aws.ToString(in.InstanceProfileName)] = p
		return &iam.AddRoleToInstanceProfileOutput{}, nil
	}
	c.IAM.GetInstanceProfileFn = func(_ context.Context, in *iam.GetInstanceProfileInput) (*iam.GetInstanceProfileOutput, error) {
		defer lock()()
		p, ok := w.profiles[aws.ToString(in.InstanceProfileName)]
		if !ok {
			return nil, &smithy.GenericAPIError{Code: "NoSuchEntity"}
		}
		return &iam.GetInstanceProfileOutput{InstanceProfile: &p}, nil
	}
	c.S3.CreateBucketFn = func(_ context.Context, in *s3.CreateBucketInput) (*s3.CreateBucketOutput, error) {
		defer lock()()
		w.buckets[aws.ToString(in.Bucket)] = &bucket{}
		return &s3.CreateBucketOutput{}, nil
	}
	c.S3.HeadBucketFn = func(_ context.Context, in *s3.HeadBucketInput) (*s3.HeadBucketOutput, error) {
		defer lock()()
		if w.buckets[aws.ToString(in.Bucket)] == nil {
			return nil, &smithy.GenericAPIError{Code: "NotFound"}
		}
		return &s3.HeadBucketOutput{}, nil
	}
	w.answerBucketSettings(c.S3)
	w.answerLogGroups(c.Logs, lock)
	c.KMS.CreateKeyFn = func(_ context.Context, in *kms.CreateKeyInput) (*kms.CreateKeyOutput, error) {
		defer lock()()
		id := w.id("key")
		k := kmstypes.KeyMetadata{KeyId: aws.String(id), Arn: aws.String("arn:aws:kms:eu-west-1:123456789012:key/" + id), Enabled: true,
			KeyState: kmstypes.KeyStateEnabled, KeyManager: kmstypes.KeyManagerTypeCustomer, KeySpec: kmstypes.KeySpecSymmetricDefault, KeyUsage: kmstypes.KeyUsageTypeEncryptDecrypt}
		w.keys[id], w.keys[aws.ToString(k.Arn)] = k, k
		w.policies[id], w.policies[aws.ToString(k.Arn)] = aws.ToString(in.Policy), aws.ToString(in.Policy)
		return &kms.CreateKeyOutput{KeyMetadata: &k}, nil
	}
	c.KMS.GetKeyPolicyFn = func(_ context.Context, in *kms.GetKeyPolicyInput) (*kms.GetKeyPolicyOutput, error) {
		defer lock()()
		p, ok := w.policies[aws.ToString(in.KeyId)]
		if !ok {
			return nil, &smithy.GenericAPIError{Code: "NotFoundException"}
		}
		return &kms.GetKeyPolicyOutput{Policy: aws.String(p), PolicyName: aws.String("default")}, nil
	}
	c.KMS.DescribeKeyFn = func(_ context.Context, in *kms.DescribeKeyInput) (*kms.DescribeKeyOutput, error) {
		defer lock()()
		k, ok := w.keys[aws.ToString(in.KeyId)]
		if !ok {
			return nil, &smithy.GenericAPIError{Code: "NotFoundException"}
		}
		return &kms.DescribeKeyOutput{KeyMetadata: &k}, nil
	}
	c.SSM.GetParameterFn = func(_ context.Context, in *ssm.GetParameterInput) (*ssm.GetParameterOutput, error) {
		defer lock()()
		p, ok := w.params[aws.ToString(in.Name)]
		if !ok {
			return nil, &smithy.GenericAPIError{Code: "ParameterNotFound"}
		}
		return &ssm.GetParameterOutput{Parameter: &p}, nil
	}
	c.SSM.GetParametersFn = func(_ context.Context, in *ssm.GetParametersInput) (*ssm.GetParametersOutput, error) {
		defer lock()()
		out := &ssm.GetParametersOutput{}
		for _, n := range in.Names {
			if p, ok := w.params[n]; ok {
				out.Parameters = append(out.Parameters, p)
			} else {
				out.InvalidParameters = append(out.InvalidParameters, n)
			}
		}
		return out, nil
	}
	c.SSM.PutParameterFn = func(_ context.Context, in *ssm.PutParameterInput) (*ssm.PutParameterOutput, error) {
		defer lock()()
		w.params[aws.ToString(in.Name)] = ssmtypes.Parameter{Name: in.Name, Value: in.Value, Type: in.Type, Version: 1}
		return &ssm.PutParameterOutput{Version: 1}, nil
	}
	c.AutoScaling.CreateAutoScalingGroupFn = func(_ context.Context, in *autoscaling.CreateAutoScalingGroupInput) (*autoscaling.CreateAutoScalingGroupOutput, error) {
		defer lock()()
		g := asgtypes.AutoScalingGroup{AutoScalingGroupName: in.AutoScalingGroupName, MinSize: in.MinSize, MaxSize: in.MaxSize, DesiredCapacity: in.DesiredCapacity,
			LaunchTemplate: in.LaunchTemplate, MixedInstancesPolicy: in.MixedInstancesPolicy, VPCZoneIdentifier: in.VPCZoneIdentifier,
			NewInstancesProtectedFromScaleIn: in.NewInstancesProtectedFromScaleIn, CapacityRebalance: in.CapacityRebalance,
			AutoScalingGroupARN: aws.String("arn:aws:autoscaling:eu-west-1:123456789012:autoScalingGroup:x:autoScalingGroupName/" + aws.ToString(in.AutoScalingGroupName))}
		for _, t := range in.Tags {
			g.Tags = append(g.Tags, asgtypes.TagDescription{Key: t.Key, Value: t.Value, PropagateAtLaunch: t.PropagateAtLaunch, ResourceId: in.AutoScalingGroupName})
		}
		w.asgs = append(w.asgs, g)
		return &autoscaling.CreateAutoScalingGroupOutput{}, nil
	}
	c.AutoScaling.DescribeAutoScalingGroupsFn = func(_ context.Context, in *autoscaling.DescribeAutoScalingGroupsInput) (*autoscaling.DescribeAutoScalingGroupsOutput, error) {
		defer lock()()
		return &autoscaling.DescribeAutoScalingGroupsOutput{AutoScalingGroups: byIDs(w.asgs, in.AutoScalingGroupNames, func(g asgtypes.AutoScalingGroup) string { return aws.ToString(g.AutoScalingGroupName) })}, nil
	}
	e.TerminateInstancesFn = func(_ context.Context, in *ec2.TerminateInstancesInput) (*ec2.TerminateInstancesOutput, error) {
		defer lock()()
		for i := range w.instances {
			if slices.Contains(in.InstanceIds, aws.ToString(w.instances[i].InstanceId)) {
				w.instances[i].State = &ec2types.InstanceState{Name: ec2types.InstanceStateNameTerminated}
			}
		}
		return &ec2.TerminateInstancesOutput{}, nil
	}
	e.DeleteNatGatewayFn = func(_ context.Context, in *ec2.DeleteNatGatewayInput) (*ec2.DeleteNatGatewayOutput, error) {
		defer lock()()
		for i := range w.nats {
			if aws.ToString(w.nats[i].NatGatewayId) == aws.ToString(in.NatGatewayId) {
				w.nats[i].State = ec2types.NatGatewayStateDeleted
			}
		}
		return &ec2.DeleteNatGatewayOutput{}, nil
	}
	e.DeleteVpcFn = func(_ context.Context, in *ec2.DeleteVpcInput) (*ec2.DeleteVpcOutput, error) {
		defer lock()()
		w.vpcs = without(w.vpcs, func(x ec2types.Vpc) *string { return x.VpcId }, in.VpcId)
		return &ec2.DeleteVpcOutput{}, nil
	}
	e.DeleteSubnetFn = func(_ context.Context, in *ec2.DeleteSubnetInput) (*ec2.DeleteSubnetOutput, error) {
		defer lock()()
		w.subnets = without(w.subnets, func(x ec2types.Subnet) *string { return x.SubnetId }, in.SubnetId)
		return &ec2.DeleteSubnetOutput{}, nil
	}
	e.DeleteSecurityGroupFn = func(_ context.Context, in *ec2.DeleteSecurityGroupInput) (*ec2.DeleteSecurityGroupOutput, error) {
		defer lock()()
		w.groups = without(w.groups, func(x ec2types.SecurityGroup) *string { return x.GroupId }, in.GroupId)
		return &ec2.DeleteSecurityGroupOutput{}, nil
	}
	e.DeleteNetworkAclFn = func(_ context.Context, in *ec2.DeleteNetworkAclInput) (*ec2.DeleteNetworkAclOutput, error) {
		defer lock()()
		w.acls = without(w.acls, func(x ec2types.NetworkAcl) *string { return x.NetworkAclId }, in.NetworkAclId)
		return &ec2.DeleteNetworkAclOutput{}, nil
	}
	c.AutoScaling.DeleteAutoScalingGroupFn = func(_ context.Context, in *autoscaling.DeleteAutoScalingGroupInput) (*autoscaling.DeleteAutoScalingGroupOutput, error) {
		defer lock()()
		w.asgs = without(w.asgs, func(x asgtypes.AutoScalingGroup) *string { return x.AutoScalingGroupName }, in.AutoScalingGroupName)
		return &autoscaling.DeleteAutoScalingGroupOutput{}, nil
	}
	c.SSM.DeleteParameterFn = func(_ context.Context, in *ssm.DeleteParameterInput) (*ssm.DeleteParameterOutput, error) {
		defer lock()()
		delete(w.params, aws.ToString(in.Name))
		return &ssm.DeleteParameterOutput{}, nil
	}
	return w
}

// bucket is what the world keeps of a bucket: the settings last put.
type bucket struct {
	tags       []s3types.Tag
	encryption *s3types.ServerSideEncryptionConfiguration
	block      *s3types.PublicAccessBlockConfiguration
	ownership  *s3types.OwnershipControls
	lifecycle  []s3types.LifecycleRule
}

// answerBucketSettings keeps what is put of a bucket's settings and
// answers the reads with it, or with the error S3 gives for a setting
// never put.
func (w *World) answerBucketSettings(f *awsfake.S3) {
	get := func(name *string) *bucket {
		w.mu.Lock()
		defer w.mu.Unlock()
		return w.buckets[aws.ToString(name)]
	}
	unset := func(code string) error { return &smithy.GenericAPIError{Code: code} }
	f.PutBucketTaggingFn = func(_ context.Context, in *s3.PutBucketTaggingInput) (*s3.PutBucketTaggingOutput, error) {
		get(in.Bucket).tags = in.Tagging.TagSet
		return &s3.PutBucketTaggingOutput{}, nil
	}
	f.GetBucketTaggingFn = func(_ context.Context, in *s3.GetBucketTaggingInput) (*s3.GetBucketTaggingOutput, error) {
		if b := get(in.Bucket); b != nil && b.tags != nil {
			return &s3.GetBucketTaggingOutput{TagSet: b.tags}, nil
		}
		return nil, unset("NoSuchTagSet")
	}
	f.PutBucketEncryptionFn = func(_ context.Context, in *s3.PutBucketEncryptionInput) (*s3.PutBucketEncryptionOutput, error) {
		get(in.Bucket).encryption = in.ServerSideEncryptionConfiguration
		return &s3.PutBucketEncryptionOutput{}, nil
	}
	f.GetBucketEncryptionFn = func(_ context.Context, in *s3.GetBucketEncryptionInput) (*s3.GetBucketEncryptionOutput, error) {
		if b := get(in.Bucket); b != nil && b.encryption != nil {
			return &s3.GetBucketEncryptionOutput{ServerSideEncryptionConfiguration: b.encryption}, nil
		}
		return nil, unset("ServerSideEncryptionConfigurationNotFoundError")
	}
	f.PutPublicAccessBlockFn = func(_ context.Context, in *s3.PutPublicAccessBlockInput) (*s3.PutPublicAccessBlockOutput, error) {
		get(in.Bucket).block = in.PublicAccessBlockConfiguration
		return &s3.PutPublicAccessBlockOutput{}, nil
	}
	f.GetPublicAccessBlockFn = func(_ context.Context, in *s3.GetPublicAccessBlockInput) (*s3.GetPublicAccessBlockOutput, error) {
		if b := get(in.Bucket); b != nil && b.block != nil {
			return &s3.GetPublicAccessBlockOutput{PublicAccessBlockConfiguration: b.block}, nil
		}
		return nil, unset("NoSuchPublicAccessBlockConfiguration")
	}
	f.PutBucketOwnershipControlsFn = func(_ context.Context, in *s3.PutBucketOwnershipControlsInput) (*s3.PutBucketOwnershipControlsOutput, error) {
		get(in.Bucket).ownership = in.OwnershipControls
		return &s3.PutBucketOwnershipControlsOutput{}, nil
	}
	f.GetBucketOwnershipControlsFn = func(_ context.Context, in *s3.GetBucketOwnershipControlsInput) (*s3.GetBucketOwnershipControlsOutput, error) {
		if b := get(in.Bucket); b != nil && b.ownership != nil {
			return &s3.GetBucketOwnershipControlsOutput{OwnershipControls: b.ownership}, nil
		}
		return nil, unset("OwnershipControlsNotFoundError")
	}
	f.PutBucketLifecycleConfigurationFn = func(_ context.Context, in *s3.PutBucketLifecycleConfigurationInput) (*s3.PutBucketLifecycleConfigurationOutput, error) {
		get(in.Bucket).lifecycle = in.LifecycleConfiguration.Rules
		return &s3.PutBucketLifecycleConfigurationOutput{}, nil
	}
	f.GetBucketLifecycleConfigurationFn = func(_ context.Context, in *s3.GetBucketLifecycleConfigurationInput) (*s3.GetBucketLifecycleConfigurationOutput, error) {
		if b := get(in.Bucket); b != nil && b.lifecycle != nil {
			return &s3.GetBucketLifecycleConfigurationOutput{Rules: b.lifecycle}, nil
		}
		return nil, unset("NoSuchLifecycleConfiguration")
	}
}

// answerLogGroups keeps log groups as CloudWatch Logs does: by name, with
// their retention, key and tags.
func (w *World) answerLogGroups(c *awsfake.Logs, lock func() func()) {
	if w.logGroups == nil {
		w.logGroups = map[string]*logGroup{}
	}
	c.CreateLogGroupFn = func(_ context.Context, in *cloudwatchlogs.CreateLogGroupInput) (*cloudwatchlogs.CreateLogGroupOutput, error) {
		defer lock()()
		name := aws.ToString(in.LogGroupName)
		if w.logGroups[name] != nil {
			return nil, &smithy.GenericAPIError{Code: "ResourceAlreadyExistsException"}
		}
		w.logGroups[name] = &logGroup{group: logstypes.LogGroup{LogGroupName: in.LogGroupName, KmsKeyId: in.KmsKeyId}, tags: in.Tags}
		return &cloudwatchlogs.CreateLogGroupOutput{}, nil
	}
	c.DescribeLogGroupsFn = func(_ context.Context, in *cloudwatchlogs.DescribeLogGroupsInput) (*cloudwatchlogs.DescribeLogGroupsOutput, error) {
		defer lock()()
		out := &cloudwatchlogs.DescribeLogGroupsOutput{}
		for name, g := range w.logGroups {
			if strings.HasPrefix(name, aws.ToString(in.LogGroupNamePrefix)) {
				out.LogGroups = append(out.LogGroups, g.group)
			}
		}
		return out, nil
	}
	c.PutRetentionPolicyFn = func(_ context.Context, in *cloudwatchlogs.PutRetentionPolicyInput) (*cloudwatchlogs.PutRetentionPolicyOutput, error) {
		defer lock()()
		g := w.logGroups[aws.ToString(in.LogGroupName)]
		if g == nil {
			return nil, &smithy.GenericAPIError{Code: "ResourceNotFoundException"}
		}
		g.group.RetentionInDays = in.RetentionInDays
		return &cloudwatchlogs.PutRetentionPolicyOutput{}, nil
	}
	c.ListTagsForResourceFn = func(_ context.Context, in *cloudwatchlogs.ListTagsForResourceInput) (*cloudwatchlogs.ListTagsForResourceOutput, error) {
		defer lock()()
		_, name, _ := strings.Cut(aws.ToString(in.ResourceArn), ":log-group:")
		g := w.logGroups[name]
		if g == nil {
			return nil, &smithy.GenericAPIError{Code: "ResourceNotFoundException"}
		}
		return &cloudwatchlogs.ListTagsForResourceOutput{Tags: maps.Clone(g.tags)}, nil
	}
	c.DeleteLogGroupFn = func(_ context.Context, in *cloudwatchlogs.DeleteLogGroupInput) (*cloudwatchlogs.DeleteLogGroupOutput, error) {
		defer lock()()
		if w.logGroups[aws.ToString(in.LogGroupName)] == nil {
			return nil, &smithy.GenericAPIError{Code: "ResourceNotFoundException"}
		}
		delete(w.logGroups, aws.ToString(in.LogGroupName))
		return &cloudwatchlogs.DeleteLogGroupOutput{}, nil
	}
}
