package provision

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"

	"github.com/provision-dev/provision/pkg/plan"
)

// natGateway is the NAT gateway in the public subnet through which runner
// machines reach GitLab over IPv4, from the fixed address eip/nat.
type natGateway struct{ env *Env }

type nat = *ec2types.NatGateway

// natFix: the gateway is pending; apply waits until it is available.
type natFix struct{ wait bool }

func newNATGatewayStep(env *Env) plan.Step {
	return newResourceStep[nat, natFix](env, "nat-gateway", natGateway{env})
}

func (k natGateway) stepID() plan.ID { return stepNAT }

// The NAT needs the internet gateway attached to reach the internet.
func (k natGateway) needs() []plan.ID { return []plan.ID{stepPublicSubnet, stepNATAddress, stepIGW} }

func (k natGateway) describe() plan.Change {
	return plan.Change{Step: stepNAT, Kind: "nat-gateway", Name: k.env.name("nat"), Attrs: []plan.Attr{
		{Key: "subnet", Value: orUnknown(k.env.idOf(stepPublicSubnet))},
		{Key: "eip", Value: orUnknown(k.env.idOf(stepNATAddress))},
	}}
}

// find looks in the VPC and checks the tags in code (NAT tag filters are
// not honoured everywhere). Deleted and failed gateways stay visible for
// an hour and count as absent; deleting ones count only for down.
func (k natGateway) find(ctx context.Context) (found[nat], error) {
	return k.lookup(ctx, ec2types.NatGatewayStatePending, ec2types.NatGatewayStateAvailable)
}

func (k natGateway) findForDelete(ctx context.Context) (found[nat], error) {
	return k.lookup(ctx, ec2types.NatGatewayStatePending, ec2types.NatGatewayStateAvailable, ec2types.NatGatewayStateDeleting)
}

func (k natGateway) lookup(ctx context.Context, states ...ec2types.NatGatewayState) (found[nat], error) {
	in := &ec2.DescribeNatGatewaysInput{Filter: k.env.ownerFilters(stepNAT)}
	if vpcID := k.env.idOf(stepVPC); vpcID != "" {
		in.Filter = append(in.Filter, filter("vpc-id", vpcID))
	}
	var all []nat
	p := ec2.NewDescribeNatGatewaysPaginator(k.env.EC2, in)
	for p.HasMorePages() {
		out, err := p.NextPage(ctx)
		if err != nil {
			return found[nat]{}, fmt.Errorf("find nat gateway by tags: %w", err)
		}
		all = append(all, pointers(out.NatGateways)...)
	}
	return lookupOwned(k.env, stepNAT, all, natID, func(n nat) bool { return k.env.ownedBy(n.Tags, stepNAT) && slices.Contains(states, n.State) }), nil
}

func natID(n nat) string { return aws.ToString(n.NatGatewayId) }

func (k natGateway) record(n nat) recorded {
	return recorded{id: natID(n), attrs: map[string]string{"subnet": aws.ToString(n.SubnetId)}}
}

func (k natGateway) diff(_ context.Context, n nat) (natFix, []string, error) {
	id := natID(n)
	if got, want := aws.ToString(n.SubnetId), k.env.idOf(stepPublicSubnet); want != "" && got != want {
		return natFix{}, nil, fmt.Errorf("nat %s is in subnet %s, not in subnet/public %s: delete it (aws ec2 delete-nat-gateway --nat-gateway-id %s) and run `provision up` again", id, got, want, id)
	}
	if n.State == ec2types.NatGatewayStatePending {
		return natFix{wait: true}, []string{"wait until available"}, nil
	}
	return natFix{}, nil, nil
}

func (k natGateway) create(ctx context.Context, token string, _ found[nat]) (nat, natFix, error) {
	out, err := k.env.EC2.CreateNatGateway(ctx, &ec2.CreateNatGatewayInput{
		SubnetId:          aws.String(k.env.idOf(stepPublicSubnet)),
		AllocationId:      aws.String(k.env.idOf(stepNATAddress)),
		ClientToken:       &token,
		TagSpecifications: k.env.tagSpec(ec2types.ResourceTypeNatgateway, stepNAT, "nat"),
	})
	if errorCode(err) == "Resource.AlreadyAssociated" {
		// The address is released by a NAT gateway only once that one
		// is fully deleted (after a NAT was deleted by hand).
		return nil, natFix{}, plan.TryAgain(fmt.Errorf("create nat gateway: Elastic IP %s is still held by a NAT gateway that is being deleted: %w", k.env.idOf(stepNATAddress), err))
	}
	if err != nil {
		return nil, natFix{}, retryableCreate(fmt.Errorf("create nat gateway: %w", err))
	}
	return out.NatGateway, natFix{wait: true}, nil
}

// update waits until the gateway is available: 1-2 minutes on AWS, polled
// every few seconds rather than the SDK's 15 s.
func (k natGateway) update(ctx context.Context, n nat, f natFix) error {
	if !f.wait {
		return nil
	}
	id := natID(n)
	w := ec2.NewNatGatewayAvailableWaiter(k.env.EC2, func(o *ec2.NatGatewayAvailableWaiterOptions) {
		o.MinDelay, o.MaxDelay = 3*time.Second, 10*time.Second
	})
	if err := w.Wait(ctx, &ec2.DescribeNatGatewaysInput{NatGatewayIds: []string{id}}, 10*time.Minute); err != nil {
		return fmt.Errorf("nat gateway %s did not become available (see its state message in the console: a failed NAT is replaced by the next `provision up`): %w", id, err)
	}
	return nil
}

// remove deletes the gateway and waits until it is deleted: its Elastic IP
// can be released only then.
func (k natGateway) remove(ctx context.Context, n nat) error {
	id := natID(n)
	if n.State != ec2types.NatGatewayStateDeleting {
		_, err := k.env.EC2.DeleteNatGateway(ctx, &ec2.DeleteNatGatewayInput{NatGatewayId: &id})
		if err != nil && !isNotFound(err) {
			return retryableDelete(fmt.Errorf("delete nat gateway %s: %w", id, err))
		}
	}
	w := ec2.NewNatGatewayDeletedWaiter(k.env.EC2, func(o *ec2.NatGatewayDeletedWaiterOptions) {
		o.MinDelay, o.MaxDelay = 3*time.Second, 10*time.Second
	})
	if err := w.Wait(ctx, &ec2.DescribeNatGatewaysInput{NatGatewayIds: []string{id}}, 10*time.Minute); err != nil && !isNotFound(err) {
		return plan.TryAgain(fmt.Errorf("nat gateway %s is not deleted yet: %w", id, err))
	}
	return nil
}
