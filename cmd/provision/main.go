// Command provision builds, repairs and tears down an autoscaling GitLab
// Runner environment on AWS. This package only turns flags into options.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"sync/atomic"
	"syscall"

	"github.com/mattn/go-isatty"
	"github.com/urfave/cli/v2"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"

	"github.com/provision-dev/provision/pkg/plan"
	"github.com/provision-dev/provision/pkg/provision/command"
	"github.com/provision-dev/provision/pkg/provision/config"
	"github.com/provision-dev/provision/pkg/provision/stack"
	"github.com/provision-dev/provision/pkg/termtext"
)

func main() {
	os.Exit(run(os.Args, os.Stdin, os.Stdout, os.Stderr))
}

func run(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	ctx, cancel := context.WithCancelCause(context.Background())
	defer cancel(nil)
	interrupt := make(chan struct{})
	// Set by a command that Ctrl-C ends as a matter of course (logs -f).
	var ctrlCEnds atomic.Bool
	signals := make(chan os.Signal, 2)
	signal.Notify(signals, os.Interrupt, syscall.SIGTERM)
	defer signal.Stop(signals)
	go func() {
		// First signal: start nothing new and stop every wait (waiting
		// changes nothing); the calls in flight finish and are saved.
		// Second: abandon those calls too.
		if _, ok := <-signals; !ok {
			return
		}
		if ctrlCEnds.Load() {
			fmt.Fprintln(stderr, "stopped")
		} else {
			fmt.Fprintln(stderr, "interrupted: stopping the waits, finishing the calls in flight and saving the state (press Ctrl-C again to abandon those calls)")
		}
		close(interrupt)
		if _, ok := <-signals; ok {
			cancel(plan.ErrCancelled)
		}
	}()

	code := 0
	app := newApp(stdin, stdout, stderr, interrupt, &code, &ctrlCEnds)
	if err := app.RunContext(ctx, args); err != nil {
		// The one place every error is printed: AWS's and GitLab's messages
		// in it are outside text, cleaned of what the terminal acts on.
		fmt.Fprintf(stderr, "%s %s\n", paint(colorOn(args, stderr), red, "Error:"), termtext.Clean(err.Error()))
		if code == 0 {
			code = 1
		}
	}
	return code
}

// runner turns a command's function into a cli action: it checks the
// number of arguments, fills the shared options from the global flags and
// keeps the exit code.
type runner struct {
	stdin     io.Reader
	stdout    io.Writer
	stderr    io.Writer
	interrupt <-chan struct{}
	code      *int
	// ctrlCEnds tells the signal handler that the running command ends
	// on Ctrl-C as a matter of course, and saves nothing.
	ctrlCEnds *atomic.Bool
}

func (r runner) options(c *cli.Context) (command.Options, error) {
	log, err := newLogger(global(c, "log-level"), global(c, "log-format"), r.stderr, !color(c, r.stderr))
	if err != nil {
		return command.Options{}, err
	}
	return command.Options{
		ConfigPath:    global(c, "config"),
		StatePath:     global(c, "state"),
		Region:        global(c, "region"),
		Profile:       global(c, "profile"),
		Log:           log,
		Stdin:         r.stdin,
		Stdout:        r.stdout,
		Stderr:        r.stderr,
		CI:            os.Getenv("CI") == "true",
		Interactive:   isTerminal(r.stdin) && isTerminal(r.stdout),
		ShowUnchanged: global(c, "log-level") == "debug",
		JSONProgress:  global(c, "log-format") == "json",
		Color:         color(c, r.stdout),
		Interrupt:     r.interrupt,
		Secrets:       stack.SecretsFromEnv(),
	}, nil
}

// act runs a command that takes at most args arguments. A command that
// Ctrl-C stopped early exits 1, even when it ended cleanly.
func (r runner) act(args int, f func(c *cli.Context, o command.Options) (int, error)) cli.ActionFunc {
	return r.action(args, f, true)
}

// actUntilCtrlC runs a command that Ctrl-C ends as a matter of course
// (logs -f): its exit code stands.
func (r runner) actUntilCtrlC(args int, f func(c *cli.Context, o command.Options) (int, error)) cli.ActionFunc {
	return r.action(args, f, false)
}

func (r runner) action(args int, f func(c *cli.Context, o command.Options) (int, error), interruptFails bool) cli.ActionFunc {
	return func(c *cli.Context) error {
		if c.NArg() > args {
			extra := c.Args().Get(args)
			if strings.HasPrefix(extra, "-") {
				// Go's flag parsing stops at the first argument.
				return fmt.Errorf("flag %s after an argument: put flags before arguments, e.g. `provision %s %s %s`", extra, c.Command.FullName(), extra, c.Args().First())
			}
			return fmt.Errorf("unexpected argument %q: see `provision %s --help`", extra, c.Command.FullName())
		}
		o, err := r.options(c)
		if err != nil {
			return err
		}
		defer func() { _ = o.Log.Sync() }()
		if !interruptFails && r.ctrlCEnds != nil {
			r.ctrlCEnds.Store(true)
		}
		n, err := f(c, o)
		*r.code = n
		if err == nil && n == 0 && interruptFails {
			select {
			case <-r.interrupt:
				*r.code = 1
				return errors.New("interrupted")
			default:
			}
		}
		return err
	}
}

func newApp(stdin io.Reader, stdout, stderr io.Writer, interrupt <-chan struct{}, code *int, ctrlCEnds *atomic.Bool) *cli.App {
	r := runner{stdin: stdin, stdout: stdout, stderr: stderr, interrupt: interrupt, code: code, ctrlCEnds: ctrlCEnds}
	cli.VersionPrinter = func(*cli.Context) { fmt.Fprintln(stdout, versionString()) }
	cmds := withGlobals(commands(r))
	return &cli.App{
		Name:                 "provision",
		Usage:                "build, repair and tear down an autoscaling GitLab Runner environment on AWS",
		Version:              versionString(),
		Reader:               stdin,
		Writer:               stdout,
		ErrWriter:            stderr,
		EnableBashCompletion: true,
		ExitErrHandler:       func(*cli.Context, error) {},
		CommandNotFound: func(c *cli.Context, name string) {
			msg := fmt.Sprintf("unknown command %q", name)
			var names []string
			for _, cmd := range cmds {
				names = append(names, cmd.Names()...)
			}
			if s := config.Closest(name, names); s != "" {
				msg += fmt.Sprintf("; did you mean `provision %s`?", s)
			}
			fmt.Fprintf(stderr, "%s %s (see `provision --help`)\n", paint(colorOn(os.Args, stderr), red, "Error:"), msg)
			*code = 1
		},
		OnUsageError: usageError,
		Flags:        globalFlags(),
		Commands:     cmds,
	}
}

// usageError makes a mistyped flag one line that names the command and
// suggests the closest flag, instead of the whole help.
func usageError(c *cli.Context, err error, _ bool) error {
	msg := err.Error()
	name, ok := strings.CutPrefix(msg, "flag provided but not defined: ")
	if !ok {
		return fmt.Errorf("%s (see `provision %s --help`)", msg, c.Command.FullName())
	}
	name = strings.TrimLeft(name, "-")
	flags := c.App.Flags
	where := "provision"
	if c.Command != nil && c.Command.Name != "" && c.Command.Name != c.App.Name {
		flags = append(c.Command.Flags, flags...)
		where = "provision " + c.Command.FullName()
	}
	var names []string
	for _, f := range flags {
		names = append(names, f.Names()...)
	}
	out := fmt.Sprintf("unknown flag --%s for `%s`", name, where)
	if s := config.Closest(name, names); s != "" {
		out += fmt.Sprintf(": did you mean --%s?", s)
	}
	return errors.New(out + fmt.Sprintf(" (see `%s --help`)", where))
}

func newLogger(level, format string, w io.Writer, noColor bool) (*zap.Logger, error) {
	var lvl zapcore.Level
	if err := lvl.UnmarshalText([]byte(level)); err != nil || lvl > zapcore.ErrorLevel {
		return nil, fmt.Errorf("--log-level %q: use debug, info, warn or error", level)
	}
	var enc zapcore.Encoder
	switch format {
	case "json":
		enc = zapcore.NewJSONEncoder(zap.NewProductionEncoderConfig())
	case "console":
		// One human format: "WARN message", words apart by a space; the
		// time and the tabs of a developer's log are left out (the JSON
		// format has the time).
		ec := zap.NewDevelopmentEncoderConfig()
		ec.TimeKey = ""
		ec.ConsoleSeparator = " "
		ec.CallerKey, ec.StacktraceKey = "", ""
		if !noColor {
			ec.EncodeLevel = zapcore.CapitalColorLevelEncoder
		}
		enc = zapcore.NewConsoleEncoder(ec)
	default:
		return nil, fmt.Errorf("--log-format %q: use console or json", format)
	}
	return zap.New(cleanCore{zapcore.NewCore(enc, zapcore.AddSync(w), lvl)}), nil
}

// cleanCore cleans log messages and string fields with termtext.Clean:
// warnings and debug lines carry AWS's and GitLab's messages, and zap
// writes a console message as it is (its JSON escaping leaves C1 and bidi
// controls in). The level colours the encoder adds are not touched.
type cleanCore struct{ zapcore.Core }

func (c cleanCore) With(fields []zapcore.Field) zapcore.Core {
	return cleanCore{c.Core.With(cleanFields(fields))}
}

func (c cleanCore) Check(ent zapcore.Entry, ce *zapcore.CheckedEntry) *zapcore.CheckedEntry {
	if c.Enabled(ent.Level) {
		return ce.AddCore(ent, c)
	}
	return ce
}

func (c cleanCore) Write(ent zapcore.Entry, fields []zapcore.Field) error {
	ent.Message = termtext.Clean(ent.Message)
	return c.Core.Write(ent, cleanFields(fields))
}

// cleanFields returns fields with string and error values cleaned; an
// error becomes its cleaned text.
func cleanFields(fields []zapcore.Field) []zapcore.Field {
	out := make([]zapcore.Field, len(fields))
	for i, f := range fields {
		if f.Type == zapcore.StringType {
			f.String = termtext.Clean(f.String)
		}
		if err, ok := f.Interface.(error); ok && f.Type == zapcore.ErrorType {
			f = zap.String(f.Key, termtext.Clean(err.Error()))
		}
		out[i] = f
	}
	return out
}

func isTerminal(v any) bool {
	f, ok := v.(*os.File)
	return ok && (isatty.IsTerminal(f.Fd()) || isatty.IsCygwinTerminal(f.Fd()))
}
