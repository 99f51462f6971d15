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

// elasticIPKind allocates one fixed public address. GitLab's security group
// lets in exactly these addresses, so they must survive everything but down.
type elasticIPKind struct {
	env  *Env
	id   plan.ID
	role string
}

type address = *ec2types.Address

func newElasticIPStep(env *Env, id plan.ID, role string) plan.Step {
	return resource.NewStep[address, struct{}](env.shared(), "elastic-ip", elasticIPKind{env: env, id: id, role: role})
}

func (k elasticIPKind) StepID() plan.ID  { return k.id }
func (k elasticIPKind) Needs() []plan.ID { return nil }

func (k elasticIPKind) Describe() plan.Change {
	return plan.Change{Step: k.id, Kind: "elastic-ip", Name: k.env.name(k.role)}
}

// Hooks names the optional parts of resource.Step this kind has.
func (k elasticIPKind) Hooks() resource.Hooks[address, struct{}] {
	return resource.Hooks[address, struct{}]{Shown: k.shown, EC2Tags: k.ec2TagsOf}
}

func (k elasticIPKind) Find(ctx context.Context) (resource.Found[address], error) {
	addrs, err := k.env.RegionAddresses(ctx)
	if err != nil {
		return resource.Found[address]{}, fmt.Errorf("find Elastic IP %s by tags: %w", k.id, err)
	}
	return lookupOwned(k.env, k.id, resource.Pointers(addrs), allocationID, func(a address) bool { return k.env.ownedBy(a.Tags, k.id) }), nil
}

func allocationID(a address) string { return aws.ToString(a.AllocationId) }

func (k elasticIPKind) Record(a address) resource.Recorded {
	return resource.Recorded{ID: allocationID(a), Attrs: map[string]string{string(AttrPublicIP): aws.ToString(a.PublicIp)}}
}

func (k elasticIPKind) shown(a address) []plan.Attr {
	return []plan.Attr{{Key: "address", Value: aws.ToString(a.PublicIp)}}
}

func (k elasticIPKind) Diff(context.Context, address) (struct{}, []string, error) {
	return struct{}{}, nil, nil
}

func (k elasticIPKind) Create(ctx context.Context, _ string, _ resource.Found[address]) (address, struct{}, error) {
	out, err := k.env.EC2.AllocateAddress(ctx, &ec2.AllocateAddressInput{
		Domain:            ec2types.DomainTypeVpc,
		TagSpecifications: k.env.tagSpec(ec2types.ResourceTypeElasticIp, k.id, k.role),
	})
	if err != nil {
		if awsapi.ErrorCode(err) == "AddressLimitExceeded" {
			return nil, struct{}{}, fmt.Errorf("allocate Elastic IP for %s: the account's Elastic IP quota in %s is used up; release unused addresses or request a higher quota (Service Quotas, \"EC2-VPC Elastic IPs\"): %w", k.id, k.env.Region, err)
		}
		return nil, struct{}{}, fmt.Errorf("allocate Elastic IP for %s: %w", k.id, err)
	}
	return &ec2types.Address{AllocationId: out.AllocationId, PublicIp: out.PublicIp}, struct{}{}, nil
}

func (k elasticIPKind) Update(context.Context, address, struct{}) error { return nil }

// Remove gives the address back. An address is released only after
// whatever uses it (the NAT gateway) is fully deleted; until then AWS
// answers InUse and we try again. AuthFailure here means the address was
// released already and perhaps handed to another account ("ReleaseAddress"
// in the EC2 API reference): it is gone for us. Anywhere else AuthFailure
// is a credentials problem, not worth a retry.
func (k elasticIPKind) Remove(ctx context.Context, a address) error {
	id := allocationID(a)
	_, err := k.env.EC2.ReleaseAddress(ctx, &ec2.ReleaseAddressInput{AllocationId: aws.String(id)})
	if err != nil && !awsapi.IsNotFound(err) && awsapi.ErrorCode(err) != "AuthFailure" {
		return awsapi.RetryableDelete(fmt.Errorf("release Elastic IP %s: %w", id, err))
	}
	return nil
}

// ec2TagsOf: the configuration's tags follow `tags:` (resource.Step, through Hooks.EC2Tags).
func (k elasticIPKind) ec2TagsOf(cur address) []ec2types.Tag { return cur.Tags }
