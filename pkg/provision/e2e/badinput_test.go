package e2e

import (
	"context"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
)

// Every bad input fails with a message that names the problem and the way
// out, makes no mutating AWS call, and writes no state.
func TestBadInputsChangeNothing(t *testing.T) {
	t.Parallel()
	replace := func(old, new string) func(string) string {
		return func(c string) string {
			if !strings.Contains(c, old) {
				panic("test config lacks " + old)
			}
			return strings.Replace(c, old, new, 1)
		}
	}
	add := func(extra string) func(string) string { return func(c string) string { return c + extra } }
	cases := []struct {
		name   string
		config func(string) string
		env    []string
		args   []string
		setup  func(t *testing.T, h *harness) func(string) string
		want   []string
	}{
		// The configuration file.
		{name: "yaml syntax", config: add("runners: [\n"), want: []string{"provision.yaml", "sequence end token ']' not found", "> 12 | runners: ["}},
		{name: "unknown top-level key", config: add("regoin: eu-west-1\n"), want: []string{"regoin: is not a known key; did you mean `region`?"}},
		{name: "unknown nested key", config: add("manager:\n  instance_typ: t3.micro\n"), want: []string{"instance_typ"}},
		{name: "wrong type", config: add("runners:\n  max_instances: many\n"), want: []string{"max_instances"}},
		{name: "stack missing", config: replace("stack: net\n", ""), want: []string{"stack: is required"}},
		{name: "stack with capitals", config: replace("stack: net", "stack: Net"), want: []string{"line 1", "not a valid stack name", "lowercase"}},
		{name: "stack too long", config: replace("stack: net", "stack: "+strings.Repeat("n", 40)), want: []string{"not a valid stack name", "1-32"}},
		{name: "malformed region", config: replace("region: eu-west-1", "region: Europe"), want: []string{"line 2", "not an AWS region name", "eu-west-1"}},
		{name: "bad VPC CIDR", config: replace("cidr: 192.168.0.0/24", "cidr: 192.168.0.0/33"), want: []string{"network.cidr", "not a CIDR block"}},
		{name: "CIDR with host bits", config: replace("cidr: 192.168.0.0/24", "cidr: 192.168.0.7/24"), want: []string{"host bits", "did you mean 192.168.0.0/24"}},
		{name: "subnet outside the VPC", config: replace("public_subnet_cidr: 192.168.0.0/27", "public_subnet_cidr: 10.0.0.0/27"), want: []string{"public_subnet_cidr", "not inside the VPC block"}},
		{name: "overlapping subnets", config: replace("private_subnet_cidr: 192.168.0.128/25", "private_subnet_cidr: 192.168.0.0/25"), want: []string{"overlaps", "disjoint"}},
		{name: "IPv6 CIDR for a subnet", config: replace("public_subnet_cidr: 192.168.0.0/27", "public_subnet_cidr: 2001:db8::/64"), want: []string{"must be an IPv4 block"}},
		{name: "malformed vpc_id", config: replace("network:\n", "network:\n  vpc_id: my-vpc\n"), want: []string{"network.vpc_id", "vpc-0123456789abcdef0"}},
		{name: "gitlab url without scheme", config: replace("url: GITLAB_URL", "url: gitlab.example.com"), want: []string{"gitlab.url", "https://"}},
		{name: "gitlab url in clear text", config: replace("url: GITLAB_URL", "url: http://gitlab.example.com"), want: []string{"gitlab.url", "uses http", "https://gitlab.example.com"}},
		{name: "ssh open to the internet", config: replace("[203.0.113.10/32]", "[0.0.0.0/0]"), want: []string{"whole internet"}},
		{name: "bad runner type", config: add("  create_runner:\n    runner_type: shared\n"), want: []string{"runner_type", "must be one of instance_type, group_type, project_type"}},
		{name: "runner that may pick no job", config: add("  create_runner:\n    run_untagged: false\n"), want: []string{"create_runner.run_untagged", "tag_list is empty", "run_untagged: true"}},
		{name: "unknown executor", config: add("runners:\n  executor: kubernetes\n"), want: []string{"runners.executor", "docker-autoscaler"}},
		{name: "zero machines", config: add("runners:\n  max_instances: 0\n"), want: []string{"max_instances", "from 1 to"}},
		{name: "idle_time not a duration", config: add("runners:\n  idle_time: soon\n"), want: []string{"idle_time", "5m"}},
		{name: "schedule with seconds", config: add("runners:\n  schedule:\n    - periods: [\"0 * 8-19 * * mon-fri\"]\n      idle_time: 20m\n"), want: []string{"runners.schedule[0].periods[0]", "6 fields", "five fields"}},
		{name: "schedule with seconds and years", config: add("runners:\n  schedule:\n    - periods: [\"0 * 8-19 * * mon-fri *\"]\n      idle_time: 20m\n"), want: []string{"runners.schedule[0].periods[0]", "7 fields"}},
		{name: "four zones in a /24", config: replace("network:\n", "network:\n  zones: 4\n"), want: []string{"network.zones", "no room left for zone 3"}},
		{name: "unknown NAT layout", config: replace("network:\n", "network:\n  nat: each\n"), want: []string{"network.nat", "per_zone"}},
		{name: "reserved tag", config: replace("tags: {team: ci}", "tags:\n  \"provision:stack\": other"), want: []string{"reserved"}},
		{name: "config file missing", args: []string{"-c", "nope.yaml", "up", "--auto-approve"}, want: []string{"nope.yaml not found", "--config"}},
		{name: "empty config file", config: func(string) string { return "" }, want: []string{"holds no settings"}},
		{name: "bad log level", args: []string{"--log-level", "loud", "up", "--auto-approve"}, want: []string{"--log-level", "debug, info, warn or error"}},
		{name: "zero parallelism", args: []string{"up", "--auto-approve", "--parallelism", "0"}, want: []string{"--parallelism must be at least 1"}},
		// What only AWS and GitLab can tell.
		{name: "unknown region", config: replace("region: eu-west-1", "region: xx-north-9"), want: []string{"region: \"xx-north-9\" is not an AWS region"}},
		{name: "unknown zone", config: replace("network:\n", "network:\n  availability_zone: eu-west-1q\n"), want: []string{"eu-west-1q is not a zone", "leave it empty"}},
		{name: "unknown instance type", config: add("manager:\n  instance_type: m9.huge\n"), want: []string{"manager.instance_type", "m9.huge is not known"}},
		{name: "AMI that does not exist", config: add("manager:\n  ami: ami-0123456789abcdef0\n"), want: []string{"manager.ami ami-0123456789abcdef0 does not exist"}},
		{name: "no credentials", env: []string{"AWS_ACCESS_KEY_ID=", "AWS_SECRET_ACCESS_KEY="}, want: []string{"AWS credentials do not work", "aws configure"}},
		{name: "no runner token", env: []string{"GITLAB_RUNNER_TOKEN="}, want: []string{"GITLAB_RUNNER_TOKEN is not set"}},
		{name: "registration token", env: []string{"GITLAB_RUNNER_TOKEN=GR1348941zyxwvutsrqponm"}, want: []string{"registration token", "glrt-"}},
		{name: "truncated token", env: []string{"GITLAB_RUNNER_TOKEN=glrt-abc"}, want: []string{"too short"}},
		{name: "token GitLab rejects", env: []string{"GITLAB_RUNNER_TOKEN=glrt-unknown-to-gitlab-1234"}, want: []string{"rejected GITLAB_RUNNER_TOKEN"}},
		{name: "GitLab unreachable", config: replace("url: GITLAB_URL", "url: http://127.0.0.1:9"), want: []string{"cannot be reached"}},
		{name: "GitLab group missing", config: replace("GITLAB_SG", "sg-0fedcba9876543210"), want: []string{"gitlab.security_group_id sg-0fedcba9876543210 does not exist"}},
		{name: "create_runner without GITLAB_TOKEN", config: add("  create_runner:\n    runner_type: instance_type\n"), want: []string{"GITLAB_TOKEN is not", "create_runner and manage_runner scopes"}},
		{name: "GITLAB_TOKEN rejected", env: []string{"GITLAB_TOKEN=glpat-not-valid-0000"}, config: add("  create_runner:\n    runner_type: instance_type\n"), want: []string{"rejected GITLAB_TOKEN"}},
		{name: "vpc_id that does not exist", config: replace("  cidr: 192.168.0.0/24\n", "  vpc_id: vpc-0123456789abcdef0\n"), want: []string{"network.vpc_id vpc-0123456789abcdef0 does not exist"}},
		{name: "existing VPC without IPv6", setup: existingVPC(false, "192.168.0.0/24"), want: []string{"has no IPv6 block", "network.ipv6: false"}},
		{name: "subnet outside the existing VPC", setup: existingVPC(true, "10.50.0.0/16"), want: []string{"is not inside vpc"}},
	}
	if len(cases) < 30 {
		t.Fatalf("only %d bad inputs", len(cases))
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			h := newHarness(t)
			cfg := baseConfig
			if c.config != nil {
				cfg = c.config(cfg)
			}
			if c.setup != nil {
				cfg = c.setup(t, h)(cfg)
			}
			h.writeConfig(cfg)
			h.env = append(h.env, c.env...)
			args := c.args
			if args == nil {
				args = []string{"up", "--auto-approve"}
			}
			var r result
			calls := h.countMutating(func() { r = h.mustRun(1, args...) })
			if len(calls) != 0 {
				t.Errorf("mutating calls: %v", calls)
			}
			for _, w := range c.want {
				if !strings.Contains(r.stderr, w) {
					t.Errorf("the error does not say %q:\n%s", w, r.stderr)
				}
			}
			if left := h.tagged("net"); len(left) > 0 {
				t.Errorf("created: %v", left)
			}
		})
	}
	t.Logf("bad inputs covered: %d", len(cases))
}

// existingVPC makes a VPC to build in, with or without IPv6.
func existingVPC(ipv6 bool, cidr string) func(t *testing.T, h *harness) func(string) string {
	return func(t *testing.T, h *harness) func(string) string {
		out, err := h.ec2.CreateVpc(context.Background(), &ec2.CreateVpcInput{CidrBlock: aws.String(cidr), AmazonProvidedIpv6CidrBlock: aws.Bool(ipv6)})
		if err != nil {
			t.Fatal(err)
		}
		return func(c string) string {
			return strings.Replace(c, "  cidr: 192.168.0.0/24\n", "  vpc_id: "+aws.ToString(out.Vpc.VpcId)+"\n", 1)
		}
	}
}
