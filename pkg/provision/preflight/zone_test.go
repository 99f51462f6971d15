package preflight

import (
	"context"
	"reflect"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"

	"github.com/provision-dev/provision/pkg/provision/awsapi/awsfake"
	"github.com/provision-dev/provision/pkg/provision/config"
	"github.com/provision-dev/provision/pkg/provision/stack"
	"github.com/provision-dev/provision/pkg/state"
)

// ResolveZone picks the configured or first zone offering both types, else says what to change.
func TestResolveZone(t *testing.T) {
	cases := []struct {
		name   string
		config func(*config.Config)
		setup  func(*account)
		zone   string // chosen; "" : an error
		want   string // part of the error
	}{
		{name: "first by name", zone: "eu-west-1a"},
		{name: "configured", config: func(c *config.Config) { c.Network.AvailabilityZone = "eu-west-1c" }, zone: "eu-west-1c"},
		{name: "first offering both", config: func(c *config.Config) { c.Manager.InstanceType, c.Runners.InstanceType = "t4g.micro", "t4g.medium" }, zone: "eu-west-1b"},
		{name: "unavailable zone skipped", setup: func(a *account) {
			a.Zones[1].State = ec2types.AvailabilityZoneStateImpaired // eu-west-1a
		}, zone: "eu-west-1b"},
		{name: "configured zone of another region", config: func(c *config.Config) { c.Network.AvailabilityZone = "us-east-1a" },
			want: "network.availability_zone us-east-1a is not a zone of eu-west-1 (zones: eu-west-1a, eu-west-1b, eu-west-1c)"},
		{name: "configured zone lacks a type", config: func(c *config.Config) {
			c.Network.AvailabilityZone, c.Runners.InstanceType = "eu-west-1c", "t4g.medium"
		}, want: "zone eu-west-1c does not offer instance type t4g.medium"},
		{name: "no zone offers both", config: func(c *config.Config) { c.Manager.InstanceType, c.Runners.InstanceType = "t4g.micro", "t4g.medium" },
			setup: func(a *account) { a.Offered["t4g.micro"] = []string{"eu-west-1a"} },
			want:  "no zone of eu-west-1 offers both t4g.micro and t4g.medium"},
		{name: "no zones", setup: func(a *account) { a.Zones = nil }, want: "region eu-west-1 has no available zones"},
		{name: "zones unreadable", setup: func(a *account) {
			a.c.EC2.DescribeAvailabilityZonesFn = func(context.Context, *ec2.DescribeAvailabilityZonesInput) (*ec2.DescribeAvailabilityZonesOutput, error) {
				return nil, apiError("UnauthorizedOperation")
			}
		}, want: "list availability zones of eu-west-1"},
		{name: "offerings unreadable", setup: func(a *account) {
			a.c.EC2.DescribeInstanceTypeOfferingsFn = func(context.Context, *ec2.DescribeInstanceTypeOfferingsInput) (*ec2.DescribeInstanceTypeOfferingsOutput, error) {
				return nil, apiError("UnauthorizedOperation")
			}
		}, want: "list instance type offerings in eu-west-1"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			a := newAccount(t, func(cfg *config.Config) {
				cfg.Network.Zones = 1
				if c.config != nil {
					c.config(cfg)
				}
			})
			if c.setup != nil {
				c.setup(a)
			}
			err := ResolveZone(context.Background(), a.e)
			switch {
			case c.zone != "" && (err != nil || a.e.Zone != c.zone):
				t.Errorf("zone %q, %v; want %s", a.e.Zone, err, c.zone)
			case c.zone == "" && (err == nil || !strings.Contains(err.Error(), c.want)):
				t.Errorf("%v, want an error saying %q", err, c.want)
			case c.zone == "" && a.e.Zone != "":
				t.Errorf("zone %q chosen despite the error", a.e.Zone)
			}
		})
	}
}

// The subnets' recorded zone is kept without asking AWS, unless a zone is configured.
func TestResolveZoneKeepsTheSubnetsZone(t *testing.T) {
	for _, configured := range []string{"", "eu-west-1b"} {
		a := newAccount(t, func(c *config.Config) { c.Network.AvailabilityZone, c.Network.Zones = configured, 1 })
		err := a.e.Ledger.Put(string(stack.StepPublicSubnet), &state.Resource{Type: "subnet", ID: "subnet-1", Status: state.StatusCreated,
			Attributes: map[string]string{"zone": "eu-west-1c"}})
		if err != nil {
			t.Fatal(err)
		}
		if err := ResolveZone(context.Background(), a.e); err != nil {
			t.Fatal(err)
		}
		want := "eu-west-1c"
		if configured != "" {
			want = configured
		}
		if a.e.Zone != want {
			t.Errorf("configured %q: zone %q, want %s", configured, a.e.Zone, want)
		}
		if asked := a.called("DescribeAvailabilityZones"); asked != (configured != "") {
			t.Errorf("configured %q: zones listed: %v", configured, asked)
		}
	}
}

// Further zones follow by name among those offering the machines' type,
// skipping the first zone; zones already built keep theirs; a region with
// too few zones is refused with the number it has.
func TestResolveZonesSpreads(t *testing.T) {
	a := newAccount(t, func(c *config.Config) { c.Network.Zones = 3 })
	if err := ResolveZone(context.Background(), a.e); err != nil {
		t.Fatal(err)
	}
	if want := []string{"eu-west-1a", "eu-west-1b", "eu-west-1c"}; !reflect.DeepEqual(a.e.Zones, want) || a.e.Zone != want[0] {
		t.Errorf("zones %v (first %s), want %v", a.e.Zones, a.e.Zone, want)
	}

	a = newAccount(t, func(c *config.Config) { c.Network.Zones, c.Network.AvailabilityZone = 2, "eu-west-1b" })
	if err := ResolveZone(context.Background(), a.e); err != nil {
		t.Fatal(err)
	}
	if want := []string{"eu-west-1b", "eu-west-1a"}; !reflect.DeepEqual(a.e.Zones, want) {
		t.Errorf("configured first zone: zones %v, want %v", a.e.Zones, want)
	}

	// A one-zone stack grown to two: its subnets' zone stays first.
	a = newAccount(t, func(c *config.Config) { c.Network.Zones = 2 })
	if err := a.e.Ledger.Put(string(stack.StepPublicSubnet), &state.Resource{Type: "subnet", ID: "subnet-1", Status: state.StatusCreated,
		Attributes: map[string]string{"zone": "eu-west-1c"}}); err != nil {
		t.Fatal(err)
	}
	if err := ResolveZone(context.Background(), a.e); err != nil {
		t.Fatal(err)
	}
	if want := []string{"eu-west-1c", "eu-west-1a"}; !reflect.DeepEqual(a.e.Zones, want) {
		t.Errorf("grown stack: zones %v, want %v", a.e.Zones, want)
	}

	a = newAccount(t, func(c *config.Config) { c.Network.Zones = 4 })
	err := ResolveZone(context.Background(), a.e)
	if err == nil || !strings.Contains(err.Error(), "network.zones is 4, but eu-west-1 has only 3 zones that offer t3.medium: set network.zones to at most 3") {
		t.Errorf("4 zones of 3: %v", err)
	}
}

// zonesOffering asks for both types in one filtered request and follows every page.
func TestZonesOfferingFollowsPages(t *testing.T) {
	a := newAccount(t, nil)
	pages := map[string]*ec2.DescribeInstanceTypeOfferingsOutput{
		"": {NextToken: aws.String("p2"), InstanceTypeOfferings: []ec2types.InstanceTypeOffering{
			{InstanceType: "t3.micro", Location: aws.String("eu-west-1a")},
			{InstanceType: "m5.large", Location: aws.String("eu-west-1a")}, // not asked for: ignored
		}},
		"p2": {InstanceTypeOfferings: []ec2types.InstanceTypeOffering{
			{InstanceType: "t3.micro", Location: aws.String("eu-west-1b")},
			{InstanceType: "t3.medium", Location: aws.String("eu-west-1b")},
		}},
	}
	a.c.EC2.DescribeInstanceTypeOfferingsFn = func(_ context.Context, in *ec2.DescribeInstanceTypeOfferingsInput) (*ec2.DescribeInstanceTypeOfferingsOutput, error) {
		return pages[aws.ToString(in.NextToken)], nil
	}
	got, err := zonesOffering(context.Background(), a.e, []string{"t3.micro", "t3.medium"})
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]map[string]bool{"t3.micro": {"eu-west-1a": true, "eu-west-1b": true}, "t3.medium": {"eu-west-1b": true}}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("offerings %v, want %v", got, want)
	}
	ins := awsfake.Inputs[*ec2.DescribeInstanceTypeOfferingsInput](a.c, "DescribeInstanceTypeOfferings")
	if len(ins) != 2 {
		t.Fatalf("%d requests, want one per page", len(ins))
	}
	f := ins[0].Filters
	if ins[0].LocationType != ec2types.LocationTypeAvailabilityZone || len(f) != 1 || aws.ToString(f[0].Name) != "instance-type" ||
		!reflect.DeepEqual(f[0].Values, []string{"t3.micro", "t3.medium"}) {
		t.Errorf("request %+v, want both types by zone", ins[0])
	}
}

// Spot with few pools or no on-demand share is warned about, with the
// retry rule for interrupted jobs; many pools with an on-demand share,
// attribute-based types and on-demand machines are not.
func TestSpotWarning(t *testing.T) {
	cfg := func(change func(*config.Config)) *config.Config {
		c := config.Defaults()
		c.Stack = "ci"
		c.Runners.Spot, c.Runners.OnDemandPercentage = true, 20
		change(&c)
		return &c
	}
	cases := []struct {
		name   string
		change func(*config.Config)
		want   []string // "" : no warning
	}{
		{"one type in one zone", func(c *config.Config) { c.Network.Zones = 1 }, []string{"1 Spot pool (1 type in 1 zone), fewer than 6", "runner_system_failure"}},
		{"one type in two zones", func(c *config.Config) {}, []string{"2 Spot pools (1 type in 2 zones)"}},
		{"no on-demand share", func(c *config.Config) {
			c.Runners.InstanceTypes = []string{"t3a.medium", "m5.large"}
			c.Runners.OnDemandPercentage = 0
		}, []string{"no on-demand share", "does not fall back to on-demand"}},
		{"three types in two zones", func(c *config.Config) { c.Runners.InstanceTypes = []string{"t3a.medium", "m5.large"} }, nil},
		{"attribute-based", func(c *config.Config) {
			c.Runners.InstanceRequirements = &config.InstanceRequirements{VCPU: config.Range{Min: 2}, MemoryMiB: config.Range{Min: 4096}}
		}, nil},
		{"on demand", func(c *config.Config) { c.Runners.Spot = false }, nil},
	}
	for _, c := range cases {
		w := SpotWarning(cfg(c.change))
		if (w == "") != (c.want == nil) {
			t.Errorf("%s: warning %q", c.name, w)
		}
		for _, s := range c.want {
			if !strings.Contains(w, s) {
				t.Errorf("%s: %q lacks %q", c.name, w, s)
			}
		}
	}
}
