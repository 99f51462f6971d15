package config

import (
	"errors"
	"strings"
	"testing"
)

const fleetsConfig = `stack: ci
region: eu-west-1
gitlab:
  url: https://gitlab.example.com
  security_group_id: sg-0123456789abcdef0
  create_runner: {tag_list: [docker]}
fleets:
  small:
    instance_type: t3.small
  arm:
    instance_type: c7g.large
    instance_types: [m7g.large]
    spot: true
    tag_list: [arm64]
  default:
    max_instances: 3
`

func TestFleets(t *testing.T) {
	cfg, err := ParseConfig("provision.yaml", []byte(fleetsConfig), "")
	if err != nil {
		t.Fatal(err)
	}
	fleets := cfg.FleetList()
	if got := strings.Join(cfg.FleetNames(), ","); got != "default,arm,small" {
		t.Errorf("fleets %s, want default first, then by name", got)
	}
	// A key a fleet leaves out has its default, as in runners:.
	if fleets[2].MaxInstances != 10 || fleets[2].Executor != ExecutorDockerAutoscaler || fleets[0].MaxInstances != 3 || fleets[0].InstanceType != "t3.medium" {
		t.Errorf("fleet settings: %+v", fleets)
	}
	arm, _ := cfg.Fleet("arm")
	if cr := cfg.CreateRunnerFor(arm); strings.Join(cr.TagList, ",") != "arm64" || !strings.HasSuffix(cr.Description, "(arm)") {
		t.Errorf("arm's runner: %+v", cr)
	}
	if cr := cfg.CreateRunnerFor(fleets[0]); strings.Join(cr.TagList, ",") != "docker" {
		t.Errorf("default's runner: %+v", cr)
	}
	if arm.Key("spot") != "fleets.arm.spot" || arm.TokenVariable("GITLAB_RUNNER_TOKEN") != "GITLAB_RUNNER_TOKEN_ARM" || fleets[0].TokenVariable("GITLAB_RUNNER_TOKEN") != "GITLAB_RUNNER_TOKEN" {
		t.Errorf("arm's key %s, variable %s", arm.Key("spot"), arm.TokenVariable("GITLAB_RUNNER_TOKEN"))
	}
	one, err := ParseConfig("provision.yaml", []byte("stack: ci\nrunners: {max_instances: 4}\n"), "")
	if err != nil {
		t.Fatal(err)
	}
	if f := one.FleetList(); len(f) != 1 || f[0].Name != DefaultFleet || f[0].MaxInstances != 4 || f[0].Key("spot") != "runners.spot" {
		t.Errorf("runners: is fleet default: %+v", f)
	}
}

func TestFleetProblems(t *testing.T) {
	for _, c := range []struct{ name, doc, key, msg string }{
		{"both forms", "stack: ci\nrunners: {max_instances: 4}\nfleets: {large: {max_instances: 2}}\n", "fleets", "use one form"},
		{"bad name", "stack: ci\nfleets: {Large_1: {max_instances: 2}}\n", "fleets.Large_1", "not a fleet name"},
		{"long name", "stack: ci\nfleets: {abcdefghijklmnopq: {}}\n", "fleets.abcdefghijklmnopq", "not a fleet name"},
		{"fleet value", "stack: ci\nfleets: {arm: {instance_type: 'x y'}}\n", "fleets.arm.instance_type", "not an instance type"},
		{"unknown key", "stack: ci\nfleets: {arm: {instance_typo: c7g.large}}\n", "fleets.arm.instance_typo", ""},
		{"tags without create_runner", "stack: ci\nfleets: {arm: {tag_list: [arm64]}}\n", "fleets.arm.tag_list", "gitlab.create_runner is not set"},
		{"no job at all", "stack: ci\ngitlab: {create_runner: {}}\nfleets: {arm: {run_untagged: false}}\n", "fleets.arm.run_untagged", "no tags"},
	} {
		_, err := ParseConfig("provision.yaml", []byte(c.doc), "")
		var ce *ConfigError
		if !errors.As(err, &ce) {
			t.Errorf("%s: %v, want a configuration error", c.name, err)
			continue
		}
		found := false
		for _, p := range ce.Problems {
			found = found || (p.Key == c.key && strings.Contains(p.Msg, c.msg))
		}
		if !found {
			t.Errorf("%s: %v, want a problem of %s saying %q", c.name, err, c.key, c.msg)
		}
	}
}
