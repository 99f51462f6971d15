package command

import (
	"context"
	"encoding/json"
	"fmt"
	"text/tabwriter"
	"time"

	"github.com/provision-dev/provision/pkg/provision/ops"
)

// CostOptions are the flags of `provision cost`.
type CostOptions struct{ JSON bool }

// CostReport is what `cost --json` prints.
type CostReport struct {
	Region   string          `json:"region"`
	Prices   string          `json:"prices"`
	Items    []ops.CostItem  `json:"items"`
	Monthly  float64         `json:"usd_per_month"`
	Machines []MachinePrices `json:"machines"`
}

// MachinePrices is what a runner machine of one type costs an hour.
type MachinePrices struct {
	Type     string   `json:"type"`
	OnDemand *float64 `json:"on_demand_usd_per_hour,omitempty"`
	Spot     *float64 `json:"spot_usd_per_hour,omitempty"`
}

// Cost prints what the configured stack costs a month while it runs, item
// by item, and what a machine of each runner type costs an hour, on
// demand (the dated table) and on Spot now (EC2's Spot price history).
// Estimates, labelled so: it makes no change and needs no state.
func Cost(ctx context.Context, o Options, co CostOptions) (int, error) {
	s, err := openSession(ctx, o, false, "cost")
	if err != nil {
		return 1, err
	}
	defer s.close()
	types := s.cfg.RunnerTypes()
	// The region's on-demand prices from the AWS Price List API; the
	// dated table when it does not answer (no permission, no network,
	// an emulator) or lists a type not.
	// Bounded: without a network the SDK would retry for a long while.
	priceCtx, cancel := context.WithTimeout(ctx, 10*time.Second)
	listed, listErr := s.stack.OnDemandPrices(priceCtx, append([]string{s.cfg.Manager.InstanceType}, types...))
	cancel()
	rep := CostReport{Region: s.awsCfg.Region, Prices: ops.PriceLabel(s.awsCfg.Region), Items: ops.StandingCost(s.cfg, listed)}
	if len(listed) > 0 {
		rep.Prices = ops.ListedPriceLabel(s.awsCfg.Region, time.Now().UTC().Format(time.DateOnly))
	}
	rep.Monthly = ops.Total(rep.Items)
	spot, spotErr := s.stack.SpotPrices(ctx, types)
	for _, t := range types {
		m := MachinePrices{Type: t}
		if p, ok := listed[t]; ok {
			m.OnDemand = &p
		} else if p, ok := ops.OnDemandPerHour(t); ok {
			m.OnDemand = &p
		}
		if p, ok := spot[t]; ok {
			m.Spot = &p
		}
		rep.Machines = append(rep.Machines, m)
	}
	if co.JSON {
		enc := json.NewEncoder(o.Stdout)
		enc.SetIndent("", "  ")
		return 0, enc.Encode(rep)
	}
	w := o.Stdout
	fmt.Fprintf(w, "Stack %q in %s while it runs, before any job (%s):\n\n", s.cfg.Stack, rep.Region, rep.Prices)
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ITEM\tCOUNT\tUSD/MONTH\tNOTE")
	for _, i := range rep.Items {
		fmt.Fprintf(tw, "%s\t%d\t%.2f\t%s\n", i.What, i.Count, i.Monthly, i.Note)
	}
	fmt.Fprintf(tw, "total\t\t%.2f\t\n", rep.Monthly)
	if err := tw.Flush(); err != nil {
		return 1, err
	}
	fmt.Fprintf(w, "\nA runner machine, while it runs (plus its %d GiB gp3 volume):\n\n", s.cfg.FirstFleet().VolumeSizeGB)
	tw = tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "TYPE\tON DEMAND USD/HOUR\tSPOT NOW USD/HOUR")
	for _, m := range rep.Machines {
		fmt.Fprintf(tw, "%s\t%s\t%s\n", m.Type, price(m.OnDemand), price(m.Spot))
	}
	if err := tw.Flush(); err != nil {
		return 1, err
	}
	if spotErr != nil {
		fmt.Fprintf(w, "\nSpot prices could not be read: %v\n", spotErr)
	}
	if listErr != nil {
		// Debug, not a warning: the table is the documented fallback.
		o.Log.Debug("on-demand prices from the table: " + listErr.Error())
	}
	return 0, nil
}

func price(p *float64) string {
	if p == nil {
		return "unknown"
	}
	return fmt.Sprintf("%.4f", *p)
}
