package command

import (
	"context"
	"fmt"
	"io"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/provision-dev/provision/pkg/provision/config"
	"github.com/provision-dev/provision/pkg/provision/ops"
	"github.com/provision-dev/provision/pkg/provision/stack"
	"github.com/provision-dev/provision/pkg/state"
)

// GraphOptions are the flags of `provision graph`.
type GraphOptions struct {
	Format string // dot or mermaid
	View   string // network or steps
}

// Graph draws the stack from the configuration (and the ids in a local
// state, when there is one) without calling AWS.
func Graph(ctx context.Context, o Options, gopt GraphOptions) (int, error) {
	if gopt.Format != "dot" && gopt.Format != "mermaid" {
		return 1, fmt.Errorf("--format %q: use dot or mermaid", gopt.Format)
	}
	cfg, err := config.LoadConfig(o.ConfigPath, o.Region)
	if err != nil {
		return 1, err
	}
	ids := map[string]string{}
	if cfg.State.S3 == nil {
		if store, err := openBackend(ctx, o, cfg); err == nil {
			if doc, err := store.Load(); err == nil && doc != nil {
				for step, r := range doc.Resources {
					ids[step] = r.ID
				}
			}
		}
	}
	var d ops.Diagram
	switch gopt.View {
	case "network":
		d = ops.NetworkDiagram(cfg, ids)
	case "steps":
		newStack := o.NewStack
		if newStack == nil {
			newStack = awsStack
		}
		region := cfg.Region
		if region == "" {
			region = "(region)"
		}
		st := newStack(cfg, aws.Config{Region: region}, o)
		g, err := st.Steps(state.NewLedger(state.New(cfg.Stack, region), nil), stack.EnvOptions{})
		if err != nil {
			return 1, err
		}
		d = ops.StepDiagram("steps of stack "+cfg.Stack+" (an arrow points to what a step needs)", g)
	default:
		return 1, fmt.Errorf("--view %q: use network or steps", gopt.View)
	}
	out := d.Dot()
	if gopt.Format == "mermaid" {
		out = d.Mermaid()
	}
	_, err = io.WriteString(o.Stdout, out)
	if err != nil {
		return 1, err
	}
	return 0, nil
}
