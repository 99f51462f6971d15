package e2e

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"net/url"
	"os"
	"regexp"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/autoscaling"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/ssm"
	"github.com/provision-dev/provision/pkg/provision/stack"
)

// threeFleets is a stack of three fleets behind one manager: x86 on
// demand (the default fleet, which keeps the ids of a one-fleet stack),
// Arm on Spot, and docker+machine.
const threeFleets = `fleets:
  default:
    instance_type: t3.medium
  arm:
    instance_type: c6g.large
    instance_types: [m6g.large, c7g.large]
    spot: true
    on_demand_percentage: 20
  legacy:
    executor: docker+machine
    instance_type: t3.large
`

// fleetTokens are the other fleets' runners in the GitLab stand-in, and
// their tokens in the environment (GITLAB_RUNNER_TOKEN_NAME).
func fleetTokens(h *harness, fleets ...string) {
	if h.fleetRunners == nil {
		h.fleetRunners = map[string]bool{}
	}
	for _, f := range fleets {
		h.fleetRunners[f] = true
		token := "glrt-e2e-" + f + "-fleet-token"
		h.gitlab.AddRunner(token)
		h.env = append(h.env, "GITLAB_RUNNER_TOKEN_"+strings.ToUpper(f)+"="+token)
	}
}

// Three fleets build, plan nothing more, and each is a runner of its own:
// its token parameter, its [[runners]] entry, its launch template and
// group (an Arm image for the Arm fleet), all named in the manager's
// policy. Removing one fleet leaves the others' ids and the manager alone;
// down leaves nothing.
func TestThreeFleets(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	ctx := context.Background()
	makeSpotRole(t, h)
	h.writeConfig(baseConfig + threeFleets)
	out := h.mustRun(0, "validate")
	if !strings.Contains(out.stdout, "3 fleets: default (docker-autoscaler), arm (docker-autoscaler), legacy (docker+machine)") {
		t.Errorf("validate: %s", out.stdout)
	}
	up := h.mustRun(0, "up", "--auto-approve")
	for _, want := range []string{"lt/runner[arm]", "asg/runner[arm]", "ssm/token[arm]", "ssm/token[legacy]", "iam/runner", "asg/runner "} {
		if !strings.Contains(up.stdout, want) {
			t.Errorf("up's plan lacks %s:\n%s", want, up.stdout)
		}
	}
	h.checkNoSecrets("up", up.stdout+up.stderr)
	cfg := awsConfig(h.moto.URL)
	ssmc := ssm.NewFromConfig(cfg)
	for name, token := range map[string]string{"/provision/net/runner-token": runnerToken, "/provision/net/runner-token.arm": "glrt-e2e-arm-fleet-token", "/provision/net/runner-token.legacy": "glrt-e2e-legacy-fleet-token"} {
		p, err := ssmc.GetParameter(ctx, &ssm.GetParameterInput{Name: aws.String(name), WithDecryption: aws.Bool(true)})
		if err != nil || aws.ToString(p.Parameter.Value) != token {
			t.Errorf("%s: %v", name, err)
		}
	}

	// One entry per fleet, each with its own token placeholder and group.
	conf := runnerConfig(t, h, "net")
	if n := strings.Count(conf, "[[runners]]"); n != 3 {
		t.Errorf("config.toml has %d [[runners]] entries, want 3:\n%s", n, conf)
	}
	for _, want := range []string{"@RUNNER_TOKEN:default@", "@RUNNER_TOKEN:arm@", "@RUNNER_TOKEN:legacy@", "name = '@AUTOSCALING_GROUP@'", "name = '@AUTOSCALING_GROUP@.arm'", "name = 'net arm'", "MachineDriver = 'amazonec2'", "concurrent = 30"} {
		if !strings.Contains(conf, want) {
			t.Errorf("config.toml lacks %q:\n%s", want, conf)
		}
	}

	// The Arm fleet launches the arm64 image of its family.
	image := func(template string) string {
		t.Helper()
		v, err := h.ec2.DescribeLaunchTemplateVersions(ctx, &ec2.DescribeLaunchTemplateVersionsInput{LaunchTemplateName: aws.String(template), Versions: []string{"$Default"}})
		if err != nil || len(v.LaunchTemplateVersions) != 1 {
			t.Fatalf("launch template %s: %v", template, err)
		}
		return aws.ToString(v.LaunchTemplateVersions[0].LaunchTemplateData.ImageId)
	}
	armImage, err := ssmc.GetParameter(ctx, &ssm.GetParameterInput{Name: aws.String("/aws/service/ecs/optimized-ami/amazon-linux-2023/arm64/recommended/image_id")})
	if err != nil {
		t.Fatal(err)
	}
	if got := image("net-runner.arm"); got != aws.ToString(armImage.Parameter.Value) || got == image("net-runner") {
		t.Errorf("the Arm fleet launches %s, want the arm64 image %s (the x86 fleet launches %s)", got, aws.ToString(armImage.Parameter.Value), image("net-runner"))
	}

	// Each autoscaler fleet has a group of the manager's generation.
	generation := groupName(t, h)
	groups, err := autoscaling.NewFromConfig(cfg).DescribeAutoScalingGroups(ctx, &autoscaling.DescribeAutoScalingGroupsInput{AutoScalingGroupNames: []string{generation, generation + ".arm"}})
	if err != nil || len(groups.AutoScalingGroups) != 2 {
		t.Fatalf("groups %s and %s.arm: %+v %v", generation, generation, groups, err)
	}
	for _, g := range groups.AutoScalingGroups {
		if aws.ToString(g.AutoScalingGroupName) == generation+".arm" && (g.MixedInstancesPolicy == nil || len(g.MixedInstancesPolicy.LaunchTemplate.Overrides) != 3) {
			t.Errorf("the Arm fleet's group does not launch its three types on Spot: %+v", g.MixedInstancesPolicy)
		}
	}

	// output and status name every fleet.
	if got := strings.TrimSpace(h.mustRun(0, "output", "fleets").stdout); got != "arm,default,legacy" {
		t.Errorf("output fleets: %q", got)
	}
	if got := strings.TrimSpace(h.mustRun(0, "output", "autoscaling_group.arm").stdout); got != generation+".arm" {
		t.Errorf("output autoscaling_group.arm: %q, want %s.arm", got, generation)
	}
	status := h.run("status")
	for _, want := range []string{"Fleets:", "arm      docker-autoscaler", "legacy   docker+machine", "0 desired, 0 in service"} {
		if !strings.Contains(status.stdout, want) {
			t.Errorf("status lacks %q:\n%s", want, status.stdout)
		}
	}

	// The manager may scale these groups and read these tokens, by name.
	pol, err := iam.NewFromConfig(cfg).GetRolePolicy(ctx, &iam.GetRolePolicyInput{RoleName: aws.String("net-eu-west-1-manager"), PolicyName: aws.String("provision")})
	if err != nil {
		t.Fatal(err)
	}
	doc, _ := url.QueryUnescape(aws.ToString(pol.PolicyDocument))
	for _, want := range []string{"autoScalingGroupName/net-runners-??????\"", "autoScalingGroupName/net-runners-??????.arm\"", "parameter/provision/net/runner-token\"", "parameter/provision/net/runner-token.arm\"", "parameter/provision/net/runner-token.legacy\"", "iam:PassRole"} {
		if !strings.Contains(doc, want) {
			t.Errorf("the manager's policy lacks %s:\n%s", want, doc)
		}
	}
	checkPolicyARNs(t, h, "net-eu-west-1-manager")
	h.proxy.Reset()
	h.mustRun(0, "plan", "--detailed-exitcode")
	// The reads a fleet adds to a no-op: an autoscaler fleet its launch
	// template, the template's default version and its token's tags (its
	// group and token come in the shared reads); a docker+machine fleet its
	// token's tags, and the first one the runner role and profile.
	if n, budget := len(h.proxy.Calls()), noopCalls+3+1+2; n > budget {
		t.Errorf("a no-op plan of three fleets made %d calls, want at most %d: %v", n, budget, actions(h.proxy.Calls()))
	}

	// Removing the Arm fleet removes its runner, template and group only.
	before := stepIDs(t, h)
	h.writeConfig(baseConfig + strings.Replace(threeFleets, "  arm:\n    instance_type: c6g.large\n    instance_types: [m6g.large, c7g.large]\n    spot: true\n    on_demand_percentage: 20\n", "", 1))
	h.mustRun(0, "up", "--auto-approve")
	after := stepIDs(t, h)
	for step, id := range before {
		switch {
		case strings.HasSuffix(step, "[arm]"):
			if _, ok := after[step]; ok {
				t.Errorf("%s is still recorded after the fleet went", step)
			}
		case step != "drain/manager" && after[step] != id:
			t.Errorf("%s changed from %s to %s when another fleet went", step, id, after[step])
		}
	}
	if _, err := h.ec2.DescribeLaunchTemplates(ctx, &ec2.DescribeLaunchTemplatesInput{LaunchTemplateNames: []string{"net-runner.arm"}}); err == nil {
		t.Errorf("the Arm fleet's launch template is left")
	}
	if p, err := ssmc.GetParameter(ctx, &ssm.GetParameterInput{Name: aws.String("/provision/net/runner-token.arm")}); err == nil {
		t.Errorf("the Arm fleet's token parameter is left: %v", p.Parameter.Name)
	}
	h.mustRun(0, "plan", "--detailed-exitcode")
	// Adding it back is a new runner configuration for the same manager
	// (which reads the new fleet's token itself): the others stay.
	h.writeConfig(baseConfig + threeFleets)
	h.mustRun(0, "up", "--auto-approve")
	again := stepIDs(t, h)
	for _, step := range []string{"instance/manager", "asg/runner", "lt/runner", "ssm/token[legacy]"} {
		if again[step] != before[step] {
			t.Errorf("%s changed from %s to %s when a fleet was added", step, before[step], again[step])
		}
	}
	if again["asg/runner[arm]"] == "" || again["asg/runner[arm]"] == before["asg/runner[arm]"] && before["asg/runner[arm]"] == "" {
		t.Errorf("the Arm fleet's group was not made again: %v", again)
	}

	// The state is lost and the configuration names one fleet: down still
	// finds the other fleet by its token parameter and tags.
	if err := os.Remove(h.statePath("net")); err != nil {
		t.Fatal(err)
	}
	h.writeConfig(baseConfig)
	down := h.mustRun(0, "down", "--auto-approve")
	if !strings.Contains(down.stdout, "ssm/token[legacy]") {
		t.Errorf("down does not remove the legacy fleet's token:\n%s", down.stdout)
	}
	if left := h.tagged("net"); len(left) > 0 {
		t.Errorf("down left: %v", left)
	}
	if _, err := ssmc.GetParameter(ctx, &ssm.GetParameterInput{Name: aws.String("/provision/net/runner-token.legacy")}); err == nil {
		t.Errorf("the legacy fleet's token parameter is left")
	}
}

// stepIDs are the ids the state records, by step.
func stepIDs(t *testing.T, h *harness) map[string]string {
	t.Helper()
	data, err := os.ReadFile(h.statePath("net"))
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Resources map[string]struct {
			ID string `json:"id"`
		} `json:"resources"`
	}
	if err := json.Unmarshal(data, &doc); err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	for step, r := range doc.Resources {
		out[step] = r.ID
	}
	return out
}

// A Windows fleet beside a Linux one: its launch template boots a Windows
// image with a PowerShell user-data that opens WinRM, its config.toml entry
// speaks WinRM to Windows containers through Docker's named pipe, only the
// manager reaches its machines on 5985, and the manager may read their
// Administrator password and no other instance's.
func TestWindowsFleet(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	ctx := context.Background()
	// The emulator knows no ECS-optimized Windows image (its parameter is
	// checked in the unit tests): one of its Windows AMIs stands in.
	const windowsAMI = "ami-03cf127a"
	// Four fleets: a config.toml of more than the 4 KB of a Standard
	// parameter, which an Advanced one holds.
	h.writeConfig(baseConfig + "fleets:\n  default: {}\n  small: {instance_type: t3.small}\n  large: {instance_type: c7i.2xlarge}\n  win: {os: windows, instance_type: t3.large, ami: " + windowsAMI + "}\n")
	h.mustRun(0, "up", "--auto-approve")
	v, err := h.ec2.DescribeLaunchTemplateVersions(ctx, &ec2.DescribeLaunchTemplateVersionsInput{LaunchTemplateName: aws.String("net-runner.win"), Versions: []string{"$Default"}})
	if err != nil || len(v.LaunchTemplateVersions) != 1 {
		t.Fatalf("the Windows fleet's launch template: %v", err)
	}
	ltd := v.LaunchTemplateVersions[0].LaunchTemplateData
	ud, _ := base64.StdEncoding.DecodeString(aws.ToString(ltd.UserData))
	if aws.ToString(ltd.ImageId) != windowsAMI || !strings.HasPrefix(string(ud), "<powershell>") || !strings.Contains(string(ud), "Enable-PSRemoting") || aws.ToString(ltd.KeyName) != "net-runner" {
		t.Errorf("Windows launch template: image %s, key %s, user-data:\n%s", aws.ToString(ltd.ImageId), aws.ToString(ltd.KeyName), ud)
	}
	conf := runnerConfig(t, h, "net")
	// The plugin decrypts the Windows password with the key pair's private
	// key: RSA (EC2 has no other for Windows), handed over at key_path.
	key, err := ssm.NewFromConfig(awsConfig(h.moto.URL)).GetParameter(ctx, &ssm.GetParameterInput{Name: aws.String("/provision/net/runner-ssh-key"), WithDecryption: aws.Bool(true)})
	if err != nil || !strings.HasPrefix(aws.ToString(key.Parameter.Value), "-----BEGIN RSA PRIVATE KEY-----") {
		t.Errorf("the machines' key of a stack with a Windows fleet is not RSA: %v", err)
	}
	pairs, err := h.ec2.DescribeKeyPairs(ctx, &ec2.DescribeKeyPairsInput{KeyNames: []string{"net-runner"}, IncludePublicKey: aws.Bool(true)})
	if err != nil || len(pairs.KeyPairs) != 1 || !strings.HasPrefix(aws.ToString(pairs.KeyPairs[0].PublicKey), "ssh-rsa ") {
		t.Errorf("the key pair net-runner is not RSA: %+v %v", pairs, err)
	}
	winEntry := conf[strings.Index(conf, "name = 'net win'"):]
	if !strings.Contains(winEntry, "key_path = '/etc/gitlab-runner/runner-ssh-key'") {
		t.Errorf("the Windows entry gives the plugin no key to decrypt the password with:\n%s", winEntry)
	}
	for _, want := range []string{"protocol = 'winrm'", "os = 'windows'", "username = 'Administrator'", "host = 'npipe:////./pipe/docker_engine'", "shell = 'pwsh'", "FF_USE_POWERSHELL_PATH_RESOLVER=1", "image = 'mcr.microsoft.com/powershell:lts-nanoserver-ltsc2022'"} {
		if !strings.Contains(conf, want) {
			t.Errorf("config.toml lacks %q:\n%s", want, conf)
		}
	}
	if len(conf) <= 4096 {
		t.Errorf("config.toml of four fleets is %d characters: the test means more than 4096", len(conf))
	}
	n := describeNetwork(t, h.ec2, "net")
	found := false
	for _, p := range n.sgRunner.IpPermissions {
		if aws.ToInt32(p.FromPort) == 5985 && len(p.UserIdGroupPairs) == 1 && aws.ToString(p.UserIdGroupPairs[0].GroupId) == aws.ToString(n.sgManager.GroupId) && len(p.IpRanges) == 0 {
			found = true
		}
	}
	if !found {
		t.Errorf("sg/runner does not admit 5985 from the manager's group alone: %+v", n.sgRunner.IpPermissions)
	}
	admits, denies := false, false
	for _, e := range n.aclPrivate.Entries {
		if e.PortRange == nil || aws.ToInt32(e.PortRange.From) != 5985 || aws.ToBool(e.Egress) {
			continue
		}
		admits = admits || (e.RuleAction == ec2types.RuleActionAllow && aws.ToString(e.CidrBlock) == "192.168.0.0/27")
		denies = denies || (e.RuleAction == ec2types.RuleActionDeny && aws.ToString(e.CidrBlock) == "0.0.0.0/0")
	}
	if !admits || !denies {
		t.Errorf("the private ACL admits WinRM from the public subnet %v, denies it from elsewhere %v", admits, denies)
	}
	pol, err := iam.NewFromConfig(awsConfig(h.moto.URL)).GetRolePolicy(ctx, &iam.GetRolePolicyInput{RoleName: aws.String("net-eu-west-1-manager"), PolicyName: aws.String("provision")})
	if err != nil {
		t.Fatal(err)
	}
	doc, _ := url.QueryUnescape(aws.ToString(pol.PolicyDocument))
	if !strings.Contains(doc, "ec2:GetPasswordData") || !strings.Contains(doc, "\"net-runners-??????.win\"") {
		t.Errorf("the manager may not read the Windows machines' passwords, or may read others':\n%s", doc)
	}
	checkPolicyARNs(t, h, "net-eu-west-1-manager")
	h.mustRun(0, "plan", "--detailed-exitcode")
	h.mustRun(0, "down", "--auto-approve")
	if left := h.tagged("net"); len(left) > 0 {
		t.Errorf("down left: %v", left)
	}
}

// Named fleets without a default one: the default fleet a stack had is
// retired like any dropped fleet, a stack of named fleets builds and
// no-ops, and a teardown without the state, whose configuration names
// neither, still finds the other fleets by their names and tags.
func TestFleetsWithoutDefault(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	ctx := context.Background()
	h.writeConfig(baseConfig + "fleets:\n  default: {}\n  small: {instance_type: t3.small}\n")
	h.mustRun(0, "up", "--auto-approve")
	h.writeConfig(baseConfig + "fleets:\n  small: {instance_type: t3.small}\n  legacy: {executor: docker+machine}\n")
	up := h.mustRun(0, "up", "--auto-approve")
	for _, want := range []string{"- lt/runner ", "- ssm/token ", "+ ssm/token[legacy]"} {
		if !strings.Contains(up.stdout, want) {
			t.Errorf("up does not say %q:\n%s", want, up.stdout)
		}
	}
	if _, err := h.ec2.DescribeLaunchTemplates(ctx, &ec2.DescribeLaunchTemplatesInput{LaunchTemplateNames: []string{"net-runner"}}); err == nil {
		t.Errorf("the dropped default fleet's launch template is left")
	}
	h.mustRun(0, "plan", "--detailed-exitcode")
	if err := os.Remove(h.statePath("net")); err != nil {
		t.Fatal(err)
	}
	h.writeConfig(baseConfig + "fleets:\n  legacy: {executor: docker+machine}\n")
	h.mustRun(0, "down", "--auto-approve")
	if left := h.tagged("net"); len(left) > 0 {
		t.Errorf("down left: %v", left)
	}
	if _, err := ssm.NewFromConfig(awsConfig(h.moto.URL)).GetParameter(ctx, &ssm.GetParameterInput{Name: aws.String("/provision/net/runner-token.small")}); err == nil {
		t.Errorf("the small fleet's token parameter is left")
	}
}

// A permissions boundary an administrator made before fleets lets the
// manager scale no other fleet's group: up says so, with the two commands
// that bring it up to date, before it changes anything; once updated, up
// goes ahead.
func TestBoundaryFromBeforeFleets(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	ctx := context.Background()
	h.writeConfig(baseConfig + "fleets:\n  default: {}\n  big: {instance_type: t3.large}\n")
	iamc := iam.NewFromConfig(awsConfig(h.moto.URL))
	arn := "arn:aws:iam::123456789012:policy/provision/net-eu-west-1-boundary"
	current := stack.BoundaryPolicy("net", region).JSON()
	old := regexp.MustCompile(`,"arn:aws:autoscaling:[^"]*runners-\?{6}\.\*"`).ReplaceAllString(current, "")
	if old == current {
		t.Fatal("the boundary names no fleet groups to leave out")
	}
	setBoundary := func(doc string) {
		t.Helper()
		if _, err := iamc.CreatePolicyVersion(ctx, &iam.CreatePolicyVersionInput{PolicyArn: aws.String(arn), PolicyDocument: aws.String(doc), SetAsDefault: true}); err != nil {
			t.Fatal(err)
		}
	}
	setBoundary(old)
	r := h.run("up", "--auto-approve")
	if r.code != 1 || !strings.Contains(r.stderr, "was made before fleets") || !strings.Contains(r.stderr, "create-policy-version --policy-arn "+arn) {
		t.Fatalf("up with a boundary from before fleets: %s", r)
	}
	if left := h.tagged("net"); len(left) > 0 {
		t.Fatalf("up changed something before refusing: %v", left)
	}
	setBoundary(current)
	h.mustRun(0, "up", "--auto-approve", "--no-wait")
	h.mustRun(0, "down", "--auto-approve")
}
