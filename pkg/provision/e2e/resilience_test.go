package e2e

import (
	"context"
	"fmt"
	"os"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"

	"github.com/provision-dev/provision/pkg/provision/awstest"
)

// With 20% of AWS calls throttled, failed (500, 503), dropped, or answered
// with a 500 after they took effect, up and down of a stack with every
// optional part still converge, with no duplicates.
func TestFaultyAPI(t *testing.T) {
	t.Parallel()
	want, _, _ := baseline(t, optionsConfig)
	for _, seed := range []int64{1, 2, 3} {
		t.Run(fmt.Sprintf("seed=%d", seed), func(t *testing.T) {
			t.Parallel()
			h := newHarness(t)
			h.writeConfig(optionsConfig)
			faults := awstest.NewRandomFaults(seed, 0.2)
			h.proxy.SetFault(faults.Fault())
			h.mustRun(0, "up", "--auto-approve")
			upFaults := faults.Injected()
			h.proxy.SetFault(nil)
			if got := h.inventory("net"); fmt.Sprint(got) != fmt.Sprint(want) {
				t.Fatalf("after a faulty up, the stack differs from a clean build:\n%s", inventoryDiff(got, want))
			}
			h.mustRun(0, "plan", "--detailed-exitcode")

			faults = awstest.NewRandomFaults(seed+100, 0.2)
			h.proxy.SetFault(faults.Fault())
			h.mustRun(0, "down", "--auto-approve")
			h.proxy.SetFault(nil)
			if left := h.tagged("net"); len(left) > 0 {
				t.Fatalf("a faulty down left: %v", left)
			}
			if _, err := os.Stat(h.statePath("net")); !os.IsNotExist(err) {
				t.Fatalf("state file survives")
			}
			t.Logf("faulty-api seed=%d up: %v; down: %v", seed, upFaults, faults.Injected())
		})
	}
}

// SIGINT or SIGTERM during up: no new step starts, what is done is saved,
// the exit code is not 0, and the next up finishes the job.
func TestInterruptAndResume(t *testing.T) {
	t.Parallel()
	want, _, _ := baseline(t, baseConfig)
	for _, sig := range []os.Signal{os.Interrupt, syscall.SIGTERM} {
		t.Run(sig.String(), func(t *testing.T) {
			t.Parallel()
			interruptAndResume(t, sig, want)
		})
	}
}

func interruptAndResume(t *testing.T, sig os.Signal, want map[string]int) {
	h := newHarness(t)
	h.writeConfig(baseConfig)
	h.proxy.SetFault(awstest.Delay(20 * time.Millisecond))
	h.proxy.SetAfterAnswer(func(c awstest.Call, mutating int) {
		if c.Mutating() && mutating == 12 {
			h.signal(sig)
		}
	})
	r := h.run("up", "--auto-approve")
	h.proxy.SetAfterAnswer(nil)
	h.proxy.SetFault(nil)
	if r.code == 0 || !strings.Contains(r.stderr, "interrupted") {
		t.Fatalf("up after SIGINT: %s", r)
	}
	st, err := os.ReadFile(h.statePath("net"))
	if err != nil || !strings.Contains(string(st), `"status": "created"`) {
		t.Fatalf("the interrupted run did not save what it made: %v", err)
	}
	h.mustRun(0, "up", "--auto-approve")
	if got := h.inventory("net"); fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("after resuming, the stack differs from a clean build:\n%s", inventoryDiff(got, want))
	}
	h.mustRun(0, "plan", "--detailed-exitcode")
	h.mustRun(0, "down", "--auto-approve")
}

// A second run while one holds the lock fails at once and names the holder.
func TestSecondRunIsLockedOut(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	h.writeConfig(baseConfig)
	h.proxy.SetFault(awstest.Delay(30 * time.Millisecond))
	started := make(chan struct{})
	var once sync.Once
	h.proxy.SetAfterAnswer(func(c awstest.Call, mutating int) {
		if mutating == 1 {
			once.Do(func() { close(started) })
		}
	})
	var first result
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		first = h.run("up", "--auto-approve")
	}()
	<-started
	begin := time.Now()
	second := h.run("up", "--auto-approve")
	wg.Wait()
	host, _ := os.Hostname()
	if second.code != 1 || !strings.Contains(second.stderr, "is locked by pid") || !strings.Contains(second.stderr, host) || !strings.Contains(second.stderr, `"up"`) {
		t.Fatalf("second run: %s", second)
	}
	if time.Since(begin) > 10*time.Second {
		t.Errorf("the second run waited %s instead of failing at once", time.Since(begin))
	}
	if first.code != 0 {
		t.Fatalf("first run: %s", first)
	}
	h.proxy.SetFault(nil)
	h.mustRun(0, "down", "--auto-approve")
}

// A damaged state file stops every command with a pointer to the backup,
// and nothing is changed.
func TestCorruptState(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	h.writeConfig(baseConfig)
	h.mustRun(0, "up", "--auto-approve")
	if err := os.WriteFile(h.statePath("net"), []byte(`{"format_version": 1, "lineage": "x", "resources": {`), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, args := range [][]string{{"up", "--auto-approve"}, {"down", "--auto-approve"}, {"plan"}, {"status"}} {
		var r result
		calls := h.countMutating(func() { r = h.mustRun(1, args...) })
		if len(calls) != 0 {
			t.Errorf("%v with a damaged state made mutating calls: %v", args, calls)
		}
		if !strings.Contains(r.stderr, "is damaged") || !strings.Contains(r.stderr, "net.json.backup") || !strings.Contains(r.stderr, "nothing was changed") {
			t.Errorf("%v: the error does not point to the backup:\n%s", args, r.stderr)
		}
	}
	// Restoring the backup as told gets things going again.
	b, err := os.ReadFile(h.statePath("net") + ".backup")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(h.statePath("net"), b, 0o600); err != nil {
		t.Fatal(err)
	}
	h.mustRun(0, "down", "--auto-approve")
	if left := h.tagged("net"); len(left) > 0 {
		t.Fatalf("down left: %v", left)
	}
}

// The manager instance deleted and a GitLab rule revoked by hand both show
// in plan, and up puts them back.
func TestDriftOfManagerAndGitLabRules(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	ctx := context.Background()
	h.writeConfig(baseConfig)
	h.mustRun(0, "up", "--auto-approve")
	inst := manager(t, h, "net")
	if _, err := h.ec2.TerminateInstances(ctx, &ec2.TerminateInstancesInput{InstanceIds: []string{aws.ToString(inst.InstanceId)}}); err != nil {
		t.Fatal(err)
	}
	addrs, err := h.ec2.DescribeAddresses(ctx, &ec2.DescribeAddressesInput{Filters: byStep("net", "eip/nat")})
	natIP := aws.ToString(one(t, "eip/nat", addrs.Addresses, err).PublicIp)
	_, err = h.ec2.RevokeSecurityGroupIngress(ctx, &ec2.RevokeSecurityGroupIngressInput{GroupId: aws.String(h.gitlabSG), IpPermissions: []ec2types.IpPermission{{
		IpProtocol: aws.String("tcp"), FromPort: aws.Int32(443), ToPort: aws.Int32(443),
		IpRanges: []ec2types.IpRange{{CidrIp: aws.String(natIP + "/32"), Description: aws.String("provision net: runner machines via the NAT gateway")}}}}})
	if err != nil {
		t.Fatal(err)
	}
	r := h.mustRun(2, "plan", "--detailed-exitcode")
	for _, want := range []string{"+ instance/manager", "+ eip/manager-assoc", "~ gitlab/ingress", "allow tcp 443 from " + natIP + "/32"} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("plan does not show %q:\n%s", want, r.stdout)
		}
	}
	st := h.mustRun(2, "status")
	if !strings.Contains(st.stdout, "missing") || !strings.Contains(st.stdout, "drifted") {
		t.Errorf("status does not report the missing manager and the drifted rules:\n%s", st.stdout)
	}
	h.mustRun(0, "up", "--auto-approve")
	h.mustRun(0, "plan", "--detailed-exitcode")
	if newInst := manager(t, h, "net"); aws.ToString(newInst.InstanceId) == aws.ToString(inst.InstanceId) {
		t.Errorf("the manager was not replaced")
	}
	h.mustRun(0, "down", "--auto-approve")
	wantGitLabRules(t, h, []string{"tcp 22-22 198.51.100.8/32 admin ssh", "tcp 443-443 198.51.100.7/32 office"})
}

// Resources that a lost answer made twice (same ownership tags) show in
// plan; up keeps the recorded one and deletes the others, and down removes
// them all.
func TestDuplicatesAreRemoved(t *testing.T) {
	t.Parallel()
	want, _, _ := baseline(t, baseConfig)
	h := newHarness(t)
	h.writeConfig(baseConfig)
	h.mustRun(0, "up", "--auto-approve")
	dupVPC, dupIGW, dupEIP := makeDuplicates(t, h)
	r := h.mustRun(2, "plan", "--detailed-exitcode")
	for _, id := range []string{dupVPC, dupIGW, dupEIP} {
		if !strings.Contains(r.stdout, "delete duplicate "+id) {
			t.Errorf("plan does not show the duplicate %s:\n%s", id, r.stdout)
		}
	}
	h.mustRun(0, "up", "--auto-approve")
	if got := h.inventory("net"); fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("duplicates survive up:\n%s", inventoryDiff(got, want))
	}
	h.mustRun(0, "plan", "--detailed-exitcode")
	makeDuplicates(t, h)
	h.mustRun(0, "down", "--auto-approve")
	if left := h.tagged("net"); len(left) > 0 {
		t.Fatalf("down left duplicates: %v", left)
	}
}

func makeDuplicates(t *testing.T, h *harness) (vpc, igw, eip string) {
	t.Helper()
	ctx := context.Background()
	tags := func(rt ec2types.ResourceType, step, name string) []ec2types.TagSpecification {
		return []ec2types.TagSpecification{{ResourceType: rt, Tags: []ec2types.Tag{
			{Key: aws.String("provision:stack"), Value: aws.String("net")},
			{Key: aws.String("provision:step"), Value: aws.String(step)},
			{Key: aws.String("Name"), Value: aws.String(name)},
		}}}
	}
	v, err := h.ec2.CreateVpc(ctx, &ec2.CreateVpcInput{CidrBlock: aws.String("192.168.0.0/24"), TagSpecifications: tags(ec2types.ResourceTypeVpc, "vpc", "net-vpc")})
	if err != nil {
		t.Fatal(err)
	}
	g, err := h.ec2.CreateInternetGateway(ctx, &ec2.CreateInternetGatewayInput{TagSpecifications: tags(ec2types.ResourceTypeInternetGateway, "igw", "net-igw")})
	if err != nil {
		t.Fatal(err)
	}
	a, err := h.ec2.AllocateAddress(ctx, &ec2.AllocateAddressInput{Domain: ec2types.DomainTypeVpc, TagSpecifications: tags(ec2types.ResourceTypeElasticIp, "eip/nat", "net-nat")})
	if err != nil {
		t.Fatal(err)
	}
	return aws.ToString(v.Vpc.VpcId), aws.ToString(g.InternetGateway.InternetGatewayId), aws.ToString(a.AllocationId)
}
