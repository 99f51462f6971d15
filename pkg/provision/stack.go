package provision

import (
	"github.com/provision-dev/provision/pkg/plan"
)

// Steps returns the whole environment as a graph, in the order the
// README's "What gets built" lists it. This is the table of contents of what `up` builds and, walked
// backwards, what `down` removes. For a teardown (env.Teardown) it holds
// the steps of every variant (IPv6 or not, either executor), so what an
// earlier configuration built is removed too.
func Steps(env *Env) (*plan.Graph, error) {
	steps := []plan.Step{
		newVPCStep(env),
		newInternetGatewayStep(env),
	}
	if env.Cfg.Network.IPv6 || env.Teardown {
		steps = append(steps, newEgressGatewayStep(env))
	}
	steps = append(steps,
		newSubnetStep(env, true),
		newSubnetStep(env, false),
		newRouteTableStep(env, true),
		newElasticIPStep(env, stepNATAddress, "nat"),
		newNATGatewayStep(env),
		newRouteTableStep(env, false),
		newNetworkACLStep(env, true),
		newNetworkACLStep(env, false),
		newSecurityGroupStep(env, true),
		newSecurityGroupStep(env, false),
	)
	// The token: from GITLAB_RUNNER_TOKEN, or from a runner created through
	// GitLab's API, whose token goes straight into the same parameter.
	if env.tokenStep() == stepGitLabRunner {
		steps = append(steps, newGitLabRunnerStep(env))
	} else {
		steps = append(steps, newRunnerTokenStep(env))
	}
	steps = append(steps, newIAMRoleStep(env, true))
	if env.staticKeys() || env.Teardown {
		steps = append(steps, newRunnerSSHKeyStep(env), newKeyPairStep(env))
	}
	if env.autoscaler() || env.Teardown {
		steps = append(steps, newLaunchTemplateStep(env), newAutoScalingGroupStep(env))
	}
	if !env.autoscaler() || env.Teardown {
		// docker+machine: the manager launches machines itself, with this role.
		steps = append(steps, newIAMRoleStep(env, false), newMachinesStep(env))
	}
	steps = append(steps,
		newElasticIPStep(env, stepManagerAddress, "manager"),
		newManagerInstanceStep(env),
		newAddressAssociationStep(env),
		newGitLabIngressStep(env),
	)
	for i := range steps {
		steps[i] = withTransientRetry(steps[i])
	}
	return plan.NewGraph(steps...)
}
