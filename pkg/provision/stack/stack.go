package stack

import (
	"strings"

	"github.com/provision-dev/provision/pkg/plan"
	"github.com/provision-dev/provision/pkg/provision/awsapi"
)

// Steps returns the whole environment as a graph (docs/design.md lists
// what each step makes). This is the table of contents of what `up`
// builds and, walked backwards, what `down` removes. For a teardown (env.Teardown) it holds
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
	// A public and a private subnet in each zone, each private one with its
	// own route table; one NAT gateway, or one per zone.
	for z := range env.zoneCount() {
		steps = append(steps, newSubnetStep(env, true, z), newSubnetStep(env, false, z), newPrivateRouteTableStep(env, z))
	}
	for z := range env.natCount() {
		steps = append(steps, newElasticIPStep(env, NATAddressStep(z), zoneRole("nat", z)), newNATGatewayStep(env, z))
	}
	steps = append(steps,
		newRouteTableStep(env, true),
		newNetworkACLStep(env, true),
		newNetworkACLStep(env, false),
		newSecurityGroupStep(env, StepManagerGroup),
		newSecurityGroupStep(env, StepRunnerGroup),
		newGatewayEndpointStep(env),
	)
	if services := env.endpointServices(); len(services) > 0 {
		steps = append(steps, newSecurityGroupStep(env, StepEndpointGroup))
		for _, s := range services {
			steps = append(steps, newInterfaceEndpointStep(env, s))
		}
	}
	// The key of the SecureStrings below, unless secrets.kms_key_id brings one.
	if env.Cfg.OwnSecretsKey() || env.Teardown {
		steps = append(steps, newSecretsKeyStep(env))
	}
	// Each fleet's token: from GITLAB_RUNNER_TOKEN(_NAME), or from a runner
	// created through GitLab's API, whose token goes straight into the
	// same parameter.
	for _, f := range env.fleets() {
		if base, _, _ := FleetOf(env.tokenStep(f.Name)); base == StepGitLabRunner {
			steps = append(steps, newGitLabRunnerStep(env, f))
		} else {
			steps = append(steps, newRunnerTokenStep(env, f))
		}
	}
	if env.Cfg.Cache.S3 || env.Teardown {
		steps = append(steps, newCacheBucketStep(env))
	}
	// The manager's journal, which it ships from its first boot stage on.
	steps = append(steps, newLogGroupStep(env), newIAMRoleStep(env, true))
	if env.Cfg.StaticSSHKeys() || env.Teardown {
		steps = append(steps, newRunnerSSHKeyStep(env), newKeyPairStep(env))
	}
	for _, f := range env.fleets() {
		if f.Autoscaler() || env.Teardown {
			steps = append(steps, newLaunchTemplateStep(env, f), newAutoScalingGroupStep(env, f))
		}
	}
	if env.Cfg.Machines() || env.Teardown {
		// docker+machine: the manager launches machines itself, with this role.
		steps = append(steps, newIAMRoleStep(env, false), newMachinesStep(env))
	}
	steps = append(steps,
		newRunnerConfigStep(env),
		newElasticIPStep(env, StepManagerAddress, "manager"),
		newManagerInstanceStep(env),
		newAddressAssociationStep(env),
		newGitLabIngressStep(env),
	)
	if env.Cfg.Autoscaler() || env.Teardown {
		steps = append(steps, newManagerDrainStep(env))
	}
	for i := range steps {
		steps[i] = awsapi.WithTransientRetry(steps[i])
	}
	return plan.NewGraph(steps...)
}

// retirable are the steps of features a configuration can turn off whose
// resources nothing else takes over: interface endpoints (charged by the
// hour) and their group, the static SSH key and its key pair, the cache
// bucket (a cache: its objects may go), the stack's secrets key (once
// secrets.kms_key_id brings another, the SecureStrings move to that one
// in the same run), the zones (and NAT gateways) a smaller configuration
// drops. Other steps that leave the graph
// (another executor, another token source) are left for down: their
// resources may still be in use, or be taken over.
func retirable(configured *Env, id plan.ID) bool {
	// A zone the configuration dropped, or the NAT gateways of zones after
	// the first once network.nat is single again: the group and the route
	// tables moved off them in up's own walk.
	if z, ok := zoneOf(id); ok && z > 0 {
		return true
	}
	// A fleet the configuration dropped: its runner, token, template,
	// group and machines.
	if _, fleet, ok := FleetOf(id); ok && !configured.configuredFleet(fleet) {
		return true
	}
	return strings.HasPrefix(string(id), "vpce/") || id == StepEndpointGroup || id == StepSSHKey || id == StepKeyPair || id == StepCache || id == StepSecretsKey
}

// Retired returns the retirable steps the state still records but the
// configuration no longer has, as a graph to walk backwards (what depends
// on another goes first) after up's own walk.
func Retired(configured, teardown *Env) (*plan.Graph, error) {
	cur, err := Steps(configured)
	if err != nil {
		return nil, err
	}
	all, err := Steps(teardown)
	if err != nil {
		return nil, err
	}
	keep := map[plan.ID]bool{}
	for _, s := range all.Order(false) {
		id := s.ID()
		if retirable(configured, id) && !cur.Has(id) && teardown.Ledger.Get(string(id)) != nil {
			keep[id] = true
		}
	}
	var steps []plan.Step
	for _, s := range all.Order(false) {
		if !keep[s.ID()] {
			continue
		}
		var deps []plan.ID
		for _, d := range s.DependsOn() {
			if keep[d] {
				deps = append(deps, d)
			}
		}
		steps = append(steps, retiredStep{Step: s, deps: deps})
	}
	return plan.NewGraph(steps...)
}

// retiredStep is a step among the retired ones: it waits only for those.
type retiredStep struct {
	plan.Step
	deps []plan.ID
}

func (r retiredStep) DependsOn() []plan.ID { return r.deps }
