package provision

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"strings"

	"github.com/goccy/go-yaml"
	"github.com/goccy/go-yaml/ast"
	"github.com/goccy/go-yaml/parser"
)

// Config is the whole configuration file (README, "Configuration"). Field comments give the
// defaults; Defaults() is the single source of them.
type Config struct {
	Stack   string            `yaml:"stack"`
	Region  string            `yaml:"region"`
	Tags    map[string]string `yaml:"tags"`
	Network NetworkConfig     `yaml:"network"`
	GitLab  GitLabConfig      `yaml:"gitlab"`
	Manager ManagerConfig     `yaml:"manager"`
	Runners RunnersConfig     `yaml:"runners"`
	State   StateConfig       `yaml:"state"`
}

// StateConfig says where the state lives; empty: a local file.
type StateConfig struct {
	S3 *S3StateConfig `yaml:"s3"`
}

// S3StateConfig is state in S3, for a team: BUCKET/KEY, with KEY.lock as
// the lock.
type S3StateConfig struct {
	Bucket string `yaml:"bucket"`
	Key    string `yaml:"key"`
	Region string `yaml:"region"` // empty: the stack's region
}

type NetworkConfig struct {
	VpcID             string `yaml:"vpc_id"`
	CIDR              string `yaml:"cidr"`
	IPv6              bool   `yaml:"ipv6"`
	AvailabilityZone  string `yaml:"availability_zone"`
	PublicSubnetCIDR  string `yaml:"public_subnet_cidr"`
	PrivateSubnetCIDR string `yaml:"private_subnet_cidr"`
}

type GitLabConfig struct {
	URL             string              `yaml:"url"`
	SecurityGroupID string              `yaml:"security_group_id"`
	SSHSourceCIDRs  []string            `yaml:"ssh_source_cidrs"`
	CreateRunner    *CreateRunnerConfig `yaml:"create_runner"`
}

type CreateRunnerConfig struct {
	RunnerType  string   `yaml:"runner_type"`
	GroupID     int      `yaml:"group_id"`
	ProjectID   int      `yaml:"project_id"`
	Description string   `yaml:"description"`
	TagList     []string `yaml:"tag_list"`
	// RunUntagged defaults to true, as GitLab's own default does: GitLab
	// refuses a runner with no tags that may not run untagged jobs.
	RunUntagged *bool `yaml:"run_untagged"`
}

type ManagerConfig struct {
	InstanceType  string `yaml:"instance_type"`
	AMI           string `yaml:"ami"`
	KeyName       string `yaml:"key_name"`
	RunnerVersion string `yaml:"runner_version"`
}

type RunnersConfig struct {
	Executor            string `yaml:"executor"`
	InstanceType        string `yaml:"instance_type"`
	AMI                 string `yaml:"ami"`
	MaxInstances        int    `yaml:"max_instances"`
	CapacityPerInstance int    `yaml:"capacity_per_instance"`
	IdleCount           int    `yaml:"idle_count"`
	IdleTime            string `yaml:"idle_time"`
	Concurrent          int    `yaml:"concurrent"`
	Image               string `yaml:"image"`
	Privileged          bool   `yaml:"privileged"`
	Spot                bool   `yaml:"spot"`
	VolumeSizeGB        int    `yaml:"volume_size_gb"`
	// MaxUseCount is how many jobs one machine runs before it is replaced;
	// 1 (GitLab's AWS example) keeps one job's images, volumes and files
	// away from the next. 0: unlimited.
	MaxUseCount int `yaml:"max_use_count"`
	// SSHUser is the user docker+machine's driver logs in as on runners.ami
	// (its default is ubuntu).
	SSHUser string `yaml:"ssh_user"`
}

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
		},
		Manager: ManagerConfig{InstanceType: "t3.micro"},
		Runners: RunnersConfig{
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
	fmt.Fprintf(&b, "%s: %d problem(s) in the configuration:", e.File, len(e.Problems))
	for _, p := range e.Problems {
		b.WriteString("\n  ")
		if p.Line > 0 {
			fmt.Fprintf(&b, "line %d: ", p.Line)
		}
		fmt.Fprintf(&b, "%s: %s", p.Key, p.Msg)
	}
	return b.String()
}

// LoadConfig reads, decodes and validates a configuration file. regionOverride
// (from --region) wins over the file.
func LoadConfig(path, regionOverride string) (*Config, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return nil, fmt.Errorf("configuration file %s not found: create it (see README, \"Configuration\") or pass --config FILE", path)
		}
		return nil, fmt.Errorf("read configuration: %w", err)
	}
	return ParseConfig(path, data, regionOverride)
}

// ParseConfig decodes strictly (unknown keys are errors) and validates.
func ParseConfig(name string, data []byte, regionOverride string) (*Config, error) {
	cfg := Defaults()
	if len(bytes.TrimSpace(data)) == 0 {
		return nil, &ConfigError{File: name, Problems: []Problem{{Key: "stack", Msg: "the file is empty; at least `stack:` is required"}}}
	}
	if err := yaml.UnmarshalWithOptions(data, &cfg, yaml.Strict()); err != nil {
		return nil, fmt.Errorf("%s: %s\n(check the key names and value types against README, \"Configuration\")", name, yaml.FormatError(err, false, true))
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
	problems := cfg.Validate()
	if len(problems) > 0 {
		lines := keyLines(data)
		for i := range problems {
			problems[i].Line = lines(problems[i].Key)
		}
		return nil, &ConfigError{File: name, Problems: problems}
	}
	return &cfg, nil
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
