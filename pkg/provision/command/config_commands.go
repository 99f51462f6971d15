package command

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/provision-dev/provision/pkg/provision/config"
)

// Validate checks the configuration offline: the schema, every value, and
// the keys `up` needs. No AWS or GitLab call.
func Validate(o Options) (int, error) {
	cfg, err := config.LoadConfig(o.ConfigPath, o.Region)
	if err != nil {
		return 1, err
	}
	if ps := cfg.RequiredForUp(); len(ps) > 0 {
		return 1, config.ProblemsIn(o.ConfigPath, ps)
	}
	runs := cfg.FirstFleet().Executor + " executor"
	if fleets := cfg.FleetList(); len(fleets) > 1 {
		var each []string
		for _, f := range fleets {
			each = append(each, f.Name+" ("+f.Executor+")")
		}
		runs = config.Count(len(fleets), "fleet") + ": " + strings.Join(each, ", ")
	}
	fmt.Fprintf(o.Stdout, "%s is valid: stack %q, %s. `provision plan` shows what up would build.\n", o.ConfigPath, cfg.Stack, runs)
	return 0, nil
}

// Init writes the commented configuration to file (default: the
// --config path); it never overwrites a file.
func Init(o Options, file string) (int, error) {
	if file == "" {
		file = o.ConfigPath
	}
	if dir := filepath.Dir(file); dir != "." {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return 1, fmt.Errorf("create %s: %w", dir, err)
		}
	}
	f, err := os.OpenFile(file, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	if errors.Is(err, os.ErrExist) {
		return 1, fmt.Errorf("%s already exists: init never overwrites a file; move it away or name another file (`provision init FILE`)", file)
	}
	if err != nil {
		return 1, fmt.Errorf("create %s: %w", file, err)
	}
	if _, err := f.WriteString(config.ConfigTemplate()); err != nil {
		f.Close()
		return 1, fmt.Errorf("write %s: %w", file, err)
	}
	if err := f.Close(); err != nil {
		return 1, fmt.Errorf("write %s: %w", file, err)
	}
	fmt.Fprintf(o.Stdout, "Wrote %s. Fill in gitlab.url and gitlab.security_group_id, then run `provision validate -c %s`.\n", file, file)
	return 0, nil
}

// Schema prints the JSON Schema of the configuration.
func Schema(o Options) (int, error) {
	_, err := o.Stdout.Write(config.ConfigSchemaJSON())
	if err != nil {
		return 1, err
	}
	return 0, nil
}
