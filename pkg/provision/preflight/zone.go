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

// ResolveZone picks the availability zone for both subnets: the zone the
// subnets already live in, else the configured one, else the first zone
// (by name) that offers both instance types. It only reads.
func ResolveZone(ctx context.Context, e *stack.Env) error {
	if z := e.AttrOf(stack.StepPublicSubnet, stack.AttrZone); z != "" && e.Cfg.Network.AvailabilityZone == "" {
		e.Zone = z
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
	if want := e.Cfg.Network.AvailabilityZone; want != "" {
		if !slices.Contains(names, want) {
			return fmt.Errorf("network.availability_zone %s is not a zone of %s (zones: %s): pick one of them or leave it empty", want, e.Region, strings.Join(names, ", "))
		}
		for _, t := range types {
			if !offered[t][want] {
				return fmt.Errorf("zone %s does not offer instance type %s: choose another zone or instance type", want, t)
			}
		}
		e.Zone = want
		return nil
	}
	for _, z := range names {
		if offered[types[0]][z] && offered[types[1]][z] {
			e.Zone = z
			return nil
		}
	}
	return fmt.Errorf("no zone of %s offers both %s and %s: check manager.instance_type and runners.instance_type (is the type spelled right, and sold in this region?)", e.Region, types[0], types[1])
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
