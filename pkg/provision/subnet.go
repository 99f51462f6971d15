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


// subnetStep creates one of the two subnets. The public one ("bastion
// network") maps a public IPv4 address at launch, because the manager's
// bootstrap talks to GitLab before its Elastic IP is associated.
type subnetStep struct {
	env    *Env
	id     plan.ID
	role   string // public | private
	cidr   string
	public bool
}

func newSubnetStep(env *Env, public bool) *subnetStep {
	if public {
		return &subnetStep{env: env, id: stepPublicSubnet, role: "public", cidr: env.Cfg.Network.PublicSubnetCIDR, public: true}
	}
	return &subnetStep{env: env, id: stepPrivateSubnet, role: "private", cidr: env.Cfg.Network.PrivateSubnetCIDR}
}

func (s *subnetStep) ID() plan.ID { return s.id }

// The private subnet waits for the public one so that both do not claim
// the same free IPv6 /64 at once.
func (s *subnetStep) DependsOn() []plan.ID {
	if s.public {
		return []plan.ID{stepVPC}
	}
	return []plan.ID{stepVPC, stepPublicSubnet}
}

func (s *subnetStep) change() plan.Change {
	c := plan.Change{Step: s.id, Kind: "subnet", Name: s.env.name(s.role), Attrs: []plan.Attr{{Key: "cidr", Value: s.cidr}}}
	if s.env.Zone != "" {
		c.Attrs = append(c.Attrs, plan.Attr{Key: "zone", Value: s.env.Zone})
	}
	if s.env.Cfg.Network.IPv6 {
		c.Attrs = append(c.Attrs, plan.Attr{Key: "ipv6", Value: "/64"})
	}
	if s.public {
		c.Attrs = append(c.Attrs, plan.Attr{Key: "map_public_ip", Value: "true"})
	}
	return c
}

// subnetFixes lists what Apply must change on an existing subnet.
type subnetFixes struct {
	mapPublicIP   *bool
	assignIPv6    *bool
	associateIPv6 bool
}

func (s *subnetStep) Plan(ctx context.Context) (plan.Change, error) {
	c := s.change()
	sn, err := s.find(ctx, true)
	if err != nil {
		return c, err
	}
	if sn == nil {
		c.Action = plan.Create
		return c, s.env.markGone(s.id)
	}
	c.ID = aws.ToString(sn.SubnetId)
	if got := aws.ToString(sn.CidrBlock); got != s.cidr {
		return c, fmt.Errorf("%s %s has CIDR %s but the configuration says %s: subnets cannot change in place; restore the value or run `provision down` first", s.id, c.ID, got, s.cidr)
	}
	if got := aws.ToString(sn.AvailabilityZone); s.env.Zone != "" && got != s.env.Zone {
		return c, fmt.Errorf("%s %s is in zone %s but the configuration asks for %s: subnets cannot move; restore network.availability_zone or run `provision down` first", s.id, c.ID, got, s.env.Zone)
	}
	ipv6 := subnetIPv6Block(sn)
	if err := s.env.created(s.id, "subnet", c.ID, map[string]string{"cidr": s.cidr, "zone": aws.ToString(sn.AvailabilityZone), "ipv6_cidr": ipv6}); err != nil {
		return c, err
	}
	var f subnetFixes
	if want := s.public; aws.ToBool(sn.MapPublicIpOnLaunch) != want {
		f.mapPublicIP = aws.Bool(want)
		c.Reasons = append(c.Reasons, fmt.Sprintf("set MapPublicIpOnLaunch=%t", want))
	}
	if want := s.env.Cfg.Network.IPv6; aws.ToBool(sn.AssignIpv6AddressOnCreation) != want {
		f.assignIPv6 = aws.Bool(want)
		c.Reasons = append(c.Reasons, fmt.Sprintf("set AssignIpv6AddressOnCreation=%t", want))
	}
	if s.env.Cfg.Network.IPv6 && ipv6 == "" {
		f.associateIPv6 = true
		c.Reasons = append(c.Reasons, "associate an IPv6 /64")
	}
	if len(c.Reasons) > 0 {
		c.Action = plan.Update
		c.Detail = &f
	}
	return c, nil
}

func (s *subnetStep) Apply(ctx context.Context, c plan.Change) error {
	id := c.ID
	f, _ := c.Detail.(*subnetFixes)
	if c.Action == plan.Create {
		var err error
		if id, err = s.create(ctx); err != nil {
			return err
		}
		f = &subnetFixes{assignIPv6: aws.Bool(s.env.Cfg.Network.IPv6)}
		if s.public {
			f.mapPublicIP = aws.Bool(true)
		}
	}
	if f.associateIPv6 {
		block, err := s.freeIPv6Block(ctx)
		if err != nil {
			return err
		}
		if _, err := s.env.EC2.AssociateSubnetCidrBlock(ctx, &ec2.AssociateSubnetCidrBlockInput{SubnetId: &id, Ipv6CidrBlock: &block}); err != nil {
			return fmt.Errorf("associate %s with %s: %w", block, id, err)
		}
	}
	// ModifySubnetAttribute takes one attribute per call.
	if f.mapPublicIP != nil {
		if _, err := s.env.EC2.ModifySubnetAttribute(ctx, &ec2.ModifySubnetAttributeInput{SubnetId: &id, MapPublicIpOnLaunch: &ec2types.AttributeBooleanValue{Value: f.mapPublicIP}}); err != nil {
			return retryableCreate(fmt.Errorf("set MapPublicIpOnLaunch on %s: %w", id, err))
		}
	}
	if f.assignIPv6 != nil {
		if _, err := s.env.EC2.ModifySubnetAttribute(ctx, &ec2.ModifySubnetAttributeInput{SubnetId: &id, AssignIpv6AddressOnCreation: &ec2types.AttributeBooleanValue{Value: f.assignIPv6}}); err != nil {
			return retryableCreate(fmt.Errorf("set AssignIpv6AddressOnCreation on %s: %w", id, err))
		}
	}
	return nil
}

func (s *subnetStep) PlanDelete(ctx context.Context) (plan.Change, error) {
	c := s.change()
	sn, err := s.find(ctx, false)
	if err != nil || sn == nil {
		if err == nil {
			err = s.env.forget(s.id)
		}
		return c, err
	}
	c.ID = aws.ToString(sn.SubnetId)
	c.Action = plan.Delete
	return c, nil
}

func (s *subnetStep) Delete(ctx context.Context, c plan.Change) error {
	_, err := s.env.EC2.DeleteSubnet(ctx, &ec2.DeleteSubnetInput{SubnetId: &c.ID})
	if err != nil && !isNotFound(err) {
		return retryableDelete(busyError(ctx, s.env, fmt.Errorf("delete subnet %s: %w", c.ID, err), "subnet-id", c.ID))
	}
	return s.env.forget(s.id)
}

// find looks by id, then by tags, then by CIDR inside the VPC: a subnet with
// our CIDR that is not ours is a conflict the user must resolve.
func (s *subnetStep) find(ctx context.Context, byCIDR bool) (*ec2types.Subnet, error) {
	if r := s.env.Ledger.Get(string(s.id)); r != nil && r.ID != "" {
		out, err := s.env.EC2.DescribeSubnets(ctx, &ec2.DescribeSubnetsInput{SubnetIds: []string{r.ID}})
		if err != nil && !isNotFound(err) {
			return nil, fmt.Errorf("describe subnet %s: %w", r.ID, err)
		}
		if err == nil && len(out.Subnets) == 1 {
			return &out.Subnets[0], nil
		}
	}
	out, err := s.env.EC2.DescribeSubnets(ctx, &ec2.DescribeSubnetsInput{Filters: s.env.ownerFilters(s.id)})
	if err != nil {
		return nil, fmt.Errorf("find %s by tags: %w", s.id, err)
	}
	for i := range out.Subnets {
		if s.env.ownedBy(out.Subnets[i].Tags, s.id) {
			return &out.Subnets[i], nil
		}
	}
	vpcID := s.env.idOf(stepVPC)
	if vpcID == "" || !byCIDR {
		return nil, nil
	}
	out, err = s.env.EC2.DescribeSubnets(ctx, &ec2.DescribeSubnetsInput{Filters: []ec2types.Filter{filter("vpc-id", vpcID), filter("cidr-block", s.cidr)}})
	if err != nil {
		return nil, fmt.Errorf("find %s by CIDR: %w", s.id, err)
	}
	for _, sn := range out.Subnets {
		if aws.ToString(sn.CidrBlock) == s.cidr {
			return nil, fmt.Errorf("%s: vpc %s already has subnet %s with CIDR %s, not created by stack %s: choose a free range for network.%s_subnet_cidr", s.id, vpcID, aws.ToString(sn.SubnetId), s.cidr, s.env.Cfg.Stack, s.role)
		}
	}
	return nil, nil
}

func (s *subnetStep) create(ctx context.Context) (string, error) {
	in := &ec2.CreateSubnetInput{
		VpcId:             aws.String(s.env.idOf(stepVPC)),
		CidrBlock:         aws.String(s.cidr),
		AvailabilityZone:  aws.String(s.env.Zone),
		TagSpecifications: s.env.tagSpec(ec2types.ResourceTypeSubnet, s.id, s.role),
	}
	if s.env.Cfg.Network.IPv6 {
		block, err := s.freeIPv6Block(ctx)
		if err != nil {
			return "", err
		}
		in.Ipv6CidrBlock = &block
	}
	if _, err := s.env.beginCreate(s.id, "subnet"); err != nil {
		return "", err
	}
	out, err := s.env.EC2.CreateSubnet(ctx, in)
	if err != nil {
		return "", retryableCreate(fmt.Errorf("create %s %s: %w", s.id, s.cidr, err))
	}
	id := aws.ToString(out.Subnet.SubnetId)
	return id, s.env.created(s.id, "subnet", id, map[string]string{"cidr": s.cidr, "zone": s.env.Zone, "ipv6_cidr": aws.ToString(in.Ipv6CidrBlock)})
}

// freeIPv6Block picks the lowest /64 of the VPC's /56 that no subnet uses.
func (s *subnetStep) freeIPv6Block(ctx context.Context) (string, error) {
	vpcID := s.env.idOf(stepVPC)
	vpcBlock, err := netip.ParsePrefix(s.env.attrOf(stepVPC, "ipv6_cidr"))
	if err != nil {
		return "", plan.TryAgainf("vpc %s has no IPv6 block yet", vpcID)
	}
	out, err := s.env.EC2.DescribeSubnets(ctx, &ec2.DescribeSubnetsInput{Filters: []ec2types.Filter{filter("vpc-id", vpcID)}})
	if err != nil {
		return "", fmt.Errorf("list subnets of %s: %w", vpcID, err)
	}
	used := map[string]bool{}
	for i := range out.Subnets {
		if b := subnetIPv6Block(&out.Subnets[i]); b != "" {
			used[b] = true
		}
	}
	for n := 0; n < 256; n++ {
		b, err := nthSubnet64(vpcBlock, n)
		if err != nil {
			return "", err
		}
		if !used[b.String()] {
			return b.String(), nil
		}
	}
	return "", fmt.Errorf("vpc %s: every /64 of %s is in use", vpcID, vpcBlock)
}

// nthSubnet64 returns the n-th /64 inside a /56.
func nthSubnet64(block netip.Prefix, n int) (netip.Prefix, error) {
	if !block.Addr().Is6() || block.Bits() != 56 || n < 0 || n > 255 {
		return netip.Prefix{}, fmt.Errorf("cannot take /64 number %d of %s: need an IPv6 /56", n, block)
	}
	a := block.Masked().Addr().As16()
	a[7] = byte(n)
	return netip.PrefixFrom(netip.AddrFrom16(a), 64), nil
}

// subnetIPv6Block returns the subnet's IPv6 block; the association state is
// not compared with "associated" because the emulator garbles it.
func subnetIPv6Block(sn *ec2types.Subnet) string {
	for _, a := range sn.Ipv6CidrBlockAssociationSet {
		if a.Ipv6CidrBlockState != nil {
			switch a.Ipv6CidrBlockState.State {
			case ec2types.SubnetCidrBlockStateCodeDisassociating, ec2types.SubnetCidrBlockStateCodeDisassociated, ec2types.SubnetCidrBlockStateCodeFailed, ec2types.SubnetCidrBlockStateCodeFailing:
				continue
			}
		}
		if b := aws.ToString(a.Ipv6CidrBlock); b != "" {
			return b
		}
	}
	return ""
}
