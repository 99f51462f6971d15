package ops

import (
	"maps"
	"slices"
	"strings"

	"github.com/provision-dev/provision/pkg/plan"
	"github.com/provision-dev/provision/pkg/provision/config"
	"github.com/provision-dev/provision/pkg/provision/stack"
	"github.com/provision-dev/provision/pkg/state"
)

// Output is one value `provision output` prints, read from the state.
type Output struct {
	Name        string `json:"name"`
	Value       string `json:"value"`
	Description string `json:"description"`
}

// outputSpecs say where each output is in the state: a step's id, or one
// of its attributes.
var outputSpecs = []struct {
	name, step  string
	attr        stack.Attr
	description string
}{
	{"manager_address", string(stack.StepManagerAddress), stack.AttrPublicIP, "the manager's Elastic IP (SSH, and its source address at GitLab)"},
	{"nat_address", string(stack.StepNATAddress), stack.AttrPublicIP, "the NAT gateway's Elastic IP: the runner machines' source address at GitLab"},
	{"manager_instance_id", string(stack.StepManager), "", "the manager instance"},
	{"manager_ipv6_address", string(stack.StepManager), stack.AttrIPv6Address, "the manager's IPv6 address"},
	{"autoscaling_group", string(stack.StepAutoScaling), "", "the runner machines' Auto Scaling group (docker-autoscaler)"},
	{"vpc_id", string(stack.StepVPC), "", "the VPC"},
	{"public_subnet_id", string(stack.StepPublicSubnet), "", "the public subnet (manager, NAT gateway)"},
	{"private_subnet_id", string(stack.StepPrivateSubnet), "", "the private subnet (runner machines)"},
	{"runner_security_group_id", string(stack.StepRunnerGroup), "", "the runner machines' security group"},
	{"gitlab_runner_id", string(stack.StepGitLabRunner), "", "the runner's id in GitLab"},
	{"gitlab_runner_id", string(stack.StepToken), stack.AttrRunnerID, "the runner's id in GitLab"},
	{"token_parameter", string(stack.StepToken), "", "the SSM parameter with the runner token"},
	{"token_parameter", string(stack.StepGitLabRunner), stack.AttrParameter, "the SSM parameter with the runner token"},
	{"cache_bucket", string(stack.StepCache), "", "the jobs' cache bucket (cache.s3)"},
	{"ssh_key_parameter", string(stack.StepSSHKey), "", "the SSM parameter with the machines' private SSH key (runners.ssh_keys: static)"},
}

// Outputs are the values scripts need, from the state alone: those the
// stack has (a value that does not exist is left out).
func Outputs(doc *state.Document) []Output {
	var out []Output
	for _, o := range outputSpecs {
		r := doc.Resources[o.step]
		if r == nil || r.Status == state.StatusGone {
			continue
		}
		v := r.ID
		if o.attr != "" {
			v = r.Attributes[string(o.attr)]
		}
		if v != "" {
			out = append(out, Output{Name: o.name, Value: v, Description: o.description})
		}
	}
	return append(out, fleetOutputs(doc)...)
}

// fleetOutputs are the other fleets' values, named NAME.FLEET
// (autoscaling_group.arm), and "fleets", every fleet the state records,
// when the stack has fleets besides the default one.
func fleetOutputs(doc *state.Document) []Output {
	fleets := map[string]bool{}
	var out []Output
	for _, o := range outputSpecs {
		base, _, ok := stack.FleetOf(plan.ID(o.step))
		if !ok {
			continue
		}
		for step, r := range doc.Resources {
			b, fleet, ok := stack.FleetOf(plan.ID(step))
			if !ok || b != base || r == nil || r.Status == state.StatusGone {
				continue
			}
			fleets[fleet] = true
			if fleet == config.DefaultFleet {
				continue
			}
			v := r.ID
			if o.attr != "" {
				v = r.Attributes[string(o.attr)]
			}
			if v != "" {
				out = append(out, Output{Name: o.name + "." + fleet, Value: v, Description: o.description + ", of fleet " + fleet})
			}
		}
	}
	if len(out) == 0 {
		return nil // one fleet, the default one: its values are the outputs above
	}
	slices.SortFunc(out, func(a, b Output) int { return strings.Compare(a.Name, b.Name) })
	names := slices.Sorted(maps.Keys(fleets))
	return append(out, Output{Name: "fleets", Value: strings.Join(names, ","), Description: "the stack's fleets"})
}

// OutputNames lists every output name once, for errors and completion.
func OutputNames() []string {
	var names []string
	for _, o := range outputSpecs {
		if !slices.Contains(names, o.name) {
			names = append(names, o.name)
		}
	}
	return names
}
