package e2e

import (
	"context"
	"encoding/json"
	"strconv"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
)

// doctor passes every flow of a fresh stack; a removed ACL entry and a
// removed rule of GitLab's group each fail the flow they block, naming
// them; up repairs both.
func TestDoctorNamesWhatBlocksAFlow(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	h.writeConfig(baseConfig)
	h.mustRun(0, "up", "--auto-approve")
	// output: what scripts need, from the state.
	out := h.mustRun(0, "output", "--json")
	var outputs map[string]string
	if err := json.Unmarshal([]byte(out.stdout), &outputs); err != nil {
		t.Fatalf("output --json: %v\n%s", err, out.stdout)
	}
	runners := h.gitlab.Runners()
	if len(runners) != 1 || outputs["gitlab_runner_id"] != strconv.FormatInt(runners[0].ID, 10) ||
		!strings.HasPrefix(outputs["autoscaling_group"], "net-runners-") || outputs["manager_address"] == "" || outputs["nat_address"] == "" {
		t.Errorf("output: %v (runners %+v)", outputs, runners)
	}
	ok := h.mustRun(0, "doctor")
	for _, want := range []string{
		"PASS  manager -> GitLab 127.0.0.1:443",
		"PASS  runner machines -> GitLab 127.0.0.1:443 (through the NAT gateway",
		"PASS  manager -> runner machines 22",
		"PASS  SSH 203.0.113.10/32 -> manager 22",
		"PASS  ICMP fragmentation-needed reaches both subnets",
		"PASS  GitLab's group " + h.gitlabSG + " admits the manager's Elastic IP",
		"PASS  GitLab's group " + h.gitlabSG + " admits the NAT gateway's Elastic IP",
		"PASS  the manager's boot report",
		"PASS  the runner token in SSM is valid",
		"checks pass.",
	} {
		if !strings.Contains(ok.stdout, want) {
			t.Errorf("doctor on a fresh stack does not show %q:\n%s", want, ok.stdout)
		}
	}

	ctx := context.Background()
	n := describeNetwork(t, h.ec2, "net")
	private := aws.ToString(n.aclPrivate.NetworkAclId)
	if _, err := h.ec2.DeleteNetworkAclEntry(ctx, &ec2.DeleteNetworkAclEntryInput{NetworkAclId: &private, RuleNumber: aws.Int32(200), Egress: aws.Bool(false)}); err != nil {
		t.Fatal(err)
	}
	broken := h.mustRun(2, "doctor")
	for _, want := range []string{
		"FAIL  runner machines -> GitLab",
		"blocked: nacl/private (" + private + ") inbound no rule admits the return traffic from 127.0.0.1 (tcp 32768)",
		"PASS  manager -> GitLab",
		"1 of ",
	} {
		if !strings.Contains(broken.stdout, want) {
			t.Errorf("doctor without the return-traffic rule does not show %q:\n%s", want, broken.stdout)
		}
	}
	h.mustRun(0, "up", "--auto-approve")
	h.mustRun(0, "doctor")

	natIP := aws.ToString(n.natAddress.PublicIp)
	if _, err := h.ec2.RevokeSecurityGroupIngress(ctx, &ec2.RevokeSecurityGroupIngressInput{GroupId: aws.String(h.gitlabSG), IpPermissions: []ec2types.IpPermission{{
		IpProtocol: aws.String("tcp"), FromPort: aws.Int32(443), ToPort: aws.Int32(443), IpRanges: []ec2types.IpRange{{CidrIp: aws.String(natIP + "/32")}},
	}}}); err != nil {
		t.Fatal(err)
	}
	broken = h.mustRun(2, "doctor")
	want := "blocked: no inbound rule of " + h.gitlabSG + " admits tcp 443 from " + natIP + "/32 (gitlab/ingress)"
	if !strings.Contains(broken.stdout, "FAIL  GitLab's group "+h.gitlabSG+" admits the NAT gateway's Elastic IP") || !strings.Contains(broken.stdout, want) {
		t.Errorf("doctor without GitLab's rule does not show %q:\n%s", want, broken.stdout)
	}
	h.mustRun(0, "up", "--auto-approve")
	h.mustRun(0, "doctor")
	h.mustRun(0, "down", "--auto-approve")
}
