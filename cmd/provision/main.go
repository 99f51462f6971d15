// Command provision builds, repairs and tears down an autoscaling GitLab
// Runner environment on AWS. This file only turns flags into options.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"

	"github.com/mattn/go-isatty"
	"github.com/urfave/cli/v2"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"

	"github.com/provision-dev/provision/pkg/plan"
	"github.com/provision-dev/provision/pkg/provision"
	"github.com/provision-dev/provision/pkg/provision/command"
)

// version is set at build time with -ldflags "-X main.version=...".
var version = "dev"

func main() {
	os.Exit(run(os.Args, os.Stdin, os.Stdout, os.Stderr))
}

func run(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	ctx, cancel := context.WithCancelCause(context.Background())
	defer cancel(nil)
	interrupt := make(chan struct{})
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
		fmt.Fprintln(stderr, "interrupted: stopping the waits, finishing the calls in flight and saving the state (press Ctrl-C again to abandon those calls)")
		close(interrupt)
		if _, ok := <-signals; ok {
			cancel(plan.ErrCancelled)
		}
	}()

	code := 0
	app := newApp(stdin, stdout, stderr, interrupt, &code)
	if err := app.RunContext(ctx, args); err != nil {
		fmt.Fprintf(stderr, "Error: %v\n", err)
		if code == 0 {
			code = 1
		}
	}
	return code
}

func newApp(stdin io.Reader, stdout, stderr io.Writer, interrupt <-chan struct{}, code *int) *cli.App {
	// opts fills the shared options from the global flags.
	opts := func(c *cli.Context) (command.Options, error) {
		log, err := newLogger(c.String("log-level"), c.String("log-format"), stderr, c.Bool("no-color"))
		if err != nil {
			return command.Options{}, err
		}
		return command.Options{
			ConfigPath:    c.String("config"),
			StatePath:     c.String("state"),
			Region:        c.String("region"),
			Profile:       c.String("profile"),
			Log:           log,
			Stdin:         stdin,
			Stdout:        stdout,
			Interactive:   isTerminal(stdin) && isTerminal(stdout),
			ShowUnchanged: c.String("log-level") == "debug",
			JSONProgress:  c.String("log-format") == "json",
			Interrupt:     interrupt,
			Secrets:       provision.SecretsFromEnv(),
		}, nil
	}
	// act runs one command (with up to args arguments) and keeps its exit code.
	actArgs := func(args int, f func(c *cli.Context, o command.Options) (int, error)) cli.ActionFunc {
		return func(c *cli.Context) error {
			if c.NArg() > args {
				return fmt.Errorf("unexpected argument %q: see `provision %s --help`", c.Args().Get(args), c.Command.FullName())
			}
			o, err := opts(c)
			if err != nil {
				return err
			}
			defer func() { _ = o.Log.Sync() }()
			n, err := f(c, o)
			*code = n
			if err == nil && n == 0 {
				select {
				case <-interrupt:
					*code = 1
					return errors.New("interrupted")
				default:
				}
			}
			return err
		}
	}
	act := func(f func(c *cli.Context, o command.Options) (int, error)) cli.ActionFunc { return actArgs(0, f) }

	return &cli.App{
		Name:           "provision",
		Usage:          "build, repair and tear down an autoscaling GitLab Runner environment on AWS",
		Reader:         stdin,
		Writer:         stdout,
		ErrWriter:      stderr,
		HideVersion:    true,
		ExitErrHandler: func(*cli.Context, error) {},
		CommandNotFound: func(c *cli.Context, name string) {
			fmt.Fprintf(stderr, "Error: unknown command %q: see `provision --help`\n", name)
			*code = 1
		},
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "config", Aliases: []string{"c"}, Value: "provision.yaml", Usage: "configuration `FILE`"},
			&cli.StringFlag{Name: "state", Usage: "state `FILE` or s3://BUCKET/KEY (default: state.s3 in the config, else .provision/<stack>.json next to it)"},
			&cli.StringFlag{Name: "region", Usage: "AWS region (overrides the config file)"},
			&cli.StringFlag{Name: "profile", Usage: "AWS shared config profile"},
			&cli.StringFlag{Name: "log-level", Value: "info", Usage: "debug|info|warn|error"},
			&cli.StringFlag{Name: "log-format", Value: "console", Usage: "console|json"},
			&cli.BoolFlag{Name: "no-color", Usage: "no colour in log output"},
		},
		Commands: []*cli.Command{
			{
				Name:  "plan",
				Usage: "show what `up` (or with --destroy, `down`) would change; reads only",
				Flags: []cli.Flag{
					&cli.BoolFlag{Name: "destroy", Usage: "plan the teardown"},
					&cli.BoolFlag{Name: "json", Usage: "print the plan as JSON"},
					&cli.BoolFlag{Name: "detailed-exitcode", Usage: "exit 2 when there are changes"},
				},
				Action: act(func(c *cli.Context, o command.Options) (int, error) {
					return command.Plan(c.Context, o, command.PlanOptions{Destroy: c.Bool("destroy"), JSON: c.Bool("json"), DetailedExitCode: c.Bool("detailed-exitcode")})
				}),
			},
			{
				Name:  "up",
				Usage: "build or repair the environment",
				Flags: []cli.Flag{
					&cli.BoolFlag{Name: "dry-run", Usage: "print the plan and stop"},
					&cli.BoolFlag{Name: "auto-approve", Usage: "do not ask for confirmation"},
					&cli.IntFlag{Name: "parallelism", Value: plan.DefaultParallelism, Usage: "steps run at once"},
					&cli.BoolFlag{Name: "adopt", Usage: "make this state the stack's although the stack records another location"},
					&cli.BoolFlag{Name: "no-wait", Usage: "end when everything is built, without waiting for the manager to report that it is online"},
					&cli.DurationFlag{Name: "wait-timeout", Value: command.DefaultWaitTimeout, Usage: "how long to wait for the manager's boot report to say online"},
				},
				Action: act(func(c *cli.Context, o command.Options) (int, error) {
					if c.Int("parallelism") < 1 {
						return 1, fmt.Errorf("--parallelism must be at least 1")
					}
					o.Parallelism = c.Int("parallelism")
					return command.Up(c.Context, o, command.UpOptions{DryRun: c.Bool("dry-run"), AutoApprove: c.Bool("auto-approve"), Adopt: c.Bool("adopt"), NoWait: c.Bool("no-wait"), WaitTimeout: c.Duration("wait-timeout")})
				}),
			},
			{
				Name:  "down",
				Usage: "delete everything the stack created",
				Flags: []cli.Flag{
					&cli.BoolFlag{Name: "dry-run", Usage: "print the plan and stop"},
					&cli.BoolFlag{Name: "auto-approve", Usage: "do not ask for confirmation"},
					&cli.BoolFlag{Name: "discover", Usage: "find resources by their ownership tags, not the state file"},
					&cli.DurationFlag{Name: "timeout", Value: plan.DefaultStepTimeout, Usage: "give up retrying deletes after this long"},
					&cli.BoolFlag{Name: "keep-runner", Usage: "leave the runner in GitLab (its token stays valid), e.g. when the token is shared or GitLab is gone"},
					&cli.BoolFlag{Name: "adopt", Usage: "tear down from this state although the stack records another location"},
				},
				Action: act(func(c *cli.Context, o command.Options) (int, error) {
					return command.Down(c.Context, o, command.DownOptions{DryRun: c.Bool("dry-run"), AutoApprove: c.Bool("auto-approve"), Discover: c.Bool("discover"), Timeout: c.Duration("timeout"), KeepRunner: c.Bool("keep-runner"), Adopt: c.Bool("adopt")})
				}),
			},
			{
				Name:  "status",
				Usage: "check every step of the configuration against AWS, the boot report and the runner; exit 2 when anything is missing, drifted or pending",
				Flags: []cli.Flag{&cli.BoolFlag{Name: "json", Usage: "print as JSON"}},
				Action: act(func(c *cli.Context, o command.Options) (int, error) {
					return command.Status(c.Context, o, command.StatusOptions{JSON: c.Bool("json")})
				}),
			},
			{
				Name:  "doctor",
				Usage: "check every traffic flow of the environment against the live security groups, ACLs and routes; reads only",
				Flags: []cli.Flag{&cli.BoolFlag{Name: "json", Usage: "print as JSON"}},
				Action: act(func(c *cli.Context, o command.Options) (int, error) {
					return command.Doctor(c.Context, o, command.DoctorOptions{JSON: c.Bool("json")})
				}),
			},
			{
				Name:  "state",
				Usage: "read, write and move the state",
				Subcommands: []*cli.Command{
					{Name: "pull", Usage: "print the state document", Action: act(func(c *cli.Context, o command.Options) (int, error) {
						return command.StatePull(c.Context, o)
					})},
					{Name: "push", Usage: "replace the state with `FILE` (same lineage, newer serial)", Action: actArgs(1, func(c *cli.Context, o command.Options) (int, error) {
						if c.NArg() != 1 {
							return 1, fmt.Errorf("state push takes one FILE")
						}
						return command.StatePush(c.Context, o, c.Args().First())
					})},
					{Name: "list", Usage: "list what the state records", Action: act(func(c *cli.Context, o command.Options) (int, error) {
						return command.StateList(c.Context, o)
					})},
					{Name: "show", Usage: "print what the state records of `STEP`", Action: actArgs(1, func(c *cli.Context, o command.Options) (int, error) {
						if c.NArg() != 1 {
							return 1, fmt.Errorf("state show takes one STEP (see `provision state list`)")
						}
						return command.StateShow(c.Context, o, c.Args().First())
					})},
					{Name: "migrate", Usage: "move the state to another location", Flags: []cli.Flag{
						&cli.StringFlag{Name: "to", Required: true, Usage: "the new location: a `FILE` or s3://BUCKET/KEY"},
					}, Action: act(func(c *cli.Context, o command.Options) (int, error) {
						return command.StateMigrate(c.Context, o, c.String("to"))
					})},
				},
			},
			{
				Name:      "force-unlock",
				Usage:     "release the lock of a shared (S3) state whose holder died",
				ArgsUsage: "LOCK_ID",
				Action: actArgs(1, func(c *cli.Context, o command.Options) (int, error) {
					if c.NArg() != 1 {
						return 1, fmt.Errorf("force-unlock takes the LOCK_ID the locked run printed")
					}
					return command.ForceUnlock(c.Context, o, c.Args().First())
				}),
			},
			{
				Name:  "version",
				Usage: "print the version",
				Action: func(c *cli.Context) error {
					fmt.Fprintf(stdout, "provision %s\n", version)
					return nil
				},
			},
		},
	}
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
		ec := zap.NewDevelopmentEncoderConfig()
		ec.TimeKey = "T"
		ec.EncodeTime = zapcore.TimeEncoderOfLayout("15:04:05")
		ec.CallerKey, ec.StacktraceKey = "", ""
		if !noColor && isTerminal(w) {
			ec.EncodeLevel = zapcore.CapitalColorLevelEncoder
		}
		enc = zapcore.NewConsoleEncoder(ec)
	default:
		return nil, fmt.Errorf("--log-format %q: use console or json", format)
	}
	return zap.New(zapcore.NewCore(enc, zapcore.AddSync(w), lvl)), nil
}

func isTerminal(v any) bool {
	f, ok := v.(*os.File)
	return ok && (isatty.IsTerminal(f.Fd()) || isatty.IsCygwinTerminal(f.Fd()))
}
