package provision

import (
	"context"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"

	"github.com/provision-dev/provision/pkg/plan"
)


// elasticIPStep allocates one fixed public address. GitLab's security group
// lets in exactly these addresses, so they must survive everything but down.
type elasticIPStep struct {
	env  *Env
	id   plan.ID
	role string
}

func newElasticIPStep(env *Env, id plan.ID, role string) *elasticIPStep {
	return &elasticIPStep{env: env, id: id, role: role}
}

func (s *elasticIPStep) ID() plan.ID          { return s.id }
func (s *elasticIPStep) DependsOn() []plan.ID { return nil }

func (s *elasticIPStep) change() plan.Change {
	return plan.Change{Step: s.id, Kind: "elastic-ip", Name: s.env.name(s.role)}
}

func (s *elasticIPStep) Plan(ctx context.Context) (plan.Change, error) {
	c := s.change()
	addr, dups, err := s.find(ctx)
	if err != nil {
		return c, err
	}
	if addr == nil {
		c.Action = plan.Create
		return c, s.env.markGone(s.id)
	}
	c.ID = aws.ToString(addr.AllocationId)
	c.Attrs = []plan.Attr{{Key: "address", Value: aws.ToString(addr.PublicIp)}}
	if c.Reasons = duplicateReasons(dups); len(dups) > 0 {
		c.Action = plan.Update
		c.Detail = dups
	}
	return c, s.env.created(s.id, "elastic-ip", c.ID, map[string]string{"public_ip": aws.ToString(addr.PublicIp)})
}

func (s *elasticIPStep) Apply(ctx context.Context, c plan.Change) error {
	if c.Action == plan.Update {
		return s.release(ctx, c.Detail.([]string))
	}
	if _, err := s.env.beginCreate(s.id, "elastic-ip"); err != nil {
		return err
	}
	out, err := s.env.EC2.AllocateAddress(ctx, &ec2.AllocateAddressInput{
		Domain:            ec2types.DomainTypeVpc,
		TagSpecifications: s.env.tagSpec(ec2types.ResourceTypeElasticIp, s.id, s.role),
	})
	if err != nil {
		if errorCode(err) == "AddressLimitExceeded" {
			return fmt.Errorf("allocate Elastic IP for %s: the account's Elastic IP quota in %s is used up; release unused addresses or request a higher quota (Service Quotas, \"EC2-VPC Elastic IPs\"): %w", s.id, s.env.Region, err)
		}
		return fmt.Errorf("allocate Elastic IP for %s: %w", s.id, err)
	}
	return s.env.created(s.id, "elastic-ip", aws.ToString(out.AllocationId), map[string]string{"public_ip": aws.ToString(out.PublicIp)})
}

func (s *elasticIPStep) PlanDelete(ctx context.Context) (plan.Change, error) {
	c := s.change()
	addr, dups, err := s.find(ctx)
	if err != nil || addr == nil {
		if err == nil {
			err = s.env.forget(s.id)
		}
		return c, err
	}
	c.ID = aws.ToString(addr.AllocationId)
	c.Attrs = []plan.Attr{{Key: "address", Value: aws.ToString(addr.PublicIp)}}
	c.Action = plan.Delete
	c.Detail = append(dups, c.ID)
	return c, nil
}

func (s *elasticIPStep) Delete(ctx context.Context, c plan.Change) error {
	if err := s.release(ctx, c.Detail.([]string)); err != nil {
		return err
	}
	return s.env.forget(s.id)
}

// release gives addresses back. An address is released only after whatever
// uses it (the NAT gateway) is fully deleted; until then AWS answers InUse
// and we try again. AuthFailure here means the address was released
// already and perhaps handed to another account ("ReleaseAddress" in the
// EC2 API reference): it is gone for us. Anywhere else AuthFailure is a
// credentials problem, not worth a retry.
func (s *elasticIPStep) release(ctx context.Context, ids []string) error {
	for _, id := range ids {
		_, err := s.env.EC2.ReleaseAddress(ctx, &ec2.ReleaseAddressInput{AllocationId: aws.String(id)})
		if err != nil && !isNotFound(err) && errorCode(err) != "AuthFailure" {
			return retryableDelete(fmt.Errorf("release Elastic IP %s: %w", id, err))
		}
	}
	return nil
}

// find looks by the ownership tags; the recorded address is kept, any
// other is a duplicate (an allocation whose answer was lost).
func (s *elasticIPStep) find(ctx context.Context) (*ec2types.Address, []string, error) {
	out, err := s.env.EC2.DescribeAddresses(ctx, &ec2.DescribeAddressesInput{Filters: s.env.ownerFilters(s.id)})
	if err != nil {
		return nil, nil, fmt.Errorf("find Elastic IP %s by tags: %w", s.id, err)
	}
	var owned []*ec2types.Address
	for i := range out.Addresses {
		if s.env.ownedBy(out.Addresses[i].Tags, s.id) {
			owned = append(owned, &out.Addresses[i])
		}
	}
	keep, dups := keepOne(owned, func(a *ec2types.Address) string { return aws.ToString(a.AllocationId) }, s.env.Ledger.Get(string(s.id)).RecordedID())
	return keep, dups, nil
}
