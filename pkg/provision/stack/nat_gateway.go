package stack

import (
	"context"
	"errors"
	"fmt"
	"slices"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"

	"github.com/provision-dev/provision/pkg/plan"
	"github.com/provision-dev/provision/pkg/provision/awsapi"
	"github.com/provision-dev/provision/pkg/provision/resource"
)

// natGatewayKind is a NAT gateway in a zone's public subnet through which
// runner machines reach GitLab over IPv4, from a fixed address (eip/nat,
// eip/nat/2, ...): the first zone's, or with network.nat: per_zone one in
// every zone.
type natGatewayKind struct {
	env                 *Env
	id, address, subnet plan.ID
	role                string
}

type nat = *ec2types.NatGateway

// natFix: the gateway is pending; apply waits until it is available.
type natFix struct{ wait bool }

func newNATGatewayStep(env *Env, z int) plan.Step {
	k := natGatewayKind{env: env, id: NATStep(z), address: NATAddressStep(z), subnet: PublicSubnetStep(z), role: zoneRole("nat", z)}
	return resource.NewStep[nat, natFix](env.shared(), "nat-gateway", k)
}

func (k natGatewayKind) StepID() plan.ID { return k.id }

// The NAT needs the internet gateway attached to reach the internet.
func (k natGatewayKind) Needs() []plan.ID {
	return []plan.ID{k.subnet, k.address, StepIGW}
}

// Hooks names the optional parts of resource.Step this kind has.
func (k natGatewayKind) Hooks() resource.Hooks[nat, natFix] {
	return resource.Hooks[nat, natFix]{FindForDelete: k.findForDelete, Pending: k.pending, EC2Tags: k.ec2TagsOf}
}

func (k natGatewayKind) Describe() plan.Change {
	return plan.Change{Step: k.id, Kind: "nat-gateway", Name: k.env.name(k.role), Attrs: []plan.Attr{
		{Key: "subnet", Value: orUnknown(k.env.IDOf(k.subnet))},
		{Key: "eip", Value: orUnknown(k.env.IDOf(k.address))},
	}}
}

// Find looks in the VPC and checks the tags in code (NAT tag filters are
// not honoured everywhere). Deleted and failed gateways stay visible for
// an hour and count as absent; deleting ones count only for down.
func (k natGatewayKind) Find(ctx context.Context) (resource.Found[nat], error) {
	return k.lookup(ctx, ec2types.NatGatewayStatePending, ec2types.NatGatewayStateAvailable)
}

func (k natGatewayKind) findForDelete(ctx context.Context) (resource.Found[nat], error) {
	return k.lookup(ctx, ec2types.NatGatewayStatePending, ec2types.NatGatewayStateAvailable, ec2types.NatGatewayStateDeleting)
}

func (k natGatewayKind) lookup(ctx context.Context, states ...ec2types.NatGatewayState) (resource.Found[nat], error) {
	in := &ec2.DescribeNatGatewaysInput{Filter: k.env.ownerFilters(k.id)}
	if vpcID := k.env.IDOf(StepVPC); vpcID != "" {
		in.Filter = append(in.Filter, Filter("vpc-id", vpcID))
	}
	var all []nat
	p := ec2.NewDescribeNatGatewaysPaginator(k.env.EC2, in)
	for p.HasMorePages() {
		out, err := p.NextPage(ctx)
		if err != nil {
			return resource.Found[nat]{}, fmt.Errorf("find nat gateway by tags: %w", err)
		}
		all = append(all, resource.Pointers(out.NatGateways)...)
	}
	return lookupOwned(k.env, k.id, all, natID, func(n nat) bool { return k.env.ownedBy(n.Tags, k.id) && slices.Contains(states, n.State) }), nil
}

func natID(n nat) string { return aws.ToString(n.NatGatewayId) }

func (k natGatewayKind) Record(n nat) resource.Recorded {
	return resource.Recorded{ID: natID(n), Attrs: map[string]string{"subnet": aws.ToString(n.SubnetId)}}
}

func (k natGatewayKind) Diff(_ context.Context, n nat) (natFix, []string, error) {
	id := natID(n)
	if got, want := aws.ToString(n.SubnetId), k.env.IDOf(k.subnet); want != "" && got != want {
		return natFix{}, nil, fmt.Errorf("%s %s is in subnet %s, not in %s %s: delete it (aws ec2 delete-nat-gateway --nat-gateway-id %s) and run `provision up` again", k.id, id, got, k.subnet, want, id)
	}
	if n.State == ec2types.NatGatewayStatePending {
		return natFix{wait: true}, []string{"wait until available"}, nil
	}
	return natFix{}, nil, nil
}

func (k natGatewayKind) Create(ctx context.Context, token string, _ resource.Found[nat]) (nat, natFix, error) {
	out, err := k.env.EC2.CreateNatGateway(ctx, &ec2.CreateNatGatewayInput{
		SubnetId:          aws.String(k.env.IDOf(k.subnet)),
		AllocationId:      aws.String(k.env.IDOf(k.address)),
		ClientToken:       &token,
		TagSpecifications: k.env.tagSpec(ec2types.ResourceTypeNatgateway, k.id, k.role),
	})
	if awsapi.ErrorCode(err) == "Resource.AlreadyAssociated" {
		// The address is released by a NAT gateway only once that one
		// is fully deleted (after a NAT was deleted by hand).
		return nil, natFix{}, plan.TryAgain(fmt.Errorf("create nat gateway: Elastic IP %s is still held by a NAT gateway that is being deleted: %w", k.env.IDOf(k.address), err))
	}
	if err != nil {
		return nil, natFix{}, awsapi.RetryableCreate(fmt.Errorf("create nat gateway %s: %w", k.id, err))
	}
	return out.NatGateway, natFix{wait: true}, nil
}

func (k natGatewayKind) pending(n nat) string {
	if n.State == ec2types.NatGatewayStatePending {
		return string(n.State)
	}
	return ""
}

// Update waits until the gateway is available: 1-2 minutes on AWS, polled
// quickly at first rather than every 15 s as the SDK's waiter does.
func (k natGatewayKind) Update(ctx context.Context, n nat, f natFix) error {
	if !f.wait {
		return nil
	}
	id := natID(n)
	return plan.Poll(ctx, id+" to be available", func(ctx context.Context) (string, bool, error) {
		cur, err := k.describe1(ctx, id)
		switch {
		case err != nil:
			return "", false, err
		case cur == nil:
			return "not visible yet", false, nil
		case cur.State == ec2types.NatGatewayStateAvailable:
			return "", true, nil
		case cur.State == ec2types.NatGatewayStateFailed:
			// A failed NAT counts as absent: the next run creates another.
			return "", false, plan.TryAgainf("nat gateway %s failed: %s", id, aws.ToString(cur.FailureMessage))
		}
		return id + ", " + string(cur.State), false, nil
	})
}

// describe1 reads one gateway by id; nil when AWS does not show it (yet).
func (k natGatewayKind) describe1(ctx context.Context, id string) (nat, error) {
	out, err := k.env.EC2.DescribeNatGateways(ctx, &ec2.DescribeNatGatewaysInput{NatGatewayIds: []string{id}})
	if awsapi.IsNotFound(err) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read nat gateway %s: %w", id, err)
	}
	if len(out.NatGateways) == 0 {
		return nil, nil
	}
	return &out.NatGateways[0], nil
}

// Remove deletes the gateway and waits until it is deleted: its Elastic IP
// can be released only then.
func (k natGatewayKind) Remove(ctx context.Context, n nat) error {
	id := natID(n)
	if n.State != ec2types.NatGatewayStateDeleting {
		_, err := k.env.EC2.DeleteNatGateway(ctx, &ec2.DeleteNatGatewayInput{NatGatewayId: &id})
		if err != nil && !awsapi.IsNotFound(err) {
			return awsapi.RetryableDelete(fmt.Errorf("delete nat gateway %s: %w", id, err))
		}
	}
	err := plan.Poll(ctx, id+" to be deleted", func(ctx context.Context) (string, bool, error) {
		cur, err := k.describe1(ctx, id)
		switch {
		case err != nil:
			return "", false, err
		case cur == nil || cur.State == ec2types.NatGatewayStateDeleted:
			return "", true, nil
		}
		return id + ", " + string(cur.State), false, nil
	})
	if err != nil && !errors.Is(err, plan.ErrInterrupted) && !plan.IsTryAgain(err) {
		return plan.TryAgain(fmt.Errorf("nat gateway %s is not deleted yet: %w", id, err))
	}
	return err
}

// ec2TagsOf: the configuration's tags follow `tags:` (resource.Step, through Hooks.EC2Tags).
func (k natGatewayKind) ec2TagsOf(cur nat) []ec2types.Tag { return cur.Tags }
