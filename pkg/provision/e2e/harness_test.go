package e2e

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	kmstypes "github.com/aws/aws-sdk-go-v2/service/kms/types"

	"github.com/provision-dev/provision/pkg/provision/awstest"
	"github.com/provision-dev/provision/pkg/provision/config"
	"github.com/provision-dev/provision/pkg/provision/gitlabtest"
)

const region = "eu-west-1"

// runTimeout bounds one run of provision in a test.
var runTimeout = 3 * time.Minute

var (
	binary string
	// emulators is the pool of moto servers the tests share: a test takes
	// one for its whole run (reset first), so tests run in parallel, each
	// on an emulator of its own.
	emulators chan *awstest.Moto
)

// emulatorCount is how many moto servers run at once
// (PROVISION_E2E_EMULATORS, default 3).
func emulatorCount() int {
	if n, err := strconv.Atoi(os.Getenv("PROVISION_E2E_EMULATORS")); err == nil && n > 0 {
		return n
	}
	return 3
}

func TestMain(m *testing.M) {
	os.Exit(runTests(m))
}

func runTests(m *testing.M) int {
	flag.Parse()
	if testing.Short() {
		// The end-to-end tests need moto_server; -short is the fast path
		// without it (the unit tests of every other package).
		fmt.Println("e2e: skipped with -short (these tests need moto_server)")
		return 0
	}
	dir, err := os.MkdirTemp("", "provision-e2e-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer os.RemoveAll(dir)
	binary = filepath.Join(dir, "provision")
	_, self, _, _ := runtime.Caller(0)
	root := filepath.Join(filepath.Dir(self), "..", "..", "..")
	build := exec.Command("go", "build", "-o", binary, "./cmd/provision")
	build.Dir = root
	if out, err := build.CombinedOutput(); err != nil {
		fmt.Fprintf(os.Stderr, "build provision: %v\n%s", err, out)
		return 1
	}
	n := emulatorCount()
	emulators = make(chan *awstest.Moto, n)
	started := make(chan error, n)
	for i := 0; i < n; i++ {
		go func() {
			m, err := awstest.StartMoto()
			if err == nil {
				emulators <- m
			}
			started <- err
		}()
	}
	var failed error
	for i := 0; i < n; i++ {
		if err := <-started; err != nil {
			failed = err
		}
	}
	defer func() {
		for len(emulators) > 0 {
			(<-emulators).Stop()
		}
	}()
	if failed != nil {
		fmt.Fprintln(os.Stderr, failed)
		return 1
	}
	code := m.Run()
	if os.Getenv("PROVISION_SUITE_ACTIONS") != "" {
		_ = os.WriteFile(os.Getenv("PROVISION_SUITE_ACTIONS"), []byte(strings.Join(suiteActions.sorted(), "\n")+"\n"), 0o644)
	}
	if code == 0 {
		if err := checkIAMPolicy(); err != nil {
			fmt.Fprintln(os.Stderr, "FAIL:", err)
			return 1
		}
	}
	return code
}

// harness is one test's world: a reset emulator, a counting proxy, a
// working directory with a configuration file.
type harness struct {
	t        *testing.T
	moto     *awstest.Moto
	dir      string
	proxy    *awstest.Proxy
	ec2      *ec2.Client
	gitlab   *gitlabtest.Server
	gitlabSG string   // the pre-made "GitLab" security group
	env      []string // extra environment for the binary

	// manager boots the stack's managers while provision runs.
	manager *managerSim

	// fleetRunners are the fleets given a runner in GitLab and a token.
	fleetRunners map[string]bool

	mu          sync.Mutex
	current     *os.Process // the provision process running now
	killedAfter string      // the call after which killAfter struck
}

// Secrets the tests hand the tool; they must never show up in its output.
const (
	runnerToken = "glrt-e2e-runner-token-4f9d2a"
	userToken   = "glpat-e2e-admin-token-77c1b0"
)

func newHarness(t *testing.T) *harness {
	t.Helper()
	ctx := context.Background()
	moto := <-emulators
	// Registered first, so it runs last: the emulator goes back to the
	// pool once everything of this test is closed.
	t.Cleanup(func() { emulators <- moto })
	if err := moto.Reset(ctx); err != nil {
		t.Fatal(err)
	}
	p := awstest.NewProxy(moto.URL)
	t.Cleanup(p.Close)
	t.Cleanup(func() { suiteActions.add(p.Actions()); addUntagged(p) })
	gl := gitlabtest.New()
	t.Cleanup(gl.Close)
	// The scopes docs/getting-started.md asks for, no more: a call that needs another
	// scope fails the test as it would fail on GitLab.
	gl.AddUserToken(userToken, gitlabtest.UserToken{Scopes: gitlabtest.RunnerScopes})
	gl.AddRunner(runnerToken)
	h := &harness{t: t, moto: moto, dir: t.TempDir(), proxy: p, gitlab: gl, env: []string{"GITLAB_RUNNER_TOKEN=" + runnerToken},
		manager: &managerSim{seen: map[string]bool{}}}
	h.ec2 = ec2.NewFromConfig(awsConfig(moto.URL))
	h.gitlabSG = h.makeGitLabGroup()
	return h
}

// makeGitLabGroup stands in for the GitLab server's security group: in a
// VPC of its own, already admitting a few addresses that must survive.
func (h *harness) makeGitLabGroup() string {
	h.t.Helper()
	ctx := context.Background()
	vpc, err := h.ec2.CreateVpc(ctx, &ec2.CreateVpcInput{CidrBlock: aws.String("10.99.0.0/16")})
	if err != nil {
		h.t.Fatal(err)
	}
	sg, err := h.ec2.CreateSecurityGroup(ctx, &ec2.CreateSecurityGroupInput{GroupName: aws.String("gitlab"), Description: aws.String("GitLab server"), VpcId: vpc.Vpc.VpcId})
	if err != nil {
		h.t.Fatal(err)
	}
	_, err = h.ec2.AuthorizeSecurityGroupIngress(ctx, &ec2.AuthorizeSecurityGroupIngressInput{GroupId: sg.GroupId, IpPermissions: gitlabExistingRules})
	if err != nil {
		h.t.Fatal(err)
	}
	return aws.ToString(sg.GroupId)
}

// gitlabExistingRules are the rules GitLab's group had before the tool came.
var gitlabExistingRules = []ec2types.IpPermission{
	{IpProtocol: aws.String("tcp"), FromPort: aws.Int32(443), ToPort: aws.Int32(443), IpRanges: []ec2types.IpRange{{CidrIp: aws.String("198.51.100.7/32"), Description: aws.String("office")}}},
	{IpProtocol: aws.String("tcp"), FromPort: aws.Int32(22), ToPort: aws.Int32(22), IpRanges: []ec2types.IpRange{{CidrIp: aws.String("198.51.100.8/32"), Description: aws.String("admin ssh")}}},
}

// awsConfig talks to moto directly, so the checks do not count as the
// tool's calls.
func awsConfig(endpoint string) aws.Config {
	return aws.Config{
		Region:       region,
		Credentials:  credentials.NewStaticCredentialsProvider("testing", "testing", ""),
		BaseEndpoint: aws.String(endpoint),
	}
}

// writeConfig writes provision.yaml; GITLAB_URL and GITLAB_SG stand for
// the test GitLab's address and security group.
func (h *harness) writeConfig(yaml string) {
	h.t.Helper()
	yaml = strings.NewReplacer("GITLAB_URL", h.gitlab.URL, "GITLAB_SG", h.gitlabSG).Replace(yaml)
	if err := os.WriteFile(filepath.Join(h.dir, "provision.yaml"), []byte(yaml), 0o644); err != nil {
		h.t.Fatal(err)
	}
	// The administrator's part: the stack's permissions boundary.
	if err := awstest.CreateBoundaryFor(context.Background(), h.moto.URL, yaml, region); err != nil {
		h.t.Fatal(err)
	}
	// The GitLab admin's part: a runner for each other fleet, its token in
	// GITLAB_RUNNER_TOKEN_NAME.
	if cfg, err := config.ParseConfig("provision.yaml", []byte(yaml), ""); err == nil {
		for _, f := range cfg.FleetList() {
			if f.Name != config.DefaultFleet && !h.fleetRunners[f.Name] {
				fleetTokens(h, f.Name)
			}
		}
	}
}

// result is one run of the binary.
type result struct {
	code           int
	stdout, stderr string
	// maxRSS is the run's peak resident memory in KiB (Linux getrusage).
	maxRSS int64
}

func (r result) String() string {
	return fmt.Sprintf("exit %d\n--- stdout\n%s--- stderr\n%s", r.code, r.stdout, r.stderr)
}

// run executes provision in the harness directory.
func (h *harness) run(args ...string) result {
	h.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), runTimeout)
	defer cancel()
	if os.Getenv("PROVISION_E2E_DEBUG") != "" {
		args = append([]string{"--log-level", "debug"}, args...)
	}
	cmd := exec.CommandContext(ctx, binary, args...)
	cmd.Dir = h.dir
	cmd.Env = append([]string{
		"PATH=" + os.Getenv("PATH"),
		"HOME=" + h.dir,
		"AWS_ENDPOINT_URL=" + h.proxy.URL,
		"AWS_ACCESS_KEY_ID=testing",
		"AWS_SECRET_ACCESS_KEY=testing",
		"AWS_CONFIG_FILE=" + filepath.Join(h.dir, "no-aws-config"),
		"AWS_SHARED_CREDENTIALS_FILE=" + filepath.Join(h.dir, "no-aws-credentials"),
		"AWS_EC2_METADATA_DISABLED=true",
	}, h.env...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Start(); err != nil {
		h.t.Fatalf("start provision %v: %v", args, err)
	}
	stopManager := make(chan struct{})
	go h.manager.watch(h, stopManager)
	defer close(stopManager)
	h.mu.Lock()
	h.current = cmd.Process
	h.mu.Unlock()
	err := cmd.Wait()
	h.mu.Lock()
	h.current = nil
	h.mu.Unlock()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		h.t.Fatalf("run provision %v: %v", args, err)
	}
	r := result{code: code, stdout: stdout.String(), stderr: stderr.String()}
	if ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage); ok {
		r.maxRSS = ru.Maxrss
	}
	h.checkNoSecrets("provision "+strings.Join(args, " "), r.stdout+r.stderr)
	return r
}

// signal sends sig to the running provision process, if any.
func (h *harness) signal(sig os.Signal) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.current != nil {
		_ = h.current.Signal(sig)
	}
}

// killAfter makes the proxy kill provision (SIGKILL) as soon as the k-th
// mutating call has been answered by the emulator, before the answer
// reaches provision; calls count from now. k <= 0 removes the hook.
func (h *harness) killAfter(k int) {
	h.proxy.Reset()
	if k <= 0 {
		h.proxy.SetAfterAnswer(nil)
		return
	}
	// Strikes once: calls of the killed process still in flight must not
	// kill the next run.
	var fired atomic.Bool
	h.proxy.SetAfterAnswer(func(c awstest.Call, mutating int) {
		if c.Mutating() && mutating == k && fired.CompareAndSwap(false, true) {
			h.signal(syscall.SIGKILL)
			h.mu.Lock()
			h.killedAfter = c.Action
			h.mu.Unlock()
		}
	})
}

// checkNoSecrets fails the test if a token shows up in text, or in the
// state file and its backup as they are now.
func (h *harness) checkNoSecrets(what, text string) {
	h.t.Helper()
	texts := map[string]string{what: text}
	for _, p := range []string{"net.json", "net.json.backup"} {
		if b, err := os.ReadFile(filepath.Join(h.dir, ".provision", p)); err == nil {
			texts["state file "+p] = string(b)
		}
	}
	secrets := []string{runnerToken, userToken}
	for _, r := range h.gitlab.Runners() {
		secrets = append(secrets, r.Token)
	}
	for where, t := range texts {
		for _, s := range secrets {
			if strings.Contains(t, s) {
				h.t.Errorf("a token (%.8s...) appears in %s", s, where)
			}
		}
	}
}

// mustRun fails the test unless provision exits with want.
func (h *harness) mustRun(want int, args ...string) result {
	h.t.Helper()
	r := h.run(args...)
	if r.code != want {
		h.t.Fatalf("provision %s: want exit %d, got %s", strings.Join(args, " "), want, r)
	}
	return r
}

// countMutating runs f and returns the mutating calls it made.
func (h *harness) countMutating(f func()) []string {
	h.proxy.Reset()
	f()
	return h.proxy.Mutating()
}

func (h *harness) statePath(stackName string) string {
	return filepath.Join(h.dir, ".provision", stackName+".json")
}

// tagged lists every EC2 resource and KMS key carrying the stack's
// ownership tag.
func (h *harness) tagged(stackName string) []string {
	left := h.taggedEC2(stackName)
	for _, k := range h.liveKeys(stackName) {
		left = append(left, "kms-key "+aws.ToString(k.KeyId))
	}
	return append(left, h.logGroups(stackName)...)
}

// logGroups lists the stack's CloudWatch Logs groups.
func (h *harness) logGroups(stackName string) []string {
	out, err := cloudwatchlogs.NewFromConfig(awsConfig(h.moto.URL)).DescribeLogGroups(context.Background(),
		&cloudwatchlogs.DescribeLogGroupsInput{LogGroupNamePrefix: aws.String("/provision/" + stackName + "/")})
	if err != nil {
		h.t.Fatalf("list log groups: %v", err)
	}
	var left []string
	for _, g := range out.LogGroups {
		left = append(left, "log-group "+aws.ToString(g.LogGroupName))
	}
	return left
}

// liveKeys are the stack's KMS keys whose deletion is not scheduled: KMS
// deletes none at once, so a key pending deletion counts as gone.
func (h *harness) liveKeys(stackName string) []kmstypes.KeyMetadata {
	h.t.Helper()
	ctx := context.Background()
	c := kms.NewFromConfig(awsConfig(h.moto.URL))
	out, err := c.ListKeys(ctx, &kms.ListKeysInput{})
	if err != nil {
		h.t.Fatal(err)
	}
	var live []kmstypes.KeyMetadata
	for _, k := range out.Keys {
		tags, err := c.ListResourceTags(ctx, &kms.ListResourceTagsInput{KeyId: k.KeyId})
		if err != nil {
			h.t.Fatal(err)
		}
		mine := false
		for _, t := range tags.Tags {
			mine = mine || (aws.ToString(t.TagKey) == "provision:stack" && aws.ToString(t.TagValue) == stackName)
		}
		if !mine {
			continue
		}
		d, err := c.DescribeKey(ctx, &kms.DescribeKeyInput{KeyId: k.KeyId})
		if err != nil {
			h.t.Fatal(err)
		}
		if s := d.KeyMetadata.KeyState; s != kmstypes.KeyStatePendingDeletion && s != kmstypes.KeyStatePendingReplicaDeletion {
			live = append(live, *d.KeyMetadata)
		}
	}
	return live
}

// taggedEC2 lists every EC2 resource carrying the stack's ownership tag.
func (h *harness) taggedEC2(stackName string) []string {
	h.t.Helper()
	ctx := context.Background()
	out, err := h.ec2.DescribeTags(ctx, &ec2.DescribeTagsInput{Filters: []ec2types.Filter{
		{Name: aws.String("key"), Values: []string{"provision:stack"}},
		{Name: aws.String("value"), Values: []string{stackName}},
	}})
	if err != nil {
		h.t.Fatal(err)
	}
	var left []string
	for _, t := range out.Tags {
		id := aws.ToString(t.ResourceId)
		if h.alive(ctx, string(t.ResourceType), id) {
			left = append(left, string(t.ResourceType)+" "+id)
		}
	}
	return left
}

// taggedWithStep lists "kind step" for every live resource of the stack.
func (h *harness) taggedWithStep(stackName string) []string {
	h.t.Helper()
	ctx := context.Background()
	out, err := h.ec2.DescribeTags(ctx, &ec2.DescribeTagsInput{Filters: []ec2types.Filter{
		{Name: aws.String("key"), Values: []string{"provision:step"}},
	}})
	if err != nil {
		h.t.Fatal(err)
	}
	owned := map[string]bool{}
	for _, id := range h.taggedEC2(stackName) {
		owned[id[strings.LastIndexByte(id, ' ')+1:]] = true
	}
	var res []string
	for range h.liveKeys(stackName) {
		res = append(res, "kms-key kms/secrets")
	}
	for _, t := range out.Tags {
		if owned[aws.ToString(t.ResourceId)] {
			res = append(res, string(t.ResourceType)+" "+aws.ToString(t.Value))
		}
	}
	return res
}

// alive asks for the resource by id: the emulator keeps the tags of deleted
// resources, and AWS keeps deleted NAT gateways and instances visible.
func (h *harness) alive(ctx context.Context, kind, id string) bool {
	c := h.ec2
	prefix := id[:strings.IndexByte(id, '-')]
	switch prefix {
	case "vpc":
		out, err := c.DescribeVpcs(ctx, &ec2.DescribeVpcsInput{VpcIds: []string{id}})
		return err == nil && len(out.Vpcs) > 0
	case "subnet":
		out, err := c.DescribeSubnets(ctx, &ec2.DescribeSubnetsInput{SubnetIds: []string{id}})
		return err == nil && len(out.Subnets) > 0
	case "igw":
		out, err := c.DescribeInternetGateways(ctx, &ec2.DescribeInternetGatewaysInput{InternetGatewayIds: []string{id}})
		return err == nil && len(out.InternetGateways) > 0
	case "eigw":
		out, err := c.DescribeEgressOnlyInternetGateways(ctx, &ec2.DescribeEgressOnlyInternetGatewaysInput{EgressOnlyInternetGatewayIds: []string{id}})
		return err == nil && len(out.EgressOnlyInternetGateways) > 0
	case "sg":
		out, err := c.DescribeSecurityGroups(ctx, &ec2.DescribeSecurityGroupsInput{GroupIds: []string{id}})
		return err == nil && len(out.SecurityGroups) > 0
	case "rtb":
		out, err := c.DescribeRouteTables(ctx, &ec2.DescribeRouteTablesInput{RouteTableIds: []string{id}})
		return err == nil && len(out.RouteTables) > 0
	case "acl":
		out, err := c.DescribeNetworkAcls(ctx, &ec2.DescribeNetworkAclsInput{NetworkAclIds: []string{id}})
		return err == nil && len(out.NetworkAcls) > 0
	case "eipalloc":
		out, err := c.DescribeAddresses(ctx, &ec2.DescribeAddressesInput{AllocationIds: []string{id}})
		return err == nil && len(out.Addresses) > 0
	case "nat":
		out, err := c.DescribeNatGateways(ctx, &ec2.DescribeNatGatewaysInput{NatGatewayIds: []string{id}})
		return err == nil && len(out.NatGateways) == 1 && out.NatGateways[0].State != ec2types.NatGatewayStateDeleted
	case "i":
		out, err := c.DescribeInstances(ctx, &ec2.DescribeInstancesInput{InstanceIds: []string{id}})
		return err == nil && len(out.Reservations) == 1 && out.Reservations[0].Instances[0].State.Name != ec2types.InstanceStateNameTerminated
	case "vol":
		out, err := c.DescribeVolumes(ctx, &ec2.DescribeVolumesInput{VolumeIds: []string{id}})
		return err == nil && len(out.Volumes) > 0
	case "lt":
		out, err := c.DescribeLaunchTemplates(ctx, &ec2.DescribeLaunchTemplatesInput{LaunchTemplateIds: []string{id}})
		return err == nil && len(out.LaunchTemplates) > 0
	case "vpce":
		out, err := c.DescribeVpcEndpoints(ctx, &ec2.DescribeVpcEndpointsInput{VpcEndpointIds: []string{id}})
		return err == nil && len(out.VpcEndpoints) > 0 && !strings.EqualFold(string(out.VpcEndpoints[0].State), "deleted")
	case "key":
		out, err := c.DescribeKeyPairs(ctx, &ec2.DescribeKeyPairsInput{Filters: []ec2types.Filter{{Name: aws.String("key-pair-id"), Values: []string{id}}}})
		return err == nil && len(out.KeyPairs) > 0
	}
	return true
}
