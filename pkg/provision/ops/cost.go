package ops

import (
	"context"
	"fmt"
	"sort"
	"strconv"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/provision-dev/provision/pkg/plan"
	"github.com/provision-dev/provision/pkg/provision/config"
	"github.com/provision-dev/provision/pkg/provision/stack"
)

// Prices are estimates: AWS's on-demand prices in us-east-1 as listed on
// its pricing pages on PricesAsOf (other regions differ, mostly by 10-30 %
// up). They are a dated table in the binary, not read from AWS: the Price
// List API answers only in us-east-1 and a few other regions, and needs a
// permission of its own; a plan's estimate should not fail on that.
const PricesAsOf = "2026-11-01"

const (
	hoursPerMonth = 730.0
	natPerHour    = 0.045 // a NAT gateway, plus $0.045 per GB processed
	ipv4PerHour   = 0.005 // a public IPv4 address (every Elastic IP)
	endpointHour  = 0.01  // an interface endpoint, per zone
	kmsKeyMonth   = 1.0   // a customer managed KMS key
	gp3GBMonth    = 0.08  // gp3 storage, per GB-month
	managerRootGB = 20.0  // the manager's root volume
	// CloudWatch Logs, standard class: ingestion and storage per GB.
	logsIngestGB      = 0.50
	logsStoredGBMonth = 0.03
)

// onDemand are the on-demand Linux prices per hour of the types a stack is
// usually built with; a type not listed is priced as unknown.
var onDemand = map[string]float64{
	"t3.nano": 0.0052, "t3.micro": 0.0104, "t3.small": 0.0208, "t3.medium": 0.0416, "t3.large": 0.0832, "t3.xlarge": 0.1664, "t3.2xlarge": 0.3328,
	"t3a.micro": 0.0094, "t3a.small": 0.0188, "t3a.medium": 0.0376, "t3a.large": 0.0752, "t3a.xlarge": 0.1504,
	"t4g.nano": 0.0042, "t4g.micro": 0.0084, "t4g.small": 0.0168, "t4g.medium": 0.0336, "t4g.large": 0.0672, "t4g.xlarge": 0.1344,
	"m5.large": 0.096, "m5.xlarge": 0.192, "m5.2xlarge": 0.384, "m6i.large": 0.096, "m6i.xlarge": 0.192, "m6i.2xlarge": 0.384,
	"m7i.large": 0.1008, "m7i.xlarge": 0.2016, "m6g.large": 0.077, "m6g.xlarge": 0.154, "m7g.large": 0.0816, "m7g.xlarge": 0.1632,
	"c5.large": 0.085, "c5.xlarge": 0.17, "c6i.large": 0.085, "c6i.xlarge": 0.17, "c7i.large": 0.0893, "c6g.large": 0.068, "c6g.xlarge": 0.136,
	"c7g.large": 0.0725, "c7g.xlarge": 0.145,
}

// OnDemandPerHour is a type's on-demand price per hour (ok false: not in
// the table).
func OnDemandPerHour(instanceType string) (float64, bool) {
	p, ok := onDemand[instanceType]
	return p, ok
}

// CostItem is one line of what a stack costs while it runs.
type CostItem struct {
	What    string  `json:"what"`
	Count   int     `json:"count"`
	Monthly float64 `json:"usd_per_month"`
	Note    string  `json:"note,omitempty"`
}

// StandingCost is what the stack of cfg costs a month before any job runs,
// item by item: the NAT gateways and the public addresses, the manager,
// the interface endpoints, the stack's KMS key, the log group.
// listed are on-demand prices read from the AWS Price List API for the
// stack's region (OnDemandPrices); a type not in it is priced from the
// table.
func StandingCost(cfg *config.Config, listed map[string]float64) []CostItem {
	n := cfg.Network
	nats := n.NATZones()
	items := []CostItem{
		{What: "NAT gateway", Count: nats, Monthly: float64(nats) * natPerHour * hoursPerMonth, Note: "plus $0.045 per GB it processes"},
		{What: "public IPv4 address (Elastic IP)", Count: nats + 1, Monthly: float64(nats+1) * ipv4PerHour * hoursPerMonth},
	}
	manager := CostItem{What: "manager " + cfg.Manager.InstanceType + " (" + fmt.Sprint(managerRootGB) + " GiB gp3)", Count: 1, Monthly: managerRootGB * gp3GBMonth}
	if p, ok := listed[cfg.Manager.InstanceType]; ok {
		manager.Monthly += p * hoursPerMonth
		manager.Note = "instance price from the AWS Price List API"
	} else if p, ok := OnDemandPerHour(cfg.Manager.InstanceType); ok {
		manager.Monthly += p * hoursPerMonth
	} else {
		manager.Note = "instance price not in the table (" + PricesAsOf + "): only the volume is counted"
	}
	items = append(items, manager)
	e := 0
	for _, name := range n.Endpoints {
		e += len(config.InterfaceEndpoints[name]) // ecr is two: its API and its registry
	}
	if e > 0 {
		zones := n.ZoneCount()
		items = append(items, CostItem{What: "interface endpoint (one interface per zone)", Count: e, Monthly: float64(e*zones) * endpointHour * hoursPerMonth, Note: "plus $0.01 per GB"})
	}
	if cfg.OwnSecretsKey() {
		items = append(items, CostItem{What: "KMS key (the stack's own)", Count: 1, Monthly: kmsKeyMonth})
	}
	// Charged by volume only: a manager at rest logs a few MB a day.
	items = append(items, CostItem{What: "log group (the manager's journal)", Count: 1, Monthly: 0,
		Note: fmt.Sprintf("$%.2f per GB ingested, $%.2f per GB-month kept (%d days)", logsIngestGB, logsStoredGBMonth, cfg.Logs.RetentionDays)})
	return items
}

// Total adds the items up.
func Total(items []CostItem) float64 {
	t := 0.0
	for _, i := range items {
		t += i.Monthly
	}
	return t
}

// PlanCost is the monthly change a plan makes to the standing cost: a line
// per kind of resource it adds or removes ("+$32.85/month: NAT gateway").
func PlanCost(changes []plan.Change, cfg *config.Config) (float64, []string) {
	per := map[string]float64{}
	for _, c := range changes {
		sign := 0.0
		switch c.Action {
		case plan.Create:
			sign = 1
		case plan.Delete:
			sign = -1
		default:
			continue
		}
		what, monthly := changeCost(c, cfg)
		if monthly != 0 {
			per[what] += sign * monthly
		}
	}
	var total float64
	var lines []string
	keys := make([]string, 0, len(per))
	for k := range per {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		if per[k] == 0 {
			continue
		}
		total += per[k]
		lines = append(lines, fmt.Sprintf("%s/month: %s", Dollars(per[k]), k))
	}
	return total, lines
}

// changeCost is the monthly price of what one change makes or removes.
func changeCost(c plan.Change, cfg *config.Config) (string, float64) {
	switch c.Kind {
	case "nat-gateway":
		return "NAT gateway", natPerHour * hoursPerMonth
	case "elastic-ip":
		return "public IPv4 address", ipv4PerHour * hoursPerMonth
	case "kms-key":
		return "KMS key", kmsKeyMonth
	case "vpc-endpoint":
		for _, a := range c.Attrs {
			if a.Key == "type" && a.Value == "interface" {
				return "interface endpoint", float64(cfg.Network.ZoneCount()) * endpointHour * hoursPerMonth
			}
		}
	case "instance":
		if p, ok := OnDemandPerHour(cfg.Manager.InstanceType); ok && c.Step == "instance/manager" {
			return "manager instance", p*hoursPerMonth + managerRootGB*gp3GBMonth
		}
	}
	return "", 0
}

// Dollars writes an amount with its sign: "+$32.85", "-$3.65".
func Dollars(v float64) string {
	if v < 0 {
		return fmt.Sprintf("-$%.2f", -v)
	}
	return fmt.Sprintf("+$%.2f", v)
}

// ListedPriceLabel says what the prices of `provision cost` are when some
// came from the AWS Price List API (read today).
func ListedPriceLabel(region, today string) string {
	return "estimate: on-demand instance prices from the AWS Price List API for " + region + ", read " + today +
		"; the rest from us-east-1 prices of " + PricesAsOf
}

// PriceLabel says what the prices are.
func PriceLabel(region string) string {
	label := "estimate from us-east-1 on-demand prices of " + PricesAsOf
	if region != "" && region != "us-east-1" {
		label += "; " + region + " differs"
	}
	return label
}

// SpotPrices asks EC2 for the latest Spot price of each type (Linux, the
// lowest of the region's zones); a type without one is left out.
func SpotPrices(ctx context.Context, e *stack.Env, types []string) (map[string]float64, error) {
	in := &ec2.DescribeSpotPriceHistoryInput{ProductDescriptions: []string{"Linux/UNIX"}, StartTime: aws.Time(time.Now())}
	for _, t := range types {
		in.InstanceTypes = append(in.InstanceTypes, ec2types.InstanceType(t))
	}
	out, err := e.EC2.DescribeSpotPriceHistory(ctx, in)
	if err != nil {
		return nil, fmt.Errorf("read Spot prices: %w", err)
	}
	prices := map[string]float64{}
	for _, p := range out.SpotPriceHistory {
		v, err := strconv.ParseFloat(aws.ToString(p.SpotPrice), 64)
		if err != nil {
			continue
		}
		t := string(p.InstanceType)
		if cur, ok := prices[t]; !ok || v < cur {
			prices[t] = v
		}
	}
	return prices, nil
}
