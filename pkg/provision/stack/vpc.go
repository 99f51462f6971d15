package stack

import (
	"context"
	"fmt"
	"net/netip"
	"slices"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"

	"github.com/provision-dev/provision/pkg/plan"
	"github.com/provision-dev/provision/pkg/provision/awsapi"
	"github.com/provision-dev/provision/pkg/provision/config"
	"github.com/provision-dev/provision/pkg/provision/resource"
)

// vpcKind creates the VPC, or, with network.vpc_id, only looks up the
// existing one (which it never changes or deletes).
type vpcKind struct{ env *Env }

type vpc = *ec2types.Vpc

// vpcFix is what an existing VPC lacks.
type vpcFix struct {
	dnsSupport, dnsHostnames, ipv6Block bool
}

func newVPCStep(env *Env) plan.Step {
	return resource.NewStep[vpc, vpcFix](env.shared(), "vpc", vpcKind{env})
}

func (k vpcKind) StepID() plan.ID  { return StepVPC }
func (k vpcKind) Needs() []plan.ID { return nil }
func (k vpcKind) existing() bool   { return k.env.Cfg.Network.VpcID != "" }

func (k vpcKind) Describe() plan.Change {
	c := plan.Change{Step: StepVPC, Kind: "vpc", Name: k.env.name("vpc")}
	if k.existing() {
		c.ID = k.env.Cfg.Network.VpcID
		return c
	}
	c.Attrs = []plan.Attr{{Key: "cidr", Value: k.env.Cfg.Network.CIDR}}
	if k.env.Cfg.Network.IPv6 {
		c.Attrs = append(c.Attrs, plan.Attr{Key: "ipv6", Value: "amazon-provided /56"})
	}
	return c
}

// Hooks names the optional parts of resource.Step this kind has.
func (k vpcKind) Hooks() resource.Hooks[vpc, vpcFix] {
	return resource.Hooks[vpc, vpcFix]{FindForDelete: k.findForDelete, EC2Tags: k.ec2TagsOf}
}

// Find looks by the ownership tags (and so also finds a VPC that a run
// created but could not record); with network.vpc_id it checks the user's
// VPC instead.
func (k vpcKind) Find(ctx context.Context) (resource.Found[vpc], error) {
	if k.existing() {
		v, err := k.lookupExisting(ctx)
		return resource.Found[vpc]{Cur: v, Exists: true, External: true}, err
	}
	out, err := k.env.EC2.DescribeVpcs(ctx, &ec2.DescribeVpcsInput{Filters: k.env.ownerFilters(StepVPC)})
	if err != nil {
		return resource.Found[vpc]{}, fmt.Errorf("find vpc by tags: %w", err)
	}
	return lookupOwned(k.env, StepVPC, resource.Pointers(out.Vpcs), vpcID, func(v vpc) bool { return k.env.ownedBy(v.Tags, StepVPC) }), nil
}

// findForDelete: the user's VPC is never deleted.
func (k vpcKind) findForDelete(ctx context.Context) (resource.Found[vpc], error) {
	if k.existing() {
		return resource.Found[vpc]{}, nil
	}
	return k.Find(ctx)
}

func vpcID(v vpc) string { return aws.ToString(v.VpcId) }

// Record keeps, besides the primary blocks the subnets are cut from, every
// block of the VPC: the private ACL denies each (network_acl.go), and a
// block someone associates or removes later shows as the ACL's drift.
func (k vpcKind) Record(v vpc) resource.Recorded {
	b := vpcAddressBlocks(v)
	return resource.Recorded{ID: vpcID(v), Attrs: map[string]string{
		string(AttrCIDR): aws.ToString(v.CidrBlock), string(AttrIPv6CIDR): vpcIPv6Block(v),
		string(AttrCIDRBlocks): strings.Join(b.ipv4, ","), string(AttrIPv6CIDRBlocks): strings.Join(b.ipv6, ","),
	}}
}

func (k vpcKind) Diff(ctx context.Context, v vpc) (vpcFix, []string, error) {
	id := vpcID(v)
	if got := aws.ToString(v.CidrBlock); got != k.env.Cfg.Network.CIDR {
		return vpcFix{}, nil, fmt.Errorf("vpc %s has CIDR %s but network.cidr says %s: a VPC's primary block cannot change; run `provision down` first or restore network.cidr", id, got, k.env.Cfg.Network.CIDR)
	}
	support, err := k.attribute(ctx, id, ec2types.VpcAttributeNameEnableDnsSupport)
	if err != nil {
		return vpcFix{}, nil, err
	}
	hostnames, err := k.attribute(ctx, id, ec2types.VpcAttributeNameEnableDnsHostnames)
	if err != nil {
		return vpcFix{}, nil, err
	}
	f := vpcFix{dnsSupport: !support, dnsHostnames: !hostnames, ipv6Block: k.env.Cfg.Network.IPv6 && vpcIPv6Block(v) == ""}
	var reasons []string
	if f.dnsSupport {
		reasons = append(reasons, "enable DNS support")
	}
	if f.dnsHostnames {
		reasons = append(reasons, "enable DNS hostnames")
	}
	if f.ipv6Block {
		reasons = append(reasons, "associate an Amazon-provided IPv6 /56")
	}
	return f, reasons, nil
}

// Create makes the VPC; a new VPC has DNS support on and hostnames off.
func (k vpcKind) Create(ctx context.Context, _ string, _ resource.Found[vpc]) (vpc, vpcFix, error) {
	out, err := k.env.EC2.CreateVpc(ctx, &ec2.CreateVpcInput{
		CidrBlock:                   aws.String(k.env.Cfg.Network.CIDR),
		AmazonProvidedIpv6CidrBlock: aws.Bool(k.env.Cfg.Network.IPv6),
		TagSpecifications:           k.env.tagSpec(ec2types.ResourceTypeVpc, StepVPC, "vpc"),
	})
	if err != nil {
		return nil, vpcFix{}, fmt.Errorf("create vpc %s: %w", k.env.Cfg.Network.CIDR, err)
	}
	return out.Vpc, vpcFix{dnsHostnames: true}, nil
}

func (k vpcKind) Update(ctx context.Context, v vpc, f vpcFix) error {
	id := vpcID(v)
	if f.dnsSupport {
		if _, err := k.env.EC2.ModifyVpcAttribute(ctx, &ec2.ModifyVpcAttributeInput{VpcId: &id, EnableDnsSupport: &ec2types.AttributeBooleanValue{Value: aws.Bool(true)}}); err != nil {
			return fmt.Errorf("enable DNS support on %s: %w", id, err)
		}
	}
	if f.dnsHostnames {
		if _, err := k.env.EC2.ModifyVpcAttribute(ctx, &ec2.ModifyVpcAttributeInput{VpcId: &id, EnableDnsHostnames: &ec2types.AttributeBooleanValue{Value: aws.Bool(true)}}); err != nil {
			return fmt.Errorf("enable DNS hostnames on %s: %w", id, err)
		}
	}
	if f.ipv6Block {
		if _, err := k.env.EC2.AssociateVpcCidrBlock(ctx, &ec2.AssociateVpcCidrBlockInput{VpcId: &id, AmazonProvidedIpv6CidrBlock: aws.Bool(true)}); err != nil {
			return fmt.Errorf("associate an IPv6 block with %s: %w", id, err)
		}
	}
	return k.waitForIPv6(ctx, id)
}

func (k vpcKind) Remove(ctx context.Context, v vpc) error {
	_, err := k.env.EC2.DeleteVpc(ctx, &ec2.DeleteVpcInput{VpcId: v.VpcId})
	if err != nil && !awsapi.IsNotFound(err) {
		return awsapi.RetryableDelete(fmt.Errorf("delete vpc %s: %w", vpcID(v), err))
	}
	return nil
}

func (k vpcKind) attribute(ctx context.Context, id string, name ec2types.VpcAttributeName) (bool, error) {
	out, err := k.env.EC2.DescribeVpcAttribute(ctx, &ec2.DescribeVpcAttributeInput{VpcId: &id, Attribute: name})
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
func (k vpcKind) waitForIPv6(ctx context.Context, id string) error {
	out, err := k.env.EC2.DescribeVpcs(ctx, &ec2.DescribeVpcsInput{VpcIds: []string{id}})
	if err != nil {
		return awsapi.RetryableCreate(fmt.Errorf("describe vpc %s: %w", id, err))
	}
	if len(out.Vpcs) != 1 {
		return plan.TryAgainf("vpc %s is not visible yet", id)
	}
	if k.env.Cfg.Network.IPv6 && vpcIPv6Block(&out.Vpcs[0]) == "" {
		return plan.TryAgainf("vpc %s: waiting for its IPv6 block", id)
	}
	return k.env.records().Created(StepVPC, "vpc", id, k.Record(&out.Vpcs[0]).Attrs)
}

// lookupExisting checks the user's VPC.
func (k vpcKind) lookupExisting(ctx context.Context) (vpc, error) {
	id := k.env.Cfg.Network.VpcID
	out, err := k.env.EC2.DescribeVpcs(ctx, &ec2.DescribeVpcsInput{VpcIds: []string{id}})
	if awsapi.IsNotFound(err) || (err == nil && len(out.Vpcs) == 0) {
		return nil, fmt.Errorf("network.vpc_id %s does not exist in %s: check the id and the region, or leave vpc_id empty to create a VPC", id, k.env.Region)
	}
	if err != nil {
		return nil, fmt.Errorf("describe vpc %s: %w", id, err)
	}
	v := &out.Vpcs[0]
	return v, checkExistingVPC(v, &k.env.Cfg.Network)
}

// vpcIPv6Block returns the VPC's IPv6 block, ignoring associations being
// removed. The association state is not compared with "associated": the
// emulator garbles it.
func vpcIPv6Block(v vpc) string {
	for _, a := range v.Ipv6CidrBlockAssociationSet {
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

// addressBlocks are a VPC's IPv4 and IPv6 blocks, canonical.
type addressBlocks struct{ ipv4, ipv6 []string }

func (b addressBlocks) all() []string { return append(slices.Clone(b.ipv4), b.ipv6...) }

// vpcAddressBlocks are the blocks a VPC has: associated, or being
// associated (that takes seconds, and a block denied already is never
// open). A block being or already disassociated is no longer the VPC's:
// AWS still lists it for a while after a disassociation (and the emulator
// for good).
func vpcAddressBlocks(v vpc) addressBlocks {
	// The primary block cannot be disassociated, whatever its state says.
	b := addressBlocks{ipv4: []string{config.CanonicalCIDR(aws.ToString(v.CidrBlock))}}
	inUse := func(s *ec2types.VpcCidrBlockState) bool {
		return s != nil && (s.State == ec2types.VpcCidrBlockStateCodeAssociated || s.State == ec2types.VpcCidrBlockStateCodeAssociating)
	}
	for _, a := range v.CidrBlockAssociationSet {
		if c := config.CanonicalCIDR(aws.ToString(a.CidrBlock)); inUse(a.CidrBlockState) && c != "" && !slices.Contains(b.ipv4, c) {
			b.ipv4 = append(b.ipv4, c)
		}
	}
	for _, a := range v.Ipv6CidrBlockAssociationSet {
		if inUse(a.Ipv6CidrBlockState) && aws.ToString(a.Ipv6CidrBlock) != "" {
			b.ipv6 = append(b.ipv6, config.CanonicalCIDR(aws.ToString(a.Ipv6CidrBlock)))
		}
	}
	return b
}

// checkExistingVPC: the subnets must fit in the user's VPC, and IPv6 needs
// the VPC to have an IPv6 block.
func checkExistingVPC(v vpc, n *config.NetworkConfig) error {
	id := aws.ToString(v.VpcId)
	if n.IPv6 && vpcIPv6Block(v) == "" {
		return fmt.Errorf("vpc %s has no IPv6 block but network.ipv6 is true: associate one (aws ec2 associate-vpc-cidr-block --amazon-provided-ipv6-cidr-block --vpc-id %s) or set network.ipv6: false", id, id)
	}
	var blocks []netip.Prefix
	for _, a := range v.CidrBlockAssociationSet {
		if p, err := netip.ParsePrefix(aws.ToString(a.CidrBlock)); err == nil {
			blocks = append(blocks, p)
		}
	}
	type keyed struct{ key, cidr string }
	subnets := []keyed{{"public_subnet_cidr", n.PublicSubnetCIDR}, {"private_subnet_cidr", n.PrivateSubnetCIDR}}
	if zs, err := n.Subnets(); err == nil && len(zs) > 1 {
		subnets = nil
		for i, z := range zs {
			subnets = append(subnets, keyed{fmt.Sprintf("public_subnet_cidrs[%d]", i), z.Public}, keyed{fmt.Sprintf("private_subnet_cidrs[%d]", i), z.Private})
		}
	}
	for _, sn := range subnets {
		p, err := netip.ParsePrefix(sn.cidr)
		if err != nil {
			return fmt.Errorf("network.%s %q is not a CIDR block", sn.key, sn.cidr)
		}
		inside := false
		for _, b := range blocks {
			inside = inside || config.ContainsPrefix(b, p)
		}
		if !inside {
			return fmt.Errorf("network.%s %s is not inside vpc %s (blocks %v): choose a free range of that VPC", sn.key, sn.cidr, id, blocks)
		}
	}
	return nil
}

// ec2TagsOf: the configuration's tags follow `tags:` (resource.Step, through Hooks.EC2Tags).
func (k vpcKind) ec2TagsOf(cur vpc) []ec2types.Tag { return cur.Tags }

// CheckVPCFits says whether the stack fits in the user's VPC v: its
// layout, and the private network ACL's rules within the rule quota.
func CheckVPCFits(e *Env, v *ec2types.Vpc) error {
	if err := checkExistingVPC(v, &e.Cfg.Network); err != nil {
		return err
	}
	acl, blocks := newNetworkACLs(e, false), vpcAddressBlocks(v)
	return acl.checkRuleQuota(aws.ToString(v.VpcId), acl.rules(blocks, nil), blocks)
}
