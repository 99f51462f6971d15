package preflight

import (
	"context"
	"fmt"
	"slices"
	"sort"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"

	"github.com/provision-dev/provision/pkg/provision/stack"
)

// ResolveZone picks the Availability Zone of every zone of the stack. The
// first zone (the manager's): where its subnets already live, else the
// configured one, else the first zone by name that offers both instance
// types. Each further zone: where its subnets live, else the next zone by
// name, not taken yet, that offers the machines' type. It only reads.
func ResolveZone(ctx context.Context, e *stack.Env) error {
	count := e.Cfg.Network.ZoneCount()
	chosen := make([]string, count)
	known := 0
	for z := range chosen {
		chosen[z] = e.AttrOf(stack.PublicSubnetStep(z), stack.AttrZone)
		if chosen[z] != "" {
			known++
		}
	}
	if want := e.Cfg.Network.AvailabilityZone; want != "" && chosen[0] != "" && chosen[0] != want {
		chosen[0] = "" // the subnet's Diff says it cannot move
	}
	if known == count && chosen[0] != "" {
		e.Zone, e.Zones = chosen[0], chosen
		return nil
	}
	zones, err := e.EC2.DescribeAvailabilityZones(ctx, &ec2.DescribeAvailabilityZonesInput{
		Filters: []ec2types.Filter{stack.Filter("zone-type", "availability-zone")},
	})
	if err != nil {
		return fmt.Errorf("list availability zones of %s: %w", e.Region, err)
	}
	var names []string
	for _, z := range zones.AvailabilityZones {
		if z.State == ec2types.AvailabilityZoneStateAvailable || z.State == "" {
			names = append(names, aws.ToString(z.ZoneName))
		}
	}
	sort.Strings(names)
	if len(names) == 0 {
		return fmt.Errorf("region %s has no available zones: check the region name", e.Region)
	}
	types := []string{e.Cfg.Manager.InstanceType, e.Cfg.Runners.InstanceType}
	offered, err := zonesOffering(ctx, e, types)
	if err != nil {
		return err
	}
	if chosen[0] == "" {
		if chosen[0], err = firstZone(e, names, offered, types); err != nil {
			return err
		}
	}
	for z := 1; z < count; z++ {
		if chosen[z] != "" {
			continue
		}
		for _, name := range names {
			if offered[types[1]][name] && !slices.Contains(chosen, name) {
				chosen[z] = name
				break
			}
		}
		if chosen[z] == "" {
			n := 0
			for _, name := range names {
				if offered[types[1]][name] {
					n++
				}
			}
			return fmt.Errorf("network.zones is %d, but %s has only %d zones that offer %s: set network.zones to at most %d, or choose a type sold in more zones", count, e.Region, n, types[1], n)
		}
	}
	e.Zone, e.Zones = chosen[0], chosen
	return nil
}

// firstZone is the manager's zone: the configured one, else the first by
// name that offers both types.
func firstZone(e *stack.Env, names []string, offered map[string]map[string]bool, types []string) (string, error) {
	if want := e.Cfg.Network.AvailabilityZone; want != "" {
		if !slices.Contains(names, want) {
			return "", fmt.Errorf("network.availability_zone %s is not a zone of %s (zones: %s): pick one of them or leave it empty", want, e.Region, strings.Join(names, ", "))
		}
		for _, t := range types {
			if !offered[t][want] {
				return "", fmt.Errorf("zone %s does not offer instance type %s: choose another zone or instance type", want, t)
			}
		}
		return want, nil
	}
	for _, z := range names {
		if offered[types[0]][z] && offered[types[1]][z] {
			return z, nil
		}
	}
	return "", fmt.Errorf("no zone of %s offers both %s and %s: check manager.instance_type and runners.instance_type (is the type spelled right, and sold in this region?)", e.Region, types[0], types[1])
}

// zonesOffering maps instance type -> zone -> offered.
func zonesOffering(ctx context.Context, e *stack.Env, types []string) (map[string]map[string]bool, error) {
	m := map[string]map[string]bool{}
	for _, t := range types {
		m[t] = map[string]bool{}
	}
	p := ec2.NewDescribeInstanceTypeOfferingsPaginator(e.EC2, &ec2.DescribeInstanceTypeOfferingsInput{
		LocationType: ec2types.LocationTypeAvailabilityZone,
		Filters:      []ec2types.Filter{stack.Filter("instance-type", types...)},
	})
	for p.HasMorePages() {
		out, err := p.NextPage(ctx)
		if err != nil {
			return nil, fmt.Errorf("list instance type offerings in %s: %w", e.Region, err)
		}
		for _, o := range out.InstanceTypeOfferings {
			if zs, ok := m[string(o.InstanceType)]; ok {
				zs[aws.ToString(o.Location)] = true
			}
		}
	}
	return m, nil
}
