package stack

import (
	"context"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"

	"github.com/provision-dev/provision/pkg/plan"
	"github.com/provision-dev/provision/pkg/provision/awsapi"
	"github.com/provision-dev/provision/pkg/provision/resource"
)

// egressGatewayKind is the egress-only internet gateway through which runner
// machines reach the internet over IPv6 (ipv6 only). Nothing about it
// changes after creation.
type egressGatewayKind struct{ env *Env }

type eigw = *ec2types.EgressOnlyInternetGateway

func newEgressGatewayStep(env *Env) plan.Step {
	return resource.NewStep[eigw, struct{}](env.shared(), "egress-only-internet-gateway", egressGatewayKind{env})
}

func (k egressGatewayKind) StepID() plan.ID  { return StepEIGW }
func (k egressGatewayKind) Needs() []plan.ID { return []plan.ID{StepVPC} }

func (k egressGatewayKind) Describe() plan.Change {
	return plan.Change{Step: StepEIGW, Kind: "egress-only-internet-gateway", Name: k.env.name("eigw"),
		Attrs: []plan.Attr{{Key: "vpc", Value: orUnknown(k.env.IDOf(StepVPC))}}}
}

// Hooks names the optional parts of resource.Step this kind has.
func (k egressGatewayKind) Hooks() resource.Hooks[eigw, struct{}] {
	return resource.Hooks[eigw, struct{}]{EC2Tags: k.ec2TagsOf}
}

// Find lists and checks the ownership tags in code: tag filters on this
// API are not honoured everywhere. Gateways being deleted stay visible.
func (k egressGatewayKind) Find(ctx context.Context) (resource.Found[eigw], error) {
	out, err := k.env.EC2.DescribeEgressOnlyInternetGateways(ctx, &ec2.DescribeEgressOnlyInternetGatewaysInput{Filters: k.env.ownerFilters(StepEIGW)})
	if err != nil {
		return resource.Found[eigw]{}, fmt.Errorf("find egress-only internet gateway by tags: %w", err)
	}
	return lookupOwned(k.env, StepEIGW, resource.Pointers(out.EgressOnlyInternetGateways), func(g eigw) string { return aws.ToString(g.EgressOnlyInternetGatewayId) },
		func(g eigw) bool { return k.env.ownedBy(g.Tags, StepEIGW) && eigwAttached(g) }), nil
}

func (k egressGatewayKind) Record(g eigw) resource.Recorded {
	return resource.Recorded{ID: aws.ToString(g.EgressOnlyInternetGatewayId)}
}

func (k egressGatewayKind) Diff(context.Context, eigw) (struct{}, []string, error) {
	return struct{}{}, nil, nil
}

func (k egressGatewayKind) Create(ctx context.Context, token string, _ resource.Found[eigw]) (eigw, struct{}, error) {
	out, err := k.env.EC2.CreateEgressOnlyInternetGateway(ctx, &ec2.CreateEgressOnlyInternetGatewayInput{
		VpcId:             aws.String(k.env.IDOf(StepVPC)),
		ClientToken:       &token,
		TagSpecifications: k.env.tagSpec(ec2types.ResourceTypeEgressOnlyInternetGateway, StepEIGW, "eigw"),
	})
	if err != nil {
		return nil, struct{}{}, awsapi.RetryableCreate(fmt.Errorf("create egress-only internet gateway: %w", err))
	}
	return out.EgressOnlyInternetGateway, struct{}{}, nil
}

func (k egressGatewayKind) Update(context.Context, eigw, struct{}) error { return nil }

func (k egressGatewayKind) Remove(ctx context.Context, g eigw) error {
	id := g.EgressOnlyInternetGatewayId
	_, err := k.env.EC2.DeleteEgressOnlyInternetGateway(ctx, &ec2.DeleteEgressOnlyInternetGatewayInput{EgressOnlyInternetGatewayId: id})
	if err != nil && !awsapi.IsNotFound(err) {
		return awsapi.RetryableDelete(fmt.Errorf("delete egress-only internet gateway %s: %w", aws.ToString(id), err))
	}
	return nil
}

// eigwAttached filters out gateways being deleted, which stay visible.
func eigwAttached(gw eigw) bool {
	for _, a := range gw.Attachments {
		if a.State == ec2types.AttachmentStatusDetached || a.State == ec2types.AttachmentStatusDetaching {
			return false
		}
	}
	return true
}

// ec2TagsOf: the configuration's tags follow `tags:` (resource.Step, through Hooks.EC2Tags).
func (k egressGatewayKind) ec2TagsOf(cur eigw) []ec2types.Tag { return cur.Tags }
