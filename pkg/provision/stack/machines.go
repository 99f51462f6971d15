package stack

import (
	"context"
	"fmt"
	"slices"
	"strconv"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"

	"github.com/provision-dev/provision/pkg/plan"
	"github.com/provision-dev/provision/pkg/provision/awsapi"
	"github.com/provision-dev/provision/pkg/provision/bootstrap"
)

// machinesStep stands for what docker+machine creates on its own: the
// runner machines, their Spot requests and their key pairs. `up` creates
// none of it; `down` removes all of it after the manager is gone (so none
// is started again). It is the one step that is not a resource kind: there
// is nothing to find, compare or create for a build, only to clean up.
type machinesStep struct {
	env  *Env
	seen machinesFound // what the last PlanDelete found, for Delete
}

func newMachinesStep(env *Env) *machinesStep { return &machinesStep{env: env} }

func (s *machinesStep) ID() plan.ID { return StepMachines }
func (s *machinesStep) DependsOn() []plan.ID {
	return []plan.ID{StepVPC, StepPrivateSubnet, StepRunnerGroup, StepRunnerRole}
}

func (s *machinesStep) change() plan.Change {
	return plan.Change{Step: StepMachines, Kind: "runner-machines", Name: bootstrap.MachineNameIAMPattern(s.env.Cfg.Stack)}
}

func (s *machinesStep) Plan(ctx context.Context) (plan.Change, error) { return s.change(), nil }

func (s *machinesStep) Apply(ctx context.Context, c plan.Change) error { return nil }

// machinesFound is what down removes.
type machinesFound struct {
	instances, spotRequests, keys []string
}

func (s *machinesStep) PlanDelete(ctx context.Context) (plan.Change, error) {
	c := s.change()
	f, err := s.lookup(ctx)
	if err != nil || len(f.instances)+len(f.spotRequests)+len(f.keys) == 0 {
		return c, err
	}
	c.Attrs = []plan.Attr{{Key: "instances", Value: strconv.Itoa(len(f.instances))}, {Key: "spot_requests", Value: strconv.Itoa(len(f.spotRequests))},
		{Key: "key_pairs", Value: strconv.Itoa(len(f.keys))}}
	c.Action = plan.Delete
	s.seen = *f
	return c, nil
}

// Delete cancels the Spot requests first, so none is fulfilled after its
// machines are gone, then deletes the key pairs and terminates the
// machines, waiting until they are terminated.
func (s *machinesStep) Delete(ctx context.Context, c plan.Change) error {
	f := s.seen
	if len(f.spotRequests) > 0 {
		_, err := s.env.EC2.CancelSpotInstanceRequests(ctx, &ec2.CancelSpotInstanceRequestsInput{SpotInstanceRequestIds: f.spotRequests})
		if err != nil && !awsapi.IsNotFound(err) {
			return fmt.Errorf("cancel the runner machines' Spot requests %v: %w", f.spotRequests, err)
		}
	}
	for _, k := range f.keys {
		if _, err := s.env.EC2.DeleteKeyPair(ctx, &ec2.DeleteKeyPairInput{KeyName: aws.String(k)}); err != nil && !awsapi.IsNotFound(err) {
			return fmt.Errorf("delete key pair %s: %w", k, err)
		}
	}
	return terminate(ctx, s.env, f.instances)
}

// machineMarks are what a docker+machine machine cannot avoid carrying:
// the runner security group and instance profile that the manager's
// policy forces on every launch. Its Name tag is only a third mark: a
// Spot machine has no tags until the driver adds them after launch.
type machineMarks struct {
	vpc, subnet, group, profileARN string
	name                           func(string) bool
}

func (s *machinesStep) marks() machineMarks {
	e := s.env
	return machineMarks{
		vpc: e.IDOf(StepVPC), subnet: e.IDOf(StepPrivateSubnet), group: e.IDOf(StepRunnerGroup),
		profileARN: e.arns().IAMInstanceProfile(e.Names().IAM("runner")),
		name:       bootstrap.MachineNameRegexp(e.Cfg.Stack).MatchString,
	}
}

func (m machineMarks) instance(i ec2types.Instance) bool {
	if m.vpc != "" && aws.ToString(i.VpcId) != "" && aws.ToString(i.VpcId) != m.vpc {
		return false
	}
	for _, g := range i.SecurityGroups {
		if m.group != "" && aws.ToString(g.GroupId) == m.group {
			return true
		}
	}
	if p := i.IamInstanceProfile; p != nil && aws.ToString(p.Arn) == m.profileARN {
		return true
	}
	return m.name(TagValue(i.Tags, "Name"))
}

func (m machineMarks) spotRequest(r ec2types.SpotInstanceRequest) bool {
	spec := r.LaunchSpecification
	if spec == nil {
		return false
	}
	for _, g := range spec.SecurityGroups {
		if m.group != "" && aws.ToString(g.GroupId) == m.group {
			return true
		}
	}
	if p := spec.IamInstanceProfile; p != nil && m.profileARN != "" && aws.ToString(p.Arn) == m.profileARN {
		return true
	}
	return m.subnet != "" && aws.ToString(spec.SubnetId) == m.subnet
}

func (s *machinesStep) lookup(ctx context.Context) (*machinesFound, error) {
	m := s.marks()
	var queries [][]ec2types.Filter
	switch {
	case m.vpc != "":
		queries = append(queries, []ec2types.Filter{Filter("vpc-id", m.vpc)})
	default:
		// Without the VPC (its record is lost), look by each mark.
		if m.group != "" {
			queries = append(queries, []ec2types.Filter{Filter("instance.group-id", m.group)})
		}
		queries = append(queries, []ec2types.Filter{Filter("tag:Name", "runner-*-"+bootstrap.MachineNamePrefix(s.env.Cfg.Stack)+"*")})
	}
	f := &machinesFound{}
	for _, q := range queries {
		found, err := unterminatedInstances(ctx, s.env, q)
		if err != nil {
			return nil, err
		}
		for _, i := range found {
			if m.instance(i) && !slices.Contains(f.instances, aws.ToString(i.InstanceId)) {
				f.instances = append(f.instances, aws.ToString(i.InstanceId))
			}
		}
	}
	// The request filters the emulator and AWS share are the state ones;
	// the marks are compared here.
	spots, err := s.env.EC2.DescribeSpotInstanceRequests(ctx, &ec2.DescribeSpotInstanceRequestsInput{Filters: []ec2types.Filter{Filter("state", "open", "active")}})
	if err != nil {
		return nil, fmt.Errorf("list Spot requests: %w", err)
	}
	for _, r := range spots.SpotInstanceRequests {
		if !m.spotRequest(r) {
			continue
		}
		f.spotRequests = append(f.spotRequests, aws.ToString(r.SpotInstanceRequestId))
		if id := aws.ToString(r.InstanceId); id != "" && !slices.Contains(f.instances, id) {
			f.instances = append(f.instances, id)
		}
	}
	keys, err := s.env.EC2.DescribeKeyPairs(ctx, &ec2.DescribeKeyPairsInput{})
	if err != nil {
		return nil, fmt.Errorf("list key pairs: %w", err)
	}
	match := bootstrap.KeyPairRegexp(s.env.Cfg.Stack)
	for _, k := range keys.KeyPairs {
		if name := aws.ToString(k.KeyName); match.MatchString(name) {
			f.keys = append(f.keys, name)
		}
	}
	return f, nil
}
