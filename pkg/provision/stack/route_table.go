package stack

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"

	"github.com/provision-dev/provision/pkg/plan"
	"github.com/provision-dev/provision/pkg/provision/awsapi"
	"github.com/provision-dev/provision/pkg/provision/resource"
)

// routeTableKind owns a route table, its default routes and its
// associations: the public table with every zone's public subnet, each
// private table with its zone's private subnet.
type routeTableKind struct {
	env     *Env
	id      plan.ID
	role    string
	subnets []plan.ID
	nat     plan.ID // the private table's NAT gateway
	public  bool
}

type routeTable = *ec2types.RouteTable

// routeFix is the work on an existing table.
type routeFix struct {
	create, replace []route
	remove          []ec2types.Route
	associate       []string          // subnets with no explicit association
	replaceAssoc    map[string]string // subnet -> its association with another table
}

func newRouteTableStep(env *Env, public bool) plan.Step {
	if !public {
		return newPrivateRouteTableStep(env, 0)
	}
	return resource.NewStep[routeTable, routeFix](env.shared(), "route-table", routeTableKind{env: env, id: StepPublicRoutes, role: "public", subnets: env.publicSubnets(), public: true})
}

func newPrivateRouteTableStep(env *Env, z int) plan.Step {
	k := routeTableKind{env: env, id: PrivateRoutesStep(z), role: zoneRole("private", z), subnets: []plan.ID{PrivateSubnetStep(z)}, nat: env.natOf(z)}
	return resource.NewStep[routeTable, routeFix](env.shared(), "route-table", k)
}

func (k routeTableKind) StepID() plan.ID { return k.id }
func (k routeTableKind) Needs() []plan.ID {
	if k.public {
		return append([]plan.ID{StepVPC, StepIGW}, k.subnets...)
	}
	deps := append([]plan.ID{StepVPC, k.nat}, k.subnets...)
	if k.env.Teardown {
		// Every NAT gateway it may point at goes after it.
		deps = []plan.ID{StepVPC, StepNAT, k.subnets[0]}
		if z, _ := zoneOf(k.id); z > 0 {
			deps = append(deps, NATStep(z))
		}
	}
	if k.env.Cfg.Network.IPv6 || k.env.Teardown {
		deps = append(deps, StepEIGW)
	}
	return deps
}

// Hooks names the optional parts of resource.Step this kind has.
func (k routeTableKind) Hooks() resource.Hooks[routeTable, routeFix] {
	return resource.Hooks[routeTable, routeFix]{EC2Tags: k.ec2TagsOf}
}

// route is a wanted default route: destination and target id.
type route struct {
	dest   string
	target string
}

func (k routeTableKind) wanted() []route {
	if k.public {
		igw := orUnknown(k.env.IDOf(StepIGW))
		rs := []route{{"0.0.0.0/0", igw}}
		if k.env.Cfg.Network.IPv6 {
			rs = append(rs, route{"::/0", igw})
		}
		return rs
	}
	rs := []route{{"0.0.0.0/0", orUnknown(k.env.IDOf(k.nat))}}
	if k.env.Cfg.Network.IPv6 {
		rs = append(rs, route{"::/0", orUnknown(k.env.IDOf(StepEIGW))})
	}
	return rs
}

func (k routeTableKind) Describe() plan.Change {
	c := plan.Change{Step: k.id, Kind: "route-table", Name: k.env.name(k.role)}
	for _, r := range k.wanted() {
		c.Attrs = append(c.Attrs, plan.Attr{Key: r.dest, Value: r.target})
	}
	c.Attrs = append(c.Attrs, subnetsAttr(k.env, k.subnets))
	return c
}

func (k routeTableKind) Find(ctx context.Context) (resource.Found[routeTable], error) {
	tables, err := describeShared(ctx, k.env, "route-tables", k.env.EC2.DescribeRouteTables, &ec2.DescribeRouteTablesInput{Filters: k.env.stackFilter()},
		func(o *ec2.DescribeRouteTablesOutput) []ec2types.RouteTable { return o.RouteTables })
	if err != nil {
		return resource.Found[routeTable]{}, fmt.Errorf("find route table %s by tags: %w", k.id, err)
	}
	return lookupOwned(k.env, k.id, resource.Pointers(tables), routeTableID, func(rt routeTable) bool { return k.env.ownedBy(rt.Tags, k.id) }), nil
}

func routeTableID(rt routeTable) string { return aws.ToString(rt.RouteTableId) }

func (k routeTableKind) Record(rt routeTable) resource.Recorded {
	return resource.Recorded{ID: routeTableID(rt)}
}

func (k routeTableKind) Diff(ctx context.Context, rt routeTable) (routeFix, []string, error) {
	var f routeFix
	have := map[string]ec2types.Route{}
	for _, r := range rt.Routes {
		have[routeDest(r)] = r
	}
	want := map[string]bool{}
	for _, w := range k.wanted() {
		want[w.dest] = true
		r, ok := have[w.dest]
		switch {
		case !ok:
			f.create = append(f.create, w)
		case routeTarget(r) != w.target || r.State == ec2types.RouteStateBlackhole:
			f.replace = append(f.replace, w)
		}
	}
	for dest, r := range have {
		// The local route belongs to the VPC and endpoint routes to their endpoints.
		if want[dest] || aws.ToString(r.GatewayId) == "local" || strings.HasPrefix(aws.ToString(r.GatewayId), "vpce-") || r.DestinationPrefixListId != nil {
			continue
		}
		f.remove = append(f.remove, r)
	}
	if err := k.diffAssociation(ctx, rt, &f); err != nil {
		return f, nil, err
	}
	var reasons []string
	for _, r := range f.create {
		reasons = append(reasons, fmt.Sprintf("add route %s -> %s", r.dest, r.target))
	}
	for _, r := range f.replace {
		reasons = append(reasons, fmt.Sprintf("point route %s at %s", r.dest, r.target))
	}
	for _, r := range f.remove {
		reasons = append(reasons, fmt.Sprintf("remove route %s -> %s", routeDest(r), routeTarget(r)))
	}
	for _, sn := range f.associate {
		reasons = append(reasons, "associate with "+sn)
	}
	for _, sn := range sortedKeys(f.replaceAssoc) {
		reasons = append(reasons, "associate with "+sn)
	}
	reasons = append(reasons, laterSubnets(k.env, k.subnets)...)
	return f, reasons, nil
}

// diffAssociation: a subnet has at most one explicit association; it is
// replaced when it points at another table.
func (k routeTableKind) diffAssociation(ctx context.Context, rt routeTable, f *routeFix) error {
	mine := map[string]bool{}
	for _, a := range rt.Associations {
		mine[aws.ToString(a.SubnetId)] = true
	}
	for _, subnetID := range k.env.idsOf(k.subnets) {
		if mine[subnetID] {
			continue
		}
		out, err := k.env.EC2.DescribeRouteTables(ctx, &ec2.DescribeRouteTablesInput{Filters: []ec2types.Filter{Filter("association.subnet-id", subnetID)}})
		if err != nil {
			return fmt.Errorf("find the route table of %s: %w", subnetID, err)
		}
		assoc := ""
		for _, other := range out.RouteTables {
			for _, a := range other.Associations {
				if aws.ToString(a.SubnetId) == subnetID {
					assoc = aws.ToString(a.RouteTableAssociationId)
				}
			}
		}
		if assoc == "" {
			f.associate = append(f.associate, subnetID)
			continue
		}
		if f.replaceAssoc == nil {
			f.replaceAssoc = map[string]string{}
		}
		f.replaceAssoc[subnetID] = assoc
	}
	return nil
}

func (k routeTableKind) Create(ctx context.Context, token string, _ resource.Found[routeTable]) (routeTable, routeFix, error) {
	out, err := k.env.EC2.CreateRouteTable(ctx, &ec2.CreateRouteTableInput{
		VpcId:             aws.String(k.env.IDOf(StepVPC)),
		ClientToken:       &token,
		TagSpecifications: k.env.tagSpec(ec2types.ResourceTypeRouteTable, k.id, k.role),
	})
	if err != nil {
		return nil, routeFix{}, awsapi.RetryableCreate(fmt.Errorf("create route table %s: %w", k.id, err))
	}
	f, _, err := k.Diff(ctx, out.RouteTable)
	return out.RouteTable, f, err
}

func (k routeTableKind) Update(ctx context.Context, rt routeTable, f routeFix) error {
	id := routeTableID(rt)
	for _, r := range f.create {
		if _, err := k.env.EC2.CreateRoute(ctx, routeInput(id, r)); err != nil {
			return awsapi.RetryableCreate(fmt.Errorf("add route %s -> %s to %s: %w", r.dest, r.target, id, err))
		}
	}
	for _, r := range f.replace {
		in := routeInput(id, r)
		_, err := k.env.EC2.ReplaceRoute(ctx, &ec2.ReplaceRouteInput{RouteTableId: in.RouteTableId, DestinationCidrBlock: in.DestinationCidrBlock,
			DestinationIpv6CidrBlock: in.DestinationIpv6CidrBlock, GatewayId: in.GatewayId, NatGatewayId: in.NatGatewayId, EgressOnlyInternetGatewayId: in.EgressOnlyInternetGatewayId})
		if err != nil {
			return awsapi.RetryableCreate(fmt.Errorf("point route %s of %s at %s: %w", r.dest, id, r.target, err))
		}
	}
	for _, r := range f.remove {
		if _, err := k.env.EC2.DeleteRoute(ctx, &ec2.DeleteRouteInput{RouteTableId: &id, DestinationCidrBlock: r.DestinationCidrBlock, DestinationIpv6CidrBlock: r.DestinationIpv6CidrBlock}); err != nil && !awsapi.IsNotFound(err) {
			return fmt.Errorf("remove route %s from %s: %w", routeDest(r), id, err)
		}
	}
	for _, subnetID := range sortedKeys(f.replaceAssoc) {
		assoc := f.replaceAssoc[subnetID]
		if _, err := k.env.EC2.ReplaceRouteTableAssociation(ctx, &ec2.ReplaceRouteTableAssociationInput{AssociationId: &assoc, RouteTableId: &id}); err != nil {
			return fmt.Errorf("associate %s with %s: %w", id, subnetID, err)
		}
	}
	for _, subnetID := range f.associate {
		if _, err := k.env.EC2.AssociateRouteTable(ctx, &ec2.AssociateRouteTableInput{RouteTableId: &id, SubnetId: aws.String(subnetID)}); err != nil {
			return awsapi.RetryableCreate(fmt.Errorf("associate %s with %s: %w", id, subnetID, err))
		}
	}
	return nil
}

// Remove disassociates the table from its subnets, then deletes it.
func (k routeTableKind) Remove(ctx context.Context, rt routeTable) error {
	id := routeTableID(rt)
	for _, a := range rt.Associations {
		if aws.ToBool(a.Main) {
			continue
		}
		_, err := k.env.EC2.DisassociateRouteTable(ctx, &ec2.DisassociateRouteTableInput{AssociationId: a.RouteTableAssociationId})
		if err != nil && !awsapi.IsNotFound(err) {
			return awsapi.RetryableDelete(fmt.Errorf("disassociate route table %s: %w", id, err))
		}
	}
	_, err := k.env.EC2.DeleteRouteTable(ctx, &ec2.DeleteRouteTableInput{RouteTableId: &id})
	if err != nil && !awsapi.IsNotFound(err) {
		return awsapi.RetryableDelete(fmt.Errorf("delete route table %s: %w", id, err))
	}
	return nil
}

func routeInput(tableID string, r route) *ec2.CreateRouteInput {
	in := &ec2.CreateRouteInput{RouteTableId: &tableID}
	if strings.Contains(r.dest, ":") {
		in.DestinationIpv6CidrBlock = aws.String(r.dest)
	} else {
		in.DestinationCidrBlock = aws.String(r.dest)
	}
	switch {
	case strings.HasPrefix(r.target, "nat-"):
		in.NatGatewayId = aws.String(r.target)
	case strings.HasPrefix(r.target, "eigw-"):
		in.EgressOnlyInternetGatewayId = aws.String(r.target)
	default:
		in.GatewayId = aws.String(r.target)
	}
	return in
}

func routeDest(r ec2types.Route) string {
	if r.DestinationCidrBlock != nil {
		return aws.ToString(r.DestinationCidrBlock)
	}
	return aws.ToString(r.DestinationIpv6CidrBlock)
}

func routeTarget(r ec2types.Route) string {
	for _, t := range []*string{r.NatGatewayId, r.EgressOnlyInternetGatewayId, r.GatewayId, r.InstanceId, r.NetworkInterfaceId, r.TransitGatewayId, r.VpcPeeringConnectionId} {
		if aws.ToString(t) != "" {
			return aws.ToString(t)
		}
	}
	return ""
}

// ec2TagsOf: the configuration's tags follow `tags:` (resource.Step, through Hooks.EC2Tags).
func (k routeTableKind) ec2TagsOf(cur routeTable) []ec2types.Tag { return cur.Tags }

func sortedKeys[V any](m map[string]V) []string { return slices.Sorted(maps.Keys(m)) }
