package provision

import (
	"context"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"

	"github.com/provision-dev/provision/pkg/plan"
)

const stepEIGW plan.ID = "eigw"

// egressGatewayStep is the egress-only internet gateway through which
// runner machines reach the internet over IPv6 (ipv6 only).
type egressGatewayStep struct{ env *Env }

func newEgressGatewayStep(env *Env) *egressGatewayStep { return &egressGatewayStep{env: env} }

func (s *egressGatewayStep) ID() plan.ID          { return stepEIGW }
func (s *egressGatewayStep) DependsOn() []plan.ID { return []plan.ID{stepVPC} }

func (s *egressGatewayStep) change() plan.Change {
	return plan.Change{Step: stepEIGW, Kind: "egress-only-internet-gateway", Name: s.env.name("eigw"),
		Attrs: []plan.Attr{{Key: "vpc", Value: orUnknown(s.env.idOf(stepVPC))}}}
}

func (s *egressGatewayStep) Plan(ctx context.Context) (plan.Change, error) {
	c := s.change()
	gw, err := s.find(ctx)
	if err != nil {
		return c, err
	}
	if gw == nil {
		c.Action = plan.Create
		return c, s.env.markGone(stepEIGW)
	}
	c.ID = aws.ToString(gw.EgressOnlyInternetGatewayId)
	return c, s.env.created(stepEIGW, "egress-only-internet-gateway", c.ID, nil)
}

func (s *egressGatewayStep) Apply(ctx context.Context, c plan.Change) error {
	token, err := s.env.beginCreate(stepEIGW, "egress-only-internet-gateway")
	if err != nil {
		return err
	}
	out, err := s.env.EC2.CreateEgressOnlyInternetGateway(ctx, &ec2.CreateEgressOnlyInternetGatewayInput{
		VpcId:             aws.String(s.env.idOf(stepVPC)),
		ClientToken:       &token,
		TagSpecifications: s.env.tagSpec(ec2types.ResourceTypeEgressOnlyInternetGateway, stepEIGW, "eigw"),
	})
	if err != nil {
		return retryableCreate(fmt.Errorf("create egress-only internet gateway: %w", err))
	}
	return s.env.created(stepEIGW, "egress-only-internet-gateway", aws.ToString(out.EgressOnlyInternetGateway.EgressOnlyInternetGatewayId), nil)
}

func (s *egressGatewayStep) PlanDelete(ctx context.Context) (plan.Change, error) {
	c := s.change()
	gw, err := s.find(ctx)
	if err != nil || gw == nil {
		if err == nil {
			err = s.env.forget(stepEIGW)
		}
		return c, err
	}
	c.ID = aws.ToString(gw.EgressOnlyInternetGatewayId)
	c.Action = plan.Delete
	return c, nil
}

func (s *egressGatewayStep) Delete(ctx context.Context, c plan.Change) error {
	_, err := s.env.EC2.DeleteEgressOnlyInternetGateway(ctx, &ec2.DeleteEgressOnlyInternetGatewayInput{EgressOnlyInternetGatewayId: &c.ID})
	if err != nil && !isNotFound(err) {
		return retryableDelete(fmt.Errorf("delete egress-only internet gateway %s: %w", c.ID, err))
	}
	return s.env.forget(stepEIGW)
}

// find looks by id, then lists and checks the ownership tags in code: tag
// filters on this API are not honoured everywhere.
func (s *egressGatewayStep) find(ctx context.Context) (*ec2types.EgressOnlyInternetGateway, error) {
	if r := s.env.Ledger.Get(string(stepEIGW)); r != nil && r.ID != "" {
		out, err := s.env.EC2.DescribeEgressOnlyInternetGateways(ctx, &ec2.DescribeEgressOnlyInternetGatewaysInput{EgressOnlyInternetGatewayIds: []string{r.ID}})
		if err != nil && !isNotFound(err) {
			return nil, fmt.Errorf("describe egress-only internet gateway %s: %w", r.ID, err)
		}
		if err == nil && len(out.EgressOnlyInternetGateways) == 1 && eigwAttached(&out.EgressOnlyInternetGateways[0]) {
			return &out.EgressOnlyInternetGateways[0], nil
		}
	}
	out, err := s.env.EC2.DescribeEgressOnlyInternetGateways(ctx, &ec2.DescribeEgressOnlyInternetGatewaysInput{Filters: s.env.ownerFilters(stepEIGW)})
	if err != nil {
		return nil, fmt.Errorf("find egress-only internet gateway by tags: %w", err)
	}
	for i := range out.EgressOnlyInternetGateways {
		gw := &out.EgressOnlyInternetGateways[i]
		if s.env.ownedBy(gw.Tags, stepEIGW) && eigwAttached(gw) {
			return gw, nil
		}
	}
	return nil, nil
}

// eigwAttached filters out gateways being deleted, which stay visible.
func eigwAttached(gw *ec2types.EgressOnlyInternetGateway) bool {
	for _, a := range gw.Attachments {
		if a.State == ec2types.AttachmentStatusDetached || a.State == ec2types.AttachmentStatusDetaching {
			return false
		}
	}
	return true
}
