package stack

import (
	"context"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"

	"github.com/provision-dev/provision/pkg/plan"
	"github.com/provision-dev/provision/pkg/provision/awsapi"
	"github.com/provision-dev/provision/pkg/provision/resource"
)

// addressAssociationKind gives the running manager its Elastic IP, the fixed
// address GitLab's security group lets in.
type addressAssociationKind struct{ env *Env }

// association is where the manager's address is attached.
type association struct {
	id, instance string
}

func newAddressAssociationStep(env *Env) plan.Step {
	return resource.NewStep[association, struct{}](env.shared(), "eip-association", addressAssociationKind{env})
}

func (k addressAssociationKind) StepID() plan.ID  { return StepManagerAssoc }
func (k addressAssociationKind) Needs() []plan.ID { return []plan.ID{StepManager, StepManagerAddress} }

func (k addressAssociationKind) Describe() plan.Change {
	return plan.Change{Step: StepManagerAssoc, Kind: "eip-association", Name: k.env.name("manager"), Attrs: []plan.Attr{
		{Key: "eip", Value: orUnknown(k.env.IDOf(StepManagerAddress))},
		{Key: "instance", Value: orUnknown(k.env.IDOf(StepManager))},
	}}
}

// Hooks names the optional parts of resource.Step this kind has.
func (k addressAssociationKind) Hooks() resource.Hooks[association, struct{}] {
	return resource.Hooks[association, struct{}]{FindForDelete: k.findForDelete}
}

// Find: the association counts only when it is on this stack's manager
// (a new manager gets the address moved to it).
func (k addressAssociationKind) Find(ctx context.Context) (resource.Found[association], error) {
	a, err := k.current(ctx)
	manager := k.env.IDOf(StepManager)
	return resource.Found[association]{Cur: a, Exists: a.id != "" && manager != "" && a.instance == manager}, err
}

func (k addressAssociationKind) findForDelete(ctx context.Context) (resource.Found[association], error) {
	a, err := k.current(ctx)
	return resource.Found[association]{Cur: a, Exists: a.id != ""}, err
}

// current reads the manager's address: its association and instance.
func (k addressAssociationKind) current(ctx context.Context) (association, error) {
	addrs, err := k.env.RegionAddresses(ctx)
	if err != nil {
		return association{}, fmt.Errorf("describe the manager's Elastic IP: %w", err)
	}
	// Without a recorded address (down without state) the tags find it.
	a := lookupOwned(k.env, StepManagerAddress, resource.Pointers(addrs), allocationID, func(a address) bool { return k.env.ownedBy(a.Tags, StepManagerAddress) }).Cur
	if alloc := k.env.IDOf(StepManagerAddress); alloc != "" {
		a = addressByAllocation(addrs, alloc)
	}
	if a == nil {
		return association{}, nil
	}
	return association{id: aws.ToString(a.AssociationId), instance: aws.ToString(a.InstanceId)}, nil
}

func (k addressAssociationKind) Record(a association) resource.Recorded {
	return resource.Recorded{ID: a.id, Attrs: map[string]string{"instance": a.instance}}
}

// Diff: the association goes with a manager that is replaced (AWS
// disassociates a terminated instance's address) and is made again for the
// new one, which the plan says here rather than surprising the summary.
func (k addressAssociationKind) Diff(context.Context, association) (struct{}, []string, error) {
	if k.env.replacing.Has(StepManager) {
		return struct{}{}, []string{"associate the address with the new manager (instance/manager is replaced)"}, nil
	}
	return struct{}{}, nil, nil
}

func (k addressAssociationKind) Create(ctx context.Context, _ string, _ resource.Found[association]) (association, struct{}, error) {
	manager := k.env.IDOf(StepManager)
	out, err := k.env.EC2.AssociateAddress(ctx, &ec2.AssociateAddressInput{
		AllocationId:       aws.String(k.env.IDOf(StepManagerAddress)),
		InstanceId:         aws.String(manager),
		AllowReassociation: aws.Bool(true),
	})
	if err != nil {
		return association{}, struct{}{}, awsapi.RetryableCreate(fmt.Errorf("associate the manager's Elastic IP: %w", err))
	}
	return association{id: aws.ToString(out.AssociationId), instance: manager}, struct{}{}, nil
}

func (k addressAssociationKind) Update(context.Context, association, struct{}) error { return nil }

func (k addressAssociationKind) Remove(ctx context.Context, a association) error {
	_, err := k.env.EC2.DisassociateAddress(ctx, &ec2.DisassociateAddressInput{AssociationId: &a.id})
	if err != nil && !awsapi.IsNotFound(err) {
		return awsapi.RetryableDelete(fmt.Errorf("disassociate %s: %w", a.id, err))
	}
	return nil
}
