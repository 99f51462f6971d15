package stack

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/provision-dev/provision/pkg/plan"
	"github.com/provision-dev/provision/pkg/provision/config"
)

// A stack spreads over zones 0..n-1. Zone 0 keeps the ids a one-zone stack
// always had (subnet/public, rtb/private, nat, ...), so a stack made before
// zones existed is zone 0 of its grown self; zone z > 0 adds "/z+1"
// (subnet/private/2 is the second zone's private subnet).

// PublicSubnetStep is zone z's public subnet.
func PublicSubnetStep(z int) plan.ID { return zoneID(StepPublicSubnet, z) }

// PrivateSubnetStep is zone z's private subnet.
func PrivateSubnetStep(z int) plan.ID { return zoneID(StepPrivateSubnet, z) }

// PrivateRoutesStep is zone z's private route table.
func PrivateRoutesStep(z int) plan.ID { return zoneID(StepPrivateRoutes, z) }

// NATStep is zone z's NAT gateway (network.nat: per_zone; else only zone 0's).
func NATStep(z int) plan.ID { return zoneID(StepNAT, z) }

// NATAddressStep is the Elastic IP of zone z's NAT gateway.
func NATAddressStep(z int) plan.ID { return zoneID(StepNATAddress, z) }

func zoneID(base plan.ID, z int) plan.ID {
	if z == 0 {
		return base
	}
	return plan.ID(fmt.Sprintf("%s/%d", base, z+1))
}

// zoneOf returns the zone of a per-zone step id and whether it is one.
func zoneOf(id plan.ID) (int, bool) {
	for _, base := range []plan.ID{StepPublicSubnet, StepPrivateSubnet, StepPrivateRoutes, StepNAT, StepNATAddress} {
		if id == base {
			return 0, true
		}
		rest, ok := strings.CutPrefix(string(id), string(base)+"/")
		if n, err := strconv.Atoi(rest); ok && err == nil && n >= 2 {
			return n - 1, true
		}
	}
	return 0, false
}

// zoneCount is how many zones the walk covers: the configured ones, or,
// to tear down, as many as a region can have (what a larger configuration
// built is removed too; absent ones cost no call, their lists are shared).
func (e *Env) zoneCount() int {
	if e.Teardown {
		return config.MaxZones
	}
	return e.Cfg.Network.ZoneCount()
}

// natCount is how many NAT gateways the walk covers.
func (e *Env) natCount() int {
	if e.Teardown {
		return config.MaxZones
	}
	return e.Cfg.Network.NATZones()
}

// natOf is the NAT gateway that zone z's private subnet goes out through.
func (e *Env) natOf(z int) plan.ID {
	if e.Cfg.Network.NAT == config.NATPerZone {
		return NATStep(z)
	}
	return StepNAT
}

// zoneName is zone z's Availability Zone ("" until preflight chose it).
func (e *Env) zoneName(z int) string {
	if z < len(e.Zones) {
		return e.Zones[z]
	}
	if z == 0 {
		return e.Zone
	}
	return ""
}

// zoneRole names zone z's resources of a role: "public", "public-2".
func zoneRole(role string, z int) string {
	if z == 0 {
		return role
	}
	return fmt.Sprintf("%s-%d", role, z+1)
}

// zoneSubnets are the configured ranges of every zone; a configuration that
// validated has them, a teardown of one that no longer does has the first.
func (e *Env) zoneSubnets() []config.ZoneSubnets {
	zs, err := e.Cfg.Network.Subnets()
	if err != nil || len(zs) == 0 {
		return []config.ZoneSubnets{{Public: e.Cfg.Network.PublicSubnetCIDR, Private: e.Cfg.Network.PrivateSubnetCIDR}}
	}
	return zs
}

// privateSubnets are the private subnet steps of every zone of the walk.
func (e *Env) privateSubnets() []plan.ID { return e.zoneSteps(PrivateSubnetStep) }

// publicSubnets are the public subnet steps of every zone of the walk.
func (e *Env) publicSubnets() []plan.ID { return e.zoneSteps(PublicSubnetStep) }

func (e *Env) zoneSteps(of func(int) plan.ID) []plan.ID {
	ids := make([]plan.ID, e.zoneCount())
	for z := range ids {
		ids[z] = of(z)
	}
	return ids
}

// idsOf are the recorded ids of these steps, skipping those not made yet.
func (e *Env) idsOf(steps []plan.ID) []string {
	var ids []string
	for _, s := range steps {
		if id := e.IDOf(s); id != "" {
			ids = append(ids, id)
		}
	}
	return ids
}

// subnetsAttr shows the subnets a table or ACL is associated with: the
// ones made, each once, and "(known after apply)" while any of the
// configured ones is not (a teardown shows the ones it finds).
func subnetsAttr(e *Env, steps []plan.ID) plan.Attr {
	ids := e.idsOf(steps)
	key := "subnet"
	if len(steps) > 1 {
		key = "subnets"
	}
	if len(ids) == 0 || (!e.Teardown && len(ids) < len(steps)) {
		ids = append(ids, knownAfterApply)
	}
	return plan.Attr{Key: key, Value: strings.Join(ids, ",")}
}

// laterSubnets are reasons for the subnets (or tables) of a zone this plan
// adds: they are joined once made, in the same run.
func laterSubnets(e *Env, steps []plan.ID) []string {
	var rs []string
	for _, s := range steps {
		if e.IDOf(s) == "" {
			rs = append(rs, fmt.Sprintf("associate with %s (%s)", s, knownAfterApply))
		}
	}
	return rs
}
