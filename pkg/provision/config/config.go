package config

import (
	"errors"
	"fmt"
	"os"
	"slices"
	"strconv"
	"strings"

	"github.com/goccy/go-yaml"
	"github.com/goccy/go-yaml/ast"
	"github.com/goccy/go-yaml/parser"
)

// Config is the whole configuration file (docs/configuration.md). Field comments give the
// defaults; Defaults() is the single source of them.
type Config struct {
	Stack   string            `yaml:"stack" jsonschema:"required" jsonschema_description:"Name of the stack: 1-32 lowercase letters, digits and dashes. Part of every resource name and tag."`
	Region  string            `yaml:"region" jsonschema_description:"AWS region, e.g. eu-west-1. Empty: --region, AWS_REGION or the profile's region."`
	Tags    map[string]string `yaml:"tags" jsonschema_description:"Tags put on every resource (besides provision:stack, provision:step and Name). A change is applied by up."`
	Network NetworkConfig     `yaml:"network" jsonschema_description:"The VPC and its subnets: a public and a private one in each zone."`
	GitLab  GitLabConfig      `yaml:"gitlab" jsonschema_description:"Your GitLab and how the stack reaches it."`
	Manager ManagerConfig     `yaml:"manager" jsonschema_description:"The runner manager instance (gitlab-runner itself)."`
	Runners RunnersConfig     `yaml:"runners" jsonschema_description:"The machines that run the jobs: one fleet (named default). For several, use fleets instead."`
	// Fleets are several runners with machines of their own (small, large,
	// Arm...), behind one manager; `runners:` is the one-fleet form.
	Fleets  map[string]RunnersConfig `yaml:"fleets" jsonschema_description:"Instead of runners: named fleets, each with the keys of runners (executor, instance types, spot, limits, image...). Each is a runner of its own in GitLab, with its own token (GITLAB_RUNNER_TOKEN_NAME, or created with its tag_list) and machines; the manager, network, cache and key are shared. Names: 1-16 lowercase letters, digits and dashes."`
	State   StateConfig              `yaml:"state" jsonschema_description:"Where the state lives. Empty: .provision/<stack>.json next to this file."`
	Cache   CacheConfig              `yaml:"cache" jsonschema_description:"The jobs' shared cache (docker-autoscaler)."`
	Secrets SecretsConfig            `yaml:"secrets" jsonschema_description:"How the runner token and the machines' SSH key are encrypted in SSM."`
	Logs    LogsConfig               `yaml:"logs" jsonschema_description:"The manager's journal (gitlab-runner, its boot, provision's own units) in a CloudWatch Logs group of the stack, read with provision logs."`
}

// LogsConfig is the CloudWatch Logs group the manager ships its journal
// to, /provision/<stack>/manager.
type LogsConfig struct {
	RetentionDays int `yaml:"retention_days" jsonschema_description:"Days CloudWatch Logs keeps the manager's log lines: 1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288 or 3653."`
}

// LogRetentionDays are the retention periods CloudWatch Logs accepts
// (PutRetentionPolicy, retentionInDays, in the CloudWatch Logs API
// reference); any other number is refused by the API.
var LogRetentionDays = []int{1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653}

// SecretsConfig is the KMS key of the stack's SecureString parameters
// (the runner token, the machines' SSH key). Empty: the stack makes a key
// of its own, which only the manager's role may use, through SSM.
type SecretsConfig struct {
	KMSKeyID string `yaml:"kms_key_id" jsonschema_description:"A symmetric KMS key of your own for the SecureString parameters (key id, key ARN, alias name or alias ARN), in the stack's region; its key policy must let the manager's role and whoever runs provision use it through SSM (docs/configuration.md, \"Secrets\"). Empty: the stack makes its own key (about 1 USD a month)."`
}

// CacheConfig is the runners' shared cache: an S3 bucket of the stack,
// which gitlab-runner reaches with the manager's instance role.
type CacheConfig struct {
	S3         bool `yaml:"s3" jsonschema_description:"Make an S3 bucket for the jobs' cache (encrypted, private, owned by the account) and point [runners.cache] at it."`
	ExpireDays int  `yaml:"expire_days" jsonschema_description:"Days after which a cache object is deleted."`
}

// StateConfig says where the state lives; empty: a local file.
type StateConfig struct {
	S3 *S3StateConfig `yaml:"s3" jsonschema_description:"State in S3 for a team: s3://bucket/key, locked with key.lock."`
}

// S3StateConfig is state in S3, for a team: BUCKET/KEY, with KEY.lock as
// the lock.
type S3StateConfig struct {
	Bucket string `yaml:"bucket" jsonschema_description:"S3 bucket of the state (it must exist, with versioning)."`
	Key    string `yaml:"key" jsonschema_description:"Object key of the state, e.g. provision/ci-runners.json."`
	Region string `yaml:"region" jsonschema_description:"Region of the bucket. Empty: the stack's region."` // empty: the stack's region
}

type NetworkConfig struct {
	VpcID             string `yaml:"vpc_id" jsonschema_description:"An existing VPC to build the subnets in (its internet gateway is used). Empty: the stack creates its own VPC."`
	CIDR              string `yaml:"cidr" jsonschema_description:"IPv4 range of the VPC the stack creates."`
	IPv6              bool   `yaml:"ipv6" jsonschema_description:"Give the VPC and subnets IPv6 (an egress-only gateway for the private subnet)."`
	AvailabilityZone  string `yaml:"availability_zone" jsonschema_description:"Zone of the first zone's subnets (the manager's). Empty: the first zone that offers the instance types; the other zones follow in name order."`
	PublicSubnetCIDR  string `yaml:"public_subnet_cidr" jsonschema_description:"IPv4 range of the public subnet (manager and NAT gateway)."`
	PrivateSubnetCIDR string `yaml:"private_subnet_cidr" jsonschema_description:"IPv4 range of the private subnet (the runner machines)."`
	// Zones spreads the stack over Availability Zones: a public and a
	// private subnet in each, the group of machines across every private
	// one, so that one zone's outage or Spot shortage does not stop CI.
	Zones int `yaml:"zones" jsonschema_description:"Availability Zones to spread over (1-6): a public and a private subnet in each; the machines' group spans every private subnet. 0 (default): as many as public_subnet_cidrs lists, else 2 in a VPC the stack makes and 1 with vpc_id."`
	// NAT is how the private subnets reach the internet: single (one NAT
	// gateway in the first zone, as before) or per_zone (a NAT gateway
	// and an Elastic IP in every zone, each private subnet through its
	// own zone's: a zone's outage then leaves the others' egress alone).
	NAT string `yaml:"nat" jsonschema:"enum=single,enum=per_zone" jsonschema_description:"single (default): one NAT gateway in the first zone (about 33 USD a month); per_zone: a NAT gateway and an Elastic IP in every zone, each private subnet through its own zone's (GitLab then admits one more address per zone)."`
	// PublicSubnetCIDRs and PrivateSubnetCIDRs give every zone's ranges,
	// first zone first; empty: the first zone's are public_subnet_cidr and
	// private_subnet_cidr, the others' are carved from the VPC's range.
	PublicSubnetCIDRs  []string `yaml:"public_subnet_cidrs" jsonschema_description:"IPv4 range of each zone's public subnet, first zone first (its first item is the first zone's, in place of public_subnet_cidr). Empty: derived from network.cidr. Required for more than one zone in an existing VPC."`
	PrivateSubnetCIDRs []string `yaml:"private_subnet_cidrs" jsonschema_description:"IPv4 range of each zone's private subnet, first zone first (its first item is the first zone's, in place of private_subnet_cidr). Empty: derived from network.cidr. Required for more than one zone in an existing VPC."`
	// ACLRuleQuota is AWS's "Rules per network ACL" in the account: the
	// private ACL denies each of the VPC's blocks, and preflight refuses a
	// VPC with more blocks than its rules can hold.
	ACLRuleQuota int `yaml:"acl_rule_quota" jsonschema_description:"AWS's quota \"Rules per network ACL\" in this region (20 unless raised; at most 40). The private subnet's ACL has an outbound deny for each of the VPC's blocks: raise the quota, then this, for a VPC with more blocks than 20 rules hold."`
	// Endpoints are the interface endpoints to make (the S3 gateway
	// endpoint is always made: it is free).
	Endpoints []string `yaml:"endpoints" jsonschema:"enum=ssm,enum=ecr,enum=sts,enum=ec2,enum=autoscaling,enum=logs" jsonschema_description:"Interface VPC endpoints (charged by the hour) for AWS services the manager and machines call: ssm, ecr (its API and registry), sts, ec2, autoscaling, logs. Empty: none (S3 always has a free gateway endpoint)."`
	// EndpointsVPCWideDNS accepts, in an existing VPC, what an interface
	// endpoint's private DNS does there: it answers for the whole VPC.
	EndpointsVPCWideDNS bool `yaml:"endpoints_vpc_wide_dns" jsonschema_description:"In an existing VPC (vpc_id): accept that the endpoints' private DNS names apply to the whole VPC, so every workload in it reaches those services through this stack's endpoints (and down removes them). Required for endpoints in an existing VPC."`
}

type GitLabConfig struct {
	URL             string              `yaml:"url" jsonschema_description:"Address of your GitLab, e.g. https://gitlab.example.com. Required for up."`
	SecurityGroupID string              `yaml:"security_group_id" jsonschema_description:"Security group of your GitLab server: it gets tcp 443 from the stack's two Elastic IPs. Required for up."`
	SSHSourceCIDRs  []string            `yaml:"ssh_source_cidrs" jsonschema_description:"Addresses allowed to SSH to the manager (at most 10 blocks). Empty: no SSH."`
	CreateRunner    *CreateRunnerConfig `yaml:"create_runner" jsonschema_description:"Create the runner through GitLab's API with GITLAB_TOKEN (instead of GITLAB_RUNNER_TOKEN)."`
}

type CreateRunnerConfig struct {
	RunnerType  string   `yaml:"runner_type" jsonschema:"enum=instance_type,enum=group_type,enum=project_type" jsonschema_description:"instance_type, group_type or project_type."`
	GroupID     int      `yaml:"group_id" jsonschema_description:"The group of a group_type runner."`
	ProjectID   int      `yaml:"project_id" jsonschema_description:"The project of a project_type runner."`
	Description string   `yaml:"description" jsonschema_description:"The runner's description in GitLab. Default: \"<stack> autoscaling\"."`
	TagList     []string `yaml:"tag_list" jsonschema_description:"The runner's tags in GitLab."`
	// RunUntagged defaults to true, as GitLab's own default does: GitLab
	// refuses a runner with no tags that may not run untagged jobs.
	RunUntagged *bool `yaml:"run_untagged" jsonschema_description:"Whether the runner takes jobs without tags (GitLab's default: true)."`
}

type ManagerConfig struct {
	InstanceType string `yaml:"instance_type" jsonschema_description:"Instance type of the manager."`
	AMI          string `yaml:"ami" jsonschema_description:"Image of the manager. Empty: the latest Amazon Linux 2023."`
	KeyName      string `yaml:"key_name" jsonschema_description:"EC2 key pair for SSH to the manager. Empty: no key."`
	// ImageUpdates: latest moves the manager to its family's latest image
	// at up (docker-autoscaler: through a drain, its jobs finish first).
	ImageUpdates  string `yaml:"image_updates" jsonschema:"enum=latest,enum=pinned" jsonschema_description:"Without manager.ami: latest (a new manager on the newest Amazon Linux 2023 at up, after a drain) or pinned (the image it was launched with). Empty: latest with docker-autoscaler, pinned with docker+machine (whose jobs a replacement would interrupt)."`
	RunnerVersion string `yaml:"runner_version" jsonschema_description:"gitlab-runner version to install, e.g. 18.5.0. Empty: the latest."`
	// MetricsCIDRs turns on gitlab-runner's Prometheus endpoint
	// (listen_address) on the manager's private address, port 9252,
	// admitted from these addresses only.
	// DrainTimeout bounds how long a replaced manager may take to finish
	// its jobs (docker-autoscaler) before it is terminated all the same.
	DrainTimeout string   `yaml:"drain_timeout" jsonschema_description:"docker-autoscaler: how long a replaced manager may take to finish the jobs it runs, e.g. 30m."`
	MetricsCIDRs []string `yaml:"metrics_cidrs" jsonschema_description:"IPv4 addresses (CIDR) that may scrape gitlab-runner's Prometheus metrics on the manager's IPv4 address, port 9252. Empty: no metrics endpoint."`
}

type RunnersConfig struct {
	// OS is the machines' operating system: windows runs Windows
	// containers on AWS's ECS-optimized Windows Server (docker-autoscaler).
	OS                  string `yaml:"os" jsonschema:"enum=linux,enum=windows" jsonschema_description:"linux (default) or windows: docker-autoscaler machines on AWS's ECS-optimized Windows Server 2022, reached over WinRM from the manager, running Windows containers (x86_64 types only; see docs/configuration.md, \"Windows fleets\")."`
	Executor            string `yaml:"executor" jsonschema:"enum=docker-autoscaler,enum=docker+machine" jsonschema_description:"docker-autoscaler (an Auto Scaling group; recommended) or docker+machine."`
	InstanceType        string `yaml:"instance_type" jsonschema_description:"Instance type of the machines."`
	AMI                 string `yaml:"ami" jsonschema_description:"Image of the machines. Empty: the latest Amazon Linux 2023 (docker+machine: the driver's default)."`
	MaxInstances        int    `yaml:"max_instances" jsonschema_description:"Most machines at once."`
	CapacityPerInstance int    `yaml:"capacity_per_instance" jsonschema_description:"Jobs one machine runs at once."`
	IdleCount           int    `yaml:"idle_count" jsonschema_description:"Machines kept idle, waiting for jobs (0: start one per job)."`
	IdleTime            string `yaml:"idle_time" jsonschema_description:"How long an idle machine is kept, e.g. 5m."`
	Concurrent          int    `yaml:"concurrent" jsonschema_description:"Most jobs the manager runs at once."`
	Image               string `yaml:"image" jsonschema_description:"Default Docker image of jobs."`
	Privileged          bool   `yaml:"privileged" jsonschema_description:"Run job containers privileged (needed for Docker-in-Docker)."`
	Spot                bool   `yaml:"spot" jsonschema_description:"Run the machines as Spot instances (docker-autoscaler: through the group's mixed-instances policy, with runners.instance_types and runners.on_demand_percentage)."`
	// InstanceTypes and OnDemandPercentage shape docker-autoscaler's group
	// as a mixed-instances policy: several instance types (more Spot
	// capacity pools to draw from) and a share of on-demand machines that
	// Spot interruptions and shortages cannot take away.
	InstanceTypes []string `yaml:"instance_types" jsonschema_description:"docker-autoscaler: more instance types the group may launch after runners.instance_type, in order of preference; all of its architecture."`
	// InstanceRequirements lets Auto Scaling pick every current type that
	// fits (attribute-based instance type selection): many more Spot
	// pools than a hand-written list, and new generations as they come.
	InstanceRequirements *InstanceRequirements `yaml:"instance_requirements" jsonschema_description:"docker-autoscaler: instead of instance_types, the vCPU and memory ranges of the machines; Auto Scaling launches any current type that fits (attribute-based selection), which gives Spot many pools to draw from."`
	OnDemandPercentage   int                   `yaml:"on_demand_percentage" jsonschema_description:"docker-autoscaler with spot: percentage of machines launched on demand (0: all Spot; 100: none)."`
	// TagList and RunUntagged are the fleet's runner in GitLab when
	// provision creates it (gitlab.create_runner): a fleet's tags are
	// how jobs choose it.
	TagList      []string `yaml:"tag_list" jsonschema_description:"With gitlab.create_runner: the tags of this fleet's runner in GitLab (jobs pick the fleet with them). Empty: gitlab.create_runner.tag_list."`
	RunUntagged  *bool    `yaml:"run_untagged" jsonschema_description:"With gitlab.create_runner: whether this fleet's runner takes jobs without tags. Empty: gitlab.create_runner.run_untagged."`
	VolumeSizeGB int      `yaml:"volume_size_gb" jsonschema_description:"Root volume of a machine, in GiB."`
	// MaxUseCount is how many jobs one machine runs before it is replaced;
	// 1 (GitLab's AWS example) keeps one job's images, volumes and files
	// away from the next. 0: unlimited.
	MaxUseCount int `yaml:"max_use_count" jsonschema_description:"Jobs a machine runs before it is replaced (0: no limit)."`
	// SSHUser is the user docker+machine's driver logs in as on runners.ami
	// (its default is ubuntu).
	SSHUser string `yaml:"ssh_user" jsonschema_description:"docker+machine: the user its driver logs in as on runners.ami."`
	// SSHKeys and BaseImage decide how fast a new machine takes its first
	// job (docker-autoscaler): a key pair the machines boot with, and an
	// image that already holds Docker, leave nothing to download or push.
	// Schedule adds autoscaler policies after the default one (idle_count,
	// idle_time above): during its periods a period's own idle settings
	// apply, e.g. idle machines only in working hours.
	Schedule []SchedulePeriod `yaml:"schedule" jsonschema_description:"docker-autoscaler: extra autoscaler policies, each for some periods (cron), e.g. idle machines in working hours."`
	SSHKeys  string           `yaml:"ssh_keys" jsonschema:"enum=static,enum=instance-connect" jsonschema_description:"docker-autoscaler: static (a key pair of the stack; its private key in SSM, read by the manager at boot) or instance-connect (a key pushed to each machine through EC2 Instance Connect, 30-35 s per machine)."`
	// ImageUpdates: latest gives new machines the newest image of the
	// family at every up; pinned keeps the one the template has.
	ImageUpdates string `yaml:"image_updates" jsonschema:"enum=latest,enum=pinned" jsonschema_description:"docker-autoscaler, without runners.ami: latest (each up gives new machines the newest image of the family: security fixes) or pinned (the image the launch template has)."`
	BaseImage    string `yaml:"base_image" jsonschema:"enum=ecs-optimized,enum=amazon-linux" jsonschema_description:"docker-autoscaler, when runners.ami is empty: ecs-optimized (AWS's ECS-optimized Amazon Linux 2023, Docker preinstalled) or amazon-linux (Amazon Linux 2023, Docker installed at each boot)."`
}

// UnmarshalYAML decodes a fleet onto the defaults, so a fleet of
// `fleets:` that leaves a key out has its default, as `runners:` does.
// The decoder is the file's own (strict: an unknown key is an error).
func (r *RunnersConfig) UnmarshalYAML(unmarshal func(any) error) error {
	type plain RunnersConfig // without this method
	p := plain(Defaults().Runners)
	if err := unmarshal(&p); err != nil {
		return err
	}
	*r = RunnersConfig(p)
	return nil
}

// InstanceRequirements are the attributes the group's types must have
// (Auto Scaling's InstanceRequirements: VCpuCount, MemoryMiB). The
// architecture is the image's: that of runners.instance_type, which the
// launch template still names.
type InstanceRequirements struct {
	VCPU         Range  `yaml:"vcpu" jsonschema_description:"vCPUs per machine: min (required) and max (0: no upper limit)."`
	MemoryMiB    Range  `yaml:"memory_mib" jsonschema_description:"Memory per machine in MiB: min (required) and max (0: no upper limit)."`
	Architecture string `yaml:"architecture" jsonschema:"enum=x86_64,enum=arm64" jsonschema_description:"x86_64 or arm64: checked against runners.instance_type's, whose image every machine boots. Empty: that one."`
}

// Range is a minimum and an optional maximum (0: none).
type Range struct {
	Min int `yaml:"min" jsonschema_description:"Least value."`
	Max int `yaml:"max" jsonschema_description:"Greatest value (0: no limit)."`
}

// SchedulePeriod is one autoscaler policy of gitlab-runner's
// [[runners.autoscaler.policy]], as the autoscaler has them: periods in
// cron syntax (minute hour day-of-month month day-of-week), a timezone,
// and the idle settings that apply while one of the periods is on.
type SchedulePeriod struct {
	Periods   []string `yaml:"periods" jsonschema_description:"Cron expressions, e.g. \"* 8-19 * * mon-fri\": every minute from 8:00 to 19:59 on weekdays."`
	Timezone  string   `yaml:"timezone" jsonschema_description:"IANA time zone of the periods, e.g. Asia/Tokyo (empty: UTC, the manager's)."`
	IdleCount int      `yaml:"idle_count" jsonschema_description:"Machines kept idle during the periods."`
	IdleTime  string   `yaml:"idle_time" jsonschema_description:"How long an idle machine is kept during the periods, e.g. 20m."`
}

// Values of runners.ssh_keys and runners.base_image.
const (
	SSHKeysStatic          = "static"
	SSHKeysInstanceConnect = "instance-connect"
	BaseImageECS           = "ecs-optimized"
	BaseImageAmazonLinux   = "amazon-linux"
)

// Values of runners.os.
const (
	OSLinux   = "linux"
	OSWindows = "windows"
)

// WindowsImage is a Windows fleet's default job image: PowerShell on
// Nano Server 2022, whose version matches the machines' Windows Server
// 2022 (Windows containers run only on a host of their own version).
const WindowsImage = "mcr.microsoft.com/powershell:lts-nanoserver-ltsc2022"

// Values of runners.image_updates and manager.image_updates.
const (
	ImageUpdatesLatest = "latest"
	ImageUpdatesPinned = "pinned"
)

// Values of network.nat.
const (
	NATSingle  = "single"
	NATPerZone = "per_zone"
)

// MaxZones is the most zones a stack spreads over: the most a region has.
const MaxZones = 6

const (
	ExecutorDockerAutoscaler = "docker-autoscaler"
	ExecutorDockerMachine    = "docker+machine"
)

// Defaults returns a configuration holding every default. The
// file is decoded on top of it, so a key the user leaves out keeps its default.
func Defaults() Config {
	return Config{
		Network: NetworkConfig{
			CIDR:              "192.168.0.0/24",
			IPv6:              true,
			PublicSubnetCIDR:  "192.168.0.0/27",
			PrivateSubnetCIDR: "192.168.0.128/25",
			ACLRuleQuota:      20,
			NAT:               NATSingle,
		},
		Manager: ManagerConfig{InstanceType: "t3.micro", DrainTimeout: "30m"},
		Cache:   CacheConfig{ExpireDays: 14},
		Logs:    LogsConfig{RetentionDays: 30},
		Runners: RunnersConfig{
			OS:                  OSLinux,
			Executor:            ExecutorDockerAutoscaler,
			InstanceType:        "t3.medium",
			MaxInstances:        10,
			CapacityPerInstance: 1,
			IdleCount:           0,
			IdleTime:            "5m",
			Concurrent:          10,
			Image:               "alpine:latest",
			VolumeSizeGB:        30,
			MaxUseCount:         1,
			SSHKeys:             SSHKeysStatic,
			BaseImage:           BaseImageECS,
			ImageUpdates:        ImageUpdatesLatest,
		},
	}
}

func defaultCreateRunner(stack string) CreateRunnerConfig {
	untagged := true
	return CreateRunnerConfig{RunnerType: "instance_type", Description: stack + " autoscaling", RunUntagged: &untagged}
}

// ConfigError lists every problem found in a configuration file. Each
// problem names the key, its line, and what to do about it.
type ConfigError struct {
	File     string
	Problems []Problem
}

// Problem is one invalid value: where it is and how to fix it.
type Problem struct {
	Key  string // dotted path, e.g. network.cidr
	Line int    // 0 when the key is absent from the file
	Msg  string // what is wrong and the fix
}

func (e *ConfigError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s: %s in the configuration:", e.File, Count(len(e.Problems), "problem"))
	for _, p := range e.Problems {
		b.WriteString("\n  ")
		if p.Line > 0 {
			fmt.Fprintf(&b, "line %d: ", p.Line)
		}
		key := p.Key
		if _, bad := forbiddenRune(key); bad {
			// A key the file spelled with control characters is shown
			// escaped: it must not rewrite the terminal it is printed on.
			key = strconv.QuoteToASCII(key)
		}
		fmt.Fprintf(&b, "%s: %s", key, p.Msg)
	}
	return b.String()
}

// ProblemsIn makes a ConfigError of problems found in the file at path,
// each with the line of its key.
func ProblemsIn(path string, ps []Problem) *ConfigError {
	if data, err := os.ReadFile(path); err == nil {
		lines := keyLines(data)
		for i := range ps {
			ps[i].Line = lines(ps[i].Key)
		}
	}
	return &ConfigError{File: path, Problems: ps}
}

// Count writes n and a noun, plural when n is not 1: "1 problem", "2 problems".
func Count(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return fmt.Sprintf("%d %ss", n, noun)
}

// LoadConfig reads, decodes and validates a configuration file. regionOverride
// (from --region) wins over the file.
func LoadConfig(path, regionOverride string) (*Config, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return nil, fmt.Errorf("configuration file %s not found: create it (see docs/configuration.md) or pass --config FILE", path)
		}
		return nil, fmt.Errorf("read configuration: %w", err)
	}
	return ParseConfig(path, data, regionOverride)
}

// ParseConfig decodes strictly (unknown keys are errors) and validates.
func ParseConfig(name string, data []byte, regionOverride string) (*Config, error) {
	// A bad --region is the flag's problem, not the file's.
	if regionOverride != "" {
		if p := RegionProblem(regionOverride); p != "" {
			return nil, fmt.Errorf("--region: %s", p)
		}
	}
	cfg := Defaults()
	// Before anything decodes it: the file's size, its aliases and the
	// characters of its values.
	textProblems, err := checkDocument(data)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	// Then the schema: every unknown key and every value of the wrong
	// type at once, each with its line.
	textProblems = append(textProblems, bothFleetForms(data)...)
	problems, err := schemaProblems(data)
	problems = append(textProblems, problems...)
	switch {
	case errors.Is(err, errEmptyConfig):
		return nil, &ConfigError{File: name, Problems: []Problem{{Key: "stack", Msg: err.Error()}}}
	case err != nil:
		return nil, fmt.Errorf("%s: %s", name, yaml.FormatError(err, false, true))
	case len(problems) > 0:
		// The rest of the file may hold more mistakes: its values are
		// checked too, with the keys already reported (unknown, or of the
		// wrong type) left out, so one pass shows every problem.
		reported := map[string]bool{}
		for _, p := range problems {
			reported[p.Key] = true
		}
		if partial, ok := decodeWithout(data, reported); ok {
			for _, p := range partial.Validate() {
				if !reported[p.Key] {
					problems = append(problems, p)
				}
			}
		}
		setLines(data, problems)
		sortByLine(problems)
		return nil, &ConfigError{File: name, Problems: problems}
	}
	if err := yaml.UnmarshalWithOptions(data, &cfg, yaml.Strict()); err != nil {
		return nil, fmt.Errorf("%s: %s\n(check the key names and value types against docs/configuration.md)", name, yaml.FormatError(err, false, true))
	}
	if cfg.GitLab.CreateRunner != nil {
		// Fill defaults of an explicitly present block without losing the user's values.
		d := defaultCreateRunner(cfg.Stack)
		cr := cfg.GitLab.CreateRunner
		if cr.RunnerType == "" {
			cr.RunnerType = d.RunnerType
		}
		if cr.Description == "" {
			cr.Description = d.Description
		}
		if cr.RunUntagged == nil {
			cr.RunUntagged = d.RunUntagged
		}
	}
	if regionOverride != "" {
		cfg.Region = regionOverride
	}
	cfg.Network.firstZoneFromLists()
	cfg.windowsDefaults()
	problems = append(textProblems, cfg.Validate()...)
	if len(problems) > 0 {
		setLines(data, problems)
		sortByLine(problems)
		return nil, &ConfigError{File: name, Problems: problems}
	}
	return &cfg, nil
}

// bothFleetForms refuses a file with both runners: and fleets:, which
// would describe the default fleet twice.
func bothFleetForms(data []byte) []Problem {
	var top map[string]any
	if yaml.Unmarshal(data, &top) != nil {
		return nil
	}
	_, runners := top["runners"]
	_, fleets := top["fleets"]
	if runners && fleets {
		return []Problem{{Key: "fleets", Msg: "is given with runners: use one form, fleets (move the keys of runners into a fleet, e.g. fleets.default, which keeps the resources runners made) or runners alone"}}
	}
	return nil
}

// decodeWithout decodes the file with the given keys (dotted, as problems
// name them) left out, onto the defaults; ok is false when even that does
// not decode.
func decodeWithout(data []byte, skip map[string]bool) (Config, bool) {
	var doc map[string]any
	if yaml.Unmarshal(data, &doc) != nil || doc == nil {
		return Config{}, false
	}
	for key := range skip {
		dropKey(doc, key)
	}
	clean, err := yaml.Marshal(doc)
	if err != nil {
		return Config{}, false
	}
	cfg := Defaults()
	if yaml.Unmarshal(clean, &cfg) != nil {
		return Config{}, false
	}
	return cfg, true
}

// dropKey removes a dotted key ("runners.max_instances"; a list item
// "gitlab.ssh_source_cidrs[1]" takes its whole list) from a decoded file.
func dropKey(doc map[string]any, key string) {
	if i := strings.IndexByte(key, '['); i >= 0 {
		key = key[:i]
	}
	parts := strings.Split(key, ".")
	m := doc
	for _, p := range parts[:len(parts)-1] {
		next, ok := m[p].(map[string]any)
		if !ok {
			return
		}
		m = next
	}
	delete(m, parts[len(parts)-1])
}

// sortByLine puts the problems in the order of the file; those without a
// line (a required key that is missing) come first.
func sortByLine(ps []Problem) {
	slices.SortStableFunc(ps, func(a, b Problem) int { return a.Line - b.Line })
}

// setLines gives every problem that has none the line of its key.
func setLines(data []byte, problems []Problem) {
	lines := keyLines(data)
	for i := range problems {
		if problems[i].Line == 0 {
			problems[i].Line = lines(problems[i].Key)
		}
	}
}

// keyLines returns a lookup from a dotted key (with [i] for list items) to
// the line it is written on, or 0 when the key is not in the file.
func keyLines(data []byte) func(key string) int {
	file, err := parser.ParseBytes(data, 0)
	if err != nil {
		return func(string) int { return 0 }
	}
	return func(key string) int {
		for k := key; k != ""; k = parentKey(k) {
			p, err := yaml.PathString("$." + k)
			if err != nil {
				continue
			}
			node, err := p.FilterFile(file)
			if err != nil || node == nil {
				continue
			}
			return nodeLine(node)
		}
		return 0
	}
}

func parentKey(k string) string {
	i := strings.LastIndexAny(k, ".[")
	if i < 0 {
		return ""
	}
	return k[:i]
}

func nodeLine(n ast.Node) int {
	if t := n.GetToken(); t != nil && t.Position != nil {
		return t.Position.Line
	}
	return 0
}
