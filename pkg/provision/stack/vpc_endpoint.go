package stack

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"

	"github.com/provision-dev/provision/pkg/plan"
	"github.com/provision-dev/provision/pkg/provision/awsapi"
	"github.com/provision-dev/provision/pkg/provision/config"
	"github.com/provision-dev/provision/pkg/provision/resource"
	"github.com/provision-dev/provision/pkg/state"
)

// vpcEndpointKind keeps traffic to AWS services inside the VPC. vpce/s3 is a
// gateway endpoint on the private route table: free, and S3 traffic from
// the machines (the cache, image layers ECR keeps in S3) no longer pays
// the NAT gateway's per-GB charge. The interface endpoints of
// network.endpoints (ssm, ecr, ...) have a network interface in the
// private subnet behind sg/endpoints and private DNS, so the services'
// usual names resolve to them everywhere in the VPC (DNS support and
// hostnames are on); they are charged by the hour.
type vpcEndpointKind struct {
	env     *Env
	id      plan.ID
	service string // the part after com.amazonaws.<region>.
	gateway bool
}

type endpoint = *ec2types.VpcEndpoint

// endpointFix: what an existing endpoint lacks.
type endpointFix struct {
	addRouteTables, addSubnets, addGroups []string
	// removeRouteTables, removeSubnets: those of zones the configuration
	// dropped, which cannot be deleted while the endpoint uses them.
	removeRouteTables, removeSubnets []string
	privateDNS                       bool
}

func (f endpointFix) empty() bool {
	return len(f.addRouteTables)+len(f.addSubnets)+len(f.addGroups)+len(f.removeRouteTables)+len(f.removeSubnets) == 0 && !f.privateDNS
}

// droppedZones are the recorded ids of a per-zone step in the zones after
// the configured ones. Those steps are not in this walk (up retires them
// after it), so their records are what earlier runs left: read from the
// ledger directly, not as a dependency (IDOf).
func (e *Env) droppedZones(of func(int) plan.ID) []string {
	var ids []string
	for z := e.Cfg.Network.ZoneCount(); z < config.MaxZones; z++ {
		if r := e.Ledger.Get(string(of(z))); r != nil && r.Status == state.StatusCreated && r.ID != "" {
			ids = append(ids, r.ID)
		}
	}
	return ids
}

// endpointServices lists the interface services of network.endpoints
// (all of them for a teardown), in a stable order.
func (e *Env) endpointServices() []string {
	names := e.Cfg.Network.Endpoints
	if e.Teardown {
		names = nil
		for n := range config.InterfaceEndpoints {
			names = append(names, n)
		}
	}
	var out []string
	for _, n := range names {
		out = append(out, config.InterfaceEndpoints[n]...)
	}
	slices.Sort(out)
	return slices.Compact(out)
}

func newGatewayEndpointStep(env *Env) plan.Step {
	return resource.NewStep[endpoint, endpointFix](env.shared(), "vpc-endpoint", vpcEndpointKind{env: env, id: StepS3Endpoint, service: "s3", gateway: true})
}

func newInterfaceEndpointStep(env *Env, service string) plan.Step {
	return resource.NewStep[endpoint, endpointFix](env.shared(), "vpc-endpoint", vpcEndpointKind{env: env, id: plan.ID("vpce/" + service), service: service})
}

func (k vpcEndpointKind) StepID() plan.ID { return k.id }
func (k vpcEndpointKind) Needs() []plan.ID {
	if k.gateway {
		return k.env.zoneSteps(PrivateRoutesStep)
	}
	return append([]plan.ID{StepEndpointGroup}, k.env.privateSubnets()...)
}

// Hooks names the optional parts of resource.Step this kind has.
func (k vpcEndpointKind) Hooks() resource.Hooks[endpoint, endpointFix] {
	return resource.Hooks[endpoint, endpointFix]{Pending: k.pending, EC2Tags: k.ec2TagsOf}
}

func (k vpcEndpointKind) serviceName() string {
	return "com.amazonaws." + k.env.Region + "." + k.service
}

func (k vpcEndpointKind) Describe() plan.Change {
	c := plan.Change{Step: k.id, Kind: "vpc-endpoint", Name: k.serviceName()}
	if k.gateway {
		c.Attrs = []plan.Attr{{Key: "type", Value: "gateway"}, {Key: "route_tables", Value: orUnknown(strings.Join(k.env.idsOf(k.env.zoneSteps(PrivateRoutesStep)), ","))}}
	} else {
		c.Attrs = []plan.Attr{{Key: "type", Value: "interface"}, {Key: "subnets", Value: orUnknown(strings.Join(k.env.idsOf(k.env.privateSubnets()), ","))}, {Key: "private_dns", Value: "true"}}
	}
	return c
}

// Find looks for the stack's endpoints (one describe for all of them,
// shared by the run); deleted ones do not count.
func (k vpcEndpointKind) Find(ctx context.Context) (resource.Found[endpoint], error) {
	all, err := describeShared(ctx, k.env, "vpc-endpoints", k.env.EC2.DescribeVpcEndpoints, &ec2.DescribeVpcEndpointsInput{Filters: k.env.stackFilter()},
		func(o *ec2.DescribeVpcEndpointsOutput) []ec2types.VpcEndpoint { return o.VpcEndpoints })
	if err != nil {
		return resource.Found[endpoint]{}, fmt.Errorf("find %s by tags: %w", k.id, err)
	}
	return lookupOwned(k.env, k.id, resource.Pointers(all), endpointID, func(v endpoint) bool {
		return k.env.ownedBy(v.Tags, k.id) && !gone(v.State)
	}), nil
}

func gone(s ec2types.State) bool {
	return strings.EqualFold(string(s), "deleted") || strings.EqualFold(string(s), "deleting") || strings.EqualFold(string(s), "failed")
}

func endpointID(v endpoint) string { return aws.ToString(v.VpcEndpointId) }

func (k vpcEndpointKind) Record(v endpoint) resource.Recorded {
	return resource.Recorded{ID: endpointID(v), Attrs: map[string]string{"service": aws.ToString(v.ServiceName)}}
}

func (k vpcEndpointKind) ec2TagsOf(v endpoint) []ec2types.Tag { return v.Tags }

func (k vpcEndpointKind) pending(v endpoint) string {
	if strings.EqualFold(string(v.State), "pending") {
		return "pending"
	}
	return ""
}

// Diff: what the endpoint lacks (the stack's route table, subnet or group,
// private DNS). Others' additions are left alone.
func (k vpcEndpointKind) Diff(_ context.Context, v endpoint) (endpointFix, []string, error) {
	var f endpointFix
	var rs []string
	if k.gateway {
		for _, rt := range k.env.idsOf(k.env.zoneSteps(PrivateRoutesStep)) {
			if !slices.Contains(v.RouteTableIds, rt) {
				f.addRouteTables = append(f.addRouteTables, rt)
				rs = append(rs, "route S3 from "+rt)
			}
		}
		rs = append(rs, laterSubnets(k.env, k.env.zoneSteps(PrivateRoutesStep))...)
		for _, rt := range k.env.droppedZones(PrivateRoutesStep) {
			if slices.Contains(v.RouteTableIds, rt) {
				f.removeRouteTables = append(f.removeRouteTables, rt)
				rs = append(rs, "stop routing S3 from "+rt+" (a zone the configuration dropped)")
			}
		}
		return f, rs, nil
	}
	// One network interface per zone: the endpoint stays reachable when a
	// zone is out.
	for _, sn := range k.env.idsOf(k.env.privateSubnets()) {
		if !slices.Contains(v.SubnetIds, sn) {
			f.addSubnets = append(f.addSubnets, sn)
			rs = append(rs, "place it in "+sn)
		}
	}
	rs = append(rs, laterSubnets(k.env, k.env.privateSubnets())...)
	for _, sn := range k.env.droppedZones(PrivateSubnetStep) {
		if slices.Contains(v.SubnetIds, sn) {
			f.removeSubnets = append(f.removeSubnets, sn)
			rs = append(rs, "leave "+sn+" (a zone the configuration dropped)")
		}
	}
	var groups []string
	for _, g := range v.Groups {
		groups = append(groups, aws.ToString(g.GroupId))
	}
	if sg := k.env.IDOf(StepEndpointGroup); sg != "" && !slices.Contains(groups, sg) {
		f.addGroups = []string{sg}
		rs = append(rs, "put it in "+sg)
	}
	if !aws.ToBool(v.PrivateDnsEnabled) {
		f.privateDNS = true
		rs = append(rs, "turn private DNS on")
	}
	return f, rs, nil
}

func (k vpcEndpointKind) Create(ctx context.Context, token string, _ resource.Found[endpoint]) (endpoint, endpointFix, error) {
	in := &ec2.CreateVpcEndpointInput{
		VpcId:             aws.String(k.env.IDOf(StepVPC)),
		ServiceName:       aws.String(k.serviceName()),
		ClientToken:       aws.String(token),
		TagSpecifications: k.env.tagSpec(ec2types.ResourceTypeVpcEndpoint, k.id, "endpoint-"+k.service),
	}
	if k.gateway {
		in.VpcEndpointType = ec2types.VpcEndpointTypeGateway
		in.RouteTableIds = k.env.idsOf(k.env.zoneSteps(PrivateRoutesStep))
	} else {
		in.VpcEndpointType = ec2types.VpcEndpointTypeInterface
		in.SubnetIds = k.env.idsOf(k.env.privateSubnets())
		in.SecurityGroupIds = []string{k.env.IDOf(StepEndpointGroup)}
		in.PrivateDnsEnabled = aws.Bool(true)
	}
	out, err := k.env.EC2.CreateVpcEndpoint(ctx, in)
	if err != nil {
		return nil, endpointFix{}, awsapi.RetryableCreate(fmt.Errorf("create VPC endpoint %s: %w", k.serviceName(), err))
	}
	return out.VpcEndpoint, endpointFix{}, nil
}

func (k vpcEndpointKind) Update(ctx context.Context, v endpoint, f endpointFix) error {
	if f.empty() {
		return nil
	}
	in := &ec2.ModifyVpcEndpointInput{VpcEndpointId: v.VpcEndpointId, AddRouteTableIds: f.addRouteTables, AddSubnetIds: f.addSubnets, AddSecurityGroupIds: f.addGroups,
		RemoveRouteTableIds: f.removeRouteTables, RemoveSubnetIds: f.removeSubnets}
	if f.privateDNS {
		in.PrivateDnsEnabled = aws.Bool(true)
	}
	if _, err := k.env.EC2.ModifyVpcEndpoint(ctx, in); err != nil {
		return fmt.Errorf("modify VPC endpoint %s: %w", endpointID(v), err)
	}
	return nil
}

// Remove deletes the endpoint; an interface endpoint's network interface
// in the private subnet goes with it, which the subnet's and the group's
// deletion wait for (DependencyViolation until then).
func (k vpcEndpointKind) Remove(ctx context.Context, v endpoint) error {
	out, err := k.env.EC2.DeleteVpcEndpoints(ctx, &ec2.DeleteVpcEndpointsInput{VpcEndpointIds: []string{endpointID(v)}})
	if err != nil && !awsapi.IsNotFound(err) {
		return awsapi.RetryableDelete(fmt.Errorf("delete VPC endpoint %s: %w", endpointID(v), err))
	}
	if err == nil && len(out.Unsuccessful) > 0 && !strings.Contains(aws.ToString(out.Unsuccessful[0].Error.Code), "NotFound") {
		return awsapi.RetryableDelete(fmt.Errorf("delete VPC endpoint %s: %s", endpointID(v), aws.ToString(out.Unsuccessful[0].Error.Message)))
	}
	return nil
}
