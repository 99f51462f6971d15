package main

import (
	"fmt"
	"path/filepath"
	"strings"

	"github.com/urfave/cli/v2"

	"github.com/provision-dev/provision/pkg/plan"
	"github.com/provision-dev/provision/pkg/provision/bootstrap"
	"github.com/provision-dev/provision/pkg/provision/command"
	"github.com/provision-dev/provision/pkg/provision/ops"
)

// What each command reads from the environment, for its help text.
const (
	envAWS = `  AWS_PROFILE, AWS_REGION, AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN
                       AWS credentials and region (the SDK's default chain; --profile and --region win)
  AWS_ROLE_ARN, AWS_WEB_IDENTITY_TOKEN_FILE
                       a role to assume with an ID token in that file (GitLab CI: docs/gitlab-ci.md)
  AWS_ENDPOINT_URL     send every AWS call to an emulator
  CI                   true (as in every GitLab CI job): the default local state file is refused`
	envRunnerToken = `
  GITLAB_RUNNER_TOKEN  the runner authentication token (glrt-...), stored in SSM for the manager`
	envGitLabToken = `
  GITLAB_TOKEN         an access token with create_runner and manage_runner: creates the runner
                       (gitlab.create_runner), deletes it on down, reads its status`
	envColor = `
  NO_COLOR             no colour in the output`
)

func help(text, env string) string {
	return text + "\n\nEnvironment:\n" + env
}

func commands(r runner) []*cli.Command {
	return []*cli.Command{
		{
			Name:  "plan",
			Usage: "show what `up` (or with --destroy, `down`) would change; reads only",
			Description: help(`Examples:
  provision plan
  provision plan -out plan.json && provision up plan.json
  provision plan --destroy
  provision plan --detailed-exitcode   # exit 2 when something would change`, envAWS+envRunnerToken+envGitLabToken+envColor),
			Flags: []cli.Flag{
				&cli.BoolFlag{Name: "destroy", Usage: "plan the teardown"},
				&cli.BoolFlag{Name: "json", Usage: "print the plan as JSON"},
				&cli.BoolFlag{Name: "detailed-exitcode", Usage: "exit 2 when there are changes"},
				&cli.StringFlag{Name: "out", Usage: "save the plan to `FILE` for `provision up FILE`"},
			},
			Action: r.act(0, func(c *cli.Context, o command.Options) (int, error) {
				return command.Plan(c.Context, o, command.PlanOptions{Destroy: c.Bool("destroy"), JSON: c.Bool("json"), DetailedExitCode: c.Bool("detailed-exitcode"), Out: c.String("out")})
			}),
		},
		{
			Name:      "up",
			Usage:     "build or repair the environment",
			ArgsUsage: "[PLAN_FILE]",
			Description: help(`Prints the plan, asks for yes, builds or repairs, then waits for the manager
to report its boot. Given a PLAN_FILE from "plan -out", applies exactly that plan,
and refuses it when the state changed since it was made.

Examples:
  provision up
  provision up --auto-approve --no-wait
  provision up plan.json`, envAWS+envRunnerToken+envGitLabToken+envColor),
			Flags: []cli.Flag{
				&cli.BoolFlag{Name: "dry-run", Usage: "print the plan and stop"},
				&cli.BoolFlag{Name: "auto-approve", Usage: "do not ask for confirmation"},
				&cli.IntFlag{Name: "parallelism", Value: plan.DefaultParallelism, Usage: "steps run at once"},
				&cli.BoolFlag{Name: "adopt", Usage: "make this state the stack's although the stack records another location"},
				&cli.BoolFlag{Name: "no-wait", Usage: "end when everything is built, without waiting for the manager to report that it is online"},
				&cli.DurationFlag{Name: "wait-timeout", Value: command.DefaultWaitTimeout, Usage: "how long to wait for the manager's boot report to say online"},
			},
			Action: r.act(1, func(c *cli.Context, o command.Options) (int, error) {
				if c.Int("parallelism") < 1 {
					return 1, fmt.Errorf("--parallelism must be at least 1")
				}
				o.Parallelism = c.Int("parallelism")
				return command.Up(c.Context, o, command.UpOptions{DryRun: c.Bool("dry-run"), AutoApprove: c.Bool("auto-approve"), Adopt: c.Bool("adopt"),
					NoWait: c.Bool("no-wait"), WaitTimeout: c.Duration("wait-timeout"), PlanFile: c.Args().First()})
			}),
		},
		{
			Name:  "down",
			Usage: "delete everything the stack created",
			Description: help(`Examples:
  provision down
  provision down --discover          # find what is left by its tags, without the state
  provision down --keep-runner       # leave the runner provision created in GitLab
  provision down --delete-runner     # delete the runner of GITLAB_RUNNER_TOKEN in GitLab too`, envAWS+envGitLabToken+envColor),
			Flags: []cli.Flag{
				&cli.BoolFlag{Name: "dry-run", Usage: "print the plan and stop"},
				&cli.BoolFlag{Name: "auto-approve", Usage: "do not ask for confirmation"},
				&cli.BoolFlag{Name: "discover", Usage: "find resources by their ownership tags, not the state file"},
				&cli.DurationFlag{Name: "timeout", Value: plan.DefaultStepTimeout, Usage: "give up retrying deletes after this long"},
				&cli.BoolFlag{Name: "keep-runner", Usage: "leave the runner provision created (gitlab.create_runner) in GitLab, its token valid, e.g. when GitLab is gone"},
				&cli.BoolFlag{Name: "delete-runner", Usage: "also delete in GitLab the runner of the token you gave (GITLAB_RUNNER_TOKEN), which down keeps by default: its token stops working"},
				&cli.BoolFlag{Name: "keep-logs", Usage: "leave the manager's log group and its lines (logs.retention_days still applies); the next up of the stack takes it up again"},
				&cli.BoolFlag{Name: "adopt", Usage: "tear down from this state although the stack records another location"},
			},
			Action: r.act(0, func(c *cli.Context, o command.Options) (int, error) {
				return command.Down(c.Context, o, command.DownOptions{DryRun: c.Bool("dry-run"), AutoApprove: c.Bool("auto-approve"), Discover: c.Bool("discover"), Timeout: c.Duration("timeout"), KeepRunner: c.Bool("keep-runner"), DeleteRunner: c.Bool("delete-runner"), KeepLogs: c.Bool("keep-logs"), Adopt: c.Bool("adopt")})
			}),
		},
		{
			Name:  "status",
			Usage: "check every step of the configuration against AWS, the boot report and the runner; exit 2 when not healthy: anything missing, drifted, pending or draining, a boot that failed or has not reported, a rejected or expiring token",
			Description: help(`Examples:
  provision status
  provision status --json | jq .healthy`, envAWS+envGitLabToken),
			Flags: []cli.Flag{&cli.BoolFlag{Name: "json", Usage: "print as JSON"}},
			Action: r.act(0, func(c *cli.Context, o command.Options) (int, error) {
				return command.Status(c.Context, o, command.StatusOptions{JSON: c.Bool("json")})
			}),
		},
		{
			Name:  "doctor",
			Usage: "check every traffic flow of the environment against the live security groups, ACLs and routes; reads only",
			Description: help(`Exit 2 when a flow is blocked, naming the rule or route that blocks it.

Examples:
  provision doctor`, envAWS),
			Flags: []cli.Flag{&cli.BoolFlag{Name: "json", Usage: "print as JSON"}},
			Action: r.act(0, func(c *cli.Context, o command.Options) (int, error) {
				return command.Doctor(c.Context, o, command.DoctorOptions{JSON: c.Bool("json")})
			}),
		},
		{
			Name:  "logs",
			Usage: "print the manager's log: gitlab-runner, its boot, a drain, provision's own units",
			Description: help(`The manager ships its journal to the stack's CloudWatch Logs group,
/provision/<stack>/manager (logs.retention_days), from its first boot stage on,
one stream per unit and instance. Runner tokens are masked before they leave it.
Each line: time, unit, instance, message. -f prints new lines until Ctrl-C.

Examples:
  provision logs
  provision logs --unit gitlab-runner --since 24h
  provision logs -f`, envAWS),
			Flags: []cli.Flag{
				&cli.BoolFlag{Name: "follow", Aliases: []string{"f"}, Usage: "print new lines as they come, until Ctrl-C"},
				&cli.StringFlag{Name: "since", Value: "1h", Usage: "print the lines of this long back: 30m, 1h, 3d"},
				&cli.StringFlag{Name: "unit", Usage: "only this unit's lines: " + strings.Join(bootstrap.LogUnits, ", ")},
			},
			Action: r.actUntilCtrlC(0, func(c *cli.Context, o command.Options) (int, error) {
				since, err := command.ParseSince(c.String("since"))
				if err != nil {
					return 1, err
				}
				return command.Logs(c.Context, o, command.LogsOptions{Follow: c.Bool("follow"), Since: since, Unit: c.String("unit")})
			}),
		},
		{
			Name:  "cost",
			Usage: "estimate what the stack costs a month while it runs, and a runner machine an hour",
			Description: help(`Prices are estimates: a dated table of AWS's us-east-1 on-demand prices,
and the current Spot price of each runner type (EC2's Spot price history).
plan and up also show the monthly change a plan makes.

Examples:
  provision cost
  provision cost --json`, envAWS),
			Flags: []cli.Flag{&cli.BoolFlag{Name: "json", Usage: "print as JSON"}},
			Action: r.act(0, func(c *cli.Context, o command.Options) (int, error) {
				return command.Cost(c.Context, o, command.CostOptions{JSON: c.Bool("json")})
			}),
		},
		{
			Name:      "show",
			Usage:     "print a plan saved by plan -out: as text, as JSON, or as GitLab's Terraform report",
			ArgsUsage: "FILE",
			Description: help(`Reads the file alone (no configuration, state or AWS call).
--json prints the document plan --json prints (format_version 1; docs/plan-json.md).
--gitlab-report prints {"create": N, "update": N, "delete": N}, what GitLab's
artifacts:reports:terraform reads to show the plan in a merge request.

Examples:
  provision plan -out plan.json && provision show plan.json
  provision show plan.json --gitlab-report > plan-report.json
  provision show plan.json --json`, "  (none)"),
			Flags: []cli.Flag{
				&cli.BoolFlag{Name: "json", Usage: "print as the JSON of plan --json"},
				&cli.BoolFlag{Name: "gitlab-report", Usage: "print the counts GitLab's Terraform report reads"},
			},
			// The flags may also follow the file, as GitLab's documentation
			// writes Terraform's show: provision show plan.json --gitlab-report.
			Action: r.act(3, func(c *cli.Context, o command.Options) (int, error) {
				so := command.ShowOptions{JSON: c.Bool("json"), GitLabReport: c.Bool("gitlab-report")}
				for _, a := range c.Args().Slice() {
					switch a {
					case "--json", "-json":
						so.JSON = true
					case "--gitlab-report", "-gitlab-report":
						so.GitLabReport = true
					default:
						if so.File != "" || strings.HasPrefix(a, "-") {
							return 1, fmt.Errorf("unexpected argument %q: see `provision show --help`", a)
						}
						so.File = a
					}
				}
				return command.Show(c.Context, o, so)
			}),
		},
		{
			Name:  "docs",
			Usage: "write the manual pages: one per command, from the same text as --help",
			Description: help(`Examples:
  provision docs --man /usr/local/share/man/man1 && man provision-up
  provision docs --man ./man`, "  (none)"),
			Flags: []cli.Flag{&cli.StringFlag{Name: "man", Usage: "the directory to write the pages to (section 1, roff)"}},
			Action: r.act(0, func(c *cli.Context, o command.Options) (int, error) {
				dir := c.String("man")
				if dir == "" {
					return 1, fmt.Errorf("docs needs --man DIR: the directory to write the manual pages to")
				}
				written, err := writeManPages(c.App, dir)
				if err != nil {
					return 1, err
				}
				fmt.Fprintf(o.Stdout, "Wrote %d manual pages to %s (man -l %s).\n", len(written), dir, filepath.Join(dir, "provision-up.1"))
				return 0, nil
			}),
		},
		{
			Name:      "output",
			Usage:     "print what scripts need: the manager's address, both Elastic IPs, the group, the runner id",
			ArgsUsage: "[NAME]",
			Description: help(`Reads the state only (no AWS call).

Examples:
  provision output
  provision output nat_address
  provision output --json`, "  (none)"),
			Flags: []cli.Flag{&cli.BoolFlag{Name: "json", Usage: "print as JSON"}},
			// The output names, then the flags.
			BashComplete: func(c *cli.Context) {
				for _, n := range ops.OutputNames() {
					fmt.Fprintln(c.App.Writer, n)
				}
				completeFlags(c)
			},
			Action: r.act(1, func(c *cli.Context, o command.Options) (int, error) {
				return command.Output(c.Context, o, command.OutputOptions{Name: c.Args().First(), JSON: c.Bool("json")})
			}),
		},
		{
			Name:  "validate",
			Usage: "check the configuration offline (no AWS or GitLab call); exit 0 or 1",
			Description: help(`Examples:
  provision validate
  provision validate -c staging.yaml`, "  (none)"),
			Action: r.act(0, func(c *cli.Context, o command.Options) (int, error) {
				return command.Validate(o)
			}),
		},
		{
			Name:      "init",
			Usage:     "write a commented configuration with every key, its default and what it is for",
			ArgsUsage: "[FILE]",
			Description: help(`Writes FILE (default: the --config file, provision.yaml); never overwrites.
Fill in gitlab.url and gitlab.security_group_id, then run provision validate.

Examples:
  provision init
  provision init staging.yaml`, "  (none)"),
			Action: r.act(1, func(c *cli.Context, o command.Options) (int, error) {
				return command.Init(o, c.Args().First())
			}),
		},
		{
			Name:  "schema",
			Usage: "print the JSON Schema of the configuration (for editors; validate uses it too)",
			Description: help(`Examples:
  provision schema > provision.schema.json`, "  (none)"),
			Action: r.act(0, func(c *cli.Context, o command.Options) (int, error) {
				return command.Schema(o)
			}),
		},
		{
			Name:  "iam-policy",
			Usage: "print the least-privilege IAM policy that up, down and status need, or the permissions boundary of the stack's roles",
			Description: help(`The operator policy may create the stack's roles only with the permissions
boundary attached, which an administrator creates once per stack (--boundary).

Examples:
  provision iam-policy --boundary > boundary.json
  aws iam create-policy --path /provision/ --policy-name STACK-REGION-boundary --policy-document file://boundary.json
  provision iam-policy --part 1 > provision-policy-1.json
  aws iam create-policy --policy-name provision-STACK-1 --policy-document file://provision-policy-1.json
  (the same for each part; the operator gets them all)
  provision iam-policy --trust-gitlab platform/runners --ref main > trust.json
  (a role for GitLab CI jobs of platform/runners on main: see docs/gitlab-ci.md)`, "  (none)"),
			Flags: []cli.Flag{
				&cli.BoolFlag{Name: "boundary", Usage: "print the permissions boundary of the stack's roles instead (made once by an administrator)"},
				&cli.IntFlag{Name: "part", Usage: "print this part of the operator policy (it takes more than one managed policy of 6,144 characters)"},
				&cli.BoolFlag{Name: "plan", Usage: "print instead the operator policy's reads only: for a role that plans (and status), and can change nothing"},
				&cli.StringFlag{Name: "trust-gitlab", Usage: "print instead the trust policy of a role that GitLab CI jobs of this project (GROUP/PROJECT) may assume with their ID token"},
				&cli.StringFlag{Name: "gitlab-host", Usage: "with --trust-gitlab: GitLab's host as its OIDC issuer names it (default: gitlab.url's)"},
				&cli.StringFlag{Name: "ref", Usage: "with --trust-gitlab: only jobs of this branch (tag:NAME for a tag)"},
				&cli.StringFlag{Name: "account", Usage: "with --trust-gitlab: the account of the OIDC provider (default: the caller's, from STS)"},
			},
			Action: r.act(0, func(c *cli.Context, o command.Options) (int, error) {
				if p := c.String("trust-gitlab"); p != "" {
					return command.TrustGitLab(c.Context, o, command.TrustGitLabOptions{Project: p, Host: c.String("gitlab-host"), Ref: c.String("ref"), Account: c.String("account")})
				}
				for _, f := range []string{"gitlab-host", "ref", "account"} {
					if c.IsSet(f) {
						return 1, fmt.Errorf("--%s goes with --trust-gitlab PROJECT_PATH", f)
					}
				}
				if c.Bool("plan") {
					if c.IsSet("part") || c.Bool("boundary") {
						return 1, fmt.Errorf("--plan prints one policy: give it alone, without --part or --boundary")
					}
					return command.PlanIAMPolicy(o)
				}
				return command.IAMPolicy(o, c.Bool("boundary"), c.Int("part"))
			}),
		},
		{
			Name:  "graph",
			Usage: "draw the stack: its network and traffic flows, or its step dependency graph",
			Description: help(`Examples:
  provision graph | dot -Tsvg > network.svg
  provision graph --format mermaid
  provision graph --view steps`, "  (none)"),
			Flags: []cli.Flag{
				&cli.StringFlag{Name: "format", Value: "dot", Usage: "dot or mermaid"},
				&cli.StringFlag{Name: "view", Value: "network", Usage: "network (subnets, gateways, addresses, flows) or steps"},
			},
			Action: r.act(0, func(c *cli.Context, o command.Options) (int, error) {
				return command.Graph(c.Context, o, command.GraphOptions{Format: c.String("format"), View: c.String("view")})
			}),
		},
		{
			Name:      "completion",
			Usage:     "print a shell completion script",
			ArgsUsage: "bash|zsh|fish",
			Description: `Examples:
  source <(provision completion bash)
  provision completion zsh > "${fpath[1]}/_provision"
  provision completion fish > ~/.config/fish/completions/provision.fish`,
			Action: func(c *cli.Context) error {
				return completion(c, r.stdout, c.Args().First())
			},
		},
		{
			Name:  "state",
			Usage: "read, write and move the state",
			Description: help(`Examples:
  provision state list
  provision state show nat
  provision state pull > backup.json
  provision state migrate --to s3://team-state/runners/ci.json`, envAWS),
			Subcommands: []*cli.Command{
				{Name: "pull", Usage: "print the state document", Action: r.act(0, func(c *cli.Context, o command.Options) (int, error) {
					return command.StatePull(c.Context, o)
				})},
				{Name: "push", Usage: "replace the state with `FILE` (same lineage, newer serial)", ArgsUsage: "FILE", Action: r.act(1, func(c *cli.Context, o command.Options) (int, error) {
					if c.NArg() != 1 {
						return 1, fmt.Errorf("state push takes one FILE")
					}
					return command.StatePush(c.Context, o, c.Args().First())
				})},
				{Name: "list", Usage: "list what the state records", Action: r.act(0, func(c *cli.Context, o command.Options) (int, error) {
					return command.StateList(c.Context, o)
				})},
				{Name: "show", Usage: "print what the state records of `STEP`", ArgsUsage: "STEP", Action: r.act(1, func(c *cli.Context, o command.Options) (int, error) {
					if c.NArg() != 1 {
						return 1, fmt.Errorf("state show takes one STEP (see `provision state list`)")
					}
					return command.StateShow(c.Context, o, c.Args().First())
				})},
				{Name: "migrate", Usage: "move the state to another location", Flags: []cli.Flag{
					&cli.StringFlag{Name: "to", Required: true, Usage: "the new location: a `FILE` or s3://BUCKET/KEY"},
				}, Action: r.act(0, func(c *cli.Context, o command.Options) (int, error) {
					return command.StateMigrate(c.Context, o, c.String("to"))
				})},
			},
		},
		{
			Name:      "force-unlock",
			Usage:     "release the lock of a shared (S3) state whose holder died",
			ArgsUsage: "LOCK_ID",
			Description: help(`Only when the run that holds the lock is really gone: the locked run's
error message names the LOCK_ID.

Examples:
  provision force-unlock 3f1c9a2e-8b7d-4e2f-9c1a-5d6e7f809a1b`, envAWS),
			Action: r.act(1, func(c *cli.Context, o command.Options) (int, error) {
				if c.NArg() != 1 {
					return 1, fmt.Errorf("force-unlock takes the LOCK_ID the locked run printed")
				}
				return command.ForceUnlock(c.Context, o, c.Args().First())
			}),
		},
		{
			Name:  "version",
			Usage: "print the version, commit and build date (also: --version, -v)",
			Action: func(c *cli.Context) error {
				fmt.Fprintln(r.stdout, versionString())
				return nil
			},
		},
	}
}
