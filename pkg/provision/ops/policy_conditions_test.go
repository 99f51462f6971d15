package ops_test

import (
	"testing"

	"github.com/provision-dev/provision/pkg/provision/awstest"
	"github.com/provision-dev/provision/pkg/provision/config"
	"github.com/provision-dev/provision/pkg/provision/ops"
	"github.com/provision-dev/provision/pkg/provision/policy"
	"github.com/provision-dev/provision/pkg/provision/stack"
)

const (
	acct     = "123456789012"
	boundary = "arn:aws:iam::" + acct + ":policy/provision/ci-eu-west-1-boundary"
)

func logARN(group string) string { return "arn:aws:logs:eu-west-1:" + acct + ":log-group:" + group }

func ec2ARN(resource string) string { return "arn:aws:ec2:eu-west-1:" + acct + ":" + resource }

// ctx builds a request's condition keys; every request is made in the
// stack's region unless it says otherwise.
func ctx(kv ...string) map[string][]string {
	c := map[string][]string{"aws:RequestedRegion": {"eu-west-1"}}
	for i := 0; i+1 < len(kv); i += 2 {
		c[kv[i]] = append(c[kv[i]], kv[i+1])
	}
	return c
}

func req(action, resource string, c map[string][]string) awstest.Request {
	return awstest.Request{Action: action, Resource: resource, Context: c}
}

func operatorPolicy(t *testing.T) []policy.PolicyDocument {
	t.Helper()
	cfg, err := config.ParseConfig("ci.yaml", []byte("stack: ci\nregion: eu-west-1\ngitlab:\n  security_group_id: sg-0123456789abcdef0\n"), "")
	if err != nil {
		t.Fatal(err)
	}
	parts := ops.ToolPolicyParts(cfg)
	for i, p := range parts {
		if n := len(p.JSON()); n > ops.ManagedPolicyLimit {
			t.Errorf("part %d is %d characters, more than a managed policy may hold", i+1, n)
		}
	}
	return parts
}

// The operator policy holds each call the tool makes to the stack's own
// resources, and refuses the same call on anything else: the conditions
// and resources the emulator does not evaluate, against the request each
// call makes (tags on create, the resource's tags, the boundary, the
// service a role is passed to).
func TestOperatorPolicyConditions(t *testing.T) {
	op := operatorPolicy(t)
	mine, other := "aws:ResourceTag/provision:stack", "aws:RequestTag/provision:stack"
	for _, c := range []struct {
		why  string
		req  awstest.Request
		want bool
	}{
		{"a VPC made with the stack's tag", req("ec2:CreateVpc", ec2ARN("vpc/*"), ctx(other, "ci")), true},
		{"its tags, given at creation", req("ec2:CreateTags", ec2ARN("vpc/*"), ctx(other, "ci", "ec2:CreateAction", "CreateVpc")), true},
		{"a VPC made without the tag", req("ec2:CreateVpc", ec2ARN("vpc/*"), ctx()), false},
		{"a VPC made with another stack's tag", req("ec2:CreateVpc", ec2ARN("vpc/*"), ctx(other, "ci-runners-x")), false},
		{"a VPC made in another region", req("ec2:CreateVpc", ec2ARN("vpc/*"), map[string][]string{"aws:RequestedRegion": {"us-east-1"}, other: {"ci"}}), false},
		// A create call authorizes the resource it makes in too, without
		// the request's tags: the VPC of a subnet must be the stack's.
		{"a subnet's VPC, the stack's", req("ec2:CreateSubnet", ec2ARN("vpc/vpc-1"), ctx(mine, "ci")), true},
		{"a subnet in another team's VPC", req("ec2:CreateSubnet", ec2ARN("vpc/vpc-9"), ctx()), false},
		{"a NAT gateway's address, the stack's", req("ec2:CreateNatGateway", ec2ARN("elastic-ip/eipalloc-1"), ctx(mine, "ci")), true},
		{"a NAT gateway on another team's address", req("ec2:CreateNatGateway", ec2ARN("elastic-ip/eipalloc-9"), ctx(mine, "other")), false},
		{"the manager's console", req("ec2:GetConsoleOutput", ec2ARN("instance/i-1"), ctx(mine, "ci")), true},
		{"another team's console", req("ec2:GetConsoleOutput", ec2ARN("instance/i-9"), ctx()), false},
		{"deleting its own subnet", req("ec2:DeleteSubnet", ec2ARN("subnet/subnet-1"), ctx(mine, "ci")), true},
		{"deleting another stack's subnet", req("ec2:DeleteSubnet", ec2ARN("subnet/subnet-2"), ctx(mine, "ci-runners-x")), false},
		{"deleting an untagged subnet", req("ec2:DeleteSubnet", ec2ARN("subnet/subnet-3"), ctx()), false},
		{"terminating an instance of another team", req("ec2:TerminateInstances", ec2ARN("instance/i-1"), ctx()), false},
		{"terminating a docker+machine machine by its profile", req("ec2:TerminateInstances", ec2ARN("instance/i-2"),
			ctx("ec2:InstanceProfile", "arn:aws:iam::"+acct+":instance-profile/provision/ci-eu-west-1-runner")), true},
		{"claiming another stack's resource by tagging it", req("ec2:CreateTags", ec2ARN("subnet/subnet-2"), ctx(mine, "ci-runners-x", other, "ci")), false},
		{"giving its own resource to another stack", req("ec2:CreateTags", ec2ARN("subnet/subnet-1"), ctx(mine, "ci", other, "ci-runners-x")), false},
		{"retagging its own resource", req("ec2:CreateTags", ec2ARN("subnet/subnet-1"), ctx(mine, "ci", "aws:TagKeys", "team")), true},
		{"admitting the stack on GitLab's group", req("ec2:AuthorizeSecurityGroupIngress", ec2ARN("security-group/sg-0123456789abcdef0"), ctx()), true},
		{"opening another untagged group", req("ec2:AuthorizeSecurityGroupIngress", ec2ARN("security-group/sg-0fff"), ctx()), false},
		{"the manager, tagged", req("ec2:RunInstances", ec2ARN("instance/*"), ctx(other, "ci")), true},
		{"the manager, untagged", req("ec2:RunInstances", ec2ARN("instance/*"), ctx()), false},
		{"the manager in another stack's subnet", req("ec2:RunInstances", ec2ARN("subnet/subnet-2"), ctx(mine, "ci-runners-x")), false},
		{"its role, with the boundary", req("iam:CreateRole", "arn:aws:iam::"+acct+":role/provision/ci-eu-west-1-manager", ctx("iam:PermissionsBoundary", boundary)), true},
		{"its role, without a boundary", req("iam:CreateRole", "arn:aws:iam::"+acct+":role/provision/ci-eu-west-1-manager", ctx()), false},
		{"its role, with another boundary", req("iam:CreateRole", "arn:aws:iam::"+acct+":role/provision/ci-eu-west-1-manager",
			ctx("iam:PermissionsBoundary", "arn:aws:iam::"+acct+":policy/AdministratorAccess")), false},
		{"writing its role's policy under the boundary", req("iam:PutRolePolicy", "arn:aws:iam::"+acct+":role/provision/ci-eu-west-1-manager", ctx("iam:PermissionsBoundary", boundary)), true},
		{"writing the policy of a role without it", req("iam:PutRolePolicy", "arn:aws:iam::"+acct+":role/provision/ci-eu-west-1-manager", ctx()), false},
		{"a role of another stack", req("iam:CreateRole", "arn:aws:iam::"+acct+":role/provision/ci-eu-west-1-x-eu-west-1-manager", ctx("iam:PermissionsBoundary", boundary)), false},
		{"removing the boundary", req("iam:DeleteRolePermissionsBoundary", "arn:aws:iam::"+acct+":role/provision/ci-eu-west-1-manager", ctx()), false},
		{"editing the boundary", req("iam:CreatePolicyVersion", boundary, ctx()), false},
		{"a new policy of its own", req("iam:CreatePolicy", "arn:aws:iam::"+acct+":policy/admin", ctx()), false},
		{"passing its role to EC2", req("iam:PassRole", "arn:aws:iam::"+acct+":role/provision/ci-eu-west-1-manager", ctx("iam:PassedToService", "ec2.amazonaws.com")), true},
		{"passing its role to Lambda", req("iam:PassRole", "arn:aws:iam::"+acct+":role/provision/ci-eu-west-1-manager", ctx("iam:PassedToService", "lambda.amazonaws.com")), false},
		{"passing an administrator's role", req("iam:PassRole", "arn:aws:iam::"+acct+":role/Admin", ctx("iam:PassedToService", "ec2.amazonaws.com")), false},
		{"its group, made tagged", req("autoscaling:CreateAutoScalingGroup", "arn:aws:autoscaling:eu-west-1:"+acct+":autoScalingGroup:*:autoScalingGroupName/ci-runners-abc123", ctx(other, "ci")), true},
		{"its group, changed", req("autoscaling:UpdateAutoScalingGroup", "arn:aws:autoscaling:eu-west-1:"+acct+":autoScalingGroup:1:autoScalingGroupName/ci-runners-abc123", ctx(mine, "ci")), true},
		{"the group of stack ci-runners-x", req("autoscaling:UpdateAutoScalingGroup", "arn:aws:autoscaling:eu-west-1:"+acct+":autoScalingGroup:1:autoScalingGroupName/ci-runners-x-runners-abc123", ctx(mine, "ci")), false},
		{"a fleet's group, made tagged", req("autoscaling:CreateAutoScalingGroup", "arn:aws:autoscaling:eu-west-1:"+acct+":autoScalingGroup:*:autoScalingGroupName/ci-runners-abc123.arm", ctx(other, "ci")), true},
		{"a fleet's group, removed", req("autoscaling:DeleteAutoScalingGroup", "arn:aws:autoscaling:eu-west-1:"+acct+":autoScalingGroup:1:autoScalingGroupName/ci-runners-abc123.arm", ctx(mine, "ci")), true},
		{"a fleet's group of stack ci-runners-x", req("autoscaling:UpdateAutoScalingGroup", "arn:aws:autoscaling:eu-west-1:"+acct+":autoScalingGroup:1:autoScalingGroupName/ci-runners-x-runners-abc123.arm", ctx(mine, "ci")), false},
		{"a fleet's token", req("ssm:PutParameter", "arn:aws:ssm:eu-west-1:"+acct+":parameter/provision/ci/runner-token.arm", ctx()), true},
		{"its parameter", req("ssm:PutParameter", "arn:aws:ssm:eu-west-1:"+acct+":parameter/provision/ci/runner-token", ctx()), true},
		{"a parameter of stack ci-runners-x", req("ssm:GetParameter", "arn:aws:ssm:eu-west-1:"+acct+":parameter/provision/ci-runners-x/runner-token", ctx()), false},
		{"its cache bucket", req("s3:DeleteBucket", "arn:aws:s3:::ci-cache-0123456789ab", ctx()), true},
		{"the cache bucket of stack ci-cache-x", req("s3:DeleteBucket", "arn:aws:s3:::ci-cache-x-cache-0123456789ab", ctx()), false},
		{"docker+machine's key pairs", req("ec2:DeleteKeyPair", ec2ARN("key-pair/runner-abcdefghi-ci-machine-1733000000-0123abcd-ABCDE"), ctx()), true},
		{"key pairs of stack ci-machine-aaaaaaaaaa-bbbbbbbb", req("ec2:DeleteKeyPair",
			ec2ARN("key-pair/runner-abcdefghi-ci-machine-aaaaaaaaaa-bbbbbbbb-machine-1733000000-0123abcd"), ctx()), false},
	} {
		if got := awstest.Allowed(op, c.req); got != c.want {
			t.Errorf("%s: allowed %v, want %v (%s)", c.why, got, c.want, c.req)
		}
	}
}

// In an existing VPC, the VPC carries no tag of the stack: it is named.
func TestOperatorPolicyInAnExistingVPC(t *testing.T) {
	cfg, err := config.ParseConfig("ci.yaml", []byte("stack: ci\nregion: eu-west-1\nnetwork:\n  vpc_id: vpc-0123456789abcdef0\n"), "")
	if err != nil {
		t.Fatal(err)
	}
	op := ops.ToolPolicyParts(cfg)
	if !awstest.Allowed(op, req("ec2:CreateSubnet", ec2ARN("vpc/vpc-0123456789abcdef0"), ctx())) {
		t.Error("a subnet in the configured VPC is refused")
	}
	if awstest.Allowed(op, req("ec2:CreateSubnet", ec2ARN("vpc/vpc-0fffffffffffffff0"), ctx())) {
		t.Error("a subnet in another VPC is allowed")
	}
	if !awstest.Allowed(op, req("ec2:ReplaceNetworkAclAssociation", ec2ARN("network-acl/acl-default"), ctx("ec2:Vpc", ec2ARN("vpc/vpc-0123456789abcdef0")))) {
		t.Error("giving a subnet back to the VPC's default ACL is refused")
	}
	if awstest.Allowed(op, req("ec2:ReplaceNetworkAclAssociation", ec2ARN("network-acl/acl-9"), ctx("ec2:Vpc", ec2ARN("vpc/vpc-0fffffffffffffff0")))) {
		t.Error("moving a subnet of another VPC is allowed")
	}
}

// Whatever the operator writes into a role's own policy, the boundary
// caps it: "Action": "*" grants only the stack's own reach.
func TestBoundaryCapsTheRoles(t *testing.T) {
	b := []policy.PolicyDocument{stack.BoundaryPolicy("ci", "eu-west-1")}
	for _, c := range []struct {
		why  string
		req  awstest.Request
		want bool
	}{
		{"reading its token", req("ssm:GetParameter", "arn:aws:ssm:eu-west-1:"+acct+":parameter/provision/ci/runner-token", ctx()), true},
		{"decrypting it through SSM", req("kms:Decrypt", "arn:aws:kms:eu-west-1:"+acct+":key/k",
			ctx("kms:ViaService", "ssm.eu-west-1.amazonaws.com", "kms:EncryptionContext:PARAMETER_ARN", "arn:aws:ssm:eu-west-1:"+acct+":parameter/provision/ci/runner-token")), true},
		{"scaling its group", req("autoscaling:SetDesiredCapacity", "arn:aws:autoscaling:eu-west-1:"+acct+":autoScalingGroup:1:autoScalingGroupName/ci-runners-abc123", ctx()), true},
		{"making an administrator", req("iam:CreateUser", "arn:aws:iam::"+acct+":user/evil", ctx()), false},
		{"attaching a policy", req("iam:AttachRolePolicy", "arn:aws:iam::"+acct+":role/provision/ci-eu-west-1-manager", ctx()), false},
		{"another stack's token", req("ssm:GetParameter", "arn:aws:ssm:eu-west-1:"+acct+":parameter/provision/ci-runners-x/runner-token", ctx()), false},
		{"decrypting without SSM", req("kms:Decrypt", "arn:aws:kms:eu-west-1:"+acct+":key/k", ctx()), false},
		{"decrypting another stack's parameter", req("kms:Decrypt", "arn:aws:kms:eu-west-1:"+acct+":key/k",
			ctx("kms:ViaService", "ssm.eu-west-1.amazonaws.com", "kms:EncryptionContext:PARAMETER_ARN", "arn:aws:ssm:eu-west-1:"+acct+":parameter/prod/db-password")), false},
		{"another stack's group", req("autoscaling:SetDesiredCapacity", "arn:aws:autoscaling:eu-west-1:"+acct+":autoScalingGroup:1:autoScalingGroupName/ci-runners-x-runners-abc123", ctx()), false},
		{"another bucket", req("s3:GetObject", "arn:aws:s3:::prod-data/secret", ctx()), false},
		{"launching without the runner profile", req("ec2:RunInstances", ec2ARN("instance/*"), ctx()), false},
		{"terminating any instance", req("ec2:TerminateInstances", ec2ARN("instance/i-1"), ctx()), false},
		{"terminating its machines", req("ec2:TerminateInstances", ec2ARN("instance/i-1"), ctx("ec2:InstanceProfile", "arn:aws:iam::"+acct+":instance-profile/provision/ci-eu-west-1-runner")), true},
		{"launching its machines", req("ec2:RunInstances", ec2ARN("instance/*"), ctx("ec2:InstanceProfile", "arn:aws:iam::"+acct+":instance-profile/provision/ci-eu-west-1-runner")), true},
		{"passing another role", req("iam:PassRole", "arn:aws:iam::"+acct+":role/Admin", ctx("iam:PassedToService", "ec2.amazonaws.com")), false},
		{"shipping its journal", req("logs:PutLogEvents", logARN("/provision/ci/manager:log-stream:gitlab-runner/i-1"), ctx()), true},
		{"making its stream", req("logs:CreateLogStream", logARN("/provision/ci/manager"), ctx()), true},
		// A stack named ci-x, or a group named after ci's, is another's.
		{"another stack's journal", req("logs:PutLogEvents", logARN("/provision/ci-x/manager:log-stream:boot/i-1"), ctx()), false},
		{"a group named like its own", req("logs:CreateLogStream", logARN("/provision/ci/manager-x"), ctx()), false},
		{"reading its journal", req("logs:FilterLogEvents", logARN("/provision/ci/manager"), ctx()), false},
	} {
		if got := awstest.Allowed(b, c.req); got != c.want {
			t.Errorf("%s: allowed %v, want %v (%s)", c.why, got, c.want, c.req)
		}
	}
	if n := len(b[0].JSON()); n > ops.ManagedPolicyLimit {
		t.Errorf("the boundary is %d characters, more than a managed policy may hold", n)
	}
}

// With several fleets the manager scales each autoscaler fleet's group of
// any generation and reads each fleet's token, by name: not a fleet the
// configuration does not have, nor another stack's look-alikes; the
// boundary caps it at every fleet of this stack.
func TestManagerPolicyOfFleets(t *testing.T) {
	a := policy.ARNs{Partition: "aws", Region: "eu-west-1", Account: acct}
	params := policy.ManagerParameters{
		Tokens: []string{"/provision/ci/runner-token", "/provision/ci/runner-token.arm"},
		Groups: []string{policy.FleetGroupPattern("ci", config.DefaultFleet), policy.FleetGroupPattern("ci", "arm")},
		Boot:   "/provision/ci/manager-boot", Config: "/provision/ci/runner-config",
		Key: policy.SecretsKeyGrant{Resource: "arn:aws:kms:eu-west-1:" + acct + ":key/k"},
	}
	manager := []policy.PolicyDocument{policy.AutoscalerManagerPolicy(a, "ci", params)}
	bound := []policy.PolicyDocument{stack.BoundaryPolicy("ci", "eu-west-1")}
	group := func(name string) string {
		return "arn:aws:autoscaling:eu-west-1:" + acct + ":autoScalingGroup:1:autoScalingGroupName/" + name
	}
	for _, c := range []struct {
		why         string
		req         awstest.Request
		role, bound bool
	}{
		{"the default fleet's group", req("autoscaling:SetDesiredCapacity", group("ci-runners-abc123"), ctx()), true, true},
		{"the Arm fleet's group", req("autoscaling:SetDesiredCapacity", group("ci-runners-abc123.arm"), ctx()), true, true},
		{"a fleet the configuration does not have", req("autoscaling:SetDesiredCapacity", group("ci-runners-abc123.big"), ctx()), false, true},
		{"a look-alike of stack ci-runners-x", req("autoscaling:SetDesiredCapacity", group("ci-runners-x-runners-abc123.arm"), ctx()), false, false},
		{"the Arm fleet's token", req("ssm:GetParameter", "arn:aws:ssm:eu-west-1:"+acct+":parameter/provision/ci/runner-token.arm", ctx()), true, true},
		{"another fleet's token", req("ssm:GetParameter", "arn:aws:ssm:eu-west-1:"+acct+":parameter/provision/ci/runner-token.big", ctx()), false, true},
	} {
		if got := awstest.Allowed(manager, c.req); got != c.role {
			t.Errorf("%s: the manager's policy allows %v, want %v", c.why, got, c.role)
		}
		if got := awstest.Allowed(bound, c.req); got != c.bound {
			t.Errorf("%s: the boundary allows %v, want %v", c.why, got, c.bound)
		}
	}
}
