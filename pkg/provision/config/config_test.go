package config

import (
	"errors"
	"reflect"
	"strings"
	"testing"
)

const goodConfig = `stack: ci-runners
region: ap-northeast-1
tags: {team: ci}
network:
  cidr: 192.168.0.0/24
  ipv6: true
  public_subnet_cidr: 192.168.0.0/27
  private_subnet_cidr: 192.168.0.128/25
gitlab:
  url: https://gitlab.example.com
  security_group_id: sg-0123456789abcdef0
  ssh_source_cidrs: [203.0.113.10/32, "2001:db8::/64"]
  create_runner:
    runner_type: group_type
    group_id: 42
    tag_list: [aws, docker]
manager:
  instance_type: t3.micro
runners:
  executor: docker+machine
  max_instances: 4
  idle_time: 300s
`

func TestParseConfigGood(t *testing.T) {
	cfg, err := ParseConfig("provision.yaml", []byte(goodConfig), "")
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Stack != "ci-runners" || cfg.Region != "ap-northeast-1" || cfg.Tags["team"] != "ci" {
		t.Errorf("top level: %+v", cfg)
	}
	if cfg.Runners.Executor != ExecutorDockerMachine || cfg.Runners.MaxInstances != 4 || cfg.Runners.InstanceType != "t3.medium" {
		t.Errorf("runners (defaults must fill what the file leaves out): %+v", cfg.Runners)
	}
	if cr := cfg.GitLab.CreateRunner; cr == nil || cr.GroupID != 42 || cr.Description != "ci-runners autoscaling" {
		t.Errorf("create_runner: %+v", cr)
	}
}

func TestParseConfigMinimalTakesDefaults(t *testing.T) {
	cfg, err := ParseConfig("p.yaml", []byte("stack: a\n"), "eu-west-1")
	if err != nil {
		t.Fatal(err)
	}
	d := Defaults()
	if !reflect.DeepEqual(cfg.Network, d.Network) || !reflect.DeepEqual(cfg.Manager, d.Manager) || !reflect.DeepEqual(cfg.Runners, d.Runners) {
		t.Errorf("defaults not applied: %+v", cfg)
	}
	if cfg.Region != "eu-west-1" {
		t.Errorf("--region did not win: %s", cfg.Region)
	}
	if cfg.GitLab.CreateRunner != nil {
		t.Errorf("create_runner must stay off unless present")
	}
}

// Every bad input names the key, its line where it has one, and a fix.
func TestParseConfigBad(t *testing.T) {
	cases := []struct {
		name, yaml string
		want       []string // substrings of the error
	}{
		{"empty file", "", []string{"stack", "required"}},
		{"yaml syntax", "stack: a\nnetwork: [\n", []string{"provision.yaml"}},
		{"unknown top-level key", "stack: a\nregoin: eu-west-1\n", []string{"regoin", "2"}},
		{"unknown nested key", "stack: a\nnetwork:\n  cidrr: 10.0.0.0/16\n", []string{"cidrr", "3"}},
		{"wrong type", "stack: a\nrunners:\n  max_instances: many\n", []string{"max_instances"}},
		{"stack missing", "region: eu-west-1\n", []string{"stack", "required"}},
		{"stack uppercase", "stack: CI\n", []string{"line 1", "stack", "lowercase"}},
		{"stack too long", "stack: " + strings.Repeat("a", 33) + "\n", []string{"stack"}},
		{"bad region", "stack: a\nregion: europe\n", []string{"line 2", "region", "eu-west-1"}},
		{"bad vpc cidr", "stack: a\nnetwork:\n  cidr: 10.0.0.0/33\n", []string{"line 3", "network.cidr", "not a CIDR"}},
		{"host bits", "stack: a\nnetwork:\n  cidr: 192.168.0.1/24\n", []string{"network.cidr", "did you mean 192.168.0.0/24"}},
		{"vpc too large", "stack: a\nnetwork:\n  cidr: 10.0.0.0/8\n  public_subnet_cidr: 10.0.0.0/27\n  private_subnet_cidr: 10.0.1.0/24\n", []string{"network.cidr", "/16 and /28"}},
		{"subnet outside vpc", "stack: a\nnetwork:\n  public_subnet_cidr: 10.0.0.0/27\n", []string{"line 3", "public_subnet_cidr", "not inside"}},
		{"overlapping subnets", "stack: a\nnetwork:\n  private_subnet_cidr: 192.168.0.0/25\n", []string{"overlaps"}},
		{"ipv6 subnet cidr", "stack: a\nnetwork:\n  public_subnet_cidr: 2001:db8::/64\n", []string{"IPv4"}},
		{"bad vpc id", "stack: a\nnetwork:\n  vpc_id: vpc123\n", []string{"network.vpc_id", "vpc-0123456789abcdef0"}},
		{"endpoints in an existing vpc", "stack: a\nnetwork:\n  vpc_id: vpc-0123456789abcdef0\n  endpoints: [ssm]\n", []string{"line 4", "network.endpoints", "whole VPC", "endpoints_vpc_wide_dns: true"}},
		{"bad zone", "stack: a\nnetwork:\n  availability_zone: tokyo\n", []string{"availability_zone"}},
		{"acl rule quota beyond what AWS allows", "stack: a\nnetwork:\n  acl_rule_quota: 50\n", []string{"acl_rule_quota", "40 at most"}},
		{"bad gitlab url", "stack: a\ngitlab:\n  url: gitlab.example.com\n", []string{"gitlab.url", "https://"}},
		{"credentials in url", "stack: a\ngitlab:\n  url: https://root:pw@gitlab.example.com\n", []string{"gitlab.url", "credentials"}},
		{"bad security group", "stack: a\ngitlab:\n  security_group_id: default\n", []string{"security_group_id", "sg-"}},
		{"ssh from anywhere", "stack: a\ngitlab:\n  ssh_source_cidrs: [0.0.0.0/0]\n", []string{"ssh_source_cidrs[0]", "whole internet"}},
		{"ssh bad cidr", "stack: a\ngitlab:\n  ssh_source_cidrs: [1.2.3.4]\n", []string{"line 3", "ssh_source_cidrs[0]", "/32"}},
		{"bad runner type", "stack: a\ngitlab:\n  create_runner:\n    runner_type: shared\n", []string{"runner_type", "instance_type"}},
		{"group runner without group", "stack: a\ngitlab:\n  create_runner:\n    runner_type: group_type\n", []string{"group_id"}},
		{"bad executor", "stack: a\nrunners:\n  executor: shell\n", []string{"runners.executor", "docker-autoscaler"}},
		{"bad instance type", "stack: a\nrunners:\n  instance_type: large\n", []string{"runners.instance_type"}},
		{"bad ami", "stack: a\nmanager:\n  ami: ubuntu\n", []string{"manager.ami", "ami-"}},
		{"ipv6 metrics source", "stack: a\nmanager:\n  metrics_cidrs: [2001:db8::/32]\n", []string{"line 3", "manager.metrics_cidrs[0]", "IPv6", "listens on the manager's IPv4 address only"}},
		{"zero max instances", "stack: a\nrunners:\n  max_instances: 0\n", []string{"max_instances", "1 to"}},
		{"negative idle count", "stack: a\nrunners:\n  idle_count: -1\n", []string{"idle_count"}},
		{"bad idle time", "stack: a\nrunners:\n  idle_time: five minutes\n", []string{"idle_time", "5m"}},
		{"small volume", "stack: a\nrunners:\n  volume_size_gb: 2\n", []string{"volume_size_gb"}},
		{"reserved tag", "stack: a\ntags: {Name: x}\n", []string{"tags.Name", "reserved"}},
		{"bad runner version", "stack: a\nmanager:\n  runner_version: latest\n", []string{"runner_version"}},
		{"schedule without periods", "stack: a\nrunners:\n  schedule:\n    - idle_count: 2\n      idle_time: 20m\n", []string{"line 4", "runners.schedule[0].periods", "cron"}},
		{"schedule bad cron", "stack: a\nrunners:\n  schedule:\n    - periods: [\"* 8-25 * * mon-fri\"]\n      idle_time: 20m\n", []string{"runners.schedule[0].periods[0]", "not a cron expression"}},
		{"schedule with seconds and years", "stack: a\nrunners:\n  schedule:\n    - periods: [\"0 * 8-19 * * mon-fri *\"]\n      idle_time: 20m\n", []string{"runners.schedule[0].periods[0]", "7 fields", "five fields"}},
		{"schedule with six fields", "stack: a\nrunners:\n  schedule:\n    - periods: [\"0 * 8-19 * * mon-fri\"]\n      idle_time: 20m\n", []string{"runners.schedule[0].periods[0]", "6 fields"}},
		{"schedule with quartz's last day", "stack: a\nrunners:\n  schedule:\n    - periods: [\"* 8-19 L * *\"]\n      idle_time: 20m\n", []string{"runners.schedule[0].periods[0]", `uses "L"`}},
		{"schedule with quartz's question mark", "stack: a\nrunners:\n  schedule:\n    - periods: [\"* 8-19 ? * mon\"]\n      idle_time: 20m\n", []string{`uses "?"`}},
		{"schedule bad timezone", "stack: a\nrunners:\n  schedule:\n    - periods: [\"* 8-19 * * mon-fri\"]\n      timezone: Tokyo\n      idle_time: 20m\n", []string{"runners.schedule[0].timezone", "Asia/Tokyo"}},
		{"schedule bad idle time", "stack: a\nrunners:\n  schedule:\n    - periods: [\"* 8-19 * * mon-fri\"]\n      idle_time: twenty\n", []string{"runners.schedule[0].idle_time", "20m"}},
		{"schedule with docker+machine", "stack: a\nrunners:\n  executor: docker+machine\n  schedule:\n    - periods: [\"* * * * *\"]\n      idle_time: 20m\n", []string{"runners.schedule", "docker-autoscaler"}},
		{"too many zones", "stack: a\nnetwork:\n  zones: 7\n", []string{"line 3", "network.zones", "1 to 6"}},
		{"bad nat layout", "stack: a\nnetwork:\n  nat: per-zone\n", []string{"line 3", "network.nat", "per_zone"}},
		{"no room for a third zone", "stack: a\nnetwork:\n  zones: 3\n", []string{"network.zones", "no room left for zone 3", "larger network.cidr"}},
		{"zones in an existing vpc need ranges", "stack: a\nnetwork:\n  vpc_id: vpc-0123456789abcdef0\n  zones: 2\n", []string{"network.zones", "public_subnet_cidrs", "network.zones: 1"}},
		{"zone lists of different lengths", "stack: a\nnetwork:\n  cidr: 10.0.0.0/16\n  public_subnet_cidrs: [10.0.0.0/24, 10.0.1.0/24]\n  private_subnet_cidrs: [10.0.128.0/20]\n", []string{"2 ranges", "private_subnet_cidrs 1", "one range of each per zone"}},
		{"zone ranges overlap", "stack: a\nnetwork:\n  cidr: 10.0.0.0/16\n  public_subnet_cidrs: [10.0.0.0/24, 10.0.1.0/24]\n  private_subnet_cidrs: [10.0.128.0/20, 10.0.0.0/20]\n", []string{"line 5", "network.private_subnet_cidrs[1]", "overlaps 10.0.0.0/24"}},
		{"zone range outside the vpc", "stack: a\nnetwork:\n  cidr: 10.0.0.0/16\n  public_subnet_cidrs: [10.0.0.0/24, 10.1.1.0/24]\n  private_subnet_cidrs: [10.0.128.0/20, 10.0.144.0/20]\n", []string{"network.public_subnet_cidrs[1]", "not inside the VPC block 10.0.0.0/16"}},
		{"first zone given twice", "stack: a\nnetwork:\n  cidr: 10.0.0.0/16\n  public_subnet_cidr: 10.0.9.0/24\n  public_subnet_cidrs: [10.0.0.0/24, 10.0.1.0/24]\n  private_subnet_cidrs: [10.0.128.0/20, 10.0.144.0/20]\n", []string{"network.public_subnet_cidr", "given once"}},
		{"requirements with a type list", "stack: a\nrunners:\n  instance_types: [m5.large]\n  instance_requirements: {vcpu: {min: 2}, memory_mib: {min: 4096}}\n", []string{"runners.instance_requirements", "alternative to instance_types"}},
		{"requirements without vcpu", "stack: a\nrunners:\n  instance_requirements: {memory_mib: {min: 4096}}\n", []string{"runners.instance_requirements.vcpu.min", "from 1"}},
		{"requirements max below min", "stack: a\nrunners:\n  instance_requirements: {vcpu: {min: 4, max: 2}, memory_mib: {min: 4096}}\n", []string{"runners.instance_requirements.vcpu.max", "below min 4"}},
		{"requirements bad architecture", "stack: a\nrunners:\n  instance_requirements: {vcpu: {min: 2}, memory_mib: {min: 4096}, architecture: arm}\n", []string{"runners.instance_requirements.architecture", "arm64"}},
		{"requirements with docker+machine", "stack: a\nrunners:\n  executor: docker+machine\n  instance_requirements: {vcpu: {min: 2}, memory_mib: {min: 4096}}\n", []string{"runners.instance_requirements", "only docker-autoscaler"}},
		{"too many ssh sources", "stack: a\ngitlab:\n  ssh_source_cidrs: [" + strings.Repeat("10.0.0.0/8, ", 20) + "10.0.0.0/8]\n", []string{"ssh_source_cidrs", "at most"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := ParseConfig("provision.yaml", []byte(c.yaml), "")
			if err == nil {
				t.Fatalf("no error for:\n%s", c.yaml)
			}
			for _, w := range c.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error does not mention %q:\n%v", w, err)
				}
			}
		})
	}
}

// All problems are reported at once, not the first one only.
// A working-hours schedule as the issue asks for parses and is kept.
// With the opt-in, endpoints in an existing VPC are accepted.
func TestEndpointsInAnExistingVPCWithTheOptIn(t *testing.T) {
	yaml := "stack: a\nnetwork:\n  vpc_id: vpc-0123456789abcdef0\n  endpoints: [ssm]\n  endpoints_vpc_wide_dns: true\n"
	if _, err := ParseConfig("provision.yaml", []byte(yaml), ""); err != nil {
		t.Errorf("endpoints with endpoints_vpc_wide_dns: %v", err)
	}
}

func TestParseConfigSchedule(t *testing.T) {
	cfg, err := ParseConfig("p.yaml", []byte("stack: a\nrunners:\n  schedule:\n    - periods: [\"* 8-19 * * mon-fri\"]\n      timezone: Asia/Tokyo\n      idle_count: 2\n      idle_time: 20m\n"), "")
	if err != nil {
		t.Fatal(err)
	}
	if s := cfg.Runners.Schedule; len(s) != 1 || s[0].Timezone != "Asia/Tokyo" || s[0].IdleCount != 2 || s[0].Periods[0] != "* 8-19 * * mon-fri" {
		t.Errorf("schedule %+v", s)
	}
}

func TestParseConfigReportsEveryProblem(t *testing.T) {
	_, err := ParseConfig("p.yaml", []byte("stack: A\nrunners:\n  max_instances: 0\n  executor: shell\n"), "")
	var ce *ConfigError
	if !errors.As(err, &ce) || len(ce.Problems) != 3 {
		t.Fatalf("want 3 problems, got %v", err)
	}
}

// Zones: two by default in the stack's own VPC, the first zone's ranges as
// before and the second's carved from what is left; a larger VPC fits
// more; listed ranges are taken as given; adding a zone moves no subnet.
func TestZoneSubnets(t *testing.T) {
	parse := func(yaml string) *Config {
		t.Helper()
		cfg, err := ParseConfig("p.yaml", []byte(yaml), "")
		if err != nil {
			t.Fatal(err)
		}
		return cfg
	}
	layout := func(cfg *Config) []ZoneSubnets {
		t.Helper()
		zs, err := cfg.Network.Subnets()
		if err != nil {
			t.Fatal(err)
		}
		return zs
	}
	def := parse("stack: a\n")
	if want := []ZoneSubnets{{"192.168.0.0/27", "192.168.0.128/25"}, {"192.168.0.32/27", "192.168.0.64/26"}}; !reflect.DeepEqual(layout(def), want) {
		t.Errorf("default layout %v, want %v", layout(def), want)
	}
	if def.Network.NATZones() != 1 {
		t.Errorf("default NAT gateways: %d, want 1", def.Network.NATZones())
	}
	one := parse("stack: a\nnetwork:\n  zones: 1\n")
	if got := layout(one); len(got) != 1 || got[0] != layout(def)[0] {
		t.Errorf("one zone: %v", got)
	}
	big := "stack: a\nnetwork:\n  cidr: 10.0.0.0/16\n  public_subnet_cidr: 10.0.0.0/24\n  private_subnet_cidr: 10.0.128.0/20\n  nat: per_zone\n  zones: "
	three, four := layout(parse(big+"3\n")), layout(parse(big+"4\n"))
	if want := []ZoneSubnets{{"10.0.0.0/24", "10.0.128.0/20"}, {"10.0.1.0/24", "10.0.16.0/20"}, {"10.0.2.0/24", "10.0.32.0/20"}}; !reflect.DeepEqual(three, want) {
		t.Errorf("3 zones of a /16: %v, want %v", three, want)
	}
	if !reflect.DeepEqual(four[:3], three) {
		t.Errorf("a fourth zone moved the others: %v then %v", three, four)
	}
	if n := parse(big + "3\n").Network.NATZones(); n != 3 {
		t.Errorf("per_zone NAT gateways: %d, want 3", n)
	}
	listed := parse("stack: a\nnetwork:\n  cidr: 10.0.0.0/16\n  public_subnet_cidrs: [10.0.0.0/24, 10.0.1.0/24]\n  private_subnet_cidrs: [10.0.128.0/20, 10.0.144.0/20]\n")
	if listed.Network.ZoneCount() != 2 || listed.Network.PublicSubnetCIDR != "10.0.0.0/24" || listed.Network.PrivateSubnetCIDR != "10.0.128.0/20" {
		t.Errorf("listed: %d zones, first %s %s", listed.Network.ZoneCount(), listed.Network.PublicSubnetCIDR, listed.Network.PrivateSubnetCIDR)
	}
	existing := parse("stack: a\nnetwork:\n  vpc_id: vpc-0123456789abcdef0\n")
	if existing.Network.ZoneCount() != 1 {
		t.Errorf("existing VPC without lists: %d zones, want 1", existing.Network.ZoneCount())
	}
}

func TestNthSubnet64(t *testing.T) {
	cases := []struct {
		block string
		n     int
		want  string
	}{
		{"2600:1f18:abcd:ab00::/56", 0, "2600:1f18:abcd:ab00::/64"},
		{"2600:1f18:abcd:ab00::/56", 1, "2600:1f18:abcd:ab01::/64"},
		{"2600:1f18:abcd:ab00::/56", 255, "2600:1f18:abcd:abff::/64"},
		{"2400:6500:5085:0800::/56", 2, "2400:6500:5085:802::/64"},
	}
	for _, c := range cases {
		got, err := NthSubnet64(mustPrefix(t, c.block), c.n)
		if err != nil || got.String() != c.want {
			t.Errorf("nthSubnet64(%s, %d) = %v, %v; want %s", c.block, c.n, got, err, c.want)
		}
	}
	if _, err := NthSubnet64(mustPrefix(t, "2600::/48"), 0); err == nil {
		t.Errorf("a /48 must be refused")
	}
	if _, err := NthSubnet64(mustPrefix(t, "2600:1f18:abcd:ab00::/56"), 256); err == nil {
		t.Errorf("index 256 must be refused")
	}
}

func TestContainsAndCanonical(t *testing.T) {
	if !ContainsPrefix(mustPrefix(t, "192.168.0.0/24"), mustPrefix(t, "192.168.0.128/25")) {
		t.Error("/25 inside /24")
	}
	if ContainsPrefix(mustPrefix(t, "192.168.0.0/25"), mustPrefix(t, "192.168.0.0/24")) {
		t.Error("/24 is not inside /25")
	}
	if CanonicalCIDR("2400:6500:5085:0800::/56") != "2400:6500:5085:800::/56" {
		t.Error(CanonicalCIDR("2400:6500:5085:0800::/56"))
	}
}

// Mistakes cost one run: every unknown key with its line and the key it
// was probably meant to be, type errors in words (no Go types), yes/no
// for a boolean, and files without settings.
func TestConfigErrorsTeach(t *testing.T) {
	cases := []struct {
		name, yaml string
		want       []string
		not        []string
	}{
		{"every unknown key, with its line and a suggestion",
			"stack: a\nregoin: eu-west-1\nnetwork:\n  cidrr: 10.0.0.0/16\n  ipv7: true\nrunners:\n  max_instance: 3\n",
			[]string{"4 problems", "line 2: regoin: is not a known key; did you mean `region`?", "line 4: network.cidrr: is not a known key; did you mean `cidr`?",
				"line 5: network.ipv7: is not a known key; did you mean `ipv6`?", "line 7: runners.max_instance: is not a known key; did you mean `max_instances`?"}, nil},
		{"an unknown key far from any", "stack: a\nnetwork:\n  flavour: x\n", []string{"1 problem in", "network.flavour: is not a known key; the keys here are vpc_id, cidr"}, nil},
		{"a type error in words", "stack: a\nrunners:\n  max_instances: lots\n", []string{"line 3: runners.max_instances: expected a whole number, found the text \"lots\""}, []string{"int", "string"}},
		{"a list where text belongs", "stack: a\nregion: [eu-west-1]\n", []string{"region: expected text, found a list"}, nil},
		{"yes for a boolean", "stack: a\nnetwork:\n  ipv6: yes\n", []string{"line 3: network.ipv6: \"yes\" is text here: use true or false"}, nil},
		{"an unknown executor", "stack: a\nrunners:\n  executor: docker-autoscaller\n", []string{"did you mean `docker-autoscaler`?"}, nil},
		{"only comments", "# nothing yet\n# stack: a\n", []string{"holds no settings", "provision init"}, nil},
		{"only a document marker", "---\n", []string{"holds no settings"}, nil},
		{"empty", "", []string{"holds no settings"}, nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := ParseConfig("p.yaml", []byte(c.yaml), "")
			if err == nil {
				t.Fatalf("no error for:\n%s", c.yaml)
			}
			for _, w := range c.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error does not say %q:\n%v", w, err)
				}
			}
			for _, n := range c.not {
				if strings.Contains(err.Error(), n) {
					t.Errorf("error says %q:\n%v", n, err)
				}
			}
		})
	}
}

// A swap of two letters is one edit: plna finds plan, regoin region.
func TestClosestCountsASwapAsOneEdit(t *testing.T) {
	for _, c := range []struct{ typo, want string }{{"plna", "plan"}, {"regoin", "region"}, {"dwon", "down"}, {"stauts", "status"}, {"xyz", ""}} {
		if got := Closest(c.typo, []string{"plan", "region", "down", "status", "up"}); got != c.want {
			t.Errorf("Closest(%q) = %q, want %q", c.typo, got, c.want)
		}
	}
	if editDistance("plna", "plan") != 1 || editDistance("kitten", "sitting") != 3 {
		t.Errorf("edit distances: %d %d", editDistance("plna", "plan"), editDistance("kitten", "sitting"))
	}
}

// One pass: an unknown key, a value of the wrong type and a bad value
// elsewhere are all reported, in the order of the file.
func TestEveryProblemInOnePassInFileOrder(t *testing.T) {
	yaml := "stack: a\nrunners:\n  max_instances: many\nregoin: eu-west-1\nnetwork:\n  cidr: 10.0.0.0/33\n"
	_, err := ParseConfig("p.yaml", []byte(yaml), "")
	var ce *ConfigError
	if !errors.As(err, &ce) || len(ce.Problems) != 3 {
		t.Fatalf("want 3 problems, got %v", err)
	}
	var lines []int
	for _, p := range ce.Problems {
		lines = append(lines, p.Line)
	}
	if want := []int{3, 4, 6}; !reflect.DeepEqual(lines, want) {
		t.Errorf("problems on lines %v, want %v (the file's order):\n%v", lines, want, err)
	}
	if !strings.Contains(err.Error(), "network.cidr") || !strings.Contains(err.Error(), "not a CIDR") {
		t.Errorf("the value error hides behind the type error:\n%v", err)
	}
}
