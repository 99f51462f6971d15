package provision

import (
	"github.com/provision-dev/provision/pkg/plan"
)

// Steps returns the whole environment as a graph, in the order SPEC §3
// lists it. This is the table of contents of what `up` builds and, walked
// backwards, what `down` removes.
func Steps(env *Env) (*plan.Graph, error) {
	steps := []plan.Step{
		newVPCStep(env),
		newInternetGatewayStep(env),
	}
	if env.Cfg.Network.IPv6 {
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
	return plan.NewGraph(steps...)
}
