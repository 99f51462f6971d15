package stack

import (
	"context"
	"fmt"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"

	"github.com/provision-dev/provision/pkg/plan"
	"github.com/provision-dev/provision/pkg/provision/awsapi"
)

// Instances: finding, terminating and waiting, shared by the manager, the
// Auto Scaling group's machines and docker-machine's machines.

// unterminatedInstances returns instances matching the filters that are
// not terminated yet. Teardown counts shutting-down as present: such an
// instance still runs gitlab-runner or docker-machine and still holds its
// network interface, so what comes after it must wait for "terminated".
func unterminatedInstances(ctx context.Context, env *Env, filters []ec2types.Filter) ([]ec2types.Instance, error) {
	filters = append(filters, Filter("instance-state-name", "pending", "running", "shutting-down", "stopping", "stopped"))
	var found []ec2types.Instance
	p := ec2.NewDescribeInstancesPaginator(env.EC2, &ec2.DescribeInstancesInput{Filters: filters})
	for p.HasMorePages() {
		out, err := p.NextPage(ctx)
		if err != nil {
			return nil, fmt.Errorf("list instances: %w", err)
		}
		for _, r := range out.Reservations {
			found = append(found, r.Instances...)
		}
	}
	return found, nil
}

func instanceIDs(instances []ec2types.Instance) []string {
	ids := make([]string, 0, len(instances))
	for _, i := range instances {
		ids = append(ids, aws.ToString(i.InstanceId))
	}
	return ids
}

// terminate terminates instances and reports "try again" until they are
// gone, so what depends on them is deleted only afterwards.
func terminate(ctx context.Context, env *Env, ids []string) error {
	ids = unique(ids)
	if len(ids) == 0 {
		return nil
	}
	_, err := env.EC2.TerminateInstances(ctx, &ec2.TerminateInstancesInput{InstanceIds: ids})
	if err != nil && !awsapi.IsNotFound(err) {
		return awsapi.RetryableDelete(fmt.Errorf("terminate %v: %w", ids, err))
	}
	out, err := env.EC2.DescribeInstances(ctx, &ec2.DescribeInstancesInput{InstanceIds: ids})
	if awsapi.IsNotFound(err) {
		return nil
	}
	if err != nil {
		return plan.TryAgain(fmt.Errorf("check %v: %w", ids, err))
	}
	for _, r := range out.Reservations {
		for _, i := range r.Instances {
			if i.State != nil && i.State.Name != ec2types.InstanceStateNameTerminated {
				return plan.TryAgainf("waiting for %s to terminate (%s)", aws.ToString(i.InstanceId), i.State.Name)
			}
		}
	}
	return nil
}

func ContainsAny(s string, subs ...string) bool {
	for _, x := range subs {
		if strings.Contains(s, x) {
			return true
		}
	}
	return false
}

func unique(ids []string) []string {
	seen := map[string]bool{}
	var out []string
	for _, id := range ids {
		if id != "" && !seen[id] {
			seen[id] = true
			out = append(out, id)
		}
	}
	return out
}
