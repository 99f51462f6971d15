// Package bootstrap renders what the runner manager boots with: the
// gitlab-runner config.toml and the cloud-init user-data of the manager and
// of the runner machines. Everything here is a pure function of its input.
package bootstrap

import (
	"bytes"
	"fmt"
	"regexp"
	"sort"
	"strings"
	"time"

	"github.com/pelletier/go-toml/v2"
)

// Executors.
const (
	DockerAutoscaler = "docker-autoscaler"
	DockerMachine    = "docker+machine"
)

// TokenPlaceholder stands in config.toml for the runner authentication
// token, which the manager reads from SSM at boot and substitutes: the
// token itself never appears in user-data.
const TokenPlaceholder = "@RUNNER_TOKEN@"

// Placeholders for when the token was obtained and when it expires, filled
// in at boot from GitLab's answer to /runners/verify. gitlab-runner renews
// its token only when config.toml holds both (it resets the token once 75%
// of the span between them has passed: nextRunnerToReset and
// TokenResetIntervalFactor in gitlab-runner's commands/multi.go and
// common/consts.go); without them it never renews and goes offline when
// GitLab's runner token expiration applies.
const (
	TokenObtainedPlaceholder = "@TOKEN_OBTAINED_AT@"
	TokenExpiresPlaceholder  = "@TOKEN_EXPIRES_AT@"
)

// DefaultFleet is the fleet whose placeholders are the bare ones above,
// as a stack of one fleet always had them.
const DefaultFleet = "default"

// With several fleets every entry has placeholders of its own, with the
// fleet's name after a colon (@RUNNER_TOKEN:large@, the default fleet's
// too: @RUNNER_TOKEN:default@): the manager fills each entry with its own
// fleet's token. A manager from before fleets looks for the bare
// @RUNNER_TOKEN@ and so refuses such a template instead of writing a
// config.toml with placeholders left in it; it applies it no more than it
// can, and its replacement does.

// TokenPlaceholderOf is a fleet's token placeholder (several: a stack of
// several fleets).
func TokenPlaceholderOf(fleet string, several bool) string {
	return fleetPlaceholder(TokenPlaceholder, fleet, several)
}

// TokenObtainedPlaceholderOf is a fleet's token_obtained_at placeholder.
func TokenObtainedPlaceholderOf(fleet string, several bool) string {
	return fleetPlaceholder(TokenObtainedPlaceholder, fleet, several)
}

// TokenExpiresPlaceholderOf is a fleet's token_expires_at placeholder.
func TokenExpiresPlaceholderOf(fleet string, several bool) string {
	return fleetPlaceholder(TokenExpiresPlaceholder, fleet, several)
}

func fleetPlaceholder(p, fleet string, several bool) string {
	if fleet == "" {
		fleet = DefaultFleet
	}
	if fleet == DefaultFleet && !several {
		return p
	}
	return strings.TrimSuffix(p, "@") + ":" + fleet + "@"
}

// GroupPlaceholder stands for the Auto Scaling group in the runner
// configuration: every manager generation scales a group of its own, and
// the configuration parameter is shared by them, so each fills in its own
// group (from its values file) when it applies the configuration.
const GroupPlaceholder = "@AUTOSCALING_GROUP@"

// ListenPlaceholder stands for the manager's private address in
// listen_address (gitlab-runner's Prometheus endpoint, a global setting),
// filled in at boot from the instance metadata: the address exists only
// once the instance does.
const ListenPlaceholder = "@PRIVATE_IP@"

// MetricsPort is where gitlab-runner serves its metrics (9252, the port
// GitLab's monitoring documentation uses).
const MetricsPort = 9252

// InstanceReadyCommand runs over SSH on every new docker-autoscaler
// machine before it takes a job; a failure removes the machine
// ("instance_ready_command" in gitlab-runner's advanced configuration). It
// waits for cloud-init, which installs Docker at boot, then asks Docker
// itself (with sudo: the ready command's session can predate the usermod
// that puts ec2-user in the docker group). Without it gitlab-runner uses a
// machine as soon as SSH answers, and a cold job fails on a missing Docker.
const InstanceReadyCommand = "if command -v cloud-init >/dev/null; then cloud-init status --wait >/dev/null; fi; sudo -n docker info >/dev/null"

// Runner is what config.toml is rendered from: one fleet's entry.
type Runner struct {
	// Fleet names the entry ("" or DefaultFleet: the stack's one fleet).
	Fleet     string
	Stack     string
	Region    string
	GitLabURL string
	Executor  string

	Concurrent          int
	MaxInstances        int
	CapacityPerInstance int
	IdleCount           int
	IdleTime            time.Duration
	Image               string
	Privileged          bool
	MaxUseCount         int // jobs per machine; 0: unlimited

	// Windows: the machines run Windows Server (docker-autoscaler).
	Windows bool

	// docker-autoscaler
	AutoScalingGroup string
	// Schedule: policies after the default one (IdleCount, IdleTime).
	Schedule []Policy
	// Metrics: serve Prometheus metrics on the private address.
	Metrics bool
	// CacheBucket: the shared cache's bucket ("": no cache), in the region.
	CacheBucket string
	// StaticKey: the connector logs in with the private key at
	// StaticKeyPath (use_static_credentials), which the machines' key pair
	// matches, instead of pushing a key to each machine through EC2
	// Instance Connect.
	StaticKey bool

	// docker+machine
	VPCID             string
	SubnetID          string
	Zone              string // e.g. ap-northeast-1a; the option takes its letter
	SecurityGroupName string
	InstanceType      string
	InstanceProfile   string
	AMI               string
	RootSizeGB        int
	SSHUser           string // empty: the driver's default (ubuntu)
	Spot              bool
	Tags              map[string]string // put on every machine
}

// configFile mirrors the documented config.toml keys this tool writes.
type configFile struct {
	ListenAddress string          `toml:"listen_address,omitempty"`
	Concurrent    int             `toml:"concurrent"`
	Runners       []runnerSection `toml:"runners"`
}

type runnerSection struct {
	Name            string             `toml:"name"`
	URL             string             `toml:"url"`
	Token           string             `toml:"token"`
	TokenObtainedAt string             `toml:"token_obtained_at"`
	TokenExpiresAt  string             `toml:"token_expires_at"`
	Executor        string             `toml:"executor"`
	Shell           string             `toml:"shell,omitempty"`
	Environment     []string           `toml:"environment,omitempty"`
	Limit           int                `toml:"limit,omitempty"`
	FeatureFlags    map[string]bool    `toml:"feature_flags"`
	Cache           *cacheSection      `toml:"cache,omitempty"`
	Docker          dockerSection      `toml:"docker"`
	Autoscaler      *autoscalerSection `toml:"autoscaler,omitempty"`
	Machine         *machineSection    `toml:"machine,omitempty"`
}

// cacheSection is [runners.cache] for S3 with the instance role: no keys
// in config.toml (gitlab-runner's cache/cacheconfig: AuthenticationType
// iam), the bucket's region given so it is not looked up.
type cacheSection struct {
	Type   string  `toml:"Type"`
	Shared bool    `toml:"Shared"`
	S3     cacheS3 `toml:"s3"`
}

type cacheS3 struct {
	BucketName         string `toml:"BucketName"`
	BucketLocation     string `toml:"BucketLocation"`
	AuthenticationType string `toml:"AuthenticationType"`
}

type dockerSection struct {
	Host       string   `toml:"host,omitempty"`
	Image      string   `toml:"image"`
	Privileged bool     `toml:"privileged"`
	Volumes    []string `toml:"volumes"`
}

type autoscalerSection struct {
	Plugin               string          `toml:"plugin"`
	CapacityPerInstance  int             `toml:"capacity_per_instance"`
	MaxUseCount          int             `toml:"max_use_count,omitempty"`
	MaxInstances         int             `toml:"max_instances"`
	InstanceReadyCommand string          `toml:"instance_ready_command"`
	PluginConfig         pluginConfig    `toml:"plugin_config"`
	ConnectorConfig      connectorConfig `toml:"connector_config"`
	Policy               []policy        `toml:"policy"`
}

type pluginConfig struct {
	Name   string `toml:"name"`
	Region string `toml:"region"`
}

// connectorConfig holds the keys of gitlab-runner's [runners.autoscaler.
// connector_config]: with use_static_credentials the connector reads the
// private key at key_path; without, the AWS plugin makes a key and pushes
// it through EC2 Instance Connect before every connection.
type connectorConfig struct {
	OS                   string `toml:"os,omitempty"`
	Protocol             string `toml:"protocol,omitempty"`
	Username             string `toml:"username"`
	UseExternalAddr      bool   `toml:"use_external_addr"`
	UseStaticCredentials bool   `toml:"use_static_credentials,omitempty"`
	KeyPath              string `toml:"key_path,omitempty"`
}

// StaticKeyPath is where the manager keeps the machines' private key
// (root only), written at boot from SSM.
const StaticKeyPath = RunnerDir + "/runner-ssh-key"

// policy is one [[runners.autoscaler.policy]]; gitlab-runner applies the
// last one whose periods include now, and the first (no periods: always)
// otherwise.
type policy struct {
	Periods   []string `toml:"periods,omitempty"`
	Timezone  string   `toml:"timezone,omitempty"`
	IdleCount int      `toml:"idle_count"`
	IdleTime  string   `toml:"idle_time"`
}

// Policy is a scheduled autoscaler policy.
type Policy struct {
	Periods   []string
	Timezone  string
	IdleCount int
	IdleTime  time.Duration
}

type machineSection struct {
	IdleCount      int      `toml:"IdleCount"`
	IdleTime       int      `toml:"IdleTime"`
	MaxBuilds      int      `toml:"MaxBuilds,omitempty"`
	MachineDriver  string   `toml:"MachineDriver"`
	MachineName    string   `toml:"MachineName"`
	MachineOptions []string `toml:"MachineOptions"`
}

// ConfigTOML renders /etc/gitlab-runner/config.toml with the token
// placeholders: one [[runners]] entry per fleet, in the order given. With
// several fleets `concurrent` is the sum of theirs, and each entry's
// `limit` caps its own jobs at its own concurrent.
func ConfigTOML(fleets ...Runner) ([]byte, error) {
	if len(fleets) == 0 {
		return nil, fmt.Errorf("render config.toml: no runner")
	}
	r := fleets[0]
	file := configFile{}
	several := len(fleets) > 1
	for _, f := range fleets {
		sec, err := runnerEntry(f, several)
		if err != nil {
			return nil, err
		}
		if len(fleets) > 1 && (sec.Limit == 0 || f.Concurrent < sec.Limit) {
			sec.Limit = f.Concurrent
		}
		file.Concurrent += f.Concurrent
		file.Runners = append(file.Runners, sec)
	}
	var b bytes.Buffer
	fmt.Fprintf(&b, "# Written by provision for stack %s. The manager fills in the token (from SSM) and its own group.\n", r.Stack)
	enc := toml.NewEncoder(&b).SetIndentTables(true)
	if r.Metrics {
		file.ListenAddress = fmt.Sprintf("%s:%d", ListenPlaceholder, MetricsPort)
	}
	if err := enc.Encode(file); err != nil {
		return nil, fmt.Errorf("render config.toml: %w", err)
	}
	// The two times are TOML datetimes once filled in, not strings.
	out := b.Bytes()
	for _, f := range fleets {
		for _, p := range []string{TokenObtainedPlaceholderOf(f.Fleet, several), TokenExpiresPlaceholderOf(f.Fleet, several)} {
			out = bytes.Replace(out, []byte("'"+p+"'"), []byte(p), 1)
		}
	}
	return out, nil
}

// runnerEntry is one fleet's [[runners]] entry.
func runnerEntry(r Runner, several bool) (runnerSection, error) {
	name := r.Stack
	if r.Fleet != "" && r.Fleet != DefaultFleet {
		name += " " + r.Fleet
	}
	sec := runnerSection{
		Name:            name,
		URL:             r.GitLabURL,
		Token:           TokenPlaceholderOf(r.Fleet, several),
		TokenObtainedAt: TokenObtainedPlaceholderOf(r.Fleet, several),
		TokenExpiresAt:  TokenExpiresPlaceholderOf(r.Fleet, several),
		Executor:        r.Executor,
		// Each job gets a Docker network of its own (FF_NETWORK_PER_BUILD,
		// gitlab-runner's feature flags): with capacity_per_instance above
		// 1, jobs on one machine would otherwise share the default bridge
		// and could reach each other's services.
		FeatureFlags: map[string]bool{"FF_NETWORK_PER_BUILD": true},
		Docker:       dockerSection{Image: r.Image, Privileged: r.Privileged, Volumes: []string{"/cache"}},
	}
	switch r.Executor {
	case DockerAutoscaler:
		sec.Autoscaler = &autoscalerSection{
			Plugin:               "aws",
			CapacityPerInstance:  r.CapacityPerInstance,
			MaxUseCount:          r.MaxUseCount,
			MaxInstances:         r.MaxInstances,
			InstanceReadyCommand: InstanceReadyCommand,
			PluginConfig:         pluginConfig{Name: r.AutoScalingGroup, Region: r.Region},
			// The machines have private addresses only, reached from the manager's subnet.
			ConnectorConfig: connectorConfig{Username: "ec2-user", UseExternalAddr: false},
			Policy:          []policy{{IdleCount: r.IdleCount, IdleTime: r.IdleTime.String()}},
		}
		if r.CacheBucket != "" {
			sec.Cache = &cacheSection{Type: "s3", Shared: true, S3: cacheS3{BucketName: r.CacheBucket, BucketLocation: r.Region, AuthenticationType: "iam"}}
		}
		for _, s := range r.Schedule {
			sec.Autoscaler.Policy = append(sec.Autoscaler.Policy, policy{Periods: s.Periods, Timezone: s.Timezone, IdleCount: s.IdleCount, IdleTime: s.IdleTime.String()})
		}
		if r.StaticKey {
			sec.Autoscaler.ConnectorConfig.UseStaticCredentials = true
			sec.Autoscaler.ConnectorConfig.KeyPath = StaticKeyPath
		}
		if r.Windows {
			windowsEntry(&sec)
		}
	case DockerMachine:
		sec.Limit = r.MaxInstances
		sec.Machine = &machineSection{
			IdleCount:      r.IdleCount,
			IdleTime:       int(r.IdleTime / time.Second),
			MaxBuilds:      r.MaxUseCount,
			MachineDriver:  "amazonec2",
			MachineName:    MachineNamePrefix(r.Stack) + "%s",
			MachineOptions: machineOptions(r),
		}
	default:
		return sec, fmt.Errorf("unknown executor %q", r.Executor)
	}
	return sec, nil
}

// Windows machines, as gitlab-runner documents docker-autoscaler on
// Windows (its merge request 4161 and the AWS fleeting plugin's README):
// PowerShell as the shell, Docker's named pipe, the connector speaking
// WinRM as Administrator with the password AWS provisions (the plugin
// reads it with GetPasswordData; use_static_credentials false), and the
// path resolver feature flag PowerShell on Windows needs.
const (
	// WinRMPort is WinRM's HTTP port, where the connector reaches a
	// Windows machine.
	WinRMPort         = 5985
	WindowsDockerHost = "npipe:////./pipe/docker_engine"
	// WindowsReadyCommand waits for Docker (the ECS-optimized image starts
	// it at boot) before the machine takes a job; a failing ready command
	// removes the machine.
	WindowsReadyCommand = "powershell -NoProfile -Command \"for ($i = 0; $i -lt 60; $i++) { docker info *> $null; if ($LASTEXITCODE -eq 0) { exit 0 }; Start-Sleep 5 }; exit 1\""
)

func windowsEntry(sec *runnerSection) {
	sec.Shell = "pwsh"
	sec.Environment = []string{"FF_USE_POWERSHELL_PATH_RESOLVER=1"}
	sec.Docker.Host = WindowsDockerHost
	sec.Docker.Volumes = []string{`c:\cache`}
	a := sec.Autoscaler
	a.InstanceReadyCommand = WindowsReadyCommand
	// key_path: the plugin decrypts the password AWS provisions with the
	// machines' key pair's private key (the stack's static key, RSA with a
	// Windows fleet), which gitlab-runner hands it from key_path.
	a.ConnectorConfig = connectorConfig{OS: "windows", Protocol: "winrm", Username: "Administrator", UseExternalAddr: false, KeyPath: StaticKeyPath}
}

// MachineNamePrefix starts MachineName ("<stack>-machine-%s"), which
// cannot match the manager ("<stack>-manager").
func MachineNamePrefix(stack string) string { return stack + "-machine-" }

// What gitlab-runner and docker-machine actually call a machine and its
// key pair. gitlab-runner names a machine "runner-" + the first 9
// characters of its token (lowercased, DNS-safe) + "-" + MachineName with
// %s replaced by "<unix seconds>-<8 hex digits>" (machineFormat and
// newMachineName in executors/docker/machine/name.go; ShortenToken in
// helpers/shorten_token.go); the amazonec2 driver tags the instance Name
// with it and imports the key pair as that name + "-" + 5 random letters.
// The shapes are exact so that stack "ci" never matches the machines of a
// stack named "ci-machine-arm".
func MachineNameRegexp(stack string) *regexp.Regexp {
	return regexp.MustCompile(`^runner-[a-z0-9-]{9}-` + regexp.QuoteMeta(MachineNamePrefix(stack)) + `[0-9]{10}-[0-9a-f]{8}$`)
}

// KeyPairRegexp matches the key pairs docker-machine imports for the
// stack's machines.
func KeyPairRegexp(stack string) *regexp.Regexp {
	return regexp.MustCompile(`^runner-[a-z0-9-]{9}-` + regexp.QuoteMeta(MachineNamePrefix(stack)) + `[0-9]{10}-[0-9a-f]{8}(-[A-Za-z0-9]{5})?$`)
}

// MachineNameIAMPattern is the same shape for an IAM StringLike condition
// or ARN, where ? is one character and * any run of them.
func MachineNameIAMPattern(stack string) string {
	return "runner-?????????-" + MachineNamePrefix(stack) + "??????????-????????"
}

// machineOptions are the amazonec2 driver options. The group is
// read-only so the driver does not open 22/2376 to the internet.
func machineOptions(r Runner) []string {
	zone := r.Zone
	if n := len(zone); n > 0 {
		zone = zone[n-1:]
	}
	opts := []string{
		"amazonec2-region=" + r.Region,
		"amazonec2-vpc-id=" + r.VPCID,
		"amazonec2-subnet-id=" + r.SubnetID,
		"amazonec2-zone=" + zone,
		"amazonec2-security-group=" + r.SecurityGroupName,
		"amazonec2-security-group-readonly=true",
		"amazonec2-private-address-only=true",
		"amazonec2-use-private-address=true",
		"amazonec2-instance-type=" + r.InstanceType,
		"amazonec2-iam-instance-profile=" + r.InstanceProfile,
		"amazonec2-metadata-token=required",
		"amazonec2-metadata-token-response-hop-limit=1",
		fmt.Sprintf("amazonec2-root-size=%d", r.RootSizeGB),
		// The driver's default volume type is gp2; gp3 is cheaper and faster.
		"amazonec2-volume-type=gp3",
	}
	if r.SSHUser != "" {
		opts = append(opts, "amazonec2-ssh-user="+r.SSHUser)
	}
	if r.AMI != "" {
		opts = append(opts, "amazonec2-ami="+r.AMI)
	}
	if r.Spot {
		opts = append(opts, "amazonec2-request-spot-instance=true")
	}
	if len(r.Tags) > 0 {
		opts = append(opts, "amazonec2-tags="+joinTags(r.Tags))
	}
	return opts
}

func joinTags(tags map[string]string) string {
	keys := make([]string, 0, len(tags))
	for k := range tags {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var parts []string
	for _, k := range keys {
		parts = append(parts, k, tags[k])
	}
	return strings.Join(parts, ",")
}
