package stack

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/aws/aws-sdk-go-v2/service/ssm"
	ssmtypes "github.com/aws/aws-sdk-go-v2/service/ssm/types"

	"github.com/provision-dev/provision/pkg/plan"
	"github.com/provision-dev/provision/pkg/provision/awsapi"
	"github.com/provision-dev/provision/pkg/state"
)

// stackFilter selects every resource tagged with this stack; each step
// then keeps its own by the step tag (lookupOwned).
func (e *Env) stackFilter() []ec2types.Filter {
	return []ec2types.Filter{Filter("tag:"+TagStack, e.Cfg.Stack)}
}

// describeShared is one describe whose answer is shared by the run (its
// items, all of them: EC2 returns every match when MaxResults is not set).
func describeShared[In, Out, T any](ctx context.Context, e *Env, key string, describe func(context.Context, *In, ...func(*ec2.Options)) (*Out, error), in *In, items func(*Out) []T) ([]T, error) {
	shared, err := awsapi.SharedRead(ctx, e.reads, key, func(ctx context.Context) ([]T, error) {
		out, err := describe(ctx, in)
		if err != nil {
			return nil, err
		}
		return items(out), nil
	})
	// A copy for each caller: a step may change what it found.
	return append([]T(nil), shared...), err
}

// RegionAddresses lists every Elastic IP of the account in the region (a
// few: the default quota is five), which serves the quota check and each
// step that looks for its own address.
func (e *Env) RegionAddresses(ctx context.Context) ([]ec2types.Address, error) {
	return describeShared(ctx, e, "addresses", e.EC2.DescribeAddresses, &ec2.DescribeAddressesInput{},
		func(o *ec2.DescribeAddressesOutput) []ec2types.Address { return o.Addresses })
}

// securityGroupSteps are the steps that own a security group.
var securityGroupSteps = []plan.ID{StepManagerGroup, StepRunnerGroup, StepEndpointGroup}

// knownGroups reads, in one call, GitLab's security group and every group
// the state records for the stack, by id (nil map entry: not found). A
// group's name is unique in its VPC, so a create that is sent again can
// never make a second one: the recorded id finds the stack's group as
// surely as its tags do. When one of the ids is gone (the call then fails
// as a whole) each is read on its own.
func (e *Env) knownGroups(ctx context.Context) (map[string]*ec2types.SecurityGroup, error) {
	var ids []string
	if id := e.Cfg.GitLab.SecurityGroupID; id != "" {
		ids = append(ids, id)
	}
	for _, step := range securityGroupSteps {
		if id := e.Ledger.Get(string(step)).RecordedID(); id != "" && e.Ledger.Get(string(step)).Status == state.StatusCreated {
			ids = append(ids, id)
		}
	}
	slices.Sort(ids)
	return awsapi.SharedRead(ctx, e.reads, "groups|"+strings.Join(ids, ","), func(ctx context.Context) (map[string]*ec2types.SecurityGroup, error) {
		found := map[string]*ec2types.SecurityGroup{}
		out, err := e.EC2.DescribeSecurityGroups(ctx, &ec2.DescribeSecurityGroupsInput{GroupIds: ids})
		if awsapi.IsNotFound(err) && len(ids) > 1 {
			for _, id := range ids {
				one, err := e.EC2.DescribeSecurityGroups(ctx, &ec2.DescribeSecurityGroupsInput{GroupIds: []string{id}})
				if err != nil && !awsapi.IsNotFound(err) {
					return nil, fmt.Errorf("describe security group %s: %w", id, err)
				}
				if err == nil && len(one.SecurityGroups) > 0 {
					found[id] = &one.SecurityGroups[0]
				}
			}
			return found, nil
		}
		if err != nil && !awsapi.IsNotFound(err) {
			return nil, fmt.Errorf("describe security groups %s: %w", strings.Join(ids, ", "), err)
		}
		if err == nil {
			for i := range out.SecurityGroups {
				found[aws.ToString(out.SecurityGroups[i].GroupId)] = &out.SecurityGroups[i]
			}
		}
		return found, nil
	})
}

// GitLabGroup reads GitLab's security group (nil: it does not exist).
func (e *Env) GitLabGroup(ctx context.Context) (*ec2types.SecurityGroup, error) {
	groups, err := e.knownGroups(ctx)
	if err != nil {
		return nil, err
	}
	return groups[e.Cfg.GitLab.SecurityGroupID], nil
}

// StackParameter reads one of the parameters a run reads (the stack's
// token, boot report, state record and SSH key, and the public parameters
// naming the latest images): the first caller asks for all of them in one
// GetParameters call, decrypted, and the run shares the answer (an SSM
// write through the run's client makes it stale, as EC2 writes do). A
// name the first call did not know is read on its own. Waits that poll a
// parameter read it with getParameter instead.
func (e *Env) StackParameter(ctx context.Context, name string) (*ssmtypes.Parameter, error) {
	names := e.parametersRead()
	if !slices.Contains(names, name) {
		return GetParameter(ctx, e.SSM, name, true)
	}
	params, err := awsapi.SharedRead(ctx, e.reads, "parameters|"+strings.Join(names, ","), func(ctx context.Context) (map[string]ssmtypes.Parameter, error) {
		out, err := e.SSM.GetParameters(ctx, &ssm.GetParametersInput{Names: names, WithDecryption: aws.Bool(true)})
		if err != nil {
			return nil, fmt.Errorf("read SSM parameters %s: %w", strings.Join(names, ", "), err)
		}
		found := map[string]ssmtypes.Parameter{}
		for _, p := range out.Parameters {
			found[aws.ToString(p.Name)] = p
		}
		return found, nil
	})
	if err != nil {
		return nil, err
	}
	p, ok := params[name]
	if !ok {
		return nil, nil
	}
	return &p, nil
}

// parametersRead are the names stackParameter asks for at once (at most
// ten, GetParameters' limit): the stack's five, and the latest images of
// the families in use for both architectures (the same list whatever this
// run knows of the instance types, so every caller shares one answer).
//
// With several fleets the other fleets' token parameters follow while
// there is room; the rest are read one by one (one read per fleet).
func (e *Env) parametersRead() []string {
	fleets := e.Cfg.FleetList()
	names := []string{e.Names().TokenParameter(fleets[0].Name), e.Names().BootParameter(), StateRecordParameter(e.Cfg.Stack), e.Names().SSHKeyParameter(), e.Names().RunnerConfigParameter()}
	images := []struct{ ami, family string }{{e.Cfg.Manager.AMI, familyAmazonLinux}}
	for _, f := range fleets {
		images = append(images, struct{ ami, family string }{f.AMI, e.runnerImageFamily(f)})
	}
	for _, m := range images {
		for _, arch := range []string{"x86_64", "arm64"} {
			if name := latestImageParameter(m.family, arch); m.ami == "" && !slices.Contains(names, name) {
				names = append(names, name)
			}
		}
	}
	for _, f := range fleets[1:] {
		if len(names) < 10 {
			names = append(names, e.Names().TokenParameter(f.Name))
		}
	}
	return names
}

// addressByAllocation picks one address out of the region's ("" id: none).
func addressByAllocation(addrs []ec2types.Address, id string) *ec2types.Address {
	for i := range addrs {
		if aws.ToString(addrs[i].AllocationId) == id {
			return &addrs[i]
		}
	}
	return nil
}
