package ops

import (
	"context"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"

	"github.com/provision-dev/provision/pkg/plan"
	"github.com/provision-dev/provision/pkg/provision/config"
	"github.com/provision-dev/provision/pkg/provision/stack"
	"github.com/provision-dev/provision/pkg/provision/stack/stacktest"
)

// doctor runs Doctor over l and fails the test on an error.
func doctor(t *testing.T, l *live) []Flow {
	t.Helper()
	flows, err := Doctor(context.Background(), l.e)
	if err != nil {
		t.Fatalf("doctor: %v", err)
	}
	return flows
}

// flowNamed is the flow whose name starts with prefix.
func flowNamed(t *testing.T, flows []Flow, prefix string) Flow {
	t.Helper()
	for _, f := range flows {
		if strings.HasPrefix(f.Name, prefix) {
			return f
		}
	}
	t.Fatalf("no flow %q in %+v", prefix, flows)
	return Flow{}
}

// aclWithout drops the entries of the step's ACL that match.
func (l *live) aclWithout(step plan.ID, match func(ec2types.NetworkAclEntry) bool) {
	id := l.e.IDOf(step)
	l.acls[id] = slices.DeleteFunc(l.acls[id], match)
}

// Over the network up requested, with the manager online, every flow doctor checks passes.
func TestDoctorPassesOverWhatUpBuilt(t *testing.T) {
	l := upLive(t, nil)
	l.reportBoot(t, online)
	flows := doctor(t, l)
	for _, f := range flows {
		if !f.OK {
			t.Errorf("%s: blocked: %s", f.Name, f.Blocked)
		}
	}
	for _, want := range []string{"manager -> GitLab 203.0.113.80:443", "runner machines -> GitLab 203.0.113.80:443", "manager -> runner machines 22",
		"SSH 203.0.113.10/32 -> manager 22", "ICMP fragmentation-needed", "GitLab's group sg-gitlab admits the manager's",
		"GitLab's group sg-gitlab admits the NAT gateway's", "the manager's boot report", "the runner token in SSM is valid"} {
		flowNamed(t, flows, want)
	}
	if len(flows) != 9 {
		t.Errorf("%d flows, want 9: %+v", len(flows), flows)
	}
	if f := flowNamed(t, flows, "the manager's boot report"); f.Note != "online since 2025-03-01T12:00:00Z" {
		t.Errorf("boot note %q", f.Note)
	}
}

// A rule, route or address broken by hand blocks the flow needing it, and doctor names the hop and why.
func TestDoctorNamesWhatBlocks(t *testing.T) {
	deny443 := ec2types.NetworkAclEntry{RuleNumber: aws.Int32(50), Egress: aws.Bool(true), Protocol: aws.String("6"), CidrBlock: aws.String("0.0.0.0/0"),
		PortRange: &ec2types.PortRange{From: aws.Int32(443), To: aws.Int32(443)}, RuleAction: ec2types.RuleActionDeny}
	ingressTCP := func(e ec2types.NetworkAclEntry) bool { return !aws.ToBool(e.Egress) && aws.ToString(e.Protocol) == "6" }
	cases := []struct {
		name  string
		brk   func(l *live)
		flow  string
		wants []string
	}{
		{"a deny rule before the public ACL's outbound allow", func(l *live) {
			id := l.e.IDOf("nacl/public")
			l.acls[id] = append(l.acls[id], deny443)
		}, "manager -> GitLab", []string{"nacl/public (acl-", "outbound rule 50 denies tcp 443 to 203.0.113.80"}},
		{"the manager's group lost its outbound rules", func(l *live) { l.egress[l.e.IDOf(stack.StepManagerGroup)] = nil },
			"manager -> GitLab", []string{"sg/manager (sg-", "has no outbound rule admitting tcp 443 to 203.0.113.80"}},
		{"the private route table lost its routes", func(l *live) { l.routes[l.e.IDOf("rtb/private")] = nil },
			"runner machines -> GitLab", []string{"rtb/private (rtb-", "has no route to 203.0.113.80"}},
		{"the public default route goes to the NAT gateway", func(l *live) {
			rt := l.e.IDOf("rtb/public")
			for i := range l.routes[rt] {
				l.routes[rt][i].GatewayId, l.routes[rt][i].NatGatewayId = nil, aws.String(l.e.IDOf(stack.StepNAT))
			}
		}, "manager -> GitLab", []string{"rtb/public (rtb-", "sends 203.0.113.80 to nat-", "not to igw"}},
		{"the manager's Elastic IP is not associated", func(l *live) { l.managerEIP = "" },
			"manager -> GitLab", []string{"the manager has no Elastic IP associated (eip/manager-assoc)"}},
		{"GitLab's group lost the rules up added", func(l *live) { l.ingress["sg-gitlab"] = nil },
			"GitLab's group sg-gitlab admits the NAT gateway's", []string{"no inbound rule of sg-gitlab admits tcp 443 from " + "198.51.100."}},
		{"the public ACL admits no answers", func(l *live) {
			l.aclWithout("nacl/public", func(e ec2types.NetworkAclEntry) bool { return ingressTCP(e) && aws.ToInt32(e.RuleNumber) >= 200 })
		}, "manager -> GitLab", []string{"nacl/public (acl-", "inbound no rule admits the return traffic from 203.0.113.80 (tcp 32768)", "stateless"}},
		{"the private ACL drops ICMP", func(l *live) {
			l.aclWithout("nacl/private", func(e ec2types.NetworkAclEntry) bool { return aws.ToString(e.Protocol) == "1" })
		}, "ICMP fragmentation-needed", []string{"nacl/private (acl-", "inbound no rule admits ICMP fragmentation-needed (type 3 code 4)"}},
		{"the runners' group admits nothing", func(l *live) { l.ingress[l.e.IDOf(stack.StepRunnerGroup)] = nil },
			"manager -> runner machines 22", []string{"sg/runner (sg-", "no inbound rule admitting tcp 22 from " + managerPrivateIP}},
		{"the private ACL sends no answers to the manager", func(l *live) {
			l.aclWithout("nacl/private", func(e ec2types.NetworkAclEntry) bool { return aws.ToBool(e.Egress) && aws.ToInt32(e.RuleNumber) < 20 })
		}, "manager -> runner machines 22", []string{"nacl/private (acl-", "outbound rule 20 denies the return traffic to " + managerPrivateIP}},
		{"the public ACL lost the SSH source's rule", func(l *live) {
			l.aclWithout("nacl/public", func(e ec2types.NetworkAclEntry) bool { return ingressTCP(e) && aws.ToInt32(e.PortRange.From) == 22 })
		}, "SSH 203.0.113.10/32 -> manager 22", []string{"nacl/public (acl-", "inbound no rule admits tcp 22 from 203.0.113.10 (SSH)"}},
		{"the NAT gateway failed", func(l *live) {
			l.c.EC2.DescribeNatGatewaysFn = func(_ context.Context, in *ec2.DescribeNatGatewaysInput) (*ec2.DescribeNatGatewaysOutput, error) {
				return &ec2.DescribeNatGatewaysOutput{NatGateways: []ec2types.NatGateway{{NatGatewayId: aws.String(in.NatGatewayIds[0]), State: ec2types.NatGatewayStateFailed}}}, nil
			}
		}, "runner machines -> GitLab", []string{"NAT gateway nat-", "is failed"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			l := upLive(t, nil)
			l.reportBoot(t, online)
			c.brk(l)
			f := flowNamed(t, doctor(t, l), c.flow)
			if f.OK {
				t.Fatalf("%s passes", f.Name)
			}
			for _, w := range c.wants {
				if !strings.Contains(f.Blocked, w) {
					t.Errorf("%s: blocked %q, want it to say %q", f.Name, f.Blocked, w)
				}
			}
		})
	}
}

// Doctor checks the manager's flow to the machines' Docker port 2376 for docker+machine only.
func TestDoctorChecksDockerPortForDockerMachine(t *testing.T) {
	l := upLive(t, func(c *config.Config) { c.Runners.Executor = config.ExecutorDockerMachine })
	l.reportBoot(t, online)
	if f := flowNamed(t, doctor(t, l), "manager -> runner machines 2376"); !f.OK {
		t.Errorf("%s: blocked: %s", f.Name, f.Blocked)
	}
	l = upLive(t, nil)
	for _, f := range doctor(t, l) {
		if strings.Contains(f.Name, "2376") {
			t.Errorf("docker-autoscaler checks %s", f.Name)
		}
	}
}

// Doctor of a stack with nothing recorded is an error telling to run up first.
func TestDoctorNeedsARecordedStack(t *testing.T) {
	e, _ := stacktest.NewEnv(t, nil)
	if _, err := Doctor(context.Background(), e); err == nil || !strings.Contains(err.Error(), "run `provision up` first") {
		t.Errorf("doctor of an empty stack: %v", err)
	}
}

// An unresolvable GitLab name is one blocked flow in place of the flows to GitLab; the rest is checked.
func TestDoctorGitLabNameDoesNotResolve(t *testing.T) {
	l := upLive(t, nil)
	l.e.Resolver = fixedResolver{} // an answer without an IPv4 address
	flows := doctor(t, l)
	f := flowNamed(t, flows, "GitLab's address")
	if f.OK || f.Blocked != "gitlab.example.com has no IPv4 address" {
		t.Errorf("%+v", f)
	}
	for _, fl := range flows {
		if strings.Contains(fl.Name, "-> GitLab") || strings.HasPrefix(fl.Name, "ICMP") {
			t.Errorf("checked %s without GitLab's address", fl.Name)
		}
	}
	flowNamed(t, flows, "SSH 203.0.113.10/32 -> manager 22")
}

// The boot flow reports no report, a failed stage with its cause, or a boot still under way.
func TestDoctorBootFlow(t *testing.T) {
	l := upLive(t, nil)
	if f := flowNamed(t, doctor(t, l), "the manager's boot report"); f.OK || !strings.Contains(f.Blocked, "no report (/provision/ci/manager-boot does not exist): the manager wrote no boot report") {
		t.Errorf("no report: %+v", f)
	}
	l.reportBoot(t, stack.BootReport{Stage: "token-verified", Status: "failed", Detail: "GitLab rejected the runner token (HTTP 403)", Time: online.Time})
	if f := flowNamed(t, doctor(t, l), "the manager's boot report"); f.OK || !strings.Contains(f.Blocked, "stage token-verified failed: GitLab rejected the runner token") {
		t.Errorf("failed stage: %+v", f)
	}
	l.reportBoot(t, stack.BootReport{Stage: "docker", Status: "ok", Time: online.Time})
	if f := flowNamed(t, doctor(t, l), "the manager's boot report"); f.OK || f.Blocked != "still booting: last stage docker at 2025-03-01T12:00:00Z" {
		t.Errorf("booting: %+v", f)
	}
}
