package provision

import (
	"context"
	"fmt"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"

	"github.com/provision-dev/provision/pkg/plan"
)


// routeTableStep owns a route table, its default routes and its association
// with one subnet.
type routeTableStep struct {
	env    *Env
	id     plan.ID
	role   string
	subnet plan.ID
	public bool
}

func newRouteTableStep(env *Env, public bool) *routeTableStep {
	if public {
		return &routeTableStep{env: env, id: stepPublicRoutes, role: "public", subnet: stepPublicSubnet, public: true}
	}
	return &routeTableStep{env: env, id: stepPrivateRoutes, role: "private", subnet: stepPrivateSubnet}
}

func (s *routeTableStep) ID() plan.ID { return s.id }
func (s *routeTableStep) DependsOn() []plan.ID {
	if s.public {
		return []plan.ID{stepVPC, stepIGW, s.subnet}
	}
	deps := []plan.ID{stepVPC, stepNAT, s.subnet}
	if s.env.Cfg.Network.IPv6 || s.env.Teardown {
		deps = append(deps, stepEIGW)
	}
	return deps
}

// route is a wanted default route: destination and target id.
type route struct {
	dest   string
	target string
}

func (s *routeTableStep) wanted() []route {
	if s.public {
		igw := orUnknown(s.env.idOf(stepIGW))
		rs := []route{{"0.0.0.0/0", igw}}
		if s.env.Cfg.Network.IPv6 {
			rs = append(rs, route{"::/0", igw})
		}
		return rs
	}
	rs := []route{{"0.0.0.0/0", orUnknown(s.env.idOf(stepNAT))}}
	if s.env.Cfg.Network.IPv6 {
		rs = append(rs, route{"::/0", orUnknown(s.env.idOf(stepEIGW))})
	}
	return rs
}

func (s *routeTableStep) change() plan.Change {
	c := plan.Change{Step: s.id, Kind: "route-table", Name: s.env.name(s.role)}
	for _, r := range s.wanted() {
		c.Attrs = append(c.Attrs, plan.Attr{Key: r.dest, Value: r.target})
	}
	c.Attrs = append(c.Attrs, plan.Attr{Key: "subnet", Value: orUnknown(s.env.idOf(s.subnet))})
	return c
}

// routeFixes is the work Apply does on an existing table.
type routeFixes struct {
	create, replace []route
	remove          []ec2types.Route
	associate       bool
	replaceAssocID  string // the subnet's association with another table
}

func (s *routeTableStep) Plan(ctx context.Context) (plan.Change, error) {
	c := s.change()
	rt, err := s.find(ctx)
	if err != nil {
		return c, err
	}
	if rt == nil {
		c.Action = plan.Create
		return c, s.env.markGone(s.id)
	}
	c.ID = aws.ToString(rt.RouteTableId)
	if err := s.env.created(s.id, "route-table", c.ID, nil); err != nil {
		return c, err
	}
	f, err := s.diff(ctx, rt)
	if err != nil {
		return c, err
	}
	for _, r := range f.create {
		c.Reasons = append(c.Reasons, fmt.Sprintf("add route %s -> %s", r.dest, r.target))
	}
	for _, r := range f.replace {
		c.Reasons = append(c.Reasons, fmt.Sprintf("point route %s at %s", r.dest, r.target))
	}
	for _, r := range f.remove {
		c.Reasons = append(c.Reasons, fmt.Sprintf("remove route %s -> %s", routeDest(r), routeTarget(r)))
	}
	if f.associate || f.replaceAssocID != "" {
		c.Reasons = append(c.Reasons, "associate with "+s.env.idOf(s.subnet))
	}
	if len(c.Reasons) > 0 {
		c.Action = plan.Update
		c.Detail = f
	}
	return c, nil
}

func (s *routeTableStep) diff(ctx context.Context, rt *ec2types.RouteTable) (*routeFixes, error) {
	f := &routeFixes{}
	have := map[string]ec2types.Route{}
	for _, r := range rt.Routes {
		have[routeDest(r)] = r
	}
	want := map[string]bool{}
	for _, w := range s.wanted() {
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
	subnetID := s.env.idOf(s.subnet)
	for _, a := range rt.Associations {
		if aws.ToString(a.SubnetId) == subnetID {
			return f, nil
		}
	}
	f.associate = true
	// A subnet has at most one explicit association; replace it if it
	// points at another table.
	out, err := s.env.EC2.DescribeRouteTables(ctx, &ec2.DescribeRouteTablesInput{Filters: []ec2types.Filter{filter("association.subnet-id", subnetID)}})
	if err != nil {
		return nil, fmt.Errorf("find the route table of %s: %w", subnetID, err)
	}
	for _, other := range out.RouteTables {
		for _, a := range other.Associations {
			if aws.ToString(a.SubnetId) == subnetID {
				f.replaceAssocID = aws.ToString(a.RouteTableAssociationId)
			}
		}
	}
	return f, nil
}

func (s *routeTableStep) Apply(ctx context.Context, c plan.Change) error {
	id := c.ID
	f, _ := c.Detail.(*routeFixes)
	if c.Action == plan.Create {
		token, err := s.env.beginCreate(s.id, "route-table")
		if err != nil {
			return err
		}
		out, err := s.env.EC2.CreateRouteTable(ctx, &ec2.CreateRouteTableInput{
			VpcId:             aws.String(s.env.idOf(stepVPC)),
			ClientToken:       &token,
			TagSpecifications: s.env.tagSpec(ec2types.ResourceTypeRouteTable, s.id, s.role),
		})
		if err != nil {
			return retryableCreate(fmt.Errorf("create route table %s: %w", s.id, err))
		}
		id = aws.ToString(out.RouteTable.RouteTableId)
		if err := s.env.created(s.id, "route-table", id, nil); err != nil {
			return err
		}
		if f, err = s.diff(ctx, out.RouteTable); err != nil {
			return err
		}
	}
	for _, r := range f.create {
		if _, err := s.env.EC2.CreateRoute(ctx, s.routeInput(id, r)); err != nil {
			return retryableCreate(fmt.Errorf("add route %s -> %s to %s: %w", r.dest, r.target, id, err))
		}
	}
	for _, r := range f.replace {
		in := s.routeInput(id, r)
		_, err := s.env.EC2.ReplaceRoute(ctx, &ec2.ReplaceRouteInput{RouteTableId: in.RouteTableId, DestinationCidrBlock: in.DestinationCidrBlock,
			DestinationIpv6CidrBlock: in.DestinationIpv6CidrBlock, GatewayId: in.GatewayId, NatGatewayId: in.NatGatewayId, EgressOnlyInternetGatewayId: in.EgressOnlyInternetGatewayId})
		if err != nil {
			return retryableCreate(fmt.Errorf("point route %s of %s at %s: %w", r.dest, id, r.target, err))
		}
	}
	for _, r := range f.remove {
		if _, err := s.env.EC2.DeleteRoute(ctx, &ec2.DeleteRouteInput{RouteTableId: &id, DestinationCidrBlock: r.DestinationCidrBlock, DestinationIpv6CidrBlock: r.DestinationIpv6CidrBlock}); err != nil && !isNotFound(err) {
			return fmt.Errorf("remove route %s from %s: %w", routeDest(r), id, err)
		}
	}
	subnetID := s.env.idOf(s.subnet)
	switch {
	case f.replaceAssocID != "":
		if _, err := s.env.EC2.ReplaceRouteTableAssociation(ctx, &ec2.ReplaceRouteTableAssociationInput{AssociationId: &f.replaceAssocID, RouteTableId: &id}); err != nil {
			return fmt.Errorf("associate %s with %s: %w", id, subnetID, err)
		}
	case f.associate:
		if _, err := s.env.EC2.AssociateRouteTable(ctx, &ec2.AssociateRouteTableInput{RouteTableId: &id, SubnetId: &subnetID}); err != nil {
			return retryableCreate(fmt.Errorf("associate %s with %s: %w", id, subnetID, err))
		}
	}
	return nil
}

func (s *routeTableStep) routeInput(tableID string, r route) *ec2.CreateRouteInput {
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

func (s *routeTableStep) PlanDelete(ctx context.Context) (plan.Change, error) {
	c := s.change()
	rt, err := s.find(ctx)
	if err != nil || rt == nil {
		if err == nil {
			err = s.env.forget(s.id)
		}
		return c, err
	}
	c.ID = aws.ToString(rt.RouteTableId)
	c.Action = plan.Delete
	c.Detail = rt
	return c, nil
}

func (s *routeTableStep) Delete(ctx context.Context, c plan.Change) error {
	rt := c.Detail.(*ec2types.RouteTable)
	for _, a := range rt.Associations {
		if aws.ToBool(a.Main) {
			continue
		}
		_, err := s.env.EC2.DisassociateRouteTable(ctx, &ec2.DisassociateRouteTableInput{AssociationId: a.RouteTableAssociationId})
		if err != nil && !isNotFound(err) {
			return retryableDelete(fmt.Errorf("disassociate route table %s: %w", c.ID, err))
		}
	}
	_, err := s.env.EC2.DeleteRouteTable(ctx, &ec2.DeleteRouteTableInput{RouteTableId: &c.ID})
	if err != nil && !isNotFound(err) {
		return retryableDelete(fmt.Errorf("delete route table %s: %w", c.ID, err))
	}
	return s.env.forget(s.id)
}

func (s *routeTableStep) find(ctx context.Context) (*ec2types.RouteTable, error) {
	if r := s.env.Ledger.Get(string(s.id)); r != nil && r.ID != "" {
		out, err := s.env.EC2.DescribeRouteTables(ctx, &ec2.DescribeRouteTablesInput{RouteTableIds: []string{r.ID}})
		if err != nil && !isNotFound(err) {
			return nil, fmt.Errorf("describe route table %s: %w", r.ID, err)
		}
		if err == nil && len(out.RouteTables) == 1 {
			return &out.RouteTables[0], nil
		}
	}
	out, err := s.env.EC2.DescribeRouteTables(ctx, &ec2.DescribeRouteTablesInput{Filters: s.env.ownerFilters(s.id)})
	if err != nil {
		return nil, fmt.Errorf("find route table %s by tags: %w", s.id, err)
	}
	for i := range out.RouteTables {
		if s.env.ownedBy(out.RouteTables[i].Tags, s.id) {
			return &out.RouteTables[i], nil
		}
	}
	return nil, nil
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
