package provision

import (
	"context"
	"fmt"
	"strconv"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"

	"github.com/provision-dev/provision/pkg/plan"
	"github.com/provision-dev/provision/pkg/provision/bootstrap"
)

// machinesStep stands for what docker+machine creates on its own: the
// runner machines and their key pairs. `up` creates none of it; `down`
// terminates every machine named after the stack in its VPC, after the
// manager is gone (so none is started again), and deletes the key pairs.
type machinesStep struct{ env *Env }

func newMachinesStep(env *Env) *machinesStep { return &machinesStep{env: env} }

func (s *machinesStep) ID() plan.ID { return stepMachines }
func (s *machinesStep) DependsOn() []plan.ID {
	return []plan.ID{stepVPC, stepPrivateSubnet, stepRunnerGroup, stepRunnerRole}
}

func (s *machinesStep) change() plan.Change {
	return plan.Change{Step: stepMachines, Kind: "runner-machines", Name: bootstrap.MachineNamePrefix(s.env.Cfg.Stack) + "*"}
}

func (s *machinesStep) Plan(ctx context.Context) (plan.Change, error) { return s.change(), nil }

func (s *machinesStep) Apply(ctx context.Context, c plan.Change) error { return nil }

// machinesFound is what down removes.
type machinesFound struct {
	instances, keys []string
}

func (s *machinesStep) PlanDelete(ctx context.Context) (plan.Change, error) {
	c := s.change()
	f, err := s.find(ctx)
	if err != nil || len(f.instances)+len(f.keys) == 0 {
		return c, err
	}
	c.Attrs = []plan.Attr{{Key: "instances", Value: strconv.Itoa(len(f.instances))}, {Key: "key_pairs", Value: strconv.Itoa(len(f.keys))}}
	c.Action = plan.Delete
	c.Detail = f
	return c, nil
}

func (s *machinesStep) Delete(ctx context.Context, c plan.Change) error {
	f := c.Detail.(*machinesFound)
	for _, k := range f.keys {
		if _, err := s.env.EC2.DeleteKeyPair(ctx, &ec2.DeleteKeyPairInput{KeyName: aws.String(k)}); err != nil && !isNotFound(err) {
			return fmt.Errorf("delete key pair %s: %w", k, err)
		}
	}
	return terminate(ctx, s.env, f.instances)
}

func (s *machinesStep) find(ctx context.Context) (*machinesFound, error) {
	prefix := bootstrap.MachineNamePrefix(s.env.Cfg.Stack)
	filters := []ec2types.Filter{filter("tag:Name", prefix+"*")}
	if vpc := s.env.idOf(stepVPC); vpc != "" {
		filters = append(filters, filter("vpc-id", vpc))
	}
	ids, err := liveInstances(ctx, s.env, filters)
	if err != nil {
		return nil, err
	}
	f := &machinesFound{instances: ids}
	keys, err := s.env.EC2.DescribeKeyPairs(ctx, &ec2.DescribeKeyPairsInput{})
	if err != nil {
		return nil, fmt.Errorf("list key pairs: %w", err)
	}
	for _, k := range keys.KeyPairs {
		if name := aws.ToString(k.KeyName); strings.HasPrefix(name, prefix) {
			f.keys = append(f.keys, name)
		}
	}
	return f, nil
}
