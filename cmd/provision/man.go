package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/urfave/cli/v2"
)

// writeManPages writes a manual page (section 1, roff) for the tool and
// one for each command (provision-up.1, provision-state-pull.1, ...), from
// the same usage, description and flags as --help. No date is written:
// the same binary writes the same pages.
func writeManPages(app *cli.App, dir string) ([]string, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("docs --man: %w", err)
	}
	var written []string
	write := func(name, body string) error {
		path := filepath.Join(dir, name+".1")
		if err := os.WriteFile(path, []byte(body), 0o644); err != nil {
			return fmt.Errorf("docs --man: %w", err)
		}
		written = append(written, path)
		return nil
	}
	var see []string
	var walk func(prefix []string, cmds []*cli.Command) error
	walk = func(prefix []string, cmds []*cli.Command) error {
		for _, c := range cmds {
			if c.Hidden || c.Name == "help" {
				continue
			}
			path := append(append([]string{}, prefix...), c.Name)
			name := "provision-" + strings.Join(path, "-")
			see = append(see, name)
			if err := write(name, commandPage(name, path, c)); err != nil {
				return err
			}
			if err := walk(path, c.Subcommands); err != nil {
				return err
			}
		}
		return nil
	}
	if err := walk(nil, app.Commands); err != nil {
		return nil, err
	}
	var b strings.Builder
	header(&b, "provision", app.Usage)
	b.WriteString(".SH SYNOPSIS\n.B provision\n\\fICOMMAND\\fR [\\fIOPTIONS\\fR] [\\fIARGUMENTS\\fR]\n")
	b.WriteString(".SH COMMANDS\n")
	for _, c := range app.Commands {
		if c.Hidden || c.Name == "help" {
			continue
		}
		fmt.Fprintf(&b, ".TP\n.B %s\n%s\n", roff(c.Name), roff(c.Usage))
	}
	options(&b, globalFlags())
	b.WriteString(".SH SEE ALSO\n" + seeAlso(see) + "\n")
	if err := write("provision", b.String()); err != nil {
		return nil, err
	}
	return written, nil
}

func commandPage(name string, path []string, c *cli.Command) string {
	var b strings.Builder
	header(&b, name, c.Usage)
	fmt.Fprintf(&b, ".SH SYNOPSIS\n.B provision %s\n[\\fIOPTIONS\\fR]", roff(strings.Join(path, " ")))
	if c.ArgsUsage != "" {
		b.WriteString(" " + roff(c.ArgsUsage))
	}
	b.WriteString("\n")
	if c.Description != "" {
		// The help text is laid out by hand (examples, lists): kept as it is.
		b.WriteString(".SH DESCRIPTION\n.nf\n" + roffLines(strings.TrimSpace(c.Description)) + "\n.fi\n")
	}
	if len(c.Subcommands) > 0 {
		b.WriteString(".SH COMMANDS\n")
		for _, s := range c.Subcommands {
			fmt.Fprintf(&b, ".TP\n.B %s\n%s\n", roff(s.Name), roff(s.Usage))
		}
	}
	options(&b, c.Flags)
	b.WriteString(".SH SEE ALSO\n" + seeAlso([]string{"provision"}) + "\n")
	return b.String()
}

func header(b *strings.Builder, name, usage string) {
	fmt.Fprintf(b, ".TH %q \"1\" \"\" %q \"provision manual\"\n", strings.ToUpper(name), roff(versionString()))
	fmt.Fprintf(b, ".SH NAME\n%s \\- %s\n", roff(name), roff(usage))
}

func options(b *strings.Builder, flags []cli.Flag) {
	if len(flags) == 0 {
		return
	}
	b.WriteString(".SH OPTIONS\n")
	for _, f := range flags {
		var names []string
		for _, n := range f.Names() {
			dash := "--"
			if len(n) == 1 {
				dash = "-"
			}
			names = append(names, "\\fB"+roff(dash+n)+"\\fR")
		}
		line := strings.Join(names, ", ")
		usage, value := "", ""
		if d, ok := f.(cli.DocGenerationFlag); ok {
			usage = d.GetUsage()
			if d.TakesValue() {
				line += " \\fIVALUE\\fR"
				value = d.GetValue()
			}
		}
		if value != "" && value != `""` {
			usage += " (default: " + value + ")"
		}
		fmt.Fprintf(b, ".TP\n%s\n%s\n", line, roff(usage))
	}
}

func seeAlso(names []string) string {
	var out []string
	for _, n := range names {
		out = append(out, "\\fB"+roff(n)+"\\fR(1)")
	}
	return strings.Join(out, ", ")
}

// roff escapes text for a roff line: backslashes, hyphens (which would
// otherwise be typeset as hyphens, not the minus a flag needs).
func roff(s string) string {
	return strings.NewReplacer(`\`, `\e`, "-", `\-`).Replace(s)
}

// roffLines escapes each line, and keeps one that begins with a period or
// an apostrophe from being read as a request.
func roffLines(s string) string {
	lines := strings.Split(s, "\n")
	for i, l := range lines {
		l = roff(l)
		if strings.HasPrefix(l, ".") || strings.HasPrefix(l, "'") {
			l = `\&` + l
		}
		lines[i] = l
	}
	return strings.Join(lines, "\n")
}
