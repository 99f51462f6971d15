package provision

import (
	"context"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"

	"github.com/provision-dev/provision/pkg/plan"
)


// natGatewayStep is the NAT gateway in the public subnet through which
// runner machines reach GitLab over IPv4, from the fixed address eip/nat.
type natGatewayStep struct{ env *Env }

func newNATGatewayStep(env *Env) *natGatewayStep { return &natGatewayStep{env: env} }

func (s *natGatewayStep) ID() plan.ID { return stepNAT }
func (s *natGatewayStep) DependsOn() []plan.ID {
	// The NAT needs the internet gateway attached to reach the internet.
	return []plan.ID{stepPublicSubnet, stepNATAddress, stepIGW}
}

func (s *natGatewayStep) change() plan.Change {
	return plan.Change{Step: stepNAT, Kind: "nat-gateway", Name: s.env.name("nat"), Attrs: []plan.Attr{
		{Key: "subnet", Value: orUnknown(s.env.idOf(stepPublicSubnet))},
		{Key: "eip", Value: orUnknown(s.env.idOf(stepNATAddress))},
	}}
}

func (s *natGatewayStep) Plan(ctx context.Context) (plan.Change, error) {
	c := s.change()
	nat, err := s.find(ctx, false)
	if err != nil {
		return c, err
	}
	if nat == nil {
		c.Action = plan.Create
		return c, s.env.markGone(stepNAT)
	}
	c.ID = aws.ToString(nat.NatGatewayId)
	if err := s.env.created(stepNAT, "nat-gateway", c.ID, map[string]string{"subnet": aws.ToString(nat.SubnetId)}); err != nil {
		return c, err
	}
	if got, want := aws.ToString(nat.SubnetId), s.env.idOf(stepPublicSubnet); want != "" && got != want {
		return c, fmt.Errorf("nat %s is in subnet %s, not in subnet/public %s: delete it (aws ec2 delete-nat-gateway --nat-gateway-id %s) and run `provision up` again", c.ID, got, want, c.ID)
	}
	if nat.State == ec2types.NatGatewayStatePending {
		c.Action = plan.Update
		c.Reasons = []string{"wait until available"}
	}
	return c, nil
}

func (s *natGatewayStep) Apply(ctx context.Context, c plan.Change) error {
	id := c.ID
	if c.Action == plan.Create {
		token, err := s.env.beginCreate(stepNAT, "nat-gateway")
		if err != nil {
			return err
		}
		out, err := s.env.EC2.CreateNatGateway(ctx, &ec2.CreateNatGatewayInput{
			SubnetId:          aws.String(s.env.idOf(stepPublicSubnet)),
			AllocationId:      aws.String(s.env.idOf(stepNATAddress)),
			ClientToken:       &token,
			TagSpecifications: s.env.tagSpec(ec2types.ResourceTypeNatgateway, stepNAT, "nat"),
		})
		if errorCode(err) == "Resource.AlreadyAssociated" {
			// The address is released by a NAT gateway only once that one
			// is fully deleted (after a NAT was deleted by hand).
			return plan.TryAgain(fmt.Errorf("create nat gateway: Elastic IP %s is still held by a NAT gateway that is being deleted: %w", s.env.idOf(stepNATAddress), err))
		}
		if err != nil {
			return retryableCreate(fmt.Errorf("create nat gateway: %w", err))
		}
		id = aws.ToString(out.NatGateway.NatGatewayId)
		if err := s.env.created(stepNAT, "nat-gateway", id, map[string]string{"subnet": aws.ToString(out.NatGateway.SubnetId)}); err != nil {
			return err
		}
	}
	// 1-2 minutes on AWS; poll every few seconds rather than the SDK's 15 s.
	w := ec2.NewNatGatewayAvailableWaiter(s.env.EC2, func(o *ec2.NatGatewayAvailableWaiterOptions) {
		o.MinDelay, o.MaxDelay = 3*time.Second, 10*time.Second
	})
	if err := w.Wait(ctx, &ec2.DescribeNatGatewaysInput{NatGatewayIds: []string{id}}, 10*time.Minute); err != nil {
		return fmt.Errorf("nat gateway %s did not become available (see its state message in the console: a failed NAT is replaced by the next `provision up`): %w", id, err)
	}
	return nil
}

func (s *natGatewayStep) PlanDelete(ctx context.Context) (plan.Change, error) {
	c := s.change()
	nat, err := s.find(ctx, true)
	if err != nil || nat == nil {
		if err == nil {
			err = s.env.forget(stepNAT)
		}
		return c, err
	}
	c.ID = aws.ToString(nat.NatGatewayId)
	c.Action = plan.Delete
	c.Detail = nat
	return c, nil
}

func (s *natGatewayStep) Delete(ctx context.Context, c plan.Change) error {
	if nat := c.Detail.(*ec2types.NatGateway); nat.State != ec2types.NatGatewayStateDeleting {
		_, err := s.env.EC2.DeleteNatGateway(ctx, &ec2.DeleteNatGatewayInput{NatGatewayId: &c.ID})
		if err != nil && !isNotFound(err) {
			return retryableDelete(fmt.Errorf("delete nat gateway %s: %w", c.ID, err))
		}
	}
	// Its Elastic IP can be released only once the NAT is gone.
	w := ec2.NewNatGatewayDeletedWaiter(s.env.EC2, func(o *ec2.NatGatewayDeletedWaiterOptions) {
		o.MinDelay, o.MaxDelay = 3*time.Second, 10*time.Second
	})
	if err := w.Wait(ctx, &ec2.DescribeNatGatewaysInput{NatGatewayIds: []string{c.ID}}, 10*time.Minute); err != nil && !isNotFound(err) {
		return plan.TryAgain(fmt.Errorf("nat gateway %s is not deleted yet: %w", c.ID, err))
	}
	return s.env.forget(stepNAT)
}

// find looks by id, then in the VPC, checking tags in code (NAT tag filters
// are not honoured everywhere). Deleted and failed gateways stay visible
// for an hour and count as absent; deleting ones count only for down.
func (s *natGatewayStep) find(ctx context.Context, includeDeleting bool) (*ec2types.NatGateway, error) {
	live := func(n *ec2types.NatGateway) bool {
		switch n.State {
		case ec2types.NatGatewayStatePending, ec2types.NatGatewayStateAvailable:
			return true
		case ec2types.NatGatewayStateDeleting:
			return includeDeleting
		}
		return false
	}
	if r := s.env.Ledger.Get(string(stepNAT)); r != nil && r.ID != "" {
		out, err := s.env.EC2.DescribeNatGateways(ctx, &ec2.DescribeNatGatewaysInput{NatGatewayIds: []string{r.ID}})
		if err != nil && !isNotFound(err) {
			return nil, fmt.Errorf("describe nat gateway %s: %w", r.ID, err)
		}
		if err == nil && len(out.NatGateways) == 1 && live(&out.NatGateways[0]) {
			return &out.NatGateways[0], nil
		}
	}
	in := &ec2.DescribeNatGatewaysInput{Filter: s.env.ownerFilters(stepNAT)}
	if vpcID := s.env.idOf(stepVPC); vpcID != "" {
		in.Filter = append(in.Filter, filter("vpc-id", vpcID))
	}
	p := ec2.NewDescribeNatGatewaysPaginator(s.env.EC2, in)
	for p.HasMorePages() {
		out, err := p.NextPage(ctx)
		if err != nil {
			return nil, fmt.Errorf("find nat gateway by tags: %w", err)
		}
		for i := range out.NatGateways {
			if n := &out.NatGateways[i]; s.env.ownedBy(n.Tags, stepNAT) && live(n) {
				return n, nil
			}
		}
	}
	return nil, nil
}
