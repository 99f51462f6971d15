package e2e

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/autoscaling"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/ssm"
	ssmtypes "github.com/aws/aws-sdk-go-v2/service/ssm/types"
	gossh "golang.org/x/crypto/ssh"

	"github.com/provision-dev/provision/pkg/provision/bootstrap"
	"github.com/provision-dev/provision/pkg/provision/gitlabtest"
)

// A full up builds the manager and the fleet as docs/design.md describes;
// plan then shows nothing to do; down removes it all and leaves GitLab's
// group with exactly its own rules.
func TestFullStack(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	ctx := context.Background()
	h.writeConfig(baseConfig)
	up := h.mustRun(0, "up", "--auto-approve")
	cfg := awsConfig(h.moto.URL)

	// The token parameter.
	param, err := ssm.NewFromConfig(cfg).GetParameter(ctx, &ssm.GetParameterInput{Name: aws.String("/provision/net/runner-token"), WithDecryption: aws.Bool(true)})
	if err != nil || param.Parameter.Type != ssmtypes.ParameterTypeSecureString || aws.ToString(param.Parameter.Value) != runnerToken {
		t.Fatalf("token parameter: %+v %v", param, err)
	}

	// The manager's role, policy and profile.
	iamc := iam.NewFromConfig(cfg)
	roleName := aws.String("net-eu-west-1-manager")
	if _, err := iamc.GetRole(ctx, &iam.GetRoleInput{RoleName: roleName}); err != nil {
		t.Fatalf("manager role: %v", err)
	}
	pol, err := iamc.GetRolePolicy(ctx, &iam.GetRolePolicyInput{RoleName: roleName, PolicyName: aws.String("provision")})
	if err != nil {
		t.Fatalf("manager policy: %v", err)
	}
	doc, _ := url.QueryUnescape(aws.ToString(pol.PolicyDocument))
	// Static keys (the default): the manager reads the machines' key and
	// pushes none.
	for _, want := range []string{"autoscaling:SetDesiredCapacity", "autoScalingGroupName/net-runners", "parameter/provision/net/runner-ssh-key", "parameter/provision/net/runner-token"} {
		if !strings.Contains(doc, want) {
			t.Errorf("manager policy lacks %s: %s", want, doc)
		}
	}
	if strings.Contains(doc, "SendSSHPublicKey") {
		t.Errorf("with static keys the manager may not push keys: %s", doc)
	}
	checkPolicyARNs(t, h, "net-eu-west-1-manager")
	prof, err := iamc.GetInstanceProfile(ctx, &iam.GetInstanceProfileInput{InstanceProfileName: roleName})
	if err != nil || len(prof.InstanceProfile.Roles) != 1 {
		t.Fatalf("manager instance profile: %+v %v", prof, err)
	}

	n := describeNetwork(t, h.ec2, "net")

	// The launch template.
	lts, err := h.ec2.DescribeLaunchTemplateVersions(ctx, &ec2.DescribeLaunchTemplateVersionsInput{LaunchTemplateName: aws.String("net-runner"), Versions: []string{"$Default"}})
	if err != nil || len(lts.LaunchTemplateVersions) != 1 {
		t.Fatalf("launch template: %v", err)
	}
	ltd := lts.LaunchTemplateVersions[0].LaunchTemplateData
	if m := ltd.MetadataOptions; m == nil || m.HttpTokens != ec2types.LaunchTemplateHttpTokensStateRequired || aws.ToInt32(m.HttpPutResponseHopLimit) != 1 {
		t.Errorf("launch template metadata options: %+v", ltd.MetadataOptions)
	}
	if len(ltd.BlockDeviceMappings) != 1 || !aws.ToBool(ltd.BlockDeviceMappings[0].Ebs.Encrypted) || ltd.BlockDeviceMappings[0].Ebs.VolumeType != ec2types.VolumeTypeGp3 || aws.ToInt32(ltd.BlockDeviceMappings[0].Ebs.VolumeSize) != 30 {
		t.Errorf("launch template volume: %+v", ltd.BlockDeviceMappings)
	}
	if len(ltd.SecurityGroupIds) != 1 || ltd.SecurityGroupIds[0] != aws.ToString(n.sgRunner.GroupId) {
		t.Errorf("launch template groups %v, want sg/runner", ltd.SecurityGroupIds)
	}
	machineUD, _ := base64.StdEncoding.DecodeString(aws.ToString(ltd.UserData))
	if !strings.Contains(string(machineUD), "usermod") {
		t.Errorf("machine user-data does not add ec2-user to docker:\n%s", machineUD)
	}
	checkColdStart(t, h, ltd, true)

	// The Auto Scaling group.
	group := groupName(t, h)
	asg, err := autoscaling.NewFromConfig(cfg).DescribeAutoScalingGroups(ctx, &autoscaling.DescribeAutoScalingGroupsInput{AutoScalingGroupNames: []string{group}})
	if err != nil || len(asg.AutoScalingGroups) != 1 {
		t.Fatalf("asg: %v", err)
	}
	g := asg.AutoScalingGroups[0]
	if aws.ToInt32(g.MinSize) != 0 || aws.ToInt32(g.DesiredCapacity) != 0 || aws.ToInt32(g.MaxSize) != 10 || !aws.ToBool(g.NewInstancesProtectedFromScaleIn) ||
		!strings.HasPrefix(aws.ToString(g.VPCZoneIdentifier), aws.ToString(n.private.SubnetId)+",") || strings.Count(aws.ToString(g.VPCZoneIdentifier), ",") != 1 {
		t.Errorf("asg: min %d desired %d max %d protected %v subnets %s", aws.ToInt32(g.MinSize), aws.ToInt32(g.DesiredCapacity), aws.ToInt32(g.MaxSize), aws.ToBool(g.NewInstancesProtectedFromScaleIn), aws.ToString(g.VPCZoneIdentifier))
	}
	suspended := false
	for _, p := range g.SuspendedProcesses {
		suspended = suspended || aws.ToString(p.ProcessName) == "AZRebalance"
	}
	if !suspended {
		t.Errorf("AZRebalance is not suspended: %+v", g.SuspendedProcesses)
	}

	// The manager instance.
	inst := manager(t, h, "net")
	if aws.ToString(inst.SubnetId) != aws.ToString(n.public.SubnetId) {
		t.Errorf("manager in subnet %s, want the public subnet", aws.ToString(inst.SubnetId))
	}
	if len(inst.SecurityGroups) != 1 || aws.ToString(inst.SecurityGroups[0].GroupId) != aws.ToString(n.sgManager.GroupId) {
		t.Errorf("manager groups %+v", inst.SecurityGroups)
	}
	if inst.IamInstanceProfile == nil || !strings.HasSuffix(aws.ToString(inst.IamInstanceProfile.Arn), "/net-eu-west-1-manager") {
		t.Errorf("manager profile %+v", inst.IamInstanceProfile)
	}
	if m := inst.MetadataOptions; m == nil || m.HttpTokens != ec2types.HttpTokensStateRequired {
		t.Errorf("manager metadata options %+v", inst.MetadataOptions)
	}
	if inst.InstanceLifecycle == ec2types.InstanceLifecycleTypeSpot {
		t.Errorf("the manager is a spot instance")
	}
	vols, err := h.ec2.DescribeVolumes(ctx, &ec2.DescribeVolumesInput{Filters: []ec2types.Filter{{Name: aws.String("attachment.instance-id"), Values: []string{aws.ToString(inst.InstanceId)}}}})
	if err != nil || len(vols.Volumes) == 0 || !aws.ToBool(vols.Volumes[0].Encrypted) {
		t.Errorf("manager root volume not encrypted: %+v %v", vols, err)
	}
	ud := managerUserData(t, h, aws.ToString(inst.InstanceId))
	for _, want := range []string{"#cloud-config", "/provision/net/runner-token", "--with-decryption", "fleeting", "net-runners", "@RUNNER_TOKEN"} {
		if !strings.Contains(ud, want) {
			t.Errorf("manager user-data lacks %q", want)
		}
	}

	// Its Elastic IP, and the two 443 rules on GitLab's group.
	addrs, err := h.ec2.DescribeAddresses(ctx, &ec2.DescribeAddressesInput{Filters: byStep("net", "eip/manager")})
	mgrAddr := one(t, "eip/manager", addrs.Addresses, err)
	if aws.ToString(mgrAddr.InstanceId) != aws.ToString(inst.InstanceId) {
		t.Errorf("eip/manager is on %q, want the manager", aws.ToString(mgrAddr.InstanceId))
	}
	wantGitLabRules(t, h, []string{
		"tcp 22-22 198.51.100.8/32 admin ssh",
		"tcp 443-443 198.51.100.7/32 office",
		"tcp 443-443 " + aws.ToString(n.natAddress.PublicIp) + "/32 provision net: runner machines via the NAT gateway",
		"tcp 443-443 " + aws.ToString(mgrAddr.PublicIp) + "/32 provision net: runner manager",
	})

	h.mustRun(0, "plan", "--detailed-exitcode")
	st := h.mustRun(0, "status")
	for _, want := range []string{"Manager:", "running", "Runner machines: 0 desired, 0 in service", aws.ToString(mgrAddr.PublicIp), aws.ToString(n.natAddress.PublicIp)} {
		if !strings.Contains(st.stdout, want) {
			t.Errorf("status lacks %q:\n%s", want, st.stdout)
		}
	}
	state, err := os.ReadFile(h.statePath("net"))
	if err != nil {
		t.Fatal(err)
	}
	down := h.mustRun(0, "down", "--auto-approve")

	for what, text := range map[string]string{"up output": up.stdout + up.stderr, "status": st.stdout + st.stderr, "state": string(state), "user-data": ud, "down output": down.stdout + down.stderr} {
		if strings.Contains(text, runnerToken) {
			t.Errorf("the runner token appears in the %s", what)
		}
	}
	if left := h.tagged("net"); len(left) > 0 {
		t.Fatalf("down left: %v", left)
	}
	wantGitLabRules(t, h, []string{"tcp 22-22 198.51.100.8/32 admin ssh", "tcp 443-443 198.51.100.7/32 office"})
	if _, err := iamc.GetRole(ctx, &iam.GetRoleInput{RoleName: roleName}); err == nil {
		t.Errorf("manager role survives down")
	}
	if _, err := iamc.GetInstanceProfile(ctx, &iam.GetInstanceProfileInput{InstanceProfileName: roleName}); err == nil {
		t.Errorf("manager instance profile survives down")
	}
	if _, err := ssm.NewFromConfig(cfg).GetParameter(ctx, &ssm.GetParameterInput{Name: aws.String("/provision/net/runner-token")}); err == nil {
		t.Errorf("token parameter survives down")
	}
	asg, err = autoscaling.NewFromConfig(cfg).DescribeAutoScalingGroups(ctx, &autoscaling.DescribeAutoScalingGroupsInput{AutoScalingGroupNames: []string{group}})
	if err != nil || len(asg.AutoScalingGroups) != 0 {
		t.Errorf("asg survives down: %v", err)
	}
}

func manager(t *testing.T, h *harness, stackName string) ec2types.Instance {
	t.Helper()
	out, err := h.ec2.DescribeInstances(context.Background(), &ec2.DescribeInstancesInput{Filters: append(byStep(stackName, "instance/manager"),
		ec2types.Filter{Name: aws.String("instance-state-name"), Values: []string{"pending", "running"}})})
	if err != nil {
		t.Fatal(err)
	}
	var all []ec2types.Instance
	for _, r := range out.Reservations {
		all = append(all, r.Instances...)
	}
	return one(t, "manager instance", all, nil)
}

func managerUserData(t *testing.T, h *harness, id string) string {
	t.Helper()
	out, err := h.ec2.DescribeInstanceAttribute(context.Background(), &ec2.DescribeInstanceAttributeInput{InstanceId: &id, Attribute: ec2types.InstanceAttributeNameUserData})
	if err != nil || out.UserData == nil {
		t.Fatalf("manager user-data: %v", err)
	}
	b, err := base64.StdEncoding.DecodeString(aws.ToString(out.UserData.Value))
	if err == nil {
		b, err = bootstrap.Unpack(b)
	}
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// runnerConfig is the runner configuration the stack's managers apply
// (config.toml with the token and group as placeholders).
func runnerConfig(t *testing.T, h *harness, stackName string) string {
	t.Helper()
	p, err := ssm.NewFromConfig(awsConfig(h.moto.URL)).GetParameter(context.Background(), &ssm.GetParameterInput{Name: aws.String("/provision/" + stackName + "/runner-config"), WithDecryption: aws.Bool(true)})
	if err != nil {
		t.Fatalf("the runner configuration parameter: %v", err)
	}
	return aws.ToString(p.Parameter.Value)
}

func wantGitLabRules(t *testing.T, h *harness, want []string) {
	t.Helper()
	out, err := h.ec2.DescribeSecurityGroups(context.Background(), &ec2.DescribeSecurityGroupsInput{GroupIds: []string{h.gitlabSG}})
	if err != nil || len(out.SecurityGroups) != 1 {
		t.Fatalf("GitLab's group is gone: %v", err)
	}
	var got []string
	for _, p := range out.SecurityGroups[0].IpPermissions {
		for _, r := range p.IpRanges {
			got = append(got, fmt.Sprintf("%s %d-%d %s %s", aws.ToString(p.IpProtocol), aws.ToInt32(p.FromPort), aws.ToInt32(p.ToPort), aws.ToString(r.CidrIp), aws.ToString(r.Description)))
		}
	}
	sort.Strings(got)
	sort.Strings(want)
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("GitLab's group rules:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

// Each preflight failure is reported clearly and nothing is created.
func TestPreflightFailuresCreateNothing(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name   string
		config func(string) string
		env    []string
		setup  func(h *harness)
		want   []string
	}{
		{name: "missing token", env: []string{"GITLAB_RUNNER_TOKEN="}, want: []string{"GITLAB_RUNNER_TOKEN is not set", "glrt-"}},
		{name: "registration token", env: []string{"GITLAB_RUNNER_TOKEN=GR1348941abcdefghijklmnop"}, want: []string{"registration token", "authentication token"}},
		{name: "token rejected", env: []string{"GITLAB_RUNNER_TOKEN=glrt-revoked-token-0000"}, want: []string{"rejected GITLAB_RUNNER_TOKEN", "expired"}},
		// Port 1 of the loopback: nothing listens there (a stand-in closed
		// mid-suite could see its port taken by a parallel test's).
		{name: "gitlab unreachable", config: func(c string) string { return strings.Replace(c, "url: GITLAB_URL", "url: http://127.0.0.1:1", 1) },
			want: []string{"cannot be reached", "gitlab.url"}},
		{name: "gitlab group missing", config: func(c string) string { return strings.Replace(c, "GITLAB_SG", "sg-0123456789abcdef0", 1) }, want: []string{"gitlab.security_group_id sg-0123456789abcdef0 does not exist"}},
		{name: "bad zone", config: func(c string) string {
			return strings.Replace(c, "network:\n", "network:\n  availability_zone: eu-west-1z\n", 1)
		}, want: []string{"eu-west-1z is not a zone"}},
		{name: "unknown instance type", config: func(c string) string { return c + "runners:\n  instance_type: t9.mega\n" }, want: []string{"runners.instance_type", "t9.mega is not known"}},
		{name: "every problem at once", env: []string{"GITLAB_RUNNER_TOKEN="},
			config: func(c string) string {
				return strings.Replace(c, "GITLAB_SG", "sg-0123456789abcdef0", 1) + "manager:\n  instance_type: t9.mega\n"
			},
			want: []string{"3 problems", "GITLAB_RUNNER_TOKEN is not set", "sg-0123456789abcdef0 does not exist", "manager.instance_type"}},
		{name: "gitlab token without manage_runner", env: []string{"GITLAB_TOKEN=glpat-create-only-0000"},
			setup: func(h *harness) {
				h.gitlab.AddUserToken("glpat-create-only-0000", gitlabtest.UserToken{Scopes: []string{"create_runner"}})
			},
			config: func(c string) string { return c + "  create_runner: {}\n" },
			want:   []string{"GITLAB_TOKEN lacks the manage_runner scope", "create_runner and manage_runner"}},
		{name: "gitlab token unknown", env: []string{"GITLAB_TOKEN=glpat-revoked-0000"},
			config: func(c string) string { return c + "  create_runner: {}\n" },
			want:   []string{"rejected GITLAB_TOKEN", "revoked"}},
		{name: "spot without the Spot service-linked role",
			config: func(c string) string { return c + "runners:\n  executor: docker+machine\n  spot: true\n" },
			want:   []string{"AWSServiceRoleForEC2Spot", "aws iam create-service-linked-role --aws-service-name spot.amazonaws.com"}},
		{name: "vpc missing", config: func(c string) string {
			return strings.Replace(c, "  cidr: 192.168.0.0/24\n", "  vpc_id: vpc-0123456789abcdef0\n", 1)
		}, want: []string{"network.vpc_id vpc-0123456789abcdef0 does not exist"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			h := newHarness(t)
			cfg := baseConfig
			if c.config != nil {
				cfg = c.config(cfg)
			}
			h.writeConfig(cfg)
			h.env = append(h.env, c.env...)
			if c.setup != nil {
				c.setup(h)
			}
			var r result
			calls := h.countMutating(func() { r = h.mustRun(1, "up", "--auto-approve") })
			if len(calls) != 0 {
				t.Errorf("mutating calls despite the failed preflight: %v", calls)
			}
			for _, w := range c.want {
				if !strings.Contains(r.stderr, w) {
					t.Errorf("error does not say %q:\n%s", w, r.stderr)
				}
			}
			if !strings.Contains(r.stderr, "nothing was changed") {
				t.Errorf("error does not say nothing was changed:\n%s", r.stderr)
			}
			for _, secret := range []string{runnerToken, "glrt-revoked-token-0000", "GR1348941abcdefghijklmnop"} {
				if strings.Contains(r.stdout+r.stderr, secret) {
					t.Errorf("a token appears in the output")
				}
			}
			if left := h.tagged("net"); len(left) > 0 {
				t.Errorf("created: %v", left)
			}
			if _, err := os.Stat(filepath.Join(h.dir, ".provision", "net.json")); err == nil {
				t.Errorf("a state file was written")
			}
		})
	}
}

// With create_runner, up creates the runner once through GitLab's API and
// stores its token; down deletes it.
func TestCreateRunner(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	h.env = []string{"GITLAB_TOKEN=" + userToken}
	h.writeConfig(baseConfig + "  create_runner:\n    runner_type: instance_type\n    tag_list: [aws, docker]\n")
	up := h.mustRun(0, "up", "--auto-approve")
	if _, created := h.gitlab.Counts(); created != 1 {
		t.Fatalf("runners created: %d, want 1", created)
	}
	runners := h.gitlab.Runners()
	if len(runners) != 2 { // the harness's pre-made one and ours
		t.Fatalf("runners: %+v", runners)
	}
	var ours string
	for _, r := range runners {
		if r.Token != runnerToken {
			ours = r.Token
			if r.Description != "net autoscaling" || strings.Join(r.TagList, ",") != "aws,docker" {
				t.Errorf("runner record %+v", r)
			}
		}
	}
	ctx := context.Background()
	p, err := ssm.NewFromConfig(awsConfig(h.moto.URL)).GetParameter(ctx, &ssm.GetParameterInput{Name: aws.String("/provision/net/runner-token"), WithDecryption: aws.Bool(true)})
	if err != nil || aws.ToString(p.Parameter.Value) != ours {
		t.Fatalf("the created runner's token is not in the parameter: %v", err)
	}
	h.mustRun(0, "up", "--auto-approve")
	h.mustRun(0, "plan", "--detailed-exitcode")
	if _, created := h.gitlab.Counts(); created != 1 {
		t.Fatalf("a second up created another runner")
	}
	st := h.mustRun(0, "status", "--json")
	var rep struct {
		Facts struct {
			RunnerID     string `json:"gitlab_runner_id"`
			RunnerStatus string `json:"gitlab_runner_status"`
		}
	}
	// The (simulated) manager verified the runner with its system_id.
	if err := json.Unmarshal([]byte(st.stdout), &rep); err != nil || rep.Facts.RunnerStatus != "online" {
		t.Errorf("status does not show the runner's GitLab status: %+v %v\n%s", rep, err, st.stdout)
	}
	state, _ := os.ReadFile(h.statePath("net"))
	down := h.mustRun(0, "down", "--auto-approve")
	if len(h.gitlab.Runners()) != 1 {
		t.Fatalf("down did not delete the runner it created: %+v", h.gitlab.Runners())
	}
	for what, text := range map[string]string{"up": up.stdout + up.stderr, "state": string(state), "status": st.stdout, "down": down.stdout + down.stderr} {
		if strings.Contains(text, ours) || strings.Contains(text, userToken) {
			t.Errorf("a token appears in the %s", what)
		}
	}
}

// create_runner with nothing but defaults and a token holding only
// create_runner and manage_runner: GitLab accepts the runner (no tags, so
// it runs untagged jobs), and down deletes it again.
func TestCreateRunnerWithDefaults(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	h.env = []string{"GITLAB_TOKEN=" + userToken}
	h.writeConfig(baseConfig + "  create_runner: {}\n")
	h.mustRun(0, "up", "--auto-approve")
	if _, created := h.gitlab.Counts(); created != 1 {
		t.Fatalf("runners created: %d, want 1", created)
	}
	h.mustRun(0, "plan", "--detailed-exitcode")
	h.mustRun(0, "down", "--auto-approve")
	if len(h.gitlab.Runners()) != 1 {
		t.Fatalf("down did not delete the runner it created: %+v", h.gitlab.Runners())
	}
	if n := h.gitlab.TokensInURL(); n != 0 {
		t.Errorf("%d GitLab request(s) carried a token in the URL", n)
	}
}

// The legacy docker+machine executor: a runner role and profile for the
// machines, no Auto Scaling group, and down removes machines the manager
// started on its own.
func TestDockerMachine(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	ctx := context.Background()
	makeSpotRole(t, h)
	h.writeConfig(baseConfig + "runners:\n  executor: docker+machine\n  spot: true\n")
	up := h.mustRun(0, "up", "--auto-approve")
	if strings.Contains(up.stdout, "asg/runner") || !strings.Contains(up.stdout, "iam/runner") {
		t.Fatalf("docker+machine plan:\n%s", up.stdout)
	}
	iamc := iam.NewFromConfig(awsConfig(h.moto.URL))
	pol, err := iamc.GetRolePolicy(ctx, &iam.GetRolePolicyInput{RoleName: aws.String("net-eu-west-1-manager"), PolicyName: aws.String("provision")})
	if err != nil {
		t.Fatal(err)
	}
	doc, _ := url.QueryUnescape(aws.ToString(pol.PolicyDocument))
	for _, want := range []string{"iam:PassRole", "role/provision/net-eu-west-1-runner", "ec2:RunInstances", "runner-?????????-net-machine-??????????-????????\"", "runner-?????????-net-machine-??????????-????????-?????\"", "ec2:CancelSpotInstanceRequests"} {
		if !strings.Contains(doc, want) {
			t.Errorf("docker+machine policy lacks %s", want)
		}
	}
	checkPolicyARNs(t, h, "net-eu-west-1-manager")
	if _, err := iamc.GetInstanceProfile(ctx, &iam.GetInstanceProfileInput{InstanceProfileName: aws.String("net-eu-west-1-runner")}); err != nil {
		t.Errorf("runner instance profile: %v", err)
	}
	ud := managerUserData(t, h, aws.ToString(manager(t, h, "net").InstanceId)) + runnerConfig(t, h, "net")
	for _, want := range []string{"docker-machine", "amazonec2-security-group-readonly=true", "amazonec2-request-spot-instance=true", "net-machine-%s"} {
		if !strings.Contains(ud, want) {
			t.Errorf("manager user-data and runner configuration lack %q", want)
		}
	}
	h.mustRun(0, "plan", "--detailed-exitcode")

	// What docker-machine would have made on its own, as gitlab-runner
	// names it: a tagged machine with its key pair, an untagged machine in
	// the runner group (a Spot machine before the driver tags it), one
	// with only the runner profile, and a Spot request launched with the
	// runner group. And what belongs to a stack called net-machine-arm,
	// whose names start with this stack's machine prefix: it must stay.
	n := describeNetwork(t, h.ec2, "net")
	img := aws.ToString(manager(t, h, "net").ImageId)
	runnerSG := aws.ToString(n.sgRunner.GroupId)
	launch := func(in *ec2.RunInstancesInput) string {
		t.Helper()
		in.ImageId, in.MinCount, in.MaxCount = &img, aws.Int32(1), aws.Int32(1)
		out, err := h.ec2.RunInstances(ctx, in)
		must(t, err)
		return aws.ToString(out.Instances[0].InstanceId)
	}
	named := func(name string) []ec2types.TagSpecification {
		return []ec2types.TagSpecification{{ResourceType: ec2types.ResourceTypeInstance, Tags: []ec2types.Tag{{Key: aws.String("Name"), Value: aws.String(name)}}}}
	}
	const ours, theirs = "runner-abcd12345-net-machine-1732700000-deadbeef", "runner-abcd12345-net-machine-arm-machine-1732700000-deadbeef"
	tagged := launch(&ec2.RunInstancesInput{SubnetId: n.private.SubnetId, TagSpecifications: named(ours)})
	untagged := launch(&ec2.RunInstancesInput{SubnetId: n.private.SubnetId, SecurityGroupIds: []string{runnerSG}})
	profiled := launch(&ec2.RunInstancesInput{SubnetId: n.private.SubnetId, IamInstanceProfile: &ec2types.IamInstanceProfileSpecification{Name: aws.String("net-eu-west-1-runner")}})
	spot, err := h.ec2.RequestSpotInstances(ctx, &ec2.RequestSpotInstancesInput{InstanceCount: aws.Int32(1), LaunchSpecification: &ec2types.RequestSpotLaunchSpecification{
		ImageId: &img, SubnetId: n.private.SubnetId, SecurityGroupIds: []string{runnerSG}}})
	must(t, err)
	spotID := aws.ToString(spot.SpotInstanceRequests[0].SpotInstanceRequestId)
	otherVPC, err := h.ec2.CreateVpc(ctx, &ec2.CreateVpcInput{CidrBlock: aws.String("10.42.0.0/16")})
	must(t, err)
	otherSubnet, err := h.ec2.CreateSubnet(ctx, &ec2.CreateSubnetInput{VpcId: otherVPC.Vpc.VpcId, CidrBlock: aws.String("10.42.1.0/24")})
	must(t, err)
	decoy := launch(&ec2.RunInstancesInput{SubnetId: otherSubnet.Subnet.SubnetId, TagSpecifications: named(theirs)})
	for _, k := range []string{ours + "-Ab3dE", theirs + "-Zz9yX"} {
		_, err := h.ec2.CreateKeyPair(ctx, &ec2.CreateKeyPairInput{KeyName: aws.String(k)})
		must(t, err)
	}

	d := h.mustRun(0, "down", "--auto-approve")
	if !strings.Contains(d.stdout, "machines/runner") {
		t.Errorf("down plan does not list the machines:\n%s", d.stdout)
	}
	state := func(id string) ec2types.InstanceStateName {
		out, err := h.ec2.DescribeInstances(ctx, &ec2.DescribeInstancesInput{InstanceIds: []string{id}})
		must(t, err)
		return out.Reservations[0].Instances[0].State.Name
	}
	for what, id := range map[string]string{"tagged": tagged, "untagged in the runner group": untagged, "with the runner profile": profiled} {
		if st := state(id); st != ec2types.InstanceStateNameTerminated {
			t.Errorf("the %s machine survives down (%s)", what, st)
		}
	}
	if st := state(decoy); st == ec2types.InstanceStateNameTerminated {
		t.Errorf("down terminated a machine of stack net-machine-arm")
	}
	reqs, err := h.ec2.DescribeSpotInstanceRequests(ctx, &ec2.DescribeSpotInstanceRequestsInput{})
	must(t, err)
	for _, r := range reqs.SpotInstanceRequests {
		if aws.ToString(r.SpotInstanceRequestId) == spotID && (r.State == ec2types.SpotInstanceStateOpen || r.State == ec2types.SpotInstanceStateActive) {
			t.Errorf("the Spot request %s is still %s", spotID, r.State)
		}
		if id := aws.ToString(r.InstanceId); id != "" && aws.ToString(r.SpotInstanceRequestId) == spotID && state(id) != ec2types.InstanceStateNameTerminated {
			t.Errorf("the Spot machine %s survives down", id)
		}
	}
	keys, _ := h.ec2.DescribeKeyPairs(ctx, &ec2.DescribeKeyPairsInput{})
	var keyNames []string
	for _, k := range keys.KeyPairs {
		keyNames = append(keyNames, aws.ToString(k.KeyName))
	}
	if slices.Contains(keyNames, ours+"-Ab3dE") || !slices.Contains(keyNames, theirs+"-Zz9yX") {
		t.Errorf("key pairs after down: %v (want the stack's gone, net-machine-arm's kept)", keyNames)
	}
	if left := h.tagged("net"); len(left) > 0 {
		t.Fatalf("down left: %v", left)
	}
}

// An explicit new manager.ami replaces the manager (shown in the plan);
// without one, the image the manager was launched with stays.
func TestManagerAMIChangeReplacesTheManager(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	ctx := context.Background()
	h.writeConfig(baseConfig)
	h.mustRun(0, "up", "--auto-approve")
	old := manager(t, h, "net")
	imgs, err := h.ec2.DescribeImages(ctx, &ec2.DescribeImagesInput{})
	if err != nil {
		t.Fatal(err)
	}
	other := ""
	for _, img := range imgs.Images {
		if id := aws.ToString(img.ImageId); id != aws.ToString(old.ImageId) && img.RootDeviceName != nil {
			other = id
			break
		}
	}
	if other == "" {
		t.Skip("the emulator offers no second AMI")
	}
	h.writeConfig(baseConfig + "manager:\n  ami: " + other + "\n")
	r := h.mustRun(2, "plan", "--detailed-exitcode")
	if !strings.Contains(r.stdout, "-/+ instance/manager") || !strings.Contains(r.stdout, "must be replaced: image "+aws.ToString(old.ImageId)+" -> "+other) {
		t.Fatalf("plan does not replace the manager:\n%s", r.stdout)
	}
	h.mustRun(0, "up", "--auto-approve")
	h.mustRun(0, "plan", "--detailed-exitcode")
	now := manager(t, h, "net")
	if aws.ToString(now.ImageId) != other || aws.ToString(now.InstanceId) == aws.ToString(old.InstanceId) {
		t.Fatalf("manager %s runs %s, want a new one on %s", aws.ToString(now.InstanceId), aws.ToString(now.ImageId), other)
	}
	addrs, err := h.ec2.DescribeAddresses(ctx, &ec2.DescribeAddressesInput{Filters: byStep("net", "eip/manager")})
	if a := one(t, "eip/manager", addrs.Addresses, err); aws.ToString(a.InstanceId) != aws.ToString(now.InstanceId) {
		t.Errorf("the Elastic IP did not follow the new manager")
	}
	h.mustRun(0, "down", "--auto-approve")
}

// checkColdStart checks what a new machine boots with: static keys and the
// ECS-optimized image (fast: the key pair of ssm/ssh-key in the launch
// template, nothing to install) or neither (a key pushed per machine,
// Docker installed at boot).
func checkColdStart(t *testing.T, h *harness, ltd *ec2types.ResponseLaunchTemplateData, fast bool) {
	t.Helper()
	ctx := context.Background()
	ssmc := ssm.NewFromConfig(awsConfig(h.moto.URL))
	ud, _ := base64.StdEncoding.DecodeString(aws.ToString(ltd.UserData))
	key, keyErr := ssmc.GetParameter(ctx, &ssm.GetParameterInput{Name: aws.String("/provision/net/runner-ssh-key"), WithDecryption: aws.Bool(true)})
	pairs, _ := h.ec2.DescribeKeyPairs(ctx, &ec2.DescribeKeyPairsInput{IncludePublicKey: aws.Bool(true)})
	image := "/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-x86_64"
	if fast {
		image = "/aws/service/ecs/optimized-ami/amazon-linux-2023/recommended/image_id"
	}
	latest, err := ssmc.GetParameter(ctx, &ssm.GetParameterInput{Name: aws.String(image)})
	if err != nil || aws.ToString(ltd.ImageId) != aws.ToString(latest.Parameter.Value) {
		t.Errorf("launch template image %s, want the latest of %s: %v", aws.ToString(ltd.ImageId), image, err)
	}
	if !fast {
		if keyErr == nil || len(pairs.KeyPairs) != 0 || ltd.KeyName != nil {
			t.Errorf("instance-connect keys: no key parameter, key pair or key name expected: %v %+v %v", keyErr, pairs.KeyPairs, aws.ToString(ltd.KeyName))
		}
		if !strings.Contains(string(ud), "packages:") || !strings.Contains(string(ud), "- docker") {
			t.Errorf("Amazon Linux machines must install Docker:\n%s", ud)
		}
		return
	}
	if keyErr != nil || key.Parameter.Type != ssmtypes.ParameterTypeSecureString {
		t.Fatalf("the machines' private key is not a SecureString: %+v %v", key, keyErr)
	}
	if len(pairs.KeyPairs) != 1 || aws.ToString(ltd.KeyName) != aws.ToString(pairs.KeyPairs[0].KeyName) {
		t.Fatalf("launch template key %q, key pairs %+v", aws.ToString(ltd.KeyName), pairs.KeyPairs)
	}
	signer, err := gossh.ParsePrivateKey([]byte(aws.ToString(key.Parameter.Value)))
	if err != nil {
		t.Fatalf("the parameter holds no private key gitlab-runner can read: %v", err)
	}
	want := strings.TrimSpace(string(gossh.MarshalAuthorizedKey(signer.PublicKey())))
	if got := aws.ToString(pairs.KeyPairs[0].PublicKey); !strings.HasPrefix(got, want) {
		t.Errorf("key pair %q is not the public half of the parameter's key %q", got, want)
	}
	if strings.Contains(string(ud), "packages:") {
		t.Errorf("the ECS-optimized image with static keys needs no package at boot:\n%s", ud)
	}
}

// The slow way (keys pushed per machine, Docker installed at boot) builds
// no key; moving to the defaults makes the key, imports its public half,
// gives the launch template the key pair and the ECS-optimized image, and
// replaces the manager, whose bootstrap now reads the key; moving back
// removes the key and the pair in the same up; down leaves nothing.
func TestColdStartChoices(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	h.writeConfig(baseConfig + "runners:\n  ssh_keys: instance-connect\n  base_image: amazon-linux\n")
	h.mustRun(0, "up", "--auto-approve", "--no-wait")
	checkColdStart(t, h, defaultTemplateData(t, h), false)

	switchColdStart(t, h, baseConfig, true, "+ ssm/ssh-key", "+ keypair/runner", "~ lt/runner", "-/+ instance/manager")

	// A key put in the parameter by hand: the pair is imported again and
	// the manager, which read the old key at boot, is replaced.
	_, other, _ := ed25519.GenerateKey(rand.Reader)
	block, _ := gossh.MarshalPrivateKey(other, "")
	if _, err := ssm.NewFromConfig(awsConfig(h.moto.URL)).PutParameter(context.Background(), &ssm.PutParameterInput{Name: aws.String("/provision/net/runner-ssh-key"),
		Value: aws.String(string(pem.EncodeToMemory(block))), Type: ssmtypes.ParameterTypeSecureString, Overwrite: aws.Bool(true)}); err != nil {
		t.Fatal(err)
	}
	plan := h.mustRun(2, "plan", "--detailed-exitcode")
	for _, want := range []string{"-/+ keypair/runner", "-/+ instance/manager"} {
		if !strings.Contains(plan.stdout, want) {
			t.Errorf("a new key must replace the pair and the manager: no %q in\n%s", want, plan.stdout)
		}
	}
	h.mustRun(0, "up", "--auto-approve")
	checkColdStart(t, h, defaultTemplateData(t, h), true)
	h.mustRun(0, "plan", "--detailed-exitcode")
	// And back: up itself removes the key and the pair, once the template
	// and the manager no longer use them.
	switchColdStart(t, h, baseConfig+"runners:\n  ssh_keys: instance-connect\n  base_image: amazon-linux\n", false,
		"- ssm/ssh-key", "- keypair/runner", "~ lt/runner", "-/+ instance/manager")

	h.mustRun(0, "down", "--auto-approve")
	if left := h.tagged("net"); len(left) > 0 {
		t.Fatalf("down left: %v", left)
	}
	if _, err := ssm.NewFromConfig(awsConfig(h.moto.URL)).GetParameter(context.Background(), &ssm.GetParameterInput{Name: aws.String("/provision/net/runner-ssh-key")}); err == nil {
		t.Errorf("down left the machines' private key")
	}
}

// switchColdStart writes config, checks the plan shows every change in
// want, applies it and checks the machines' way of starting.
func switchColdStart(t *testing.T, h *harness, config string, fast bool, want ...string) {
	t.Helper()
	h.writeConfig(config)
	plan := h.mustRun(2, "plan", "--detailed-exitcode")
	for _, w := range want {
		if !strings.Contains(plan.stdout, w) {
			t.Errorf("the plan does not show %q:\n%s", w, plan.stdout)
		}
	}
	// Waited for: the replaced manager drains (up --no-wait would leave it
	// draining, and the plan after would show that).
	h.mustRun(0, "up", "--auto-approve")
	checkColdStart(t, h, defaultTemplateData(t, h), fast)
	h.mustRun(0, "plan", "--detailed-exitcode")
}

func defaultTemplateData(t *testing.T, h *harness) *ec2types.ResponseLaunchTemplateData {
	t.Helper()
	lts, err := h.ec2.DescribeLaunchTemplateVersions(context.Background(), &ec2.DescribeLaunchTemplateVersionsInput{LaunchTemplateName: aws.String("net-runner"), Versions: []string{"$Default"}})
	if err != nil || len(lts.LaunchTemplateVersions) != 1 {
		t.Fatalf("launch template: %v", err)
	}
	return lts.LaunchTemplateVersions[0].LaunchTemplateData
}
