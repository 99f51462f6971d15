package command

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/provision-dev/provision/pkg/plan"
)

// ShowOptions are the flags of `provision show FILE`.
type ShowOptions struct {
	File         string
	JSON         bool
	GitLabReport bool
}

// Show prints a plan saved by `plan -out`: as plan printed it, as JSON
// (the `plan --json` document), or as the counts GitLab's Terraform
// report reads. It reads the file alone: no configuration, state or AWS.
func Show(_ context.Context, o Options, so ShowOptions) (int, error) {
	if so.File == "" {
		return 1, fmt.Errorf("show needs the plan file: `provision show plan.json` (made with `provision plan -out plan.json`)")
	}
	if so.JSON && so.GitLabReport {
		return 1, fmt.Errorf("--json and --gitlab-report are two forms of the plan: give one")
	}
	p, err := loadPlan(so.File)
	if err != nil {
		return 1, err
	}
	changes := plan.ChangesFromJSON(p.Changes)
	switch {
	case so.GitLabReport:
		return 0, json.NewEncoder(o.Stdout).Encode(plan.GitLabReportOf(changes))
	case so.JSON:
		return 0, plan.RenderJSON(o.Stdout, plan.Header{Stack: p.Stack, Region: p.Region}, changes)
	case p.Text != "":
		_, err := fmt.Fprint(o.Stdout, p.Text)
		return 0, err
	}
	return 0, plan.RenderText(o.Stdout, plan.Header{Stack: p.Stack, Region: p.Region}, changes, o.textOptions())
}
