package provision

import (
	"context"
	"fmt"
	"net/netip"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"

	"github.com/provision-dev/provision/pkg/plan"
)

const stepVPC plan.ID = "vpc"

// vpcStep creates the VPC, or, with network.vpc_id, only looks up the
// existing one (which it never changes or deletes).
type vpcStep struct{ env *Env }

func newVPCStep(env *Env) *vpcStep { return &vpcStep{env: env} }

func (s *vpcStep) ID() plan.ID          { return stepVPC }
func (s *vpcStep) DependsOn() []plan.ID { return nil }
func (s *vpcStep) existing() bool       { return s.env.Cfg.Network.VpcID != "" }

func (s *vpcStep) change() plan.Change {
	c := plan.Change{Step: stepVPC, Kind: "vpc", Name: s.env.name("vpc")}
	if s.existing() {
		c.Name = "existing VPC"
		c.ID = s.env.Cfg.Network.VpcID
		return c
	}
	c.Attrs = []plan.Attr{{Key: "cidr", Value: s.env.Cfg.Network.CIDR}}
	if s.env.Cfg.Network.IPv6 {
		c.Attrs = append(c.Attrs, plan.Attr{Key: "ipv6", Value: "amazon-provided /56"})
	}
	return c
}

// vpcFound is what Plan saw, handed to Apply.
type vpcFound struct {
	vpc           *ec2types.Vpc
	dnsSupport    bool
	dnsHostnames  bool
	needIPv6Block bool
	duplicates    []string // more VPCs with this step's tags
}

func (s *vpcStep) Plan(ctx context.Context) (plan.Change, error) {
	c := s.change()
	if s.existing() {
		return c, s.lookupExisting(ctx)
	}
	vpc, dups, err := s.find(ctx)
	if err != nil {
		return c, err
	}
	if vpc == nil {
		c.Action = plan.Create
		return c, s.env.markGone(stepVPC)
	}
	c.ID = aws.ToString(vpc.VpcId)
	if got := aws.ToString(vpc.CidrBlock); got != s.env.Cfg.Network.CIDR {
		return c, fmt.Errorf("vpc %s has CIDR %s but network.cidr says %s: a VPC's primary block cannot change; run `provision down` first or restore network.cidr", c.ID, got, s.env.Cfg.Network.CIDR)
	}
	f := &vpcFound{vpc: vpc, duplicates: dups}
	if f.dnsSupport, err = s.attribute(ctx, c.ID, ec2types.VpcAttributeNameEnableDnsSupport); err != nil {
		return c, err
	}
	if f.dnsHostnames, err = s.attribute(ctx, c.ID, ec2types.VpcAttributeNameEnableDnsHostnames); err != nil {
		return c, err
	}
	ipv6 := vpcIPv6Block(vpc)
	f.needIPv6Block = s.env.Cfg.Network.IPv6 && ipv6 == ""
	if err := s.env.created(stepVPC, "vpc", c.ID, map[string]string{"cidr": aws.ToString(vpc.CidrBlock), "ipv6_cidr": ipv6}); err != nil {
		return c, err
	}
	if !f.dnsSupport {
		c.Reasons = append(c.Reasons, "enable DNS support")
	}
	if !f.dnsHostnames {
		c.Reasons = append(c.Reasons, "enable DNS hostnames")
	}
	if f.needIPv6Block {
		c.Reasons = append(c.Reasons, "associate an Amazon-provided IPv6 /56")
	}
	c.Reasons = append(c.Reasons, duplicateReasons(dups)...)
	if len(c.Reasons) > 0 {
		c.Action = plan.Update
	}
	c.Detail = f
	return c, nil
}

func (s *vpcStep) Apply(ctx context.Context, c plan.Change) error {
	f, _ := c.Detail.(*vpcFound)
	if f == nil {
		vpc, err := s.create(ctx)
		if err != nil {
			return err
		}
		// A new VPC has DNS support on and hostnames off.
		f = &vpcFound{vpc: vpc, dnsSupport: true}
	}
	id := aws.ToString(f.vpc.VpcId)
	for _, dup := range f.duplicates {
		if _, err := s.env.EC2.DeleteVpc(ctx, &ec2.DeleteVpcInput{VpcId: aws.String(dup)}); err != nil && !isNotFound(err) {
			return retryableDelete(fmt.Errorf("delete duplicate vpc %s: %w", dup, err))
		}
	}
	if !f.dnsSupport {
		if _, err := s.env.EC2.ModifyVpcAttribute(ctx, &ec2.ModifyVpcAttributeInput{VpcId: &id, EnableDnsSupport: &ec2types.AttributeBooleanValue{Value: aws.Bool(true)}}); err != nil {
			return fmt.Errorf("enable DNS support on %s: %w", id, err)
		}
	}
	if !f.dnsHostnames {
		if _, err := s.env.EC2.ModifyVpcAttribute(ctx, &ec2.ModifyVpcAttributeInput{VpcId: &id, EnableDnsHostnames: &ec2types.AttributeBooleanValue{Value: aws.Bool(true)}}); err != nil {
			return fmt.Errorf("enable DNS hostnames on %s: %w", id, err)
		}
	}
	if f.needIPv6Block {
		if _, err := s.env.EC2.AssociateVpcCidrBlock(ctx, &ec2.AssociateVpcCidrBlockInput{VpcId: &id, AmazonProvidedIpv6CidrBlock: aws.Bool(true)}); err != nil {
			return fmt.Errorf("associate an IPv6 block with %s: %w", id, err)
		}
	}
	return s.waitForIPv6(ctx, id)
}

func (s *vpcStep) PlanDelete(ctx context.Context) (plan.Change, error) {
	c := s.change()
	if s.existing() {
		// Never deleted: it was not ours. Forget it so the state can go.
		return c, s.env.forget(stepVPC)
	}
	vpc, dups, err := s.find(ctx)
	if err != nil || vpc == nil {
		if err == nil {
			err = s.env.forget(stepVPC)
		}
		return c, err
	}
	c.ID = aws.ToString(vpc.VpcId)
	c.Action = plan.Delete
	c.Detail = dups
	return c, nil
}

func (s *vpcStep) Delete(ctx context.Context, c plan.Change) error {
	dups, _ := c.Detail.([]string)
	for _, id := range append(dups, c.ID) {
		_, err := s.env.EC2.DeleteVpc(ctx, &ec2.DeleteVpcInput{VpcId: aws.String(id)})
		if err != nil && !isNotFound(err) {
			return retryableDelete(fmt.Errorf("delete vpc %s: %w", id, err))
		}
	}
	return s.env.forget(stepVPC)
}

// find looks by the ownership tags (and so also finds a VPC that a run
// created but could not record); the recorded one is kept, any other is a
// duplicate to delete.
func (s *vpcStep) find(ctx context.Context) (*ec2types.Vpc, []string, error) {
	out, err := s.env.EC2.DescribeVpcs(ctx, &ec2.DescribeVpcsInput{Filters: s.env.ownerFilters(stepVPC)})
	if err != nil {
		return nil, nil, fmt.Errorf("find vpc by tags: %w", err)
	}
	var owned []*ec2types.Vpc
	for i := range out.Vpcs {
		if s.env.ownedBy(out.Vpcs[i].Tags, stepVPC) {
			owned = append(owned, &out.Vpcs[i])
		}
	}
	keep, dups := keepOne(owned, func(v *ec2types.Vpc) string { return aws.ToString(v.VpcId) }, s.env.Ledger.Get(string(stepVPC)).RecordedID())
	return keep, dups, nil
}

func (s *vpcStep) create(ctx context.Context) (*ec2types.Vpc, error) {
	if _, err := s.env.beginCreate(stepVPC, "vpc"); err != nil {
		return nil, err
	}
	out, err := s.env.EC2.CreateVpc(ctx, &ec2.CreateVpcInput{
		CidrBlock:                   aws.String(s.env.Cfg.Network.CIDR),
		AmazonProvidedIpv6CidrBlock: aws.Bool(s.env.Cfg.Network.IPv6),
		TagSpecifications:           s.env.tagSpec(ec2types.ResourceTypeVpc, stepVPC, "vpc"),
	})
	if err != nil {
		return nil, fmt.Errorf("create vpc %s: %w", s.env.Cfg.Network.CIDR, err)
	}
	id := aws.ToString(out.Vpc.VpcId)
	return out.Vpc, s.env.created(stepVPC, "vpc", id, map[string]string{"cidr": aws.ToString(out.Vpc.CidrBlock)})
}

func (s *vpcStep) attribute(ctx context.Context, id string, name ec2types.VpcAttributeName) (bool, error) {
	out, err := s.env.EC2.DescribeVpcAttribute(ctx, &ec2.DescribeVpcAttributeInput{VpcId: &id, Attribute: name})
	if err != nil {
		return false, fmt.Errorf("describe %s of %s: %w", name, id, err)
	}
	switch name {
	case ec2types.VpcAttributeNameEnableDnsSupport:
		return out.EnableDnsSupport != nil && aws.ToBool(out.EnableDnsSupport.Value), nil
	default:
		return out.EnableDnsHostnames != nil && aws.ToBool(out.EnableDnsHostnames.Value), nil
	}
}

// waitForIPv6 records the VPC's IPv6 block once Amazon has assigned it;
// until then the subnets cannot be given their /64s.
func (s *vpcStep) waitForIPv6(ctx context.Context, id string) error {
	out, err := s.env.EC2.DescribeVpcs(ctx, &ec2.DescribeVpcsInput{VpcIds: []string{id}})
	if err != nil {
		return retryableCreate(fmt.Errorf("describe vpc %s: %w", id, err))
	}
	if len(out.Vpcs) != 1 {
		return plan.TryAgainf("vpc %s is not visible yet", id)
	}
	ipv6 := vpcIPv6Block(&out.Vpcs[0])
	if s.env.Cfg.Network.IPv6 && ipv6 == "" {
		return plan.TryAgainf("vpc %s: waiting for its IPv6 block", id)
	}
	return s.env.created(stepVPC, "vpc", id, map[string]string{"cidr": aws.ToString(out.Vpcs[0].CidrBlock), "ipv6_cidr": ipv6})
}

// lookupExisting checks the user's VPC and records it as external.
func (s *vpcStep) lookupExisting(ctx context.Context) error {
	id := s.env.Cfg.Network.VpcID
	out, err := s.env.EC2.DescribeVpcs(ctx, &ec2.DescribeVpcsInput{VpcIds: []string{id}})
	if isNotFound(err) || (err == nil && len(out.Vpcs) == 0) {
		return fmt.Errorf("network.vpc_id %s does not exist in %s: check the id and the region, or leave vpc_id empty to create a VPC", id, s.env.Region)
	}
	if err != nil {
		return fmt.Errorf("describe vpc %s: %w", id, err)
	}
	vpc := &out.Vpcs[0]
	if err := checkExistingVPC(vpc, &s.env.Cfg.Network); err != nil {
		return err
	}
	ipv6 := vpcIPv6Block(vpc)
	return s.env.external(stepVPC, "vpc", id, map[string]string{"cidr": aws.ToString(vpc.CidrBlock), "ipv6_cidr": ipv6})
}

// vpcIPv6Block returns the VPC's IPv6 block, ignoring associations being
// removed. The association state is not compared with "associated": the
// emulator garbles it.
func vpcIPv6Block(vpc *ec2types.Vpc) string {
	for _, a := range vpc.Ipv6CidrBlockAssociationSet {
		if a.Ipv6CidrBlockState != nil {
			switch a.Ipv6CidrBlockState.State {
			case ec2types.VpcCidrBlockStateCodeDisassociating, ec2types.VpcCidrBlockStateCodeDisassociated, ec2types.VpcCidrBlockStateCodeFailed, ec2types.VpcCidrBlockStateCodeFailing:
				continue
			}
		}
		if b := aws.ToString(a.Ipv6CidrBlock); b != "" {
			return b
		}
	}
	return ""
}

// checkExistingVPC: the subnets must fit in the user's VPC, and IPv6 needs
// the VPC to have an IPv6 block.
func checkExistingVPC(vpc *ec2types.Vpc, n *NetworkConfig) error {
	id := aws.ToString(vpc.VpcId)
	if n.IPv6 && vpcIPv6Block(vpc) == "" {
		return fmt.Errorf("vpc %s has no IPv6 block but network.ipv6 is true: associate one (aws ec2 associate-vpc-cidr-block --amazon-provided-ipv6-cidr-block --vpc-id %s) or set network.ipv6: false", id, id)
	}
	var blocks []netip.Prefix
	for _, a := range vpc.CidrBlockAssociationSet {
		if p, err := netip.ParsePrefix(aws.ToString(a.CidrBlock)); err == nil {
			blocks = append(blocks, p)
		}
	}
	for _, sn := range []struct{ key, cidr string }{{"public_subnet_cidr", n.PublicSubnetCIDR}, {"private_subnet_cidr", n.PrivateSubnetCIDR}} {
		p := netip.MustParsePrefix(sn.cidr)
		inside := false
		for _, b := range blocks {
			inside = inside || contains(b, p)
		}
		if !inside {
			return fmt.Errorf("network.%s %s is not inside vpc %s (blocks %v): choose a free range of that VPC", sn.key, sn.cidr, id, blocks)
		}
	}
	return nil
}
