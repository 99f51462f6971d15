package policy

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"
)

var testARNs = ARNs{Partition: "aws", Region: "ap-northeast-1", Account: "123456789012"}

func statementsBySid(t *testing.T, p PolicyDocument) map[string]Statement {
	t.Helper()
	if p.Version != "2012-10-17" {
		t.Errorf("version %q", p.Version)
	}
	m := map[string]Statement{}
	for _, s := range p.Statement {
		if _, dup := m[s.Sid]; dup {
			t.Errorf("duplicate Sid %s", s.Sid)
		}
		m[s.Sid] = s
		if s.Effect != "Allow" {
			t.Errorf("%s: effect %s", s.Sid, s.Effect)
		}
		for _, a := range s.Action {
			if a == "*" || strings.HasSuffix(a, ":*") {
				t.Errorf("%s: wildcard action %s", s.Sid, a)
			}
		}
	}
	// Round trip: the document is valid JSON of the same shape.
	var back PolicyDocument
	if err := json.Unmarshal([]byte(p.JSON()), &back); err != nil || back.JSON() != p.JSON() {
		t.Errorf("JSON round trip: %v", err)
	}
	return m
}

func wantStatement(t *testing.T, m map[string]Statement, sid string, actions, resources []string, cond map[string]map[string]any) {
	t.Helper()
	s, ok := m[sid]
	if !ok {
		t.Errorf("no statement %s", sid)
		return
	}
	if !reflect.DeepEqual(s.Action, actions) {
		t.Errorf("%s actions = %v, want %v", sid, s.Action, actions)
	}
	if !reflect.DeepEqual(s.Resource, resources) {
		t.Errorf("%s resources = %v, want %v", sid, s.Resource, resources)
	}
	if len(cond) == 0 && len(s.Condition) == 0 {
		return
	}
	if !reflect.DeepEqual(s.Condition, cond) {
		t.Errorf("%s condition = %v, want %v", sid, s.Condition, cond)
	}
}

// testParams are the manager's parameters of stack "ci".
var testParams = ManagerParameters{Tokens: []string{"/provision/ci/runner-token"}, Boot: "/provision/ci/manager-boot", Config: "/provision/ci/runner-config",
	Key: SecretsKeyGrant{Resource: testKeyARN}}

const testKeyARN = "arn:aws:kms:ap-northeast-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"

func TestAutoscalerManagerPolicy(t *testing.T) {
	m := statementsBySid(t, AutoscalerManagerPolicy(testARNs, "ci", testParams))
	if len(m) != 8 {
		t.Errorf("want 8 statements, got %d", len(m))
	}
	wantStatement(t, m, "ReadTheRunnerConfiguration", []string{"ssm:GetParameter"}, []string{"arn:aws:ssm:ap-northeast-1:123456789012:parameter/provision/ci/runner-config"}, nil)
	wantStatement(t, m, "ScaleTheRunnerGroup",
		[]string{"autoscaling:SetDesiredCapacity", "autoscaling:TerminateInstanceInAutoScalingGroup"},
		// Every generation's group, by a name of exact length: stack
		// "ci-runners-x"'s groups do not match.
		[]string{"arn:aws:autoscaling:ap-northeast-1:123456789012:autoScalingGroup:*:autoScalingGroupName/ci-runners-??????"}, nil)
	wantStatement(t, m, "SeeTheFleet", []string{"autoscaling:DescribeAutoScalingGroups", "ec2:DescribeInstances"}, []string{"*"}, nil)
	wantStatement(t, m, "ConnectToTheGroupsMachines", []string{"ec2-instance-connect:SendSSHPublicKey"},
		[]string{"arn:aws:ec2:ap-northeast-1:123456789012:instance/*"},
		// Every generation's group of the stack (a draining manager keeps its own).
		map[string]map[string]any{"StringLike": {"ec2:ResourceTag/aws:autoscaling:groupName": "ci-runners-??????"}})
	wantStatement(t, m, "ReadAndRenewTheRunnerToken", []string{"ssm:GetParameter", "ssm:PutParameter"},
		[]string{"arn:aws:ssm:ap-northeast-1:123456789012:parameter/provision/ci/runner-token"}, nil)
	wantStatement(t, m, "UseTheSecretsKeyForTheToken", []string{"kms:Decrypt", "kms:Encrypt", "kms:GenerateDataKey"}, []string{testKeyARN},
		map[string]map[string]any{"StringEquals": {"kms:ViaService": "ssm.ap-northeast-1.amazonaws.com",
			"kms:EncryptionContext:PARAMETER_ARN": "arn:aws:ssm:ap-northeast-1:123456789012:parameter/provision/ci/runner-token"}})
	wantStatement(t, m, "ReportTheBoot", []string{"ssm:PutParameter"},
		[]string{"arn:aws:ssm:ap-northeast-1:123456789012:parameter/provision/ci/manager-boot"}, nil)
	doc := AutoscalerManagerPolicy(testARNs, "ci", testParams).JSON()
	for _, never := range []string{"RunInstances", "PassRole"} {
		if strings.Contains(doc, never) {
			t.Errorf("docker-autoscaler manager must not have %s", never)
		}
	}
}

func TestDockerMachineManagerPolicy(t *testing.T) {
	p := DockerMachineManagerPolicy(testARNs, "ci", "ap-northeast-1a", "subnet-1", "sg-1", "ci-ap-northeast-1-runner", "ci-ap-northeast-1-runner", testParams, false)
	m := statementsBySid(t, p)
	region := map[string]map[string]any{"StringEquals": {"aws:RequestedRegion": "ap-northeast-1"}}
	profile := "arn:aws:iam::123456789012:instance-profile/provision/ci-ap-northeast-1-runner"
	subnet := "arn:aws:ec2:ap-northeast-1:123456789012:subnet/subnet-1"
	keys := "arn:aws:ec2:ap-northeast-1:123456789012:key-pair/runner-?????????-ci-machine-??????????-????????"
	wantStatement(t, m, "LaunchIntoTheRunnerSubnet", []string{"ec2:RunInstances"},
		[]string{subnet, "arn:aws:ec2:ap-northeast-1:123456789012:security-group/sg-1"}, nil)
	wantStatement(t, m, "LaunchWithTheRunnerProfile", []string{"ec2:RunInstances"},
		[]string{"arn:aws:ec2:ap-northeast-1:123456789012:instance/*"},
		map[string]map[string]any{"StringEquals": {"aws:RequestedRegion": "ap-northeast-1", "ec2:InstanceProfile": profile}})
	wantStatement(t, m, "LaunchNetworkInterfacesInTheRunnerSubnet", []string{"ec2:RunInstances"},
		[]string{"arn:aws:ec2:ap-northeast-1:123456789012:network-interface/*"},
		map[string]map[string]any{"StringEquals": {"ec2:Subnet": subnet}})
	wantStatement(t, m, "LaunchVolumesImagesAndKeys", []string{"ec2:RunInstances"},
		[]string{"arn:aws:ec2:ap-northeast-1:123456789012:volume/*", "arn:aws:ec2:ap-northeast-1::image/*", keys, keys + "-?????"}, region)
	wantStatement(t, m, "TagTheRunnerMachines", []string{"ec2:CreateTags"},
		[]string{"arn:aws:ec2:ap-northeast-1:123456789012:instance/*"}, map[string]map[string]any{"StringEquals": {"ec2:InstanceProfile": profile}})
	wantStatement(t, m, "TagTheirVolumesInTheZone", []string{"ec2:CreateTags"},
		[]string{"arn:aws:ec2:ap-northeast-1:123456789012:volume/*"}, map[string]map[string]any{"StringEquals": {"ec2:AvailabilityZone": "ap-northeast-1a"}})
	wantStatement(t, m, "TagTheirNetworkInterfaces", []string{"ec2:CreateTags"},
		[]string{"arn:aws:ec2:ap-northeast-1:123456789012:network-interface/*"}, map[string]map[string]any{"StringEquals": {"ec2:Subnet": subnet}})
	wantStatement(t, m, "ManageTheRunnerMachines",
		[]string{"ec2:StartInstances", "ec2:StopInstances", "ec2:RebootInstances", "ec2:TerminateInstances"},
		[]string{"arn:aws:ec2:ap-northeast-1:123456789012:instance/*"},
		map[string]map[string]any{"StringEquals": {"ec2:InstanceProfile": profile}})
	wantStatement(t, m, "MachineKeyPairs", []string{"ec2:CreateKeyPair", "ec2:ImportKeyPair", "ec2:DeleteKeyPair"}, []string{keys, keys + "-?????"}, nil)
	wantStatement(t, m, "PassOnlyTheRunnerRole", []string{"iam:PassRole"}, []string{"arn:aws:iam::123456789012:role/provision/ci-ap-northeast-1-runner"}, nil)
	wantStatement(t, m, "ReadAndRenewTheRunnerToken", []string{"ssm:GetParameter", "ssm:PutParameter"},
		[]string{"arn:aws:ssm:ap-northeast-1:123456789012:parameter/provision/ci/runner-token"}, nil)
	wantStatement(t, m, "ReportTheBoot", []string{"ssm:PutParameter"},
		[]string{"arn:aws:ssm:ap-northeast-1:123456789012:parameter/provision/ci/manager-boot"}, nil)
	if _, ok := m["SpotRequestsInTheRegion"]; ok {
		t.Errorf("spot statement without spot")
	}
	spotPolicy := DockerMachineManagerPolicy(testARNs, "ci", "ap-northeast-1a", "subnet-1", "sg-1", "r", "r", testParams, true)
	spot := statementsBySid(t, spotPolicy)
	wantStatement(t, spot, "SpotRequestsInTheRegion", []string{"ec2:RunInstances", "ec2:RequestSpotInstances", "ec2:CancelSpotInstanceRequests"},
		[]string{"arn:aws:ec2:ap-northeast-1:123456789012:spot-instances-request/*"}, region)
	// Nothing but reading is allowed on "*"; every write names a resource kind and a condition or an exact resource.
	for _, pol := range []PolicyDocument{p, spotPolicy} {
		for _, s := range pol.Statement {
			for _, r := range s.Resource {
				for _, a := range s.Action {
					if r == "*" && !strings.Contains(a, ":Describe") {
						t.Errorf("%s: %s on *", s.Sid, a)
					}
					if strings.HasSuffix(r, "/*") && !strings.Contains(a, ":Describe") && s.Condition == nil {
						t.Errorf("%s: %s on %s without a condition", s.Sid, a, r)
					}
				}
			}
		}
	}
}

func TestAssumeRolePolicy(t *testing.T) {
	p := EC2AssumeRolePolicy()
	if got := p.JSON(); got != `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"ec2.amazonaws.com"},"Action":["sts:AssumeRole"]}]}` {
		t.Errorf("assume role policy: %s", got)
	}
}
