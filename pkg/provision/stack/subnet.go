package stack

import (
	"context"
	"fmt"
	"net/netip"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"

	"github.com/provision-dev/provision/pkg/plan"
	"github.com/provision-dev/provision/pkg/provision/awsapi"
	"github.com/provision-dev/provision/pkg/provision/config"
	"github.com/provision-dev/provision/pkg/provision/resource"
)

// subnetKind creates one zone's public or private subnet. A public one
// ("bastion network") maps a public IPv4 address at launch, because the
// manager's bootstrap talks to GitLab before its Elastic IP is associated.
type subnetKind struct {
	env    *Env
	id     plan.ID
	role   string // public | private, and -<n> after the first zone
	key    string // the configuration key of its range
	cidr   string
	zone   int
	public bool
}

type subnet = *ec2types.Subnet

// subnetFix lists what must change on an existing subnet.
type subnetFix struct {
	mapPublicIP   *bool
	assignIPv6    *bool
	associateIPv6 bool
}

func newSubnetStep(env *Env, public bool, z int) plan.Step {
	var cidr string
	if zs := env.zoneSubnets(); z < len(zs) {
		cidr = zs[z].Private
		if public {
			cidr = zs[z].Public
		}
	}
	k := subnetKind{env: env, id: PrivateSubnetStep(z), role: zoneRole("private", z), key: "private_subnet_cidr", cidr: cidr, zone: z}
	if public {
		k = subnetKind{env: env, id: PublicSubnetStep(z), role: zoneRole("public", z), key: "public_subnet_cidr", cidr: cidr, zone: z, public: true}
	}
	if z > 0 || len(env.Cfg.Network.PublicSubnetCIDRs) > 0 {
		k.key += "s"
	}
	return resource.NewStep[subnet, subnetFix](env.shared(), "subnet", k)
}

func (k subnetKind) StepID() plan.ID { return k.id }

// The subnets are made one after the other, so that no two claim the same
// free IPv6 /64 at once: each zone's public, then its private, then the
// next zone's.
func (k subnetKind) Needs() []plan.ID {
	switch {
	case !k.public:
		return []plan.ID{StepVPC, PublicSubnetStep(k.zone)}
	case k.zone > 0:
		return []plan.ID{StepVPC, PrivateSubnetStep(k.zone - 1)}
	}
	return []plan.ID{StepVPC}
}

// Hooks names the optional parts of resource.Step this kind has.
func (k subnetKind) Hooks() resource.Hooks[subnet, subnetFix] {
	return resource.Hooks[subnet, subnetFix]{FindForDelete: k.findForDelete, EC2Tags: k.ec2TagsOf}
}

func (k subnetKind) Describe() plan.Change {
	c := plan.Change{Step: k.id, Kind: "subnet", Name: k.env.name(k.role), Attrs: []plan.Attr{{Key: "cidr", Value: k.cidr}}}
	if zone := k.env.zoneName(k.zone); zone != "" {
		c.Attrs = append(c.Attrs, plan.Attr{Key: "zone", Value: zone})
	}
	if k.env.Cfg.Network.IPv6 {
		c.Attrs = append(c.Attrs, plan.Attr{Key: "ipv6", Value: "/64"})
	}
	if k.public {
		c.Attrs = append(c.Attrs, plan.Attr{Key: "map_public_ip", Value: "true"})
	}
	return c
}

// Find looks by the ownership tags, then by CIDR inside the VPC: a subnet
// with our CIDR that is not ours is a conflict the user must resolve.
func (k subnetKind) Find(ctx context.Context) (resource.Found[subnet], error) {
	f, err := k.findForDelete(ctx)
	vpcID := k.env.IDOf(StepVPC)
	if err != nil || f.Exists || vpcID == "" {
		return f, err
	}
	out, err := k.env.EC2.DescribeSubnets(ctx, &ec2.DescribeSubnetsInput{Filters: []ec2types.Filter{Filter("vpc-id", vpcID), Filter("cidr-block", k.cidr)}})
	if err != nil {
		return f, fmt.Errorf("find %s by CIDR: %w", k.id, err)
	}
	for _, sn := range out.Subnets {
		if aws.ToString(sn.CidrBlock) == k.cidr {
			return f, fmt.Errorf("%s: vpc %s already has subnet %s with CIDR %s, not created by stack %s: choose a free range for network.%s", k.id, vpcID, aws.ToString(sn.SubnetId), k.cidr, k.env.Cfg.Stack, k.key)
		}
	}
	return f, nil
}

func (k subnetKind) findForDelete(ctx context.Context) (resource.Found[subnet], error) {
	subnets, err := describeShared(ctx, k.env, "subnets", k.env.EC2.DescribeSubnets, &ec2.DescribeSubnetsInput{Filters: k.env.stackFilter()},
		func(o *ec2.DescribeSubnetsOutput) []ec2types.Subnet { return o.Subnets })
	if err != nil {
		return resource.Found[subnet]{}, fmt.Errorf("find %s by tags: %w", k.id, err)
	}
	return lookupOwned(k.env, k.id, resource.Pointers(subnets), subnetID, func(sn subnet) bool { return k.env.ownedBy(sn.Tags, k.id) }), nil
}

func subnetID(sn subnet) string { return aws.ToString(sn.SubnetId) }

func (k subnetKind) Record(sn subnet) resource.Recorded {
	return resource.Recorded{ID: subnetID(sn), Attrs: map[string]string{string(AttrCIDR): aws.ToString(sn.CidrBlock), string(AttrZone): aws.ToString(sn.AvailabilityZone), string(AttrIPv6CIDR): subnetIPv6Block(sn)}}
}

func (k subnetKind) Diff(_ context.Context, sn subnet) (subnetFix, []string, error) {
	id := subnetID(sn)
	if got := aws.ToString(sn.CidrBlock); got != k.cidr {
		return subnetFix{}, nil, fmt.Errorf("%s %s has CIDR %s but the configuration says %s: subnets cannot change in place; restore the value or run `provision down` first", k.id, id, got, k.cidr)
	}
	if got, want := aws.ToString(sn.AvailabilityZone), k.env.zoneName(k.zone); want != "" && got != want {
		return subnetFix{}, nil, fmt.Errorf("%s %s is in zone %s but the configuration asks for %s: subnets cannot move; restore network.availability_zone or run `provision down` first", k.id, id, got, want)
	}
	var f subnetFix
	var reasons []string
	if want := k.public; aws.ToBool(sn.MapPublicIpOnLaunch) != want {
		f.mapPublicIP = aws.Bool(want)
		reasons = append(reasons, fmt.Sprintf("set MapPublicIpOnLaunch=%t", want))
	}
	if want := k.env.Cfg.Network.IPv6; aws.ToBool(sn.AssignIpv6AddressOnCreation) != want {
		f.assignIPv6 = aws.Bool(want)
		reasons = append(reasons, fmt.Sprintf("set AssignIpv6AddressOnCreation=%t", want))
	}
	if k.env.Cfg.Network.IPv6 && subnetIPv6Block(sn) == "" {
		f.associateIPv6 = true
		reasons = append(reasons, "associate an IPv6 /64")
	}
	return f, reasons, nil
}

// Create makes the subnet with its /64; the two attributes are set after.
func (k subnetKind) Create(ctx context.Context, _ string, _ resource.Found[subnet]) (subnet, subnetFix, error) {
	in := &ec2.CreateSubnetInput{
		VpcId:             aws.String(k.env.IDOf(StepVPC)),
		CidrBlock:         aws.String(k.cidr),
		AvailabilityZone:  aws.String(k.env.zoneName(k.zone)),
		TagSpecifications: k.env.tagSpec(ec2types.ResourceTypeSubnet, k.id, k.role),
	}
	if k.env.Cfg.Network.IPv6 {
		block, err := k.freeIPv6Block(ctx)
		if err != nil {
			return nil, subnetFix{}, err
		}
		in.Ipv6CidrBlock = &block
	}
	out, err := k.env.EC2.CreateSubnet(ctx, in)
	if err != nil {
		return nil, subnetFix{}, awsapi.RetryableCreate(fmt.Errorf("create %s %s: %w", k.id, k.cidr, err))
	}
	f := subnetFix{assignIPv6: aws.Bool(k.env.Cfg.Network.IPv6)}
	if k.public {
		f.mapPublicIP = aws.Bool(true)
	}
	return out.Subnet, f, nil
}

func (k subnetKind) Update(ctx context.Context, sn subnet, f subnetFix) error {
	id := subnetID(sn)
	if f.associateIPv6 {
		block, err := k.freeIPv6Block(ctx)
		if err != nil {
			return err
		}
		if _, err := k.env.EC2.AssociateSubnetCidrBlock(ctx, &ec2.AssociateSubnetCidrBlockInput{SubnetId: &id, Ipv6CidrBlock: &block}); err != nil {
			return fmt.Errorf("associate %s with %s: %w", block, id, err)
		}
		// resource.Recorded at once: the ACL and group rules that name this block
		// are planned later in the same run.
		r := k.Record(sn)
		r.Attrs[string(AttrIPv6CIDR)] = block
		if err := k.env.records().Created(k.id, "subnet", id, r.Attrs); err != nil {
			return err
		}
	}
	// ModifySubnetAttribute takes one attribute per call.
	if f.mapPublicIP != nil {
		if _, err := k.env.EC2.ModifySubnetAttribute(ctx, &ec2.ModifySubnetAttributeInput{SubnetId: &id, MapPublicIpOnLaunch: &ec2types.AttributeBooleanValue{Value: f.mapPublicIP}}); err != nil {
			return awsapi.RetryableCreate(fmt.Errorf("set MapPublicIpOnLaunch on %s: %w", id, err))
		}
	}
	if f.assignIPv6 != nil {
		if _, err := k.env.EC2.ModifySubnetAttribute(ctx, &ec2.ModifySubnetAttributeInput{SubnetId: &id, AssignIpv6AddressOnCreation: &ec2types.AttributeBooleanValue{Value: f.assignIPv6}}); err != nil {
			return awsapi.RetryableCreate(fmt.Errorf("set AssignIpv6AddressOnCreation on %s: %w", id, err))
		}
	}
	return nil
}

func (k subnetKind) Remove(ctx context.Context, sn subnet) error {
	id := subnetID(sn)
	_, err := k.env.EC2.DeleteSubnet(ctx, &ec2.DeleteSubnetInput{SubnetId: &id})
	if err != nil && !awsapi.IsNotFound(err) {
		return awsapi.RetryableDelete(busyError(ctx, k.env, fmt.Errorf("delete subnet %s: %w", id, err), "subnet-id", id))
	}
	return nil
}

// freeIPv6Block picks the lowest /64 of the VPC's /56 that no subnet uses.
func (k subnetKind) freeIPv6Block(ctx context.Context) (string, error) {
	vpcID := k.env.IDOf(StepVPC)
	vpcBlock, err := netip.ParsePrefix(k.env.AttrOf(StepVPC, AttrIPv6CIDR))
	if err != nil {
		return "", plan.TryAgainf("vpc %s has no IPv6 block yet", vpcID)
	}
	out, err := k.env.EC2.DescribeSubnets(ctx, &ec2.DescribeSubnetsInput{Filters: []ec2types.Filter{Filter("vpc-id", vpcID)}})
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
		b, err := config.NthSubnet64(vpcBlock, n)
		if err != nil {
			return "", err
		}
		if !used[b.String()] {
			return b.String(), nil
		}
	}
	return "", fmt.Errorf("vpc %s: every /64 of %s is in use", vpcID, vpcBlock)
}

// subnetIPv6Block returns the subnet's IPv6 block; the association state is
// not compared with "associated" because the emulator garbles it.
func subnetIPv6Block(sn subnet) string {
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

// ec2TagsOf: the configuration's tags follow `tags:` (resource.Step, through Hooks.EC2Tags).
func (k subnetKind) ec2TagsOf(cur subnet) []ec2types.Tag { return cur.Tags }
