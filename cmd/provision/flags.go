package main

import (
	"fmt"

	"github.com/urfave/cli/v2"
)

// globalFlags are accepted before the command and after it alike
// (`provision -c x.yaml plan` and `provision plan -c x.yaml`): every
// command gets its own copy, and global() reads whichever was set.
func globalFlags() []cli.Flag {
	return []cli.Flag{
		&cli.StringFlag{Name: "config", Aliases: []string{"c"}, Value: "provision.yaml", Usage: "configuration `FILE`"},
		&cli.StringFlag{Name: "state", Usage: "state `FILE` or s3://BUCKET/KEY (default: state.s3 in the config, else .provision/<stack>.json next to it)"},
		&cli.StringFlag{Name: "region", Usage: "AWS region (overrides the config file)"},
		&cli.StringFlag{Name: "profile", Usage: "AWS shared config profile (default: AWS_PROFILE)"},
		&cli.StringFlag{Name: "log-level", Value: "info", Usage: "debug|info|warn|error"},
		&cli.StringFlag{Name: "log-format", Value: "console", Usage: "console|json"},
		&cli.BoolFlag{Name: "no-color", Usage: "no colour (also: NO_COLOR set, or no terminal)"},
	}
}

// withGlobals adds the global flags to a command and its subcommands.
func withGlobals(cmds []*cli.Command) []*cli.Command {
	for _, c := range cmds {
		c.Flags = append(c.Flags, globalFlags()...)
		c.OnUsageError = usageError
		if len(c.Subcommands) == 0 {
			// A command without subcommands completes its flags (and
			// arguments where it has a completer), not "help h".
			c.HideHelpCommand = true
			if c.BashComplete == nil {
				c.BashComplete = completeFlags
			}
		}
		withGlobals(c.Subcommands)
	}
	return cmds
}

// global reads a global flag wherever it was given: after the command
// (the innermost context) first, then before it. Unset: its default.
func global(c *cli.Context, name string) string {
	for _, ctx := range c.Lineage() {
		if ctx.IsSet(name) {
			return ctx.String(name)
		}
	}
	return c.String(name)
}

// globalBool is global for a boolean flag.
func globalBool(c *cli.Context, name string) bool {
	for _, ctx := range c.Lineage() {
		if ctx.IsSet(name) {
			return ctx.Bool(name)
		}
	}
	return false
}

// completeFlags offers a command's flags, long names first.
func completeFlags(c *cli.Context) {
	for _, f := range c.Command.VisibleFlags() {
		for _, n := range f.Names() {
			if len(n) > 1 {
				fmt.Fprintln(c.App.Writer, "--"+n)
			}
		}
	}
}
