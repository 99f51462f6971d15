package command

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"slices"
	"strings"

	"github.com/provision-dev/provision/pkg/plan"
)

// planFileVersion is bumped when a field of a saved plan changes meaning.
const planFileVersion = 1

// savedPlan is what `plan -out FILE` writes and `up FILE` applies: the
// changes, and what they were computed from (the state's lineage and
// serial, the configuration's digest). As with Terraform's saved plans, a
// plan is refused once any of these changed.
type savedPlan struct {
	FormatVersion int               `json:"format_version"`
	Stack         string            `json:"stack"`
	Region        string            `json:"region"`
	Lineage       string            `json:"lineage"` // "" when there was no state
	Serial        int64             `json:"serial"`
	ConfigSHA256  string            `json:"config_sha256"`
	Changes       []plan.JSONChange `json:"changes"`
	// Text is the plan as `plan` printed it (`provision show FILE`).
	Text string `json:"text,omitempty"`
}

func configDigest(path string) (string, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return "", fmt.Errorf("read the configuration: %w", err)
	}
	sum := sha256.Sum256(data)
	return hex.EncodeToString(sum[:]), nil
}

// savePlan writes the plan to file (mode 0600: it names the stack's
// resources, though never a secret).
func (s *session) savePlan(file string, changes []plan.Change) error {
	digest, err := configDigest(s.opts.ConfigPath)
	if err != nil {
		return err
	}
	var text strings.Builder
	if err := plan.RenderText(&text, s.header(false), changes, plan.TextOptions{ShowUnchanged: s.opts.ShowUnchanged}); err != nil {
		return err
	}
	p := savedPlan{FormatVersion: planFileVersion, Stack: s.cfg.Stack, Region: s.awsCfg.Region, ConfigSHA256: digest, Changes: plan.JSONChanges(changes), Text: text.String()}
	if s.doc != nil {
		p.Lineage, p.Serial = s.doc.Lineage, s.doc.Serial
	}
	b, err := json.MarshalIndent(p, "", "  ")
	if err != nil {
		return err
	}
	if err := os.WriteFile(file, append(b, '\n'), 0o600); err != nil {
		return fmt.Errorf("save the plan: %w", err)
	}
	return nil
}

func loadPlan(file string) (*savedPlan, error) {
	data, err := os.ReadFile(file)
	if errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("plan file %s not found: make one with `provision plan -out %s`", file, file)
	}
	if err != nil {
		return nil, fmt.Errorf("read the plan: %w", err)
	}
	var p savedPlan
	if err := json.Unmarshal(data, &p); err != nil || p.FormatVersion == 0 {
		return nil, fmt.Errorf("%s is not a plan saved by `provision plan -out`", file)
	}
	if p.FormatVersion != planFileVersion {
		return nil, fmt.Errorf("%s was saved by another version of provision (plan format %d, this one reads %d): make it again with `provision plan -out`", file, p.FormatVersion, planFileVersion)
	}
	return &p, nil
}

// checkSavedPlan refuses a saved plan that no longer describes what up
// would do: another stack or region, a changed configuration or state, or
// AWS changed so that the plan computed now differs.
func (s *session) checkSavedPlan(file string, p *savedPlan, now []plan.Change) error {
	stale := func(why string) error {
		return fmt.Errorf("saved plan %s is stale: %s. Nothing was changed; make a new plan with `provision plan -out %s`", file, why, file)
	}
	if p.Stack != s.cfg.Stack || p.Region != s.awsCfg.Region {
		return stale(fmt.Sprintf("it is for stack %q in %s, not %q in %s", p.Stack, p.Region, s.cfg.Stack, s.awsCfg.Region))
	}
	digest, err := configDigest(s.opts.ConfigPath)
	if err != nil {
		return err
	}
	if digest != p.ConfigSHA256 {
		return stale("the configuration file changed since")
	}
	lineage, serial := "", int64(0)
	if s.doc != nil {
		lineage, serial = s.doc.Lineage, s.doc.Serial
	}
	if lineage != p.Lineage {
		return stale(fmt.Sprintf("the state's lineage is %q, the plan's %q", lineage, p.Lineage))
	}
	if serial != p.Serial {
		return stale(fmt.Sprintf("the state changed since (serial %d, the plan was made at %d)", serial, p.Serial))
	}
	if cur := plan.JSONChanges(now); !slices.EqualFunc(cur, p.Changes, sameChange) {
		return stale("AWS changed since: the plan computed now differs from the saved one (`provision plan` shows it)")
	}
	return nil
}

func sameChange(a, b plan.JSONChange) bool {
	return a.Step == b.Step && a.Action == b.Action && slices.Equal(a.Reasons, b.Reasons)
}
