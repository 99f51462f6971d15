package main

import (
	"io"
	"os"
	"slices"

	"github.com/urfave/cli/v2"
)

const (
	red = "\x1b[31m"
)

// color says whether output to w may be coloured: a terminal, no
// --no-color, and no NO_COLOR (https://no-color.org: set to anything).
func color(c *cli.Context, w io.Writer) bool {
	_, noColorEnv := os.LookupEnv("NO_COLOR")
	return !noColorEnv && !globalBool(c, "no-color") && isTerminal(w)
}

// colorOn is color before the flags are parsed (for errors about them).
func colorOn(args []string, w io.Writer) bool {
	_, noColorEnv := os.LookupEnv("NO_COLOR")
	return !noColorEnv && !slices.Contains(args, "--no-color") && isTerminal(w)
}

func paint(on bool, code, s string) string {
	if !on {
		return s
	}
	return code + s + "\x1b[0m"
}
