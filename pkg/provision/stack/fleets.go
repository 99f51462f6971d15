package stack

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/aws/aws-sdk-go-v2/service/ssm"
	ssmtypes "github.com/aws/aws-sdk-go-v2/service/ssm/types"
	"github.com/provision-dev/provision/pkg/plan"
	"github.com/provision-dev/provision/pkg/provision/config"
)

// A fleet's steps are the one-fleet stack's with the fleet's name after
// them (asg/runner[large]); the default fleet keeps the bare ids
// (asg/runner), so a stack made before fleets is fleet "default" of its
// grown self. Its AWS names follow the same rule, with "." before the
// fleet's name: a stack's name holds no ".", so no stack's names run into
// another stack's fleets'.

// fleetBases are the steps every fleet has its own of. docker+machine's
// machines are one step for every such fleet: the manager names them all
// alike (MachineNamePrefix), and they are found by that name.
var fleetBases = []plan.ID{StepToken, StepGitLabRunner, StepLaunchTemplate, StepAutoScaling}

// FleetStep is a fleet's own step of a kind: base for the default fleet,
// base[NAME] for the others.
func FleetStep(base plan.ID, fleet string) plan.ID {
	if fleet == config.DefaultFleet || fleet == "" {
		return base
	}
	return base + plan.ID("["+fleet+"]")
}

// FleetOf returns the kind and the fleet of a fleet's step, and whether
// id is one.
func FleetOf(id plan.ID) (base plan.ID, fleet string, ok bool) {
	s := string(id)
	if i := strings.IndexByte(s, '['); i > 0 && strings.HasSuffix(s, "]") {
		base, fleet = plan.ID(s[:i]), s[i+1:len(s)-1]
	} else {
		base, fleet = id, config.DefaultFleet
	}
	return base, fleet, slices.Contains(fleetBases, base)
}

// StepTag is a step's provision:step tag: its id, with a fleet's name
// after a "." (asg/runner.large), since SSM and other services refuse
// brackets in a tag's value.
func StepTag(step plan.ID) string {
	if base, fleet, ok := FleetOf(step); ok && fleet != config.DefaultFleet {
		return string(base) + "." + fleet
	}
	return string(step)
}

// fleetName joins a stack-wide AWS name and a fleet's name: the default
// fleet keeps the name alone.
func fleetName(name, fleet string) string {
	if fleet == config.DefaultFleet {
		return name
	}
	return name + "." + fleet
}

// fleets are the fleets this walk covers: the configured ones, and for a
// teardown also those the state records (a fleet the configuration no
// longer has, or one lost-state discovery found by its tags).
func (e *Env) fleets() []config.Fleet {
	fleets := e.Cfg.FleetList()
	if !e.Teardown {
		return fleets
	}
	fleets = append(fleets, e.recordedFleets()...)
	// The default fleet always: a configuration of named fleets may have
	// dropped it, and without the state nothing else would find it (its
	// steps find nothing when it never existed).
	if !slices.ContainsFunc(fleets, func(f config.Fleet) bool { return f.Name == config.DefaultFleet }) {
		fleets = append(fleets, config.Fleet{Name: config.DefaultFleet, RunnersConfig: config.Defaults().Runners})
	}
	return fleets
}

// recordedFleets are the fleets the state records, or FindFleets found by
// their tags, that the configuration does not name, with the default
// settings (a teardown needs their names only), by name.
func (e *Env) recordedFleets() []config.Fleet {
	var out []config.Fleet
	names := slices.Clone(e.FoundFleets)
	for _, id := range e.Ledger.Steps() {
		if _, name, ok := FleetOf(plan.ID(id)); ok {
			names = append(names, name)
		}
	}
	for _, name := range names {
		if !config.ValidFleetName(name) {
			continue // not a fleet's: a state file edited by hand
		}
		if _, known := e.Cfg.Fleet(name); known || slices.ContainsFunc(out, func(f config.Fleet) bool { return f.Name == name }) {
			continue
		}
		out = append(out, config.Fleet{Name: name, RunnersConfig: config.Defaults().Runners})
	}
	slices.SortFunc(out, func(a, b config.Fleet) int { return strings.Compare(a.Name, b.Name) })
	return out
}

// MarkTokenRenewed notes that a fleet's parameter holds a token
// gitlab-runner renewed, which GitLab accepts while the exported one is
// outdated: up keeps it.
func (e *Env) MarkTokenRenewed(fleet string) {
	if fleet == config.DefaultFleet {
		e.StoredTokenRenewed = true
		return
	}
	if e.RenewedFleets == nil {
		e.RenewedFleets = map[string]bool{}
	}
	e.RenewedFleets[fleet] = true
}

// tokenRenewed reports what MarkTokenRenewed noted.
func (e *Env) tokenRenewed(fleet string) bool {
	if fleet == config.DefaultFleet {
		return e.StoredTokenRenewed
	}
	return e.RenewedFleets[fleet]
}

// tokenParameters are the configured fleets' token parameters.
func (e *Env) tokenParameters() []string {
	var out []string
	for _, f := range e.Cfg.FleetList() {
		out = append(out, e.Names().TokenParameter(f.Name))
	}
	return out
}

// configuredFleet reports whether the configuration has the fleet of a
// fleet's step.
func (e *Env) configuredFleet(fleet string) bool {
	_, ok := e.Cfg.Fleet(fleet)
	return ok
}

// FindFleets finds the fleets whose resources carry the stack's tags
// (their groups, launch templates) or names (their token parameters), so
// that a teardown without the state, or with a configuration that no
// longer names a fleet, removes them too.
func (e *Env) FindFleets(ctx context.Context) error {
	found := map[string]bool{}
	groups, err := stackGroups(ctx, e)
	if err != nil {
		return err
	}
	for _, g := range groups {
		if f, ok := fleetOfTag(groupStep(g)); ok {
			found[f] = true
		}
	}
	// Every page: a filtered list may come in pages of any size, even
	// empty ones, before the last (DescribeParameters' NextToken).
	lts := ec2.NewDescribeLaunchTemplatesPaginator(e.EC2, &ec2.DescribeLaunchTemplatesInput{Filters: []ec2types.Filter{Filter("tag:"+TagStack, e.Cfg.Stack)}})
	for lts.HasMorePages() {
		page, err := lts.NextPage(ctx)
		if err != nil {
			return fmt.Errorf("list the stack's launch templates: %w", err)
		}
		for _, lt := range page.LaunchTemplates {
			if f, ok := fleetOfTag(TagValue(lt.Tags, TagStep)); ok && TagValue(lt.Tags, TagStack) == e.Cfg.Stack {
				found[f] = true
			}
		}
	}
	prefix := e.Names().TokenParameter(config.DefaultFleet) + "."
	params := ssm.NewDescribeParametersPaginator(e.SSM, &ssm.DescribeParametersInput{ParameterFilters: []ssmtypes.ParameterStringFilter{
		{Key: aws.String("Name"), Option: aws.String("BeginsWith"), Values: []string{prefix}}}})
	for params.HasMorePages() {
		page, err := params.NextPage(ctx)
		if err != nil {
			return fmt.Errorf("list the stack's token parameters: %w", err)
		}
		for _, p := range page.Parameters {
			if f := strings.TrimPrefix(aws.ToString(p.Name), prefix); config.ValidFleetName(f) {
				found[f] = true
			}
		}
	}
	e.FoundFleets = slices.Sorted(maps.Keys(found))
	return nil
}

// fleetOfTag is the fleet a provision:step tag names (asg/runner.arm: arm).
func fleetOfTag(tag string) (string, bool) {
	for _, base := range fleetBases {
		if f, ok := strings.CutPrefix(tag, string(base)+"."); ok && config.ValidFleetName(f) {
			return f, true
		}
	}
	return "", false
}
