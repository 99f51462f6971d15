// Code generated from the interfaces of package awsapi; DO NOT EDIT.
// (Regenerate with the interface list when a call is added.)

package awsfake

import (
	"context"

	"github.com/aws/aws-sdk-go-v2/service/autoscaling"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/ssm"
	"github.com/aws/aws-sdk-go-v2/service/sts"

	"github.com/provision-dev/provision/pkg/provision/awsapi"
)

// EC2 is a fake of awsapi.EC2: each call is recorded; a method
// answers with its Fn when set, else with an empty output and no error.
type EC2 struct {
	rec                                  *Recorder
	AllocateAddressFn                    func(ctx context.Context, in *ec2.AllocateAddressInput) (*ec2.AllocateAddressOutput, error)
	AssociateAddressFn                   func(ctx context.Context, in *ec2.AssociateAddressInput) (*ec2.AssociateAddressOutput, error)
	AssociateRouteTableFn                func(ctx context.Context, in *ec2.AssociateRouteTableInput) (*ec2.AssociateRouteTableOutput, error)
	AssociateSubnetCidrBlockFn           func(ctx context.Context, in *ec2.AssociateSubnetCidrBlockInput) (*ec2.AssociateSubnetCidrBlockOutput, error)
	AssociateVpcCidrBlockFn              func(ctx context.Context, in *ec2.AssociateVpcCidrBlockInput) (*ec2.AssociateVpcCidrBlockOutput, error)
	AttachInternetGatewayFn              func(ctx context.Context, in *ec2.AttachInternetGatewayInput) (*ec2.AttachInternetGatewayOutput, error)
	AuthorizeSecurityGroupEgressFn       func(ctx context.Context, in *ec2.AuthorizeSecurityGroupEgressInput) (*ec2.AuthorizeSecurityGroupEgressOutput, error)
	AuthorizeSecurityGroupIngressFn      func(ctx context.Context, in *ec2.AuthorizeSecurityGroupIngressInput) (*ec2.AuthorizeSecurityGroupIngressOutput, error)
	CancelSpotInstanceRequestsFn         func(ctx context.Context, in *ec2.CancelSpotInstanceRequestsInput) (*ec2.CancelSpotInstanceRequestsOutput, error)
	CreateEgressOnlyInternetGatewayFn    func(ctx context.Context, in *ec2.CreateEgressOnlyInternetGatewayInput) (*ec2.CreateEgressOnlyInternetGatewayOutput, error)
	CreateInternetGatewayFn              func(ctx context.Context, in *ec2.CreateInternetGatewayInput) (*ec2.CreateInternetGatewayOutput, error)
	CreateLaunchTemplateFn               func(ctx context.Context, in *ec2.CreateLaunchTemplateInput) (*ec2.CreateLaunchTemplateOutput, error)
	CreateLaunchTemplateVersionFn        func(ctx context.Context, in *ec2.CreateLaunchTemplateVersionInput) (*ec2.CreateLaunchTemplateVersionOutput, error)
	CreateNatGatewayFn                   func(ctx context.Context, in *ec2.CreateNatGatewayInput) (*ec2.CreateNatGatewayOutput, error)
	CreateNetworkAclFn                   func(ctx context.Context, in *ec2.CreateNetworkAclInput) (*ec2.CreateNetworkAclOutput, error)
	CreateNetworkAclEntryFn              func(ctx context.Context, in *ec2.CreateNetworkAclEntryInput) (*ec2.CreateNetworkAclEntryOutput, error)
	CreateRouteFn                        func(ctx context.Context, in *ec2.CreateRouteInput) (*ec2.CreateRouteOutput, error)
	CreateRouteTableFn                   func(ctx context.Context, in *ec2.CreateRouteTableInput) (*ec2.CreateRouteTableOutput, error)
	CreateSecurityGroupFn                func(ctx context.Context, in *ec2.CreateSecurityGroupInput) (*ec2.CreateSecurityGroupOutput, error)
	CreateSubnetFn                       func(ctx context.Context, in *ec2.CreateSubnetInput) (*ec2.CreateSubnetOutput, error)
	CreateTagsFn                         func(ctx context.Context, in *ec2.CreateTagsInput) (*ec2.CreateTagsOutput, error)
	CreateVpcFn                          func(ctx context.Context, in *ec2.CreateVpcInput) (*ec2.CreateVpcOutput, error)
	CreateVpcEndpointFn                  func(ctx context.Context, in *ec2.CreateVpcEndpointInput) (*ec2.CreateVpcEndpointOutput, error)
	DeleteEgressOnlyInternetGatewayFn    func(ctx context.Context, in *ec2.DeleteEgressOnlyInternetGatewayInput) (*ec2.DeleteEgressOnlyInternetGatewayOutput, error)
	DeleteInternetGatewayFn              func(ctx context.Context, in *ec2.DeleteInternetGatewayInput) (*ec2.DeleteInternetGatewayOutput, error)
	DeleteKeyPairFn                      func(ctx context.Context, in *ec2.DeleteKeyPairInput) (*ec2.DeleteKeyPairOutput, error)
	DeleteLaunchTemplateFn               func(ctx context.Context, in *ec2.DeleteLaunchTemplateInput) (*ec2.DeleteLaunchTemplateOutput, error)
	DeleteNatGatewayFn                   func(ctx context.Context, in *ec2.DeleteNatGatewayInput) (*ec2.DeleteNatGatewayOutput, error)
	DeleteNetworkAclFn                   func(ctx context.Context, in *ec2.DeleteNetworkAclInput) (*ec2.DeleteNetworkAclOutput, error)
	DeleteNetworkAclEntryFn              func(ctx context.Context, in *ec2.DeleteNetworkAclEntryInput) (*ec2.DeleteNetworkAclEntryOutput, error)
	DeleteRouteFn                        func(ctx context.Context, in *ec2.DeleteRouteInput) (*ec2.DeleteRouteOutput, error)
	DeleteRouteTableFn                   func(ctx context.Context, in *ec2.DeleteRouteTableInput) (*ec2.DeleteRouteTableOutput, error)
	DeleteSecurityGroupFn                func(ctx context.Context, in *ec2.DeleteSecurityGroupInput) (*ec2.DeleteSecurityGroupOutput, error)
	DeleteSubnetFn                       func(ctx context.Context, in *ec2.DeleteSubnetInput) (*ec2.DeleteSubnetOutput, error)
	DeleteTagsFn                         func(ctx context.Context, in *ec2.DeleteTagsInput) (*ec2.DeleteTagsOutput, error)
	DeleteVpcFn                          func(ctx context.Context, in *ec2.DeleteVpcInput) (*ec2.DeleteVpcOutput, error)
	DeleteVpcEndpointsFn                 func(ctx context.Context, in *ec2.DeleteVpcEndpointsInput) (*ec2.DeleteVpcEndpointsOutput, error)
	DescribeAccountAttributesFn          func(ctx context.Context, in *ec2.DescribeAccountAttributesInput) (*ec2.DescribeAccountAttributesOutput, error)
	DescribeAddressesFn                  func(ctx context.Context, in *ec2.DescribeAddressesInput) (*ec2.DescribeAddressesOutput, error)
	DescribeAvailabilityZonesFn          func(ctx context.Context, in *ec2.DescribeAvailabilityZonesInput) (*ec2.DescribeAvailabilityZonesOutput, error)
	DescribeEgressOnlyInternetGatewaysFn func(ctx context.Context, in *ec2.DescribeEgressOnlyInternetGatewaysInput) (*ec2.DescribeEgressOnlyInternetGatewaysOutput, error)
	DescribeImagesFn                     func(ctx context.Context, in *ec2.DescribeImagesInput) (*ec2.DescribeImagesOutput, error)
	DescribeInstanceTypeOfferingsFn      func(ctx context.Context, in *ec2.DescribeInstanceTypeOfferingsInput) (*ec2.DescribeInstanceTypeOfferingsOutput, error)
	DescribeInstanceTypesFn              func(ctx context.Context, in *ec2.DescribeInstanceTypesInput) (*ec2.DescribeInstanceTypesOutput, error)
	DescribeInstancesFn                  func(ctx context.Context, in *ec2.DescribeInstancesInput) (*ec2.DescribeInstancesOutput, error)
	DescribeInternetGatewaysFn           func(ctx context.Context, in *ec2.DescribeInternetGatewaysInput) (*ec2.DescribeInternetGatewaysOutput, error)
	DescribeKeyPairsFn                   func(ctx context.Context, in *ec2.DescribeKeyPairsInput) (*ec2.DescribeKeyPairsOutput, error)
	DescribeLaunchTemplateVersionsFn     func(ctx context.Context, in *ec2.DescribeLaunchTemplateVersionsInput) (*ec2.DescribeLaunchTemplateVersionsOutput, error)
	DescribeLaunchTemplatesFn            func(ctx context.Context, in *ec2.DescribeLaunchTemplatesInput) (*ec2.DescribeLaunchTemplatesOutput, error)
	DescribeNatGatewaysFn                func(ctx context.Context, in *ec2.DescribeNatGatewaysInput) (*ec2.DescribeNatGatewaysOutput, error)
	DescribeNetworkAclsFn                func(ctx context.Context, in *ec2.DescribeNetworkAclsInput) (*ec2.DescribeNetworkAclsOutput, error)
	DescribeNetworkInterfacesFn          func(ctx context.Context, in *ec2.DescribeNetworkInterfacesInput) (*ec2.DescribeNetworkInterfacesOutput, error)
	DescribeRegionsFn                    func(ctx context.Context, in *ec2.DescribeRegionsInput) (*ec2.DescribeRegionsOutput, error)
	DescribeRouteTablesFn                func(ctx context.Context, in *ec2.DescribeRouteTablesInput) (*ec2.DescribeRouteTablesOutput, error)
	DescribeSecurityGroupsFn             func(ctx context.Context, in *ec2.DescribeSecurityGroupsInput) (*ec2.DescribeSecurityGroupsOutput, error)
	DescribeSpotInstanceRequestsFn       func(ctx context.Context, in *ec2.DescribeSpotInstanceRequestsInput) (*ec2.DescribeSpotInstanceRequestsOutput, error)
	DescribeSubnetsFn                    func(ctx context.Context, in *ec2.DescribeSubnetsInput) (*ec2.DescribeSubnetsOutput, error)
	DescribeVpcAttributeFn               func(ctx context.Context, in *ec2.DescribeVpcAttributeInput) (*ec2.DescribeVpcAttributeOutput, error)
	DescribeVpcEndpointsFn               func(ctx context.Context, in *ec2.DescribeVpcEndpointsInput) (*ec2.DescribeVpcEndpointsOutput, error)
	DescribeVpcsFn                       func(ctx context.Context, in *ec2.DescribeVpcsInput) (*ec2.DescribeVpcsOutput, error)
	DetachInternetGatewayFn              func(ctx context.Context, in *ec2.DetachInternetGatewayInput) (*ec2.DetachInternetGatewayOutput, error)
	DisassociateAddressFn                func(ctx context.Context, in *ec2.DisassociateAddressInput) (*ec2.DisassociateAddressOutput, error)
	DisassociateRouteTableFn             func(ctx context.Context, in *ec2.DisassociateRouteTableInput) (*ec2.DisassociateRouteTableOutput, error)
	GetConsoleOutputFn                   func(ctx context.Context, in *ec2.GetConsoleOutputInput) (*ec2.GetConsoleOutputOutput, error)
	GetEbsDefaultKmsKeyIdFn              func(ctx context.Context, in *ec2.GetEbsDefaultKmsKeyIdInput) (*ec2.GetEbsDefaultKmsKeyIdOutput, error)
	ImportKeyPairFn                      func(ctx context.Context, in *ec2.ImportKeyPairInput) (*ec2.ImportKeyPairOutput, error)
	ModifyInstanceAttributeFn            func(ctx context.Context, in *ec2.ModifyInstanceAttributeInput) (*ec2.ModifyInstanceAttributeOutput, error)
	ModifyLaunchTemplateFn               func(ctx context.Context, in *ec2.ModifyLaunchTemplateInput) (*ec2.ModifyLaunchTemplateOutput, error)
	ModifySubnetAttributeFn              func(ctx context.Context, in *ec2.ModifySubnetAttributeInput) (*ec2.ModifySubnetAttributeOutput, error)
	ModifyVpcAttributeFn                 func(ctx context.Context, in *ec2.ModifyVpcAttributeInput) (*ec2.ModifyVpcAttributeOutput, error)
	ModifyVpcEndpointFn                  func(ctx context.Context, in *ec2.ModifyVpcEndpointInput) (*ec2.ModifyVpcEndpointOutput, error)
	ReleaseAddressFn                     func(ctx context.Context, in *ec2.ReleaseAddressInput) (*ec2.ReleaseAddressOutput, error)
	ReplaceNetworkAclAssociationFn       func(ctx context.Context, in *ec2.ReplaceNetworkAclAssociationInput) (*ec2.ReplaceNetworkAclAssociationOutput, error)
	ReplaceNetworkAclEntryFn             func(ctx context.Context, in *ec2.ReplaceNetworkAclEntryInput) (*ec2.ReplaceNetworkAclEntryOutput, error)
	ReplaceRouteFn                       func(ctx context.Context, in *ec2.ReplaceRouteInput) (*ec2.ReplaceRouteOutput, error)
	ReplaceRouteTableAssociationFn       func(ctx context.Context, in *ec2.ReplaceRouteTableAssociationInput) (*ec2.ReplaceRouteTableAssociationOutput, error)
	RevokeSecurityGroupEgressFn          func(ctx context.Context, in *ec2.RevokeSecurityGroupEgressInput) (*ec2.RevokeSecurityGroupEgressOutput, error)
	RevokeSecurityGroupIngressFn         func(ctx context.Context, in *ec2.RevokeSecurityGroupIngressInput) (*ec2.RevokeSecurityGroupIngressOutput, error)
	RunInstancesFn                       func(ctx context.Context, in *ec2.RunInstancesInput) (*ec2.RunInstancesOutput, error)
	StartInstancesFn                     func(ctx context.Context, in *ec2.StartInstancesInput) (*ec2.StartInstancesOutput, error)
	TerminateInstancesFn                 func(ctx context.Context, in *ec2.TerminateInstancesInput) (*ec2.TerminateInstancesOutput, error)
}

var _ awsapi.EC2 = (*EC2)(nil)

func (f *EC2) AllocateAddress(ctx context.Context, in *ec2.AllocateAddressInput, _ ...func(*ec2.Options)) (*ec2.AllocateAddressOutput, error) {
	f.rec.add("EC2", "AllocateAddress", in)
	if f.AllocateAddressFn != nil {
		return f.AllocateAddressFn(ctx, in)
	}
	return &ec2.AllocateAddressOutput{}, nil
}

func (f *EC2) AssociateAddress(ctx context.Context, in *ec2.AssociateAddressInput, _ ...func(*ec2.Options)) (*ec2.AssociateAddressOutput, error) {
	f.rec.add("EC2", "AssociateAddress", in)
	if f.AssociateAddressFn != nil {
		return f.AssociateAddressFn(ctx, in)
	}
	return &ec2.AssociateAddressOutput{}, nil
}

func (f *EC2) AssociateRouteTable(ctx context.Context, in *ec2.AssociateRouteTableInput, _ ...func(*ec2.Options)) (*ec2.AssociateRouteTableOutput, error) {
	f.rec.add("EC2", "AssociateRouteTable", in)
	if f.AssociateRouteTableFn != nil {
		return f.AssociateRouteTableFn(ctx, in)
	}
	return &ec2.AssociateRouteTableOutput{}, nil
}

func (f *EC2) AssociateSubnetCidrBlock(ctx context.Context, in *ec2.AssociateSubnetCidrBlockInput, _ ...func(*ec2.Options)) (*ec2.AssociateSubnetCidrBlockOutput, error) {
	f.rec.add("EC2", "AssociateSubnetCidrBlock", in)
	if f.AssociateSubnetCidrBlockFn != nil {
		return f.AssociateSubnetCidrBlockFn(ctx, in)
	}
	return &ec2.AssociateSubnetCidrBlockOutput{}, nil
}

func (f *EC2) AssociateVpcCidrBlock(ctx context.Context, in *ec2.AssociateVpcCidrBlockInput, _ ...func(*ec2.Options)) (*ec2.AssociateVpcCidrBlockOutput, error) {
	f.rec.add("EC2", "AssociateVpcCidrBlock", in)
	if f.AssociateVpcCidrBlockFn != nil {
		return f.AssociateVpcCidrBlockFn(ctx, in)
	}
	return &ec2.AssociateVpcCidrBlockOutput{}, nil
}

func (f *EC2) AttachInternetGateway(ctx context.Context, in *ec2.AttachInternetGatewayInput, _ ...func(*ec2.Options)) (*ec2.AttachInternetGatewayOutput, error) {
	f.rec.add("EC2", "AttachInternetGateway", in)
	if f.AttachInternetGatewayFn != nil {
		return f.AttachInternetGatewayFn(ctx, in)
	}
	return &ec2.AttachInternetGatewayOutput{}, nil
}

func (f *EC2) AuthorizeSecurityGroupEgress(ctx context.Context, in *ec2.AuthorizeSecurityGroupEgressInput, _ ...func(*ec2.Options)) (*ec2.AuthorizeSecurityGroupEgressOutput, error) {
	f.rec.add("EC2", "AuthorizeSecurityGroupEgress", in)
	if f.AuthorizeSecurityGroupEgressFn != nil {
		return f.AuthorizeSecurityGroupEgressFn(ctx, in)
	}
	return &ec2.AuthorizeSecurityGroupEgressOutput{}, nil
}

func (f *EC2) AuthorizeSecurityGroupIngress(ctx context.Context, in *ec2.AuthorizeSecurityGroupIngressInput, _ ...func(*ec2.Options)) (*ec2.AuthorizeSecurityGroupIngressOutput, error) {
	f.rec.add("EC2", "AuthorizeSecurityGroupIngress", in)
	if f.AuthorizeSecurityGroupIngressFn != nil {
		return f.AuthorizeSecurityGroupIngressFn(ctx, in)
	}
	return &ec2.AuthorizeSecurityGroupIngressOutput{}, nil
}

func (f *EC2) CancelSpotInstanceRequests(ctx context.Context, in *ec2.CancelSpotInstanceRequestsInput, _ ...func(*ec2.Options)) (*ec2.CancelSpotInstanceRequestsOutput, error) {
	f.rec.add("EC2", "CancelSpotInstanceRequests", in)
	if f.CancelSpotInstanceRequestsFn != nil {
		return f.CancelSpotInstanceRequestsFn(ctx, in)
	}
	return &ec2.CancelSpotInstanceRequestsOutput{}, nil
}

func (f *EC2) CreateEgressOnlyInternetGateway(ctx context.Context, in *ec2.CreateEgressOnlyInternetGatewayInput, _ ...func(*ec2.Options)) (*ec2.CreateEgressOnlyInternetGatewayOutput, error) {
	f.rec.add("EC2", "CreateEgressOnlyInternetGateway", in)
	if f.CreateEgressOnlyInternetGatewayFn != nil {
		return f.CreateEgressOnlyInternetGatewayFn(ctx, in)
	}
	return &ec2.CreateEgressOnlyInternetGatewayOutput{}, nil
}

func (f *EC2) CreateInternetGateway(ctx context.Context, in *ec2.CreateInternetGatewayInput, _ ...func(*ec2.Options)) (*ec2.CreateInternetGatewayOutput, error) {
	f.rec.add("EC2", "CreateInternetGateway", in)
	if f.CreateInternetGatewayFn != nil {
		return f.CreateInternetGatewayFn(ctx, in)
	}
	return &ec2.CreateInternetGatewayOutput{}, nil
}

func (f *EC2) CreateLaunchTemplate(ctx context.Context, in *ec2.CreateLaunchTemplateInput, _ ...func(*ec2.Options)) (*ec2.CreateLaunchTemplateOutput, error) {
	f.rec.add("EC2", "CreateLaunchTemplate", in)
	if f.CreateLaunchTemplateFn != nil {
		return f.CreateLaunchTemplateFn(ctx, in)
	}
	return &ec2.CreateLaunchTemplateOutput{}, nil
}

func (f *EC2) CreateLaunchTemplateVersion(ctx context.Context, in *ec2.CreateLaunchTemplateVersionInput, _ ...func(*ec2.Options)) (*ec2.CreateLaunchTemplateVersionOutput, error) {
	f.rec.add("EC2", "CreateLaunchTemplateVersion", in)
	if f.CreateLaunchTemplateVersionFn != nil {
		return f.CreateLaunchTemplateVersionFn(ctx, in)
	}
	return &ec2.CreateLaunchTemplateVersionOutput{}, nil
}

func (f *EC2) CreateNatGateway(ctx context.Context, in *ec2.CreateNatGatewayInput, _ ...func(*ec2.Options)) (*ec2.CreateNatGatewayOutput, error) {
	f.rec.add("EC2", "CreateNatGateway", in)
	if f.CreateNatGatewayFn != nil {
		return f.CreateNatGatewayFn(ctx, in)
	}
	return &ec2.CreateNatGatewayOutput{}, nil
}

func (f *EC2) CreateNetworkAcl(ctx context.Context, in *ec2.CreateNetworkAclInput, _ ...func(*ec2.Options)) (*ec2.CreateNetworkAclOutput, error) {
	f.rec.add("EC2", "CreateNetworkAcl", in)
	if f.CreateNetworkAclFn != nil {
		return f.CreateNetworkAclFn(ctx, in)
	}
	return &ec2.CreateNetworkAclOutput{}, nil
}

func (f *EC2) CreateNetworkAclEntry(ctx context.Context, in *ec2.CreateNetworkAclEntryInput, _ ...func(*ec2.Options)) (*ec2.CreateNetworkAclEntryOutput, error) {
	f.rec.add("EC2", "CreateNetworkAclEntry", in)
	if f.CreateNetworkAclEntryFn != nil {
		return f.CreateNetworkAclEntryFn(ctx, in)
	}
	return &ec2.CreateNetworkAclEntryOutput{}, nil
}

func (f *EC2) CreateRoute(ctx context.Context, in *ec2.CreateRouteInput, _ ...func(*ec2.Options)) (*ec2.CreateRouteOutput, error) {
	f.rec.add("EC2", "CreateRoute", in)
	if f.CreateRouteFn != nil {
		return f.CreateRouteFn(ctx, in)
	}
	return &ec2.CreateRouteOutput{}, nil
}

func (f *EC2) CreateRouteTable(ctx context.Context, in *ec2.CreateRouteTableInput, _ ...func(*ec2.Options)) (*ec2.CreateRouteTableOutput, error) {
	f.rec.add("EC2", "CreateRouteTable", in)
	if f.CreateRouteTableFn != nil {
		return f.CreateRouteTableFn(ctx, in)
	}
	return &ec2.CreateRouteTableOutput{}, nil
}

func (f *EC2) CreateSecurityGroup(ctx context.Context, in *ec2.CreateSecurityGroupInput, _ ...func(*ec2.Options)) (*ec2.CreateSecurityGroupOutput, error) {
	f.rec.add("EC2", "CreateSecurityGroup", in)
	if f.CreateSecurityGroupFn != nil {
		return f.CreateSecurityGroupFn(ctx, in)
	}
	return &ec2.CreateSecurityGroupOutput{}, nil
}

func (f *EC2) CreateSubnet(ctx context.Context, in *ec2.CreateSubnetInput, _ ...func(*ec2.Options)) (*ec2.CreateSubnetOutput, error) {
	f.rec.add("EC2", "CreateSubnet", in)
	if f.CreateSubnetFn != nil {
		return f.CreateSubnetFn(ctx, in)
	}
	return &ec2.CreateSubnetOutput{}, nil
}

func (f *EC2) CreateTags(ctx context.Context, in *ec2.CreateTagsInput, _ ...func(*ec2.Options)) (*ec2.CreateTagsOutput, error) {
	f.rec.add("EC2", "CreateTags", in)
	if f.CreateTagsFn != nil {
		return f.CreateTagsFn(ctx, in)
	}
	return &ec2.CreateTagsOutput{}, nil
}

func (f *EC2) CreateVpc(ctx context.Context, in *ec2.CreateVpcInput, _ ...func(*ec2.Options)) (*ec2.CreateVpcOutput, error) {
	f.rec.add("EC2", "CreateVpc", in)
	if f.CreateVpcFn != nil {
		return f.CreateVpcFn(ctx, in)
	}
	return &ec2.CreateVpcOutput{}, nil
}

func (f *EC2) CreateVpcEndpoint(ctx context.Context, in *ec2.CreateVpcEndpointInput, _ ...func(*ec2.Options)) (*ec2.CreateVpcEndpointOutput, error) {
	f.rec.add("EC2", "CreateVpcEndpoint", in)
	if f.CreateVpcEndpointFn != nil {
		return f.CreateVpcEndpointFn(ctx, in)
	}
	return &ec2.CreateVpcEndpointOutput{}, nil
}

func (f *EC2) DeleteEgressOnlyInternetGateway(ctx context.Context, in *ec2.DeleteEgressOnlyInternetGatewayInput, _ ...func(*ec2.Options)) (*ec2.DeleteEgressOnlyInternetGatewayOutput, error) {
	f.rec.add("EC2", "DeleteEgressOnlyInternetGateway", in)
	if f.DeleteEgressOnlyInternetGatewayFn != nil {
		return f.DeleteEgressOnlyInternetGatewayFn(ctx, in)
	}
	return &ec2.DeleteEgressOnlyInternetGatewayOutput{}, nil
}

func (f *EC2) DeleteInternetGateway(ctx context.Context, in *ec2.DeleteInternetGatewayInput, _ ...func(*ec2.Options)) (*ec2.DeleteInternetGatewayOutput, error) {
	f.rec.add("EC2", "DeleteInternetGateway", in)
	if f.DeleteInternetGatewayFn != nil {
		return f.DeleteInternetGatewayFn(ctx, in)
	}
	return &ec2.DeleteInternetGatewayOutput{}, nil
}

func (f *EC2) DeleteKeyPair(ctx context.Context, in *ec2.DeleteKeyPairInput, _ ...func(*ec2.Options)) (*ec2.DeleteKeyPairOutput, error) {
	f.rec.add("EC2", "DeleteKeyPair", in)
	if f.DeleteKeyPairFn != nil {
		return f.DeleteKeyPairFn(ctx, in)
	}
	return &ec2.DeleteKeyPairOutput{}, nil
}

func (f *EC2) DeleteLaunchTemplate(ctx context.Context, in *ec2.DeleteLaunchTemplateInput, _ ...func(*ec2.Options)) (*ec2.DeleteLaunchTemplateOutput, error) {
	f.rec.add("EC2", "DeleteLaunchTemplate", in)
	if f.DeleteLaunchTemplateFn != nil {
		return f.DeleteLaunchTemplateFn(ctx, in)
	}
	return &ec2.DeleteLaunchTemplateOutput{}, nil
}

func (f *EC2) DeleteNatGateway(ctx context.Context, in *ec2.DeleteNatGatewayInput, _ ...func(*ec2.Options)) (*ec2.DeleteNatGatewayOutput, error) {
	f.rec.add("EC2", "DeleteNatGateway", in)
	if f.DeleteNatGatewayFn != nil {
		return f.DeleteNatGatewayFn(ctx, in)
	}
	return &ec2.DeleteNatGatewayOutput{}, nil
}

func (f *EC2) DeleteNetworkAcl(ctx context.Context, in *ec2.DeleteNetworkAclInput, _ ...func(*ec2.Options)) (*ec2.DeleteNetworkAclOutput, error) {
	f.rec.add("EC2", "DeleteNetworkAcl", in)
	if f.DeleteNetworkAclFn != nil {
		return f.DeleteNetworkAclFn(ctx, in)
	}
	return &ec2.DeleteNetworkAclOutput{}, nil
}

func (f *EC2) DeleteNetworkAclEntry(ctx context.Context, in *ec2.DeleteNetworkAclEntryInput, _ ...func(*ec2.Options)) (*ec2.DeleteNetworkAclEntryOutput, error) {
	f.rec.add("EC2", "DeleteNetworkAclEntry", in)
	if f.DeleteNetworkAclEntryFn != nil {
		return f.DeleteNetworkAclEntryFn(ctx, in)
	}
	return &ec2.DeleteNetworkAclEntryOutput{}, nil
}

func (f *EC2) DeleteRoute(ctx context.Context, in *ec2.DeleteRouteInput, _ ...func(*ec2.Options)) (*ec2.DeleteRouteOutput, error) {
	f.rec.add("EC2", "DeleteRoute", in)
	if f.DeleteRouteFn != nil {
		return f.DeleteRouteFn(ctx, in)
	}
	return &ec2.DeleteRouteOutput{}, nil
}

func (f *EC2) DeleteRouteTable(ctx context.Context, in *ec2.DeleteRouteTableInput, _ ...func(*ec2.Options)) (*ec2.DeleteRouteTableOutput, error) {
	f.rec.add("EC2", "DeleteRouteTable", in)
	if f.DeleteRouteTableFn != nil {
		return f.DeleteRouteTableFn(ctx, in)
	}
	return &ec2.DeleteRouteTableOutput{}, nil
}

func (f *EC2) DeleteSecurityGroup(ctx context.Context, in *ec2.DeleteSecurityGroupInput, _ ...func(*ec2.Options)) (*ec2.DeleteSecurityGroupOutput, error) {
	f.rec.add("EC2", "DeleteSecurityGroup", in)
	if f.DeleteSecurityGroupFn != nil {
		return f.DeleteSecurityGroupFn(ctx, in)
	}
	return &ec2.DeleteSecurityGroupOutput{}, nil
}

func (f *EC2) DeleteSubnet(ctx context.Context, in *ec2.DeleteSubnetInput, _ ...func(*ec2.Options)) (*ec2.DeleteSubnetOutput, error) {
	f.rec.add("EC2", "DeleteSubnet", in)
	if f.DeleteSubnetFn != nil {
		return f.DeleteSubnetFn(ctx, in)
	}
	return &ec2.DeleteSubnetOutput{}, nil
}

func (f *EC2) DeleteTags(ctx context.Context, in *ec2.DeleteTagsInput, _ ...func(*ec2.Options)) (*ec2.DeleteTagsOutput, error) {
	f.rec.add("EC2", "DeleteTags", in)
	if f.DeleteTagsFn != nil {
		return f.DeleteTagsFn(ctx, in)
	}
	return &ec2.DeleteTagsOutput{}, nil
}

func (f *EC2) DeleteVpc(ctx context.Context, in *ec2.DeleteVpcInput, _ ...func(*ec2.Options)) (*ec2.DeleteVpcOutput, error) {
	f.rec.add("EC2", "DeleteVpc", in)
	if f.DeleteVpcFn != nil {
		return f.DeleteVpcFn(ctx, in)
	}
	return &ec2.DeleteVpcOutput{}, nil
}

func (f *EC2) DeleteVpcEndpoints(ctx context.Context, in *ec2.DeleteVpcEndpointsInput, _ ...func(*ec2.Options)) (*ec2.DeleteVpcEndpointsOutput, error) {
	f.rec.add("EC2", "DeleteVpcEndpoints", in)
	if f.DeleteVpcEndpointsFn != nil {
		return f.DeleteVpcEndpointsFn(ctx, in)
	}
	return &ec2.DeleteVpcEndpointsOutput{}, nil
}

func (f *EC2) DescribeAccountAttributes(ctx context.Context, in *ec2.DescribeAccountAttributesInput, _ ...func(*ec2.Options)) (*ec2.DescribeAccountAttributesOutput, error) {
	f.rec.add("EC2", "DescribeAccountAttributes", in)
	if f.DescribeAccountAttributesFn != nil {
		return f.DescribeAccountAttributesFn(ctx, in)
	}
	return &ec2.DescribeAccountAttributesOutput{}, nil
}

func (f *EC2) DescribeAddresses(ctx context.Context, in *ec2.DescribeAddressesInput, _ ...func(*ec2.Options)) (*ec2.DescribeAddressesOutput, error) {
	f.rec.add("EC2", "DescribeAddresses", in)
	if f.DescribeAddressesFn != nil {
		return f.DescribeAddressesFn(ctx, in)
	}
	return &ec2.DescribeAddressesOutput{}, nil
}

func (f *EC2) DescribeAvailabilityZones(ctx context.Context, in *ec2.DescribeAvailabilityZonesInput, _ ...func(*ec2.Options)) (*ec2.DescribeAvailabilityZonesOutput, error) {
	f.rec.add("EC2", "DescribeAvailabilityZones", in)
	if f.DescribeAvailabilityZonesFn != nil {
		return f.DescribeAvailabilityZonesFn(ctx, in)
	}
	return &ec2.DescribeAvailabilityZonesOutput{}, nil
}

func (f *EC2) DescribeEgressOnlyInternetGateways(ctx context.Context, in *ec2.DescribeEgressOnlyInternetGatewaysInput, _ ...func(*ec2.Options)) (*ec2.DescribeEgressOnlyInternetGatewaysOutput, error) {
	f.rec.add("EC2", "DescribeEgressOnlyInternetGateways", in)
	if f.DescribeEgressOnlyInternetGatewaysFn != nil {
		return f.DescribeEgressOnlyInternetGatewaysFn(ctx, in)
	}
	return &ec2.DescribeEgressOnlyInternetGatewaysOutput{}, nil
}

func (f *EC2) DescribeImages(ctx context.Context, in *ec2.DescribeImagesInput, _ ...func(*ec2.Options)) (*ec2.DescribeImagesOutput, error) {
	f.rec.add("EC2", "DescribeImages", in)
	if f.DescribeImagesFn != nil {
		return f.DescribeImagesFn(ctx, in)
	}
	return &ec2.DescribeImagesOutput{}, nil
}

func (f *EC2) DescribeInstanceTypeOfferings(ctx context.Context, in *ec2.DescribeInstanceTypeOfferingsInput, _ ...func(*ec2.Options)) (*ec2.DescribeInstanceTypeOfferingsOutput, error) {
	f.rec.add("EC2", "DescribeInstanceTypeOfferings", in)
	if f.DescribeInstanceTypeOfferingsFn != nil {
		return f.DescribeInstanceTypeOfferingsFn(ctx, in)
	}
	return &ec2.DescribeInstanceTypeOfferingsOutput{}, nil
}

func (f *EC2) DescribeInstanceTypes(ctx context.Context, in *ec2.DescribeInstanceTypesInput, _ ...func(*ec2.Options)) (*ec2.DescribeInstanceTypesOutput, error) {
	f.rec.add("EC2", "DescribeInstanceTypes", in)
	if f.DescribeInstanceTypesFn != nil {
		return f.DescribeInstanceTypesFn(ctx, in)
	}
	return &ec2.DescribeInstanceTypesOutput{}, nil
}

func (f *EC2) DescribeInstances(ctx context.Context, in *ec2.DescribeInstancesInput, _ ...func(*ec2.Options)) (*ec2.DescribeInstancesOutput, error) {
	f.rec.add("EC2", "DescribeInstances", in)
	if f.DescribeInstancesFn != nil {
		return f.DescribeInstancesFn(ctx, in)
	}
	return &ec2.DescribeInstancesOutput{}, nil
}

func (f *EC2) DescribeInternetGateways(ctx context.Context, in *ec2.DescribeInternetGatewaysInput, _ ...func(*ec2.Options)) (*ec2.DescribeInternetGatewaysOutput, error) {
	f.rec.add("EC2", "DescribeInternetGateways", in)
	if f.DescribeInternetGatewaysFn != nil {
		return f.DescribeInternetGatewaysFn(ctx, in)
	}
	return &ec2.DescribeInternetGatewaysOutput{}, nil
}

func (f *EC2) DescribeKeyPairs(ctx context.Context, in *ec2.DescribeKeyPairsInput, _ ...func(*ec2.Options)) (*ec2.DescribeKeyPairsOutput, error) {
	f.rec.add("EC2", "DescribeKeyPairs", in)
	if f.DescribeKeyPairsFn != nil {
		return f.DescribeKeyPairsFn(ctx, in)
	}
	return &ec2.DescribeKeyPairsOutput{}, nil
}

func (f *EC2) DescribeLaunchTemplateVersions(ctx context.Context, in *ec2.DescribeLaunchTemplateVersionsInput, _ ...func(*ec2.Options)) (*ec2.DescribeLaunchTemplateVersionsOutput, error) {
	f.rec.add("EC2", "DescribeLaunchTemplateVersions", in)
	if f.DescribeLaunchTemplateVersionsFn != nil {
		return f.DescribeLaunchTemplateVersionsFn(ctx, in)
	}
	return &ec2.DescribeLaunchTemplateVersionsOutput{}, nil
}

func (f *EC2) DescribeLaunchTemplates(ctx context.Context, in *ec2.DescribeLaunchTemplatesInput, _ ...func(*ec2.Options)) (*ec2.DescribeLaunchTemplatesOutput, error) {
	f.rec.add("EC2", "DescribeLaunchTemplates", in)
	if f.DescribeLaunchTemplatesFn != nil {
		return f.DescribeLaunchTemplatesFn(ctx, in)
	}
	return &ec2.DescribeLaunchTemplatesOutput{}, nil
}

func (f *EC2) DescribeNatGateways(ctx context.Context, in *ec2.DescribeNatGatewaysInput, _ ...func(*ec2.Options)) (*ec2.DescribeNatGatewaysOutput, error) {
	f.rec.add("EC2", "DescribeNatGateways", in)
	if f.DescribeNatGatewaysFn != nil {
		return f.DescribeNatGatewaysFn(ctx, in)
	}
	return &ec2.DescribeNatGatewaysOutput{}, nil
}

func (f *EC2) DescribeNetworkAcls(ctx context.Context, in *ec2.DescribeNetworkAclsInput, _ ...func(*ec2.Options)) (*ec2.DescribeNetworkAclsOutput, error) {
	f.rec.add("EC2", "DescribeNetworkAcls", in)
	if f.DescribeNetworkAclsFn != nil {
		return f.DescribeNetworkAclsFn(ctx, in)
	}
	return &ec2.DescribeNetworkAclsOutput{}, nil
}

func (f *EC2) DescribeNetworkInterfaces(ctx context.Context, in *ec2.DescribeNetworkInterfacesInput, _ ...func(*ec2.Options)) (*ec2.DescribeNetworkInterfacesOutput, error) {
	f.rec.add("EC2", "DescribeNetworkInterfaces", in)
	if f.DescribeNetworkInterfacesFn != nil {
		return f.DescribeNetworkInterfacesFn(ctx, in)
	}
	return &ec2.DescribeNetworkInterfacesOutput{}, nil
}

func (f *EC2) DescribeRegions(ctx context.Context, in *ec2.DescribeRegionsInput, _ ...func(*ec2.Options)) (*ec2.DescribeRegionsOutput, error) {
	f.rec.add("EC2", "DescribeRegions", in)
	if f.DescribeRegionsFn != nil {
		return f.DescribeRegionsFn(ctx, in)
	}
	return &ec2.DescribeRegionsOutput{}, nil
}

func (f *EC2) DescribeRouteTables(ctx context.Context, in *ec2.DescribeRouteTablesInput, _ ...func(*ec2.Options)) (*ec2.DescribeRouteTablesOutput, error) {
	f.rec.add("EC2", "DescribeRouteTables", in)
	if f.DescribeRouteTablesFn != nil {
		return f.DescribeRouteTablesFn(ctx, in)
	}
	return &ec2.DescribeRouteTablesOutput{}, nil
}

func (f *EC2) DescribeSecurityGroups(ctx context.Context, in *ec2.DescribeSecurityGroupsInput, _ ...func(*ec2.Options)) (*ec2.DescribeSecurityGroupsOutput, error) {
	f.rec.add("EC2", "DescribeSecurityGroups", in)
	if f.DescribeSecurityGroupsFn != nil {
		return f.DescribeSecurityGroupsFn(ctx, in)
	}
	return &ec2.DescribeSecurityGroupsOutput{}, nil
}

func (f *EC2) DescribeSpotInstanceRequests(ctx context.Context, in *ec2.DescribeSpotInstanceRequestsInput, _ ...func(*ec2.Options)) (*ec2.DescribeSpotInstanceRequestsOutput, error) {
	f.rec.add("EC2", "DescribeSpotInstanceRequests", in)
	if f.DescribeSpotInstanceRequestsFn != nil {
		return f.DescribeSpotInstanceRequestsFn(ctx, in)
	}
	return &ec2.DescribeSpotInstanceRequestsOutput{}, nil
}

func (f *EC2) DescribeSubnets(ctx context.Context, in *ec2.DescribeSubnetsInput, _ ...func(*ec2.Options)) (*ec2.DescribeSubnetsOutput, error) {
	f.rec.add("EC2", "DescribeSubnets", in)
	if f.DescribeSubnetsFn != nil {
		return f.DescribeSubnetsFn(ctx, in)
	}
	return &ec2.DescribeSubnetsOutput{}, nil
}

func (f *EC2) DescribeVpcAttribute(ctx context.Context, in *ec2.DescribeVpcAttributeInput, _ ...func(*ec2.Options)) (*ec2.DescribeVpcAttributeOutput, error) {
	f.rec.add("EC2", "DescribeVpcAttribute", in)
	if f.DescribeVpcAttributeFn != nil {
		return f.DescribeVpcAttributeFn(ctx, in)
	}
	return &ec2.DescribeVpcAttributeOutput{}, nil
}

func (f *EC2) DescribeVpcEndpoints(ctx context.Context, in *ec2.DescribeVpcEndpointsInput, _ ...func(*ec2.Options)) (*ec2.DescribeVpcEndpointsOutput, error) {
	f.rec.add("EC2", "DescribeVpcEndpoints", in)
	if f.DescribeVpcEndpointsFn != nil {
		return f.DescribeVpcEndpointsFn(ctx, in)
	}
	return &ec2.DescribeVpcEndpointsOutput{}, nil
}

func (f *EC2) DescribeVpcs(ctx context.Context, in *ec2.DescribeVpcsInput, _ ...func(*ec2.Options)) (*ec2.DescribeVpcsOutput, error) {
	f.rec.add("EC2", "DescribeVpcs", in)
	if f.DescribeVpcsFn != nil {
		return f.DescribeVpcsFn(ctx, in)
	}
	return &ec2.DescribeVpcsOutput{}, nil
}

func (f *EC2) DetachInternetGateway(ctx context.Context, in *ec2.DetachInternetGatewayInput, _ ...func(*ec2.Options)) (*ec2.DetachInternetGatewayOutput, error) {
	f.rec.add("EC2", "DetachInternetGateway", in)
	if f.DetachInternetGatewayFn != nil {
		return f.DetachInternetGatewayFn(ctx, in)
	}
	return &ec2.DetachInternetGatewayOutput{}, nil
}

func (f *EC2) DisassociateAddress(ctx context.Context, in *ec2.DisassociateAddressInput, _ ...func(*ec2.Options)) (*ec2.DisassociateAddressOutput, error) {
	f.rec.add("EC2", "DisassociateAddress", in)
	if f.DisassociateAddressFn != nil {
		return f.DisassociateAddressFn(ctx, in)
	}
	return &ec2.DisassociateAddressOutput{}, nil
}

func (f *EC2) DisassociateRouteTable(ctx context.Context, in *ec2.DisassociateRouteTableInput, _ ...func(*ec2.Options)) (*ec2.DisassociateRouteTableOutput, error) {
	f.rec.add("EC2", "DisassociateRouteTable", in)
	if f.DisassociateRouteTableFn != nil {
		return f.DisassociateRouteTableFn(ctx, in)
	}
	return &ec2.DisassociateRouteTableOutput{}, nil
}

func (f *EC2) GetConsoleOutput(ctx context.Context, in *ec2.GetConsoleOutputInput, _ ...func(*ec2.Options)) (*ec2.GetConsoleOutputOutput, error) {
	f.rec.add("EC2", "GetConsoleOutput", in)
	if f.GetConsoleOutputFn != nil {
		return f.GetConsoleOutputFn(ctx, in)
	}
	return &ec2.GetConsoleOutputOutput{}, nil
}

func (f *EC2) GetEbsDefaultKmsKeyId(ctx context.Context, in *ec2.GetEbsDefaultKmsKeyIdInput, _ ...func(*ec2.Options)) (*ec2.GetEbsDefaultKmsKeyIdOutput, error) {
	f.rec.add("EC2", "GetEbsDefaultKmsKeyId", in)
	if f.GetEbsDefaultKmsKeyIdFn != nil {
		return f.GetEbsDefaultKmsKeyIdFn(ctx, in)
	}
	return &ec2.GetEbsDefaultKmsKeyIdOutput{}, nil
}

func (f *EC2) ImportKeyPair(ctx context.Context, in *ec2.ImportKeyPairInput, _ ...func(*ec2.Options)) (*ec2.ImportKeyPairOutput, error) {
	f.rec.add("EC2", "ImportKeyPair", in)
	if f.ImportKeyPairFn != nil {
		return f.ImportKeyPairFn(ctx, in)
	}
	return &ec2.ImportKeyPairOutput{}, nil
}

func (f *EC2) ModifyInstanceAttribute(ctx context.Context, in *ec2.ModifyInstanceAttributeInput, _ ...func(*ec2.Options)) (*ec2.ModifyInstanceAttributeOutput, error) {
	f.rec.add("EC2", "ModifyInstanceAttribute", in)
	if f.ModifyInstanceAttributeFn != nil {
		return f.ModifyInstanceAttributeFn(ctx, in)
	}
	return &ec2.ModifyInstanceAttributeOutput{}, nil
}

func (f *EC2) ModifyLaunchTemplate(ctx context.Context, in *ec2.ModifyLaunchTemplateInput, _ ...func(*ec2.Options)) (*ec2.ModifyLaunchTemplateOutput, error) {
	f.rec.add("EC2", "ModifyLaunchTemplate", in)
	if f.ModifyLaunchTemplateFn != nil {
		return f.ModifyLaunchTemplateFn(ctx, in)
	}
	return &ec2.ModifyLaunchTemplateOutput{}, nil
}

func (f *EC2) ModifySubnetAttribute(ctx context.Context, in *ec2.ModifySubnetAttributeInput, _ ...func(*ec2.Options)) (*ec2.ModifySubnetAttributeOutput, error) {
	f.rec.add("EC2", "ModifySubnetAttribute", in)
	if f.ModifySubnetAttributeFn != nil {
		return f.ModifySubnetAttributeFn(ctx, in)
	}
	return &ec2.ModifySubnetAttributeOutput{}, nil
}

func (f *EC2) ModifyVpcAttribute(ctx context.Context, in *ec2.ModifyVpcAttributeInput, _ ...func(*ec2.Options)) (*ec2.ModifyVpcAttributeOutput, error) {
	f.rec.add("EC2", "ModifyVpcAttribute", in)
	if f.ModifyVpcAttributeFn != nil {
		return f.ModifyVpcAttributeFn(ctx, in)
	}
	return &ec2.ModifyVpcAttributeOutput{}, nil
}

func (f *EC2) ModifyVpcEndpoint(ctx context.Context, in *ec2.ModifyVpcEndpointInput, _ ...func(*ec2.Options)) (*ec2.ModifyVpcEndpointOutput, error) {
	f.rec.add("EC2", "ModifyVpcEndpoint", in)
	if f.ModifyVpcEndpointFn != nil {
		return f.ModifyVpcEndpointFn(ctx, in)
	}
	return &ec2.ModifyVpcEndpointOutput{}, nil
}

func (f *EC2) ReleaseAddress(ctx context.Context, in *ec2.ReleaseAddressInput, _ ...func(*ec2.Options)) (*ec2.ReleaseAddressOutput, error) {
	f.rec.add("EC2", "ReleaseAddress", in)
	if f.ReleaseAddressFn != nil {
		return f.ReleaseAddressFn(ctx, in)
	}
	return &ec2.ReleaseAddressOutput{}, nil
}

func (f *EC2) ReplaceNetworkAclAssociation(ctx context.Context, in *ec2.ReplaceNetworkAclAssociationInput, _ ...func(*ec2.Options)) (*ec2.ReplaceNetworkAclAssociationOutput, error) {
	f.rec.add("EC2", "ReplaceNetworkAclAssociation", in)
	if f.ReplaceNetworkAclAssociationFn != nil {
		return f.ReplaceNetworkAclAssociationFn(ctx, in)
	}
	return &ec2.ReplaceNetworkAclAssociationOutput{}, nil
}

func (f *EC2) ReplaceNetworkAclEntry(ctx context.Context, in *ec2.ReplaceNetworkAclEntryInput, _ ...func(*ec2.Options)) (*ec2.ReplaceNetworkAclEntryOutput, error) {
	f.rec.add("EC2", "ReplaceNetworkAclEntry", in)
	if f.ReplaceNetworkAclEntryFn != nil {
		return f.ReplaceNetworkAclEntryFn(ctx, in)
	}
	return &ec2.ReplaceNetworkAclEntryOutput{}, nil
}

func (f *EC2) ReplaceRoute(ctx context.Context, in *ec2.ReplaceRouteInput, _ ...func(*ec2.Options)) (*ec2.ReplaceRouteOutput, error) {
	f.rec.add("EC2", "ReplaceRoute", in)
	if f.ReplaceRouteFn != nil {
		return f.ReplaceRouteFn(ctx, in)
	}
	return &ec2.ReplaceRouteOutput{}, nil
}

func (f *EC2) ReplaceRouteTableAssociation(ctx context.Context, in *ec2.ReplaceRouteTableAssociationInput, _ ...func(*ec2.Options)) (*ec2.ReplaceRouteTableAssociationOutput, error) {
	f.rec.add("EC2", "ReplaceRouteTableAssociation", in)
	if f.ReplaceRouteTableAssociationFn != nil {
		return f.ReplaceRouteTableAssociationFn(ctx, in)
	}
	return &ec2.ReplaceRouteTableAssociationOutput{}, nil
}

func (f *EC2) RevokeSecurityGroupEgress(ctx context.Context, in *ec2.RevokeSecurityGroupEgressInput, _ ...func(*ec2.Options)) (*ec2.RevokeSecurityGroupEgressOutput, error) {
	f.rec.add("EC2", "RevokeSecurityGroupEgress", in)
	if f.RevokeSecurityGroupEgressFn != nil {
		return f.RevokeSecurityGroupEgressFn(ctx, in)
	}
	return &ec2.RevokeSecurityGroupEgressOutput{}, nil
}

func (f *EC2) RevokeSecurityGroupIngress(ctx context.Context, in *ec2.RevokeSecurityGroupIngressInput, _ ...func(*ec2.Options)) (*ec2.RevokeSecurityGroupIngressOutput, error) {
	f.rec.add("EC2", "RevokeSecurityGroupIngress", in)
	if f.RevokeSecurityGroupIngressFn != nil {
		return f.RevokeSecurityGroupIngressFn(ctx, in)
	}
	return &ec2.RevokeSecurityGroupIngressOutput{}, nil
}

func (f *EC2) RunInstances(ctx context.Context, in *ec2.RunInstancesInput, _ ...func(*ec2.Options)) (*ec2.RunInstancesOutput, error) {
	f.rec.add("EC2", "RunInstances", in)
	if f.RunInstancesFn != nil {
		return f.RunInstancesFn(ctx, in)
	}
	return &ec2.RunInstancesOutput{}, nil
}

func (f *EC2) StartInstances(ctx context.Context, in *ec2.StartInstancesInput, _ ...func(*ec2.Options)) (*ec2.StartInstancesOutput, error) {
	f.rec.add("EC2", "StartInstances", in)
	if f.StartInstancesFn != nil {
		return f.StartInstancesFn(ctx, in)
	}
	return &ec2.StartInstancesOutput{}, nil
}

func (f *EC2) TerminateInstances(ctx context.Context, in *ec2.TerminateInstancesInput, _ ...func(*ec2.Options)) (*ec2.TerminateInstancesOutput, error) {
	f.rec.add("EC2", "TerminateInstances", in)
	if f.TerminateInstancesFn != nil {
		return f.TerminateInstancesFn(ctx, in)
	}
	return &ec2.TerminateInstancesOutput{}, nil
}

// IAM is a fake of awsapi.IAM: each call is recorded; a method
// answers with its Fn when set, else with an empty output and no error.
type IAM struct {
	rec                             *Recorder
	AddRoleToInstanceProfileFn      func(ctx context.Context, in *iam.AddRoleToInstanceProfileInput) (*iam.AddRoleToInstanceProfileOutput, error)
	CreateInstanceProfileFn         func(ctx context.Context, in *iam.CreateInstanceProfileInput) (*iam.CreateInstanceProfileOutput, error)
	CreateRoleFn                    func(ctx context.Context, in *iam.CreateRoleInput) (*iam.CreateRoleOutput, error)
	DeleteInstanceProfileFn         func(ctx context.Context, in *iam.DeleteInstanceProfileInput) (*iam.DeleteInstanceProfileOutput, error)
	DeleteRoleFn                    func(ctx context.Context, in *iam.DeleteRoleInput) (*iam.DeleteRoleOutput, error)
	DeleteRolePolicyFn              func(ctx context.Context, in *iam.DeleteRolePolicyInput) (*iam.DeleteRolePolicyOutput, error)
	DetachRolePolicyFn              func(ctx context.Context, in *iam.DetachRolePolicyInput) (*iam.DetachRolePolicyOutput, error)
	GetInstanceProfileFn            func(ctx context.Context, in *iam.GetInstanceProfileInput) (*iam.GetInstanceProfileOutput, error)
	GetPolicyFn                     func(ctx context.Context, in *iam.GetPolicyInput) (*iam.GetPolicyOutput, error)
	GetRoleFn                       func(ctx context.Context, in *iam.GetRoleInput) (*iam.GetRoleOutput, error)
	GetRolePolicyFn                 func(ctx context.Context, in *iam.GetRolePolicyInput) (*iam.GetRolePolicyOutput, error)
	ListAttachedRolePoliciesFn      func(ctx context.Context, in *iam.ListAttachedRolePoliciesInput) (*iam.ListAttachedRolePoliciesOutput, error)
	ListRolePoliciesFn              func(ctx context.Context, in *iam.ListRolePoliciesInput) (*iam.ListRolePoliciesOutput, error)
	PutRolePermissionsBoundaryFn    func(ctx context.Context, in *iam.PutRolePermissionsBoundaryInput) (*iam.PutRolePermissionsBoundaryOutput, error)
	PutRolePolicyFn                 func(ctx context.Context, in *iam.PutRolePolicyInput) (*iam.PutRolePolicyOutput, error)
	RemoveRoleFromInstanceProfileFn func(ctx context.Context, in *iam.RemoveRoleFromInstanceProfileInput) (*iam.RemoveRoleFromInstanceProfileOutput, error)
	TagInstanceProfileFn            func(ctx context.Context, in *iam.TagInstanceProfileInput) (*iam.TagInstanceProfileOutput, error)
	TagRoleFn                       func(ctx context.Context, in *iam.TagRoleInput) (*iam.TagRoleOutput, error)
	UntagInstanceProfileFn          func(ctx context.Context, in *iam.UntagInstanceProfileInput) (*iam.UntagInstanceProfileOutput, error)
	UntagRoleFn                     func(ctx context.Context, in *iam.UntagRoleInput) (*iam.UntagRoleOutput, error)
	UpdateAssumeRolePolicyFn        func(ctx context.Context, in *iam.UpdateAssumeRolePolicyInput) (*iam.UpdateAssumeRolePolicyOutput, error)
}

var _ awsapi.IAM = (*IAM)(nil)

func (f *IAM) AddRoleToInstanceProfile(ctx context.Context, in *iam.AddRoleToInstanceProfileInput, _ ...func(*iam.Options)) (*iam.AddRoleToInstanceProfileOutput, error) {
	f.rec.add("IAM", "AddRoleToInstanceProfile", in)
	if f.AddRoleToInstanceProfileFn != nil {
		return f.AddRoleToInstanceProfileFn(ctx, in)
	}
	return &iam.AddRoleToInstanceProfileOutput{}, nil
}

func (f *IAM) CreateInstanceProfile(ctx context.Context, in *iam.CreateInstanceProfileInput, _ ...func(*iam.Options)) (*iam.CreateInstanceProfileOutput, error) {
	f.rec.add("IAM", "CreateInstanceProfile", in)
	if f.CreateInstanceProfileFn != nil {
		return f.CreateInstanceProfileFn(ctx, in)
	}
	return &iam.CreateInstanceProfileOutput{}, nil
}

func (f *IAM) CreateRole(ctx context.Context, in *iam.CreateRoleInput, _ ...func(*iam.Options)) (*iam.CreateRoleOutput, error) {
	f.rec.add("IAM", "CreateRole", in)
	if f.CreateRoleFn != nil {
		return f.CreateRoleFn(ctx, in)
	}
	return &iam.CreateRoleOutput{}, nil
}

func (f *IAM) DeleteInstanceProfile(ctx context.Context, in *iam.DeleteInstanceProfileInput, _ ...func(*iam.Options)) (*iam.DeleteInstanceProfileOutput, error) {
	f.rec.add("IAM", "DeleteInstanceProfile", in)
	if f.DeleteInstanceProfileFn != nil {
		return f.DeleteInstanceProfileFn(ctx, in)
	}
	return &iam.DeleteInstanceProfileOutput{}, nil
}

func (f *IAM) DeleteRole(ctx context.Context, in *iam.DeleteRoleInput, _ ...func(*iam.Options)) (*iam.DeleteRoleOutput, error) {
	f.rec.add("IAM", "DeleteRole", in)
	if f.DeleteRoleFn != nil {
		return f.DeleteRoleFn(ctx, in)
	}
	return &iam.DeleteRoleOutput{}, nil
}

func (f *IAM) DeleteRolePolicy(ctx context.Context, in *iam.DeleteRolePolicyInput, _ ...func(*iam.Options)) (*iam.DeleteRolePolicyOutput, error) {
	f.rec.add("IAM", "DeleteRolePolicy", in)
	if f.DeleteRolePolicyFn != nil {
		return f.DeleteRolePolicyFn(ctx, in)
	}
	return &iam.DeleteRolePolicyOutput{}, nil
}

func (f *IAM) DetachRolePolicy(ctx context.Context, in *iam.DetachRolePolicyInput, _ ...func(*iam.Options)) (*iam.DetachRolePolicyOutput, error) {
	f.rec.add("IAM", "DetachRolePolicy", in)
	if f.DetachRolePolicyFn != nil {
		return f.DetachRolePolicyFn(ctx, in)
	}
	return &iam.DetachRolePolicyOutput{}, nil
}

func (f *IAM) GetInstanceProfile(ctx context.Context, in *iam.GetInstanceProfileInput, _ ...func(*iam.Options)) (*iam.GetInstanceProfileOutput, error) {
	f.rec.add("IAM", "GetInstanceProfile", in)
	if f.GetInstanceProfileFn != nil {
		return f.GetInstanceProfileFn(ctx, in)
	}
	return nil, notFound("NoSuchEntity")
}

func (f *IAM) GetPolicy(ctx context.Context, in *iam.GetPolicyInput, _ ...func(*iam.Options)) (*iam.GetPolicyOutput, error) {
	f.rec.add("IAM", "GetPolicy", in)
	if f.GetPolicyFn != nil {
		return f.GetPolicyFn(ctx, in)
	}
	return nil, notFound("NoSuchEntity")
}

func (f *IAM) GetRole(ctx context.Context, in *iam.GetRoleInput, _ ...func(*iam.Options)) (*iam.GetRoleOutput, error) {
	f.rec.add("IAM", "GetRole", in)
	if f.GetRoleFn != nil {
		return f.GetRoleFn(ctx, in)
	}
	return nil, notFound("NoSuchEntity")
}

func (f *IAM) GetRolePolicy(ctx context.Context, in *iam.GetRolePolicyInput, _ ...func(*iam.Options)) (*iam.GetRolePolicyOutput, error) {
	f.rec.add("IAM", "GetRolePolicy", in)
	if f.GetRolePolicyFn != nil {
		return f.GetRolePolicyFn(ctx, in)
	}
	return nil, notFound("NoSuchEntity")
}

func (f *IAM) ListAttachedRolePolicies(ctx context.Context, in *iam.ListAttachedRolePoliciesInput, _ ...func(*iam.Options)) (*iam.ListAttachedRolePoliciesOutput, error) {
	f.rec.add("IAM", "ListAttachedRolePolicies", in)
	if f.ListAttachedRolePoliciesFn != nil {
		return f.ListAttachedRolePoliciesFn(ctx, in)
	}
	return &iam.ListAttachedRolePoliciesOutput{}, nil
}

func (f *IAM) ListRolePolicies(ctx context.Context, in *iam.ListRolePoliciesInput, _ ...func(*iam.Options)) (*iam.ListRolePoliciesOutput, error) {
	f.rec.add("IAM", "ListRolePolicies", in)
	if f.ListRolePoliciesFn != nil {
		return f.ListRolePoliciesFn(ctx, in)
	}
	return &iam.ListRolePoliciesOutput{}, nil
}

func (f *IAM) PutRolePermissionsBoundary(ctx context.Context, in *iam.PutRolePermissionsBoundaryInput, _ ...func(*iam.Options)) (*iam.PutRolePermissionsBoundaryOutput, error) {
	f.rec.add("IAM", "PutRolePermissionsBoundary", in)
	if f.PutRolePermissionsBoundaryFn != nil {
		return f.PutRolePermissionsBoundaryFn(ctx, in)
	}
	return &iam.PutRolePermissionsBoundaryOutput{}, nil
}

func (f *IAM) PutRolePolicy(ctx context.Context, in *iam.PutRolePolicyInput, _ ...func(*iam.Options)) (*iam.PutRolePolicyOutput, error) {
	f.rec.add("IAM", "PutRolePolicy", in)
	if f.PutRolePolicyFn != nil {
		return f.PutRolePolicyFn(ctx, in)
	}
	return &iam.PutRolePolicyOutput{}, nil
}

func (f *IAM) RemoveRoleFromInstanceProfile(ctx context.Context, in *iam.RemoveRoleFromInstanceProfileInput, _ ...func(*iam.Options)) (*iam.RemoveRoleFromInstanceProfileOutput, error) {
	f.rec.add("IAM", "RemoveRoleFromInstanceProfile", in)
	if f.RemoveRoleFromInstanceProfileFn != nil {
		return f.RemoveRoleFromInstanceProfileFn(ctx, in)
	}
	return &iam.RemoveRoleFromInstanceProfileOutput{}, nil
}

func (f *IAM) TagInstanceProfile(ctx context.Context, in *iam.TagInstanceProfileInput, _ ...func(*iam.Options)) (*iam.TagInstanceProfileOutput, error) {
	f.rec.add("IAM", "TagInstanceProfile", in)
	if f.TagInstanceProfileFn != nil {
		return f.TagInstanceProfileFn(ctx, in)
	}
	return &iam.TagInstanceProfileOutput{}, nil
}

func (f *IAM) TagRole(ctx context.Context, in *iam.TagRoleInput, _ ...func(*iam.Options)) (*iam.TagRoleOutput, error) {
	f.rec.add("IAM", "TagRole", in)
	if f.TagRoleFn != nil {
		return f.TagRoleFn(ctx, in)
	}
	return &iam.TagRoleOutput{}, nil
}

func (f *IAM) UntagInstanceProfile(ctx context.Context, in *iam.UntagInstanceProfileInput, _ ...func(*iam.Options)) (*iam.UntagInstanceProfileOutput, error) {
	f.rec.add("IAM", "UntagInstanceProfile", in)
	if f.UntagInstanceProfileFn != nil {
		return f.UntagInstanceProfileFn(ctx, in)
	}
	return &iam.UntagInstanceProfileOutput{}, nil
}

func (f *IAM) UntagRole(ctx context.Context, in *iam.UntagRoleInput, _ ...func(*iam.Options)) (*iam.UntagRoleOutput, error) {
	f.rec.add("IAM", "UntagRole", in)
	if f.UntagRoleFn != nil {
		return f.UntagRoleFn(ctx, in)
	}
	return &iam.UntagRoleOutput{}, nil
}

func (f *IAM) UpdateAssumeRolePolicy(ctx context.Context, in *iam.UpdateAssumeRolePolicyInput, _ ...func(*iam.Options)) (*iam.UpdateAssumeRolePolicyOutput, error) {
	f.rec.add("IAM", "UpdateAssumeRolePolicy", in)
	if f.UpdateAssumeRolePolicyFn != nil {
		return f.UpdateAssumeRolePolicyFn(ctx, in)
	}
	return &iam.UpdateAssumeRolePolicyOutput{}, nil
}

// AutoScaling is a fake of awsapi.AutoScaling: each call is recorded; a method
// answers with its Fn when set, else with an empty output and no error.
type AutoScaling struct {
	rec                         *Recorder
	CreateAutoScalingGroupFn    func(ctx context.Context, in *autoscaling.CreateAutoScalingGroupInput) (*autoscaling.CreateAutoScalingGroupOutput, error)
	CreateOrUpdateTagsFn        func(ctx context.Context, in *autoscaling.CreateOrUpdateTagsInput) (*autoscaling.CreateOrUpdateTagsOutput, error)
	DeleteAutoScalingGroupFn    func(ctx context.Context, in *autoscaling.DeleteAutoScalingGroupInput) (*autoscaling.DeleteAutoScalingGroupOutput, error)
	DeleteTagsFn                func(ctx context.Context, in *autoscaling.DeleteTagsInput) (*autoscaling.DeleteTagsOutput, error)
	DescribeAutoScalingGroupsFn func(ctx context.Context, in *autoscaling.DescribeAutoScalingGroupsInput) (*autoscaling.DescribeAutoScalingGroupsOutput, error)
	SetInstanceProtectionFn     func(ctx context.Context, in *autoscaling.SetInstanceProtectionInput) (*autoscaling.SetInstanceProtectionOutput, error)
	SuspendProcessesFn          func(ctx context.Context, in *autoscaling.SuspendProcessesInput) (*autoscaling.SuspendProcessesOutput, error)
	UpdateAutoScalingGroupFn    func(ctx context.Context, in *autoscaling.UpdateAutoScalingGroupInput) (*autoscaling.UpdateAutoScalingGroupOutput, error)
}

var _ awsapi.AutoScaling = (*AutoScaling)(nil)

func (f *AutoScaling) CreateAutoScalingGroup(ctx context.Context, in *autoscaling.CreateAutoScalingGroupInput, _ ...func(*autoscaling.Options)) (*autoscaling.CreateAutoScalingGroupOutput, error) {
	f.rec.add("AutoScaling", "CreateAutoScalingGroup", in)
	if f.CreateAutoScalingGroupFn != nil {
		return f.CreateAutoScalingGroupFn(ctx, in)
	}
	return &autoscaling.CreateAutoScalingGroupOutput{}, nil
}

func (f *AutoScaling) CreateOrUpdateTags(ctx context.Context, in *autoscaling.CreateOrUpdateTagsInput, _ ...func(*autoscaling.Options)) (*autoscaling.CreateOrUpdateTagsOutput, error) {
	f.rec.add("AutoScaling", "CreateOrUpdateTags", in)
	if f.CreateOrUpdateTagsFn != nil {
		return f.CreateOrUpdateTagsFn(ctx, in)
	}
	return &autoscaling.CreateOrUpdateTagsOutput{}, nil
}

func (f *AutoScaling) DeleteAutoScalingGroup(ctx context.Context, in *autoscaling.DeleteAutoScalingGroupInput, _ ...func(*autoscaling.Options)) (*autoscaling.DeleteAutoScalingGroupOutput, error) {
	f.rec.add("AutoScaling", "DeleteAutoScalingGroup", in)
	if f.DeleteAutoScalingGroupFn != nil {
		return f.DeleteAutoScalingGroupFn(ctx, in)
	}
	return &autoscaling.DeleteAutoScalingGroupOutput{}, nil
}

func (f *AutoScaling) DeleteTags(ctx context.Context, in *autoscaling.DeleteTagsInput, _ ...func(*autoscaling.Options)) (*autoscaling.DeleteTagsOutput, error) {
	f.rec.add("AutoScaling", "DeleteTags", in)
	if f.DeleteTagsFn != nil {
		return f.DeleteTagsFn(ctx, in)
	}
	return &autoscaling.DeleteTagsOutput{}, nil
}

func (f *AutoScaling) DescribeAutoScalingGroups(ctx context.Context, in *autoscaling.DescribeAutoScalingGroupsInput, _ ...func(*autoscaling.Options)) (*autoscaling.DescribeAutoScalingGroupsOutput, error) {
	f.rec.add("AutoScaling", "DescribeAutoScalingGroups", in)
	if f.DescribeAutoScalingGroupsFn != nil {
		return f.DescribeAutoScalingGroupsFn(ctx, in)
	}
	return &autoscaling.DescribeAutoScalingGroupsOutput{}, nil
}

func (f *AutoScaling) SetInstanceProtection(ctx context.Context, in *autoscaling.SetInstanceProtectionInput, _ ...func(*autoscaling.Options)) (*autoscaling.SetInstanceProtectionOutput, error) {
	f.rec.add("AutoScaling", "SetInstanceProtection", in)
	if f.SetInstanceProtectionFn != nil {
		return f.SetInstanceProtectionFn(ctx, in)
	}
	return &autoscaling.SetInstanceProtectionOutput{}, nil
}

func (f *AutoScaling) SuspendProcesses(ctx context.Context, in *autoscaling.SuspendProcessesInput, _ ...func(*autoscaling.Options)) (*autoscaling.SuspendProcessesOutput, error) {
	f.rec.add("AutoScaling", "SuspendProcesses", in)
	if f.SuspendProcessesFn != nil {
		return f.SuspendProcessesFn(ctx, in)
	}
	return &autoscaling.SuspendProcessesOutput{}, nil
}

func (f *AutoScaling) UpdateAutoScalingGroup(ctx context.Context, in *autoscaling.UpdateAutoScalingGroupInput, _ ...func(*autoscaling.Options)) (*autoscaling.UpdateAutoScalingGroupOutput, error) {
	f.rec.add("AutoScaling", "UpdateAutoScalingGroup", in)
	if f.UpdateAutoScalingGroupFn != nil {
		return f.UpdateAutoScalingGroupFn(ctx, in)
	}
	return &autoscaling.UpdateAutoScalingGroupOutput{}, nil
}

// SSM is a fake of awsapi.SSM: each call is recorded; a method
// answers with its Fn when set, else with an empty output and no error.
type SSM struct {
	rec                      *Recorder
	AddTagsToResourceFn      func(ctx context.Context, in *ssm.AddTagsToResourceInput) (*ssm.AddTagsToResourceOutput, error)
	DeleteParameterFn        func(ctx context.Context, in *ssm.DeleteParameterInput) (*ssm.DeleteParameterOutput, error)
	DescribeParametersFn     func(ctx context.Context, in *ssm.DescribeParametersInput) (*ssm.DescribeParametersOutput, error)
	GetParameterFn           func(ctx context.Context, in *ssm.GetParameterInput) (*ssm.GetParameterOutput, error)
	GetParametersFn          func(ctx context.Context, in *ssm.GetParametersInput) (*ssm.GetParametersOutput, error)
	ListTagsForResourceFn    func(ctx context.Context, in *ssm.ListTagsForResourceInput) (*ssm.ListTagsForResourceOutput, error)
	PutParameterFn           func(ctx context.Context, in *ssm.PutParameterInput) (*ssm.PutParameterOutput, error)
	RemoveTagsFromResourceFn func(ctx context.Context, in *ssm.RemoveTagsFromResourceInput) (*ssm.RemoveTagsFromResourceOutput, error)
}

var _ awsapi.SSM = (*SSM)(nil)

func (f *SSM) AddTagsToResource(ctx context.Context, in *ssm.AddTagsToResourceInput, _ ...func(*ssm.Options)) (*ssm.AddTagsToResourceOutput, error) {
	f.rec.add("SSM", "AddTagsToResource", in)
	if f.AddTagsToResourceFn != nil {
		return f.AddTagsToResourceFn(ctx, in)
	}
	return &ssm.AddTagsToResourceOutput{}, nil
}

func (f *SSM) DeleteParameter(ctx context.Context, in *ssm.DeleteParameterInput, _ ...func(*ssm.Options)) (*ssm.DeleteParameterOutput, error) {
	f.rec.add("SSM", "DeleteParameter", in)
	if f.DeleteParameterFn != nil {
		return f.DeleteParameterFn(ctx, in)
	}
	return &ssm.DeleteParameterOutput{}, nil
}

func (f *SSM) DescribeParameters(ctx context.Context, in *ssm.DescribeParametersInput, _ ...func(*ssm.Options)) (*ssm.DescribeParametersOutput, error) {
	f.rec.add("SSM", "DescribeParameters", in)
	if f.DescribeParametersFn != nil {
		return f.DescribeParametersFn(ctx, in)
	}
	return &ssm.DescribeParametersOutput{}, nil
}

func (f *SSM) GetParameter(ctx context.Context, in *ssm.GetParameterInput, _ ...func(*ssm.Options)) (*ssm.GetParameterOutput, error) {
	f.rec.add("SSM", "GetParameter", in)
	if f.GetParameterFn != nil {
		return f.GetParameterFn(ctx, in)
	}
	return nil, notFound("ParameterNotFound")
}

func (f *SSM) GetParameters(ctx context.Context, in *ssm.GetParametersInput, _ ...func(*ssm.Options)) (*ssm.GetParametersOutput, error) {
	f.rec.add("SSM", "GetParameters", in)
	if f.GetParametersFn != nil {
		return f.GetParametersFn(ctx, in)
	}
	return &ssm.GetParametersOutput{}, nil
}

func (f *SSM) ListTagsForResource(ctx context.Context, in *ssm.ListTagsForResourceInput, _ ...func(*ssm.Options)) (*ssm.ListTagsForResourceOutput, error) {
	f.rec.add("SSM", "ListTagsForResource", in)
	if f.ListTagsForResourceFn != nil {
		return f.ListTagsForResourceFn(ctx, in)
	}
	return &ssm.ListTagsForResourceOutput{}, nil
}

func (f *SSM) PutParameter(ctx context.Context, in *ssm.PutParameterInput, _ ...func(*ssm.Options)) (*ssm.PutParameterOutput, error) {
	f.rec.add("SSM", "PutParameter", in)
	if f.PutParameterFn != nil {
		return f.PutParameterFn(ctx, in)
	}
	return &ssm.PutParameterOutput{}, nil
}

func (f *SSM) RemoveTagsFromResource(ctx context.Context, in *ssm.RemoveTagsFromResourceInput, _ ...func(*ssm.Options)) (*ssm.RemoveTagsFromResourceOutput, error) {
	f.rec.add("SSM", "RemoveTagsFromResource", in)
	if f.RemoveTagsFromResourceFn != nil {
		return f.RemoveTagsFromResourceFn(ctx, in)
	}
	return &ssm.RemoveTagsFromResourceOutput{}, nil
}

// KMS is a fake of awsapi.KMS: each call is recorded; a method
// answers with its Fn when set, else with an empty output and no error.
type KMS struct {
	rec                   *Recorder
	CreateAliasFn         func(ctx context.Context, in *kms.CreateAliasInput) (*kms.CreateAliasOutput, error)
	CreateKeyFn           func(ctx context.Context, in *kms.CreateKeyInput) (*kms.CreateKeyOutput, error)
	DeleteAliasFn         func(ctx context.Context, in *kms.DeleteAliasInput) (*kms.DeleteAliasOutput, error)
	DescribeKeyFn         func(ctx context.Context, in *kms.DescribeKeyInput) (*kms.DescribeKeyOutput, error)
	GetKeyPolicyFn        func(ctx context.Context, in *kms.GetKeyPolicyInput) (*kms.GetKeyPolicyOutput, error)
	ListAliasesFn         func(ctx context.Context, in *kms.ListAliasesInput) (*kms.ListAliasesOutput, error)
	ListGrantsFn          func(ctx context.Context, in *kms.ListGrantsInput) (*kms.ListGrantsOutput, error)
	ListKeysFn            func(ctx context.Context, in *kms.ListKeysInput) (*kms.ListKeysOutput, error)
	ListResourceTagsFn    func(ctx context.Context, in *kms.ListResourceTagsInput) (*kms.ListResourceTagsOutput, error)
	PutKeyPolicyFn        func(ctx context.Context, in *kms.PutKeyPolicyInput) (*kms.PutKeyPolicyOutput, error)
	ScheduleKeyDeletionFn func(ctx context.Context, in *kms.ScheduleKeyDeletionInput) (*kms.ScheduleKeyDeletionOutput, error)
	TagResourceFn         func(ctx context.Context, in *kms.TagResourceInput) (*kms.TagResourceOutput, error)
	UntagResourceFn       func(ctx context.Context, in *kms.UntagResourceInput) (*kms.UntagResourceOutput, error)
}

var _ awsapi.KMS = (*KMS)(nil)

func (f *KMS) CreateAlias(ctx context.Context, in *kms.CreateAliasInput, _ ...func(*kms.Options)) (*kms.CreateAliasOutput, error) {
	f.rec.add("KMS", "CreateAlias", in)
	if f.CreateAliasFn != nil {
		return f.CreateAliasFn(ctx, in)
	}
	return &kms.CreateAliasOutput{}, nil
}

func (f *KMS) CreateKey(ctx context.Context, in *kms.CreateKeyInput, _ ...func(*kms.Options)) (*kms.CreateKeyOutput, error) {
	f.rec.add("KMS", "CreateKey", in)
	if f.CreateKeyFn != nil {
		return f.CreateKeyFn(ctx, in)
	}
	return &kms.CreateKeyOutput{}, nil
}

func (f *KMS) DeleteAlias(ctx context.Context, in *kms.DeleteAliasInput, _ ...func(*kms.Options)) (*kms.DeleteAliasOutput, error) {
	f.rec.add("KMS", "DeleteAlias", in)
	if f.DeleteAliasFn != nil {
		return f.DeleteAliasFn(ctx, in)
	}
	return &kms.DeleteAliasOutput{}, nil
}

func (f *KMS) DescribeKey(ctx context.Context, in *kms.DescribeKeyInput, _ ...func(*kms.Options)) (*kms.DescribeKeyOutput, error) {
	f.rec.add("KMS", "DescribeKey", in)
	if f.DescribeKeyFn != nil {
		return f.DescribeKeyFn(ctx, in)
	}
	return nil, notFound("NotFoundException")
}

func (f *KMS) GetKeyPolicy(ctx context.Context, in *kms.GetKeyPolicyInput, _ ...func(*kms.Options)) (*kms.GetKeyPolicyOutput, error) {
	f.rec.add("KMS", "GetKeyPolicy", in)
	if f.GetKeyPolicyFn != nil {
		return f.GetKeyPolicyFn(ctx, in)
	}
	return nil, notFound("NotFoundException")
}

func (f *KMS) ListAliases(ctx context.Context, in *kms.ListAliasesInput, _ ...func(*kms.Options)) (*kms.ListAliasesOutput, error) {
	f.rec.add("KMS", "ListAliases", in)
	if f.ListAliasesFn != nil {
		return f.ListAliasesFn(ctx, in)
	}
	return &kms.ListAliasesOutput{}, nil
}

func (f *KMS) ListGrants(ctx context.Context, in *kms.ListGrantsInput, _ ...func(*kms.Options)) (*kms.ListGrantsOutput, error) {
	f.rec.add("KMS", "ListGrants", in)
	if f.ListGrantsFn != nil {
		return f.ListGrantsFn(ctx, in)
	}
	return &kms.ListGrantsOutput{}, nil
}

func (f *KMS) ListKeys(ctx context.Context, in *kms.ListKeysInput, _ ...func(*kms.Options)) (*kms.ListKeysOutput, error) {
	f.rec.add("KMS", "ListKeys", in)
	if f.ListKeysFn != nil {
		return f.ListKeysFn(ctx, in)
	}
	return &kms.ListKeysOutput{}, nil
}

func (f *KMS) ListResourceTags(ctx context.Context, in *kms.ListResourceTagsInput, _ ...func(*kms.Options)) (*kms.ListResourceTagsOutput, error) {
	f.rec.add("KMS", "ListResourceTags", in)
	if f.ListResourceTagsFn != nil {
		return f.ListResourceTagsFn(ctx, in)
	}
	return &kms.ListResourceTagsOutput{}, nil
}

func (f *KMS) PutKeyPolicy(ctx context.Context, in *kms.PutKeyPolicyInput, _ ...func(*kms.Options)) (*kms.PutKeyPolicyOutput, error) {
	f.rec.add("KMS", "PutKeyPolicy", in)
	if f.PutKeyPolicyFn != nil {
		return f.PutKeyPolicyFn(ctx, in)
	}
	return &kms.PutKeyPolicyOutput{}, nil
}

func (f *KMS) ScheduleKeyDeletion(ctx context.Context, in *kms.ScheduleKeyDeletionInput, _ ...func(*kms.Options)) (*kms.ScheduleKeyDeletionOutput, error) {
	f.rec.add("KMS", "ScheduleKeyDeletion", in)
	if f.ScheduleKeyDeletionFn != nil {
		return f.ScheduleKeyDeletionFn(ctx, in)
	}
	return &kms.ScheduleKeyDeletionOutput{}, nil
}

func (f *KMS) TagResource(ctx context.Context, in *kms.TagResourceInput, _ ...func(*kms.Options)) (*kms.TagResourceOutput, error) {
	f.rec.add("KMS", "TagResource", in)
	if f.TagResourceFn != nil {
		return f.TagResourceFn(ctx, in)
	}
	return &kms.TagResourceOutput{}, nil
}

func (f *KMS) UntagResource(ctx context.Context, in *kms.UntagResourceInput, _ ...func(*kms.Options)) (*kms.UntagResourceOutput, error) {
	f.rec.add("KMS", "UntagResource", in)
	if f.UntagResourceFn != nil {
		return f.UntagResourceFn(ctx, in)
	}
	return &kms.UntagResourceOutput{}, nil
}

// S3 is a fake of awsapi.S3: each call is recorded; a method
// answers with its Fn when set, else with an empty output and no error.
type S3 struct {
	rec                               *Recorder
	CreateBucketFn                    func(ctx context.Context, in *s3.CreateBucketInput) (*s3.CreateBucketOutput, error)
	DeleteBucketFn                    func(ctx context.Context, in *s3.DeleteBucketInput) (*s3.DeleteBucketOutput, error)
	DeleteObjectsFn                   func(ctx context.Context, in *s3.DeleteObjectsInput) (*s3.DeleteObjectsOutput, error)
	GetBucketEncryptionFn             func(ctx context.Context, in *s3.GetBucketEncryptionInput) (*s3.GetBucketEncryptionOutput, error)
	GetBucketLifecycleConfigurationFn func(ctx context.Context, in *s3.GetBucketLifecycleConfigurationInput) (*s3.GetBucketLifecycleConfigurationOutput, error)
	GetBucketOwnershipControlsFn      func(ctx context.Context, in *s3.GetBucketOwnershipControlsInput) (*s3.GetBucketOwnershipControlsOutput, error)
	GetBucketTaggingFn                func(ctx context.Context, in *s3.GetBucketTaggingInput) (*s3.GetBucketTaggingOutput, error)
	GetPublicAccessBlockFn            func(ctx context.Context, in *s3.GetPublicAccessBlockInput) (*s3.GetPublicAccessBlockOutput, error)
	HeadBucketFn                      func(ctx context.Context, in *s3.HeadBucketInput) (*s3.HeadBucketOutput, error)
	ListObjectsV2Fn                   func(ctx context.Context, in *s3.ListObjectsV2Input) (*s3.ListObjectsV2Output, error)
	PutBucketEncryptionFn             func(ctx context.Context, in *s3.PutBucketEncryptionInput) (*s3.PutBucketEncryptionOutput, error)
	PutBucketLifecycleConfigurationFn func(ctx context.Context, in *s3.PutBucketLifecycleConfigurationInput) (*s3.PutBucketLifecycleConfigurationOutput, error)
	PutBucketOwnershipControlsFn      func(ctx context.Context, in *s3.PutBucketOwnershipControlsInput) (*s3.PutBucketOwnershipControlsOutput, error)
	PutBucketTaggingFn                func(ctx context.Context, in *s3.PutBucketTaggingInput) (*s3.PutBucketTaggingOutput, error)
	PutPublicAccessBlockFn            func(ctx context.Context, in *s3.PutPublicAccessBlockInput) (*s3.PutPublicAccessBlockOutput, error)
}

var _ awsapi.S3 = (*S3)(nil)

func (f *S3) CreateBucket(ctx context.Context, in *s3.CreateBucketInput, _ ...func(*s3.Options)) (*s3.CreateBucketOutput, error) {
	f.rec.add("S3", "CreateBucket", in)
	if f.CreateBucketFn != nil {
		return f.CreateBucketFn(ctx, in)
	}
	return &s3.CreateBucketOutput{}, nil
}

func (f *S3) DeleteBucket(ctx context.Context, in *s3.DeleteBucketInput, _ ...func(*s3.Options)) (*s3.DeleteBucketOutput, error) {
	f.rec.add("S3", "DeleteBucket", in)
	if f.DeleteBucketFn != nil {
		return f.DeleteBucketFn(ctx, in)
	}
	return &s3.DeleteBucketOutput{}, nil
}

func (f *S3) DeleteObjects(ctx context.Context, in *s3.DeleteObjectsInput, _ ...func(*s3.Options)) (*s3.DeleteObjectsOutput, error) {
	f.rec.add("S3", "DeleteObjects", in)
	if f.DeleteObjectsFn != nil {
		return f.DeleteObjectsFn(ctx, in)
	}
	return &s3.DeleteObjectsOutput{}, nil
}

func (f *S3) GetBucketEncryption(ctx context.Context, in *s3.GetBucketEncryptionInput, _ ...func(*s3.Options)) (*s3.GetBucketEncryptionOutput, error) {
	f.rec.add("S3", "GetBucketEncryption", in)
	if f.GetBucketEncryptionFn != nil {
		return f.GetBucketEncryptionFn(ctx, in)
	}
	return nil, notFound("NotFound")
}

func (f *S3) GetBucketLifecycleConfiguration(ctx context.Context, in *s3.GetBucketLifecycleConfigurationInput, _ ...func(*s3.Options)) (*s3.GetBucketLifecycleConfigurationOutput, error) {
	f.rec.add("S3", "GetBucketLifecycleConfiguration", in)
	if f.GetBucketLifecycleConfigurationFn != nil {
		return f.GetBucketLifecycleConfigurationFn(ctx, in)
	}
	return nil, notFound("NotFound")
}

func (f *S3) GetBucketOwnershipControls(ctx context.Context, in *s3.GetBucketOwnershipControlsInput, _ ...func(*s3.Options)) (*s3.GetBucketOwnershipControlsOutput, error) {
	f.rec.add("S3", "GetBucketOwnershipControls", in)
	if f.GetBucketOwnershipControlsFn != nil {
		return f.GetBucketOwnershipControlsFn(ctx, in)
	}
	return nil, notFound("NotFound")
}

func (f *S3) GetBucketTagging(ctx context.Context, in *s3.GetBucketTaggingInput, _ ...func(*s3.Options)) (*s3.GetBucketTaggingOutput, error) {
	f.rec.add("S3", "GetBucketTagging", in)
	if f.GetBucketTaggingFn != nil {
		return f.GetBucketTaggingFn(ctx, in)
	}
	return nil, notFound("NotFound")
}

func (f *S3) GetPublicAccessBlock(ctx context.Context, in *s3.GetPublicAccessBlockInput, _ ...func(*s3.Options)) (*s3.GetPublicAccessBlockOutput, error) {
	f.rec.add("S3", "GetPublicAccessBlock", in)
	if f.GetPublicAccessBlockFn != nil {
		return f.GetPublicAccessBlockFn(ctx, in)
	}
	return nil, notFound("NotFound")
}

func (f *S3) HeadBucket(ctx context.Context, in *s3.HeadBucketInput, _ ...func(*s3.Options)) (*s3.HeadBucketOutput, error) {
	f.rec.add("S3", "HeadBucket", in)
	if f.HeadBucketFn != nil {
		return f.HeadBucketFn(ctx, in)
	}
	return nil, notFound("NotFound")
}

func (f *S3) ListObjectsV2(ctx context.Context, in *s3.ListObjectsV2Input, _ ...func(*s3.Options)) (*s3.ListObjectsV2Output, error) {
	f.rec.add("S3", "ListObjectsV2", in)
	if f.ListObjectsV2Fn != nil {
		return f.ListObjectsV2Fn(ctx, in)
	}
	return &s3.ListObjectsV2Output{}, nil
}

func (f *S3) PutBucketEncryption(ctx context.Context, in *s3.PutBucketEncryptionInput, _ ...func(*s3.Options)) (*s3.PutBucketEncryptionOutput, error) {
	f.rec.add("S3", "PutBucketEncryption", in)
	if f.PutBucketEncryptionFn != nil {
		return f.PutBucketEncryptionFn(ctx, in)
	}
	return &s3.PutBucketEncryptionOutput{}, nil
}

func (f *S3) PutBucketLifecycleConfiguration(ctx context.Context, in *s3.PutBucketLifecycleConfigurationInput, _ ...func(*s3.Options)) (*s3.PutBucketLifecycleConfigurationOutput, error) {
	f.rec.add("S3", "PutBucketLifecycleConfiguration", in)
	if f.PutBucketLifecycleConfigurationFn != nil {
		return f.PutBucketLifecycleConfigurationFn(ctx, in)
	}
	return &s3.PutBucketLifecycleConfigurationOutput{}, nil
}

func (f *S3) PutBucketOwnershipControls(ctx context.Context, in *s3.PutBucketOwnershipControlsInput, _ ...func(*s3.Options)) (*s3.PutBucketOwnershipControlsOutput, error) {
	f.rec.add("S3", "PutBucketOwnershipControls", in)
	if f.PutBucketOwnershipControlsFn != nil {
		return f.PutBucketOwnershipControlsFn(ctx, in)
	}
	return &s3.PutBucketOwnershipControlsOutput{}, nil
}

func (f *S3) PutBucketTagging(ctx context.Context, in *s3.PutBucketTaggingInput, _ ...func(*s3.Options)) (*s3.PutBucketTaggingOutput, error) {
	f.rec.add("S3", "PutBucketTagging", in)
	if f.PutBucketTaggingFn != nil {
		return f.PutBucketTaggingFn(ctx, in)
	}
	return &s3.PutBucketTaggingOutput{}, nil
}

func (f *S3) PutPublicAccessBlock(ctx context.Context, in *s3.PutPublicAccessBlockInput, _ ...func(*s3.Options)) (*s3.PutPublicAccessBlockOutput, error) {
	f.rec.add("S3", "PutPublicAccessBlock", in)
	if f.PutPublicAccessBlockFn != nil {
		return f.PutPublicAccessBlockFn(ctx, in)
	}
	return &s3.PutPublicAccessBlockOutput{}, nil
}

// STS is a fake of awsapi.STS: each call is recorded; a method
// answers with its Fn when set, else with an empty output and no error.
type STS struct {
	rec                 *Recorder
	GetCallerIdentityFn func(ctx context.Context, in *sts.GetCallerIdentityInput) (*sts.GetCallerIdentityOutput, error)
}

var _ awsapi.STS = (*STS)(nil)

func (f *STS) GetCallerIdentity(ctx context.Context, in *sts.GetCallerIdentityInput, _ ...func(*sts.Options)) (*sts.GetCallerIdentityOutput, error) {
	f.rec.add("STS", "GetCallerIdentity", in)
	if f.GetCallerIdentityFn != nil {
		return f.GetCallerIdentityFn(ctx, in)
	}
	return &sts.GetCallerIdentityOutput{}, nil
}
