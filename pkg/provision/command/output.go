package command

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"text/tabwriter"

	"github.com/provision-dev/provision/pkg/provision/config"
	"github.com/provision-dev/provision/pkg/provision/ops"
)

// OutputOptions are the arguments of `provision output`.
type OutputOptions struct {
	Name string // one output; empty: all
	JSON bool
}

// Output prints the values scripts need, from the state alone (no AWS
// call): with a NAME just its value, as Terraform's output does.
func Output(ctx context.Context, o Options, oo OutputOptions) (int, error) {
	cfg, err := config.LoadConfig(o.ConfigPath, o.Region)
	if err != nil {
		return 1, err
	}
	store, err := openBackend(ctx, o, cfg)
	if err != nil {
		return 1, err
	}
	doc, err := store.Load()
	if err != nil {
		return 1, err
	}
	if doc == nil {
		return 1, fmt.Errorf("stack %q has no state (%s): nothing has been built; run `provision up` first", cfg.Stack, store.Location())
	}
	outs := ops.Outputs(doc)
	if oo.Name != "" {
		for _, out := range outs {
			if out.Name == oo.Name {
				if oo.JSON {
					return 0, json.NewEncoder(o.Stdout).Encode(out.Value)
				}
				fmt.Fprintln(o.Stdout, out.Value)
				return 0, nil
			}
		}
		msg := fmt.Sprintf("no output %q", oo.Name)
		if s := config.Closest(oo.Name, ops.OutputNames()); s != "" && s != oo.Name {
			msg += fmt.Sprintf("; did you mean %s?", s)
		} else {
			msg += " in this stack's state; the outputs are " + strings.Join(ops.OutputNames(), ", ")
		}
		return 1, fmt.Errorf("%s", msg)
	}
	if oo.JSON {
		m := map[string]string{}
		for _, out := range outs {
			m[out.Name] = out.Value
		}
		enc := json.NewEncoder(o.Stdout)
		enc.SetIndent("", "  ")
		return 0, enc.Encode(m)
	}
	tw := tabwriter.NewWriter(o.Stdout, 0, 4, 2, ' ', 0)
	for _, out := range outs {
		fmt.Fprintf(tw, "%s\t%s\t# %s\n", out.Name, out.Value, out.Description)
	}
	return 0, tw.Flush()
}
