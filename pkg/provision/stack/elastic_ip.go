package stack

import (
	"context"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"

	"github.com/provision-dev/provision/pkg/plan"
	"github.com/provision-dev/provision/pkg/provision/awsapi"
)

// elasticIP allocates one fixed public address. GitLab's security group
// lets in exactly these addresses, so they must survive everything but down.
type elasticIP struct {
	env  *Env
	id   plan.ID
	role string
}

type address = *ec2types.Address

func newElasticIPStep(env *Env, id plan.ID, role string) plan.Step {
	return newResourceStep[address, struct{}](env, "elastic-ip", elasticIP{env: env, id: id, role: role})
}

func (k elasticIP) stepID() plan.ID  { return k.id }
func (k elasticIP) needs() []plan.ID { return nil }

func (k elasticIP) describe() plan.Change {
	return plan.Change{Step: k.id, Kind: "elastic-ip", Name: k.env.name(k.role)}
}

func (k elasticIP) find(ctx context.Context) (found[address], error) {
	addrs, err := k.env.RegionAddresses(ctx)
	if err != nil {
		return found[address]{}, fmt.Errorf("find Elastic IP %s by tags: %w", k.id, err)
	}
	return lookupOwned(k.env, k.id, pointers(addrs), allocationID, func(a address) bool { return k.env.ownedBy(a.Tags, k.id) }), nil
}

func allocationID(a address) string { return aws.ToString(a.AllocationId) }

func (k elasticIP) record(a address) recorded {
	return recorded{id: allocationID(a), attrs: map[string]string{"public_ip": aws.ToString(a.PublicIp)}}
}

func (k elasticIP) shown(a address) []plan.Attr {
	return []plan.Attr{{Key: "address", Value: aws.ToString(a.PublicIp)}}
}

func (k elasticIP) diff(context.Context, address) (struct{}, []string, error) {
	return struct{}{}, nil, nil
}

func (k elasticIP) create(ctx context.Context, _ string, _ found[address]) (address, struct{}, error) {
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

func (k elasticIP) update(context.Context, address, struct{}) error { return nil }

// remove gives the address back. An address is released only after
// whatever uses it (the NAT gateway) is fully deleted; until then AWS
// answers InUse and we try again. AuthFailure here means the address was
// released already and perhaps handed to another account ("ReleaseAddress"
// in the EC2 API reference): it is gone for us. Anywhere else AuthFailure
// is a credentials problem, not worth a retry.
func (k elasticIP) remove(ctx context.Context, a address) error {
	id := allocationID(a)
	_, err := k.env.EC2.ReleaseAddress(ctx, &ec2.ReleaseAddressInput{AllocationId: aws.String(id)})
	if err != nil && !awsapi.IsNotFound(err) && awsapi.ErrorCode(err) != "AuthFailure" {
		return awsapi.RetryableDelete(fmt.Errorf("release Elastic IP %s: %w", id, err))
	}
	return nil
}

// ec2TagsOf: the configuration's tags follow `tags:` (tag_drift.go).
func (k elasticIP) ec2TagsOf(cur address) []ec2types.Tag { return cur.Tags }
