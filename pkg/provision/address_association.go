package provision

import (
	"context"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"

	"github.com/provision-dev/provision/pkg/plan"
)

// addressAssociationStep gives the running manager its Elastic IP, the
// fixed address GitLab's security group lets in.
type addressAssociationStep struct{ env *Env }

func newAddressAssociationStep(env *Env) *addressAssociationStep {
	return &addressAssociationStep{env: env}
}

func (s *addressAssociationStep) ID() plan.ID { return stepManagerAssoc }
func (s *addressAssociationStep) DependsOn() []plan.ID {
	return []plan.ID{stepManager, stepManagerAddress}
}

func (s *addressAssociationStep) change() plan.Change {
	return plan.Change{Step: stepManagerAssoc, Kind: "eip-association", Name: s.env.name("manager"), Attrs: []plan.Attr{
		{Key: "eip", Value: orUnknown(s.env.idOf(stepManagerAddress))},
		{Key: "instance", Value: orUnknown(s.env.idOf(stepManager))},
	}}
}

// current returns the association id and the instance the address is on.
func (s *addressAssociationStep) current(ctx context.Context) (assoc, instance string, err error) {
	in := &ec2.DescribeAddressesInput{Filters: s.env.ownerFilters(stepManagerAddress)}
	// Without a recorded address (down without state) the tags find it.
	if alloc := s.env.idOf(stepManagerAddress); alloc != "" {
		in = &ec2.DescribeAddressesInput{AllocationIds: []string{alloc}}
	}
	out, err := s.env.EC2.DescribeAddresses(ctx, in)
	if isNotFound(err) || (err == nil && len(out.Addresses) == 0) {
		return "", "", nil
	}
	if err != nil {
		return "", "", fmt.Errorf("describe the manager's Elastic IP: %w", err)
	}
	return aws.ToString(out.Addresses[0].AssociationId), aws.ToString(out.Addresses[0].InstanceId), nil
}

func (s *addressAssociationStep) Plan(ctx context.Context) (plan.Change, error) {
	c := s.change()
	assoc, instance, err := s.current(ctx)
	if err != nil {
		return c, err
	}
	if assoc == "" || instance != s.env.idOf(stepManager) || instance == "" {
		c.Action = plan.Create
		return c, s.env.markGone(stepManagerAssoc)
	}
	c.ID = assoc
	return c, s.env.created(stepManagerAssoc, "eip-association", assoc, map[string]string{"instance": instance})
}

func (s *addressAssociationStep) Apply(ctx context.Context, c plan.Change) error {
	out, err := s.env.EC2.AssociateAddress(ctx, &ec2.AssociateAddressInput{
		AllocationId:       aws.String(s.env.idOf(stepManagerAddress)),
		InstanceId:         aws.String(s.env.idOf(stepManager)),
		AllowReassociation: aws.Bool(true),
	})
	if err != nil {
		return retryableCreate(fmt.Errorf("associate the manager's Elastic IP: %w", err))
	}
	return s.env.created(stepManagerAssoc, "eip-association", aws.ToString(out.AssociationId), map[string]string{"instance": s.env.idOf(stepManager)})
}

func (s *addressAssociationStep) PlanDelete(ctx context.Context) (plan.Change, error) {
	c := s.change()
	assoc, _, err := s.current(ctx)
	if err != nil || assoc == "" {
		if err == nil {
			err = s.env.forget(stepManagerAssoc)
		}
		return c, err
	}
	c.ID = assoc
	c.Action = plan.Delete
	return c, nil
}

func (s *addressAssociationStep) Delete(ctx context.Context, c plan.Change) error {
	_, err := s.env.EC2.DisassociateAddress(ctx, &ec2.DisassociateAddressInput{AssociationId: &c.ID})
	if err != nil && !isNotFound(err) {
		return retryableDelete(fmt.Errorf("disassociate %s: %w", c.ID, err))
	}
	return s.env.forget(stepManagerAssoc)
}
