package command

import (
	"encoding/json"

	"github.com/provision-dev/provision/pkg/provision"
)

// IAMPolicy prints the policy that up, down and status need for this
// configuration, as IAM takes it.
func IAMPolicy(o Options) (int, error) {
	cfg, err := provision.LoadConfig(o.ConfigPath, o.Region)
	if err != nil {
		return 1, err
	}
	enc := json.NewEncoder(o.Stdout)
	enc.SetIndent("", "  ")
	return 0, enc.Encode(provision.ToolPolicy(cfg))
}
