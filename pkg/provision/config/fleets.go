package config

import (
	"fmt"
	"regexp"
	"slices"
	"sort"
	"strings"
)

// A stack runs one or more fleets: each is a runner of its own in GitLab
// (its own token and [[runners]] entry in config.toml) with its own
// machines, and every fleet shares the manager, the network, the cache and
// the secrets key. `runners:` is the fleet named "default"; `fleets:` names
// several. gitlab-runner takes any number of [[runners]] entries in one
// config.toml, and each docker-autoscaler entry names its own Auto Scaling
// group (the fleeting plugin's `name`).

// DefaultFleet is the fleet `runners:` describes. Its resources keep the
// ids and names a stack had before fleets existed (lt/runner, asg/runner,
// ssm/token), so such a stack is fleet "default" of its grown self.
const DefaultFleet = "default"

// MaxFleets bounds the fleets of one stack: each is a group, a launch
// template and a runner the manager polls GitLab for.
const MaxFleets = 10

// fleetNamePattern: a fleet's name is part of step ids (asg/runner[NAME]),
// of AWS names joined to the stack's with "." (which a stack's name never
// holds, so no stack's names run into another's fleets') and of an
// environment variable (GITLAB_RUNNER_TOKEN_NAME, dashes as underscores).
var fleetNamePattern = regexp.MustCompile(`^[a-z]([a-z0-9-]{0,14}[a-z0-9])?$`)

// ValidFleetName reports whether a name may name a fleet.
func ValidFleetName(name string) bool { return fleetNamePattern.MatchString(name) }

// Fleet is one named fleet and its settings.
type Fleet struct {
	Name string
	RunnersConfig
	// fromRunners: the fleet is written as `runners:`.
	fromRunners bool
}

// FleetList returns the stack's fleets: `runners:` as fleet "default", or
// the fleets of `fleets:`, "default" first and the others by name.
func (c *Config) FleetList() []Fleet {
	if len(c.Fleets) == 0 {
		return []Fleet{{Name: DefaultFleet, RunnersConfig: c.Runners, fromRunners: true}}
	}
	names := make([]string, 0, len(c.Fleets))
	for n := range c.Fleets {
		names = append(names, n)
	}
	sort.Slice(names, func(i, j int) bool {
		if (names[i] == DefaultFleet) != (names[j] == DefaultFleet) {
			return names[i] == DefaultFleet
		}
		return names[i] < names[j]
	})
	out := make([]Fleet, 0, len(names))
	for _, n := range names {
		out = append(out, Fleet{Name: n, RunnersConfig: c.Fleets[n]})
	}
	return out
}

// FleetNames are the names of FleetList.
func (c *Config) FleetNames() []string {
	var out []string
	for _, f := range c.FleetList() {
		out = append(out, f.Name)
	}
	return out
}

// FirstFleet is the first of FleetList: the one whose settings speak for
// the stack where one fleet's must (its instance type picks the first
// zone when network.availability_zone is empty).
func (c *Config) FirstFleet() Fleet { return c.FleetList()[0] }

// Key is a key of the fleet's settings as problems name it:
// runners.KEY for the default fleet of `runners:`, fleets.NAME.KEY else.
func (f Fleet) Key(key string) string { return f.prefix() + key }

func (f Fleet) prefix() string {
	if f.fromRunners {
		return "runners."
	}
	return "fleets." + f.Name + "."
}

// Label is how plans and messages name the fleet: "" for the default one.
func (f Fleet) Label() string {
	if f.Name == DefaultFleet {
		return ""
	}
	return "[" + f.Name + "]"
}

// TokenVariable is the environment variable of the fleet's runner token:
// GITLAB_RUNNER_TOKEN for the default fleet, GITLAB_RUNNER_TOKEN_NAME
// (upper case, dashes as underscores) for the others.
func (f Fleet) TokenVariable(base string) string {
	if f.Name == DefaultFleet {
		return base
	}
	return base + "_" + strings.ToUpper(strings.ReplaceAll(f.Name, "-", "_"))
}

// Windows: the fleet's machines run Windows Server.
func (f Fleet) Windows() bool { return f.OS == OSWindows }

// Autoscaler: the fleet uses the docker-autoscaler executor.
func (f Fleet) Autoscaler() bool { return f.Executor == ExecutorDockerAutoscaler }

// StaticSSHKeys: the manager reaches the fleet's machines with the
// stack's key pair.
func (f Fleet) StaticSSHKeys() bool { return f.Autoscaler() && f.SSHKeys == SSHKeysStatic }

// RunnerTypes are the instance types the fleet's machines may run,
// preferred first: instance_type, then instance_types.
func (f Fleet) RunnerTypes() []string { return append([]string{f.InstanceType}, f.InstanceTypes...) }

// MixedInstances: the fleet's group launches through a mixed-instances
// policy (Spot, or several types). Auto Scaling then decides on-demand or
// Spot, and refuses a launch template that asks for Spot itself.
func (f Fleet) MixedInstances() bool {
	return f.Autoscaler() && (f.Spot || len(f.InstanceTypes) > 0 || f.InstanceRequirements != nil)
}

// RunnerImageLatest: without ami, the fleet's new machines get the latest
// image of their family.
func (f Fleet) RunnerImageLatest() bool { return f.ImageUpdates != ImageUpdatesPinned }

// RunnerTypes are every fleet's instance types, each once, in fleet
// order and each fleet's preference.
func (c *Config) RunnerTypes() []string {
	var types []string
	for _, f := range c.FleetList() {
		for _, t := range f.RunnerTypes() {
			if !slices.Contains(types, t) {
				types = append(types, t)
			}
		}
	}
	return types
}

// Fleet returns the fleet of a name.
func (c *Config) Fleet(name string) (Fleet, bool) {
	for _, f := range c.FleetList() {
		if f.Name == name {
			return f, true
		}
	}
	return Fleet{}, false
}

// anyFleet reports whether some fleet has a property.
func (c *Config) anyFleet(p func(Fleet) bool) bool { return slices.ContainsFunc(c.FleetList(), p) }

// fleetProblems checks the fleets' names and settings.
func (c *Config) fleetProblems() []Problem {
	var ps []Problem
	if len(c.Fleets) > MaxFleets {
		ps = append(ps, Problem{Key: "fleets", Msg: fmt.Sprintf("names %d fleets; a stack runs at most %d: split them over two stacks", len(c.Fleets), MaxFleets)})
	}
	for _, f := range c.FleetList() {
		if len(c.Fleets) > 0 && !fleetNamePattern.MatchString(f.Name) {
			ps = append(ps, Problem{Key: "fleets." + f.Name, Msg: fmt.Sprintf("%q is not a fleet name: use 1-16 lowercase letters, digits and dashes, starting with a letter and not ending with a dash, e.g. large or arm", f.Name)})
			continue
		}
		ps = append(ps, f.validate()...)
		ps = append(ps, f.windowsProblems()...)
		ps = append(ps, c.runnerProblems(f)...)
	}
	return ps
}

// windowsDefaults gives a Windows fleet that names no job image a Windows
// one: the default alpine:latest is a Linux image, which a Windows host
// cannot run.
func (c *Config) windowsDefaults() {
	if c.Runners.OS == OSWindows && c.Runners.Image == Defaults().Runners.Image {
		c.Runners.Image = WindowsImage
	}
	for name, f := range c.Fleets {
		if f.OS == OSWindows && f.Image == Defaults().Runners.Image {
			f.Image = WindowsImage
			c.Fleets[name] = f
		}
	}
}

// windowsProblems checks what a Windows fleet needs: docker-autoscaler
// (docker-machine's provisioners know no Windows), AWS's ECS-optimized
// Windows image (or an AMI of one's own), the stack's key pair (AWS
// encrypts the Administrator password with it, which the fleeting plugin
// reads with GetPasswordData), and no privileged containers (Windows
// containers have none).
func (f Fleet) windowsProblems() []Problem {
	var ps []Problem
	add := func(key, format string, args ...any) {
		ps = append(ps, Problem{Key: f.Key(key), Msg: fmt.Sprintf(format, args...)})
	}
	if f.OS != OSLinux && f.OS != OSWindows {
		add("os", "%q is not an operating system: use linux (the default) or windows", f.OS)
		return ps
	}
	if !f.Windows() {
		return ps
	}
	if f.Executor != ExecutorDockerAutoscaler {
		add("os", "windows needs executor: docker-autoscaler (docker+machine's provisioners do not know Windows)")
	}
	if f.SSHKeys != SSHKeysStatic {
		add("ssh_keys", "a Windows fleet needs static: AWS encrypts the machines' Administrator password with the stack's key pair, and EC2 Instance Connect has no Windows agent")
	}
	if f.Privileged {
		add("privileged", "Windows containers cannot run privileged: remove it")
	}
	if f.BaseImage == BaseImageAmazonLinux {
		add("base_image", "amazon-linux is not a Windows image: leave it (ecs-optimized: AWS's ECS-optimized Windows Server 2022), or give ami")
	}
	return ps
}

// runnerProblems checks the fleet's runner in GitLab: its tags as GitLab
// takes them, and only where provision creates the runner.
func (c *Config) runnerProblems(f Fleet) []Problem {
	var ps []Problem
	if c.GitLab.CreateRunner == nil {
		if len(f.TagList) > 0 || f.RunUntagged != nil {
			ps = append(ps, Problem{Key: f.Key("tag_list"), Msg: "is the tags of a runner provision creates, but gitlab.create_runner is not set: the tags of a runner whose token you give are set in GitLab. Remove tag_list and run_untagged, or set gitlab.create_runner"})
		}
		return ps
	}
	cr := c.CreateRunnerFor(f)
	// GitLab answers 400 "Tags list can not be empty when runner is not
	// allowed to pick untagged jobs" (the runner model's validation).
	if len(cr.TagList) == 0 && !*cr.RunUntagged && (len(f.TagList) > 0 || f.RunUntagged != nil) {
		ps = append(ps, Problem{Key: f.Key("run_untagged"), Msg: "is false but the fleet's runner has no tags: GitLab refuses a runner that may pick no job at all. List the tags its jobs use in tag_list, or set run_untagged: true"})
	}
	for i, tag := range f.TagList {
		if strings.TrimSpace(tag) == "" || strings.Contains(tag, ",") {
			ps = append(ps, Problem{Key: f.Key(fmt.Sprintf("tag_list[%d]", i)), Msg: fmt.Sprintf("%q is not a tag: tags are non-empty and contain no commas", tag)})
		}
	}
	return ps
}

// CreateRunnerFor is gitlab.create_runner for one fleet's runner: the
// fleet's own tags and run_untagged where it has them, and a description
// that names the fleet. Only with gitlab.create_runner set.
func (c *Config) CreateRunnerFor(f Fleet) CreateRunnerConfig {
	cr := *c.GitLab.CreateRunner
	if cr.RunUntagged == nil {
		untagged := true
		cr.RunUntagged = &untagged
	}
	if len(f.TagList) > 0 {
		cr.TagList = f.TagList
	}
	if f.RunUntagged != nil {
		cr.RunUntagged = f.RunUntagged
	}
	if f.Name != DefaultFleet {
		cr.Description += " (" + f.Name + ")"
	}
	return cr
}
