package stack

import (
	"context"
	"fmt"
	"net/url"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"

	"github.com/provision-dev/provision/pkg/plan"
	"github.com/provision-dev/provision/pkg/provision/awsapi"
	"github.com/provision-dev/provision/pkg/provision/config"
	"github.com/provision-dev/provision/pkg/provision/policy"
)

// The stack's roles are made with a permissions boundary: a managed policy
// that caps what a role may do, whatever its own policies say ("Permissions
// boundaries for IAM entities" in the IAM User Guide, and its example of
// delegating role creation). Whoever holds the operator policy may create
// and change the stack's roles only with this boundary attached, and may
// not edit, swap or remove it; so writing "Action": "*" into a role's
// policy grants no more than the boundary, and the operator policy cannot
// mint an administrator. An administrator creates the boundary once per
// stack (docs/security.md, "Security model"): `provision iam-policy --boundary`.

// BoundaryName is the boundary's policy name; it lives at the path of the
// tool's roles.
func BoundaryName(stack, region string) string { return IAMName(stack, region, "boundary") }

// BoundaryARN is the ARN of the stack's permissions boundary in this
// account.
func (e *Env) BoundaryARN() string {
	return e.arns().IAMPolicy(BoundaryName(e.Cfg.Stack, e.Region))
}

// CheckBoundary: the stack's roles are made with the boundary, which an
// administrator creates; without it CreateRole fails half-way through up.
// Roles recorded with it prove it exists.
func (e *Env) CheckBoundary(ctx context.Context) error {
	want := e.BoundaryARN()
	proven := false
	for _, step := range []plan.ID{StepManagerRole, StepRunnerRole} {
		if e.IDOf(step) == "" {
			continue // not made (yet), or not by this executor
		}
		if e.AttrOf(step, AttrBoundary) != want {
			proven = false
			break
		}
		proven = true
	}
	if proven && !e.needsFleetBoundary() {
		return nil
	}
	got, err := e.IAM.GetPolicy(ctx, &iam.GetPolicyInput{PolicyArn: aws.String(want)})
	switch {
	case err == nil && !e.needsFleetBoundary():
		return nil
	case err == nil && got.Policy == nil:
		return fmt.Errorf("read the permissions boundary %s: IAM's answer holds no policy", want)
	case err == nil:
		return e.checkBoundaryCoversFleets(ctx, aws.ToString(got.Policy.DefaultVersionId))
	case awsapi.IsNotFound(err):
		return fmt.Errorf("the stack's roles are made with the permissions boundary %s, which does not exist: an administrator creates it once with\n"+
			"    provision iam-policy --boundary -c CONFIG > boundary.json\n"+
			"    aws iam create-policy --path %s --policy-name %s --policy-document file://boundary.json\n"+
			"  (docs/security.md, \"Security model\": it caps what the stack's roles may do, so the operator policy cannot grant more)", want, policy.IAMPath, BoundaryName(e.Cfg.Stack, e.Region))
	default:
		return fmt.Errorf("read the permissions boundary %s: %w", want, err)
	}
}

// needsFleetBoundary: the configuration has what a boundary made before
// fleets does not allow: the groups of fleets other than the default one,
// or Windows machines' passwords.
func (e *Env) needsFleetBoundary() bool {
	for _, f := range e.Cfg.FleetList() {
		if (f.Autoscaler() && f.Name != config.DefaultFleet) || f.Windows() {
			return true
		}
	}
	return false
}

// checkBoundaryCoversFleets reads the boundary's default version: one an
// administrator created before fleets lets the manager scale no group of
// another fleet, nor read a Windows machine's password, and IAM would
// refuse those calls only once the manager makes them (jobs then wait for
// machines that never come).
func (e *Env) checkBoundaryCoversFleets(ctx context.Context, version string) error {
	if !e.needsFleetBoundary() {
		return nil
	}
	out, err := e.IAM.GetPolicyVersion(ctx, &iam.GetPolicyVersionInput{PolicyArn: aws.String(e.BoundaryARN()), VersionId: aws.String(version)})
	if err != nil {
		return fmt.Errorf("read the permissions boundary %s (version %s): %w", e.BoundaryARN(), version, err)
	}
	doc, err := url.QueryUnescape(aws.ToString(out.PolicyVersion.Document))
	if err != nil {
		doc = aws.ToString(out.PolicyVersion.Document)
	}
	var lacks []string
	if !strings.Contains(doc, policy.FleetGroupsPattern(e.Cfg.Stack)) {
		lacks = append(lacks, "the groups of fleets other than default ("+policy.FleetGroupsPattern(e.Cfg.Stack)+")")
	}
	if e.Cfg.WindowsFleets() && !strings.Contains(doc, "ec2:GetPasswordData") {
		lacks = append(lacks, "the Windows machines' passwords (ec2:GetPasswordData)")
	}
	if len(lacks) == 0 {
		return nil
	}
	return fmt.Errorf("the permissions boundary %s was made before fleets: it does not allow %s, so the manager could not use them. An administrator brings it up to date:\n"+
		"    provision iam-policy --boundary -c CONFIG > boundary.json\n"+
		"    aws iam create-policy-version --policy-arn %s --policy-document file://boundary.json --set-as-default", e.BoundaryARN(), strings.Join(lacks, " and "), e.BoundaryARN())
}

// GroupResources are the stack's Auto Scaling groups, by exact name: a
// generation's group (<stack>-runners-<6 characters>) and the one of
// stacks made before groups had generations (<stack>-runners), which down
// still removes. Each ? is exactly one character, so no other stack's
// group matches: stack "ci" does not reach "ci-runners-x-runners-abc123"
// of stack "ci-runners-x". The other fleets' groups add "." and the
// fleet's name, which no stack's name holds: every fleet's, so that a
// fleet the configuration dropped can still be removed.
func GroupResources(a policy.ARNs, stack string) []string {
	return []string{a.AutoScalingGroup(policy.LegacyGroupName(stack)), a.AutoScalingGroup(policy.GenerationGroupPattern(stack)), a.AutoScalingGroup(policy.FleetGroupsPattern(stack))}
}

// CacheBucketPattern is the cache bucket's name, <stack>-cache- and 12
// characters, which no other stack's bucket matches.
func CacheBucketPattern(stack string) string { return stack + "-cache-????????????" }

// StackParameters are the stack's SSM parameters. A stack name holds no
// slash, so /provision/ci/ is not a prefix of another stack's parameters.
func StackParameters(a policy.ARNs, stack string) string {
	return a.SSMParameter("/provision/" + stack + "/*")
}

// BoundaryPolicy is the most the stack's roles may ever do: the union of
// what the manager needs with either executor and every option, each
// scoped to the stack (exact names, the stack's tag, its parameters), so
// the boundary does not change with the configuration.
func BoundaryPolicy(stack, region string) policy.PolicyDocument {
	a := policy.ARNs{Partition: policy.PartitionOf(region), Region: region, Account: "*"}
	tagged := map[string]map[string]any{"StringEquals": {"aws:ResourceTag/" + TagStack: stack}}
	profile := a.IAMInstanceProfile(IAMName(stack, region, "runner"))
	keyPairs := policy.MachineKeyPairs(a, stack)
	st := []policy.Statement{
		{Sid: "SeeTheFleet", Effect: "Allow", Action: []string{
			"autoscaling:DescribeAutoScalingGroups", "ec2:DescribeInstances", "ec2:DescribeKeyPairs", "ec2:DescribeSubnets",
			"ec2:DescribeSecurityGroups", "ec2:DescribeImages", "ec2:DescribeAccountAttributes", "ec2:DescribeSpotInstanceRequests"},
			Resource: []string{"*"}},
		{Sid: "ScaleTheStacksGroups", Effect: "Allow",
			Action:   []string{"autoscaling:SetDesiredCapacity", "autoscaling:TerminateInstanceInAutoScalingGroup"},
			Resource: []string{a.AutoScalingGroup(policy.GenerationGroupPattern(stack)), a.AutoScalingGroup(policy.FleetGroupsPattern(stack))}},
		{Sid: "ConnectToTheStacksMachines", Effect: "Allow", Action: []string{"ec2-instance-connect:SendSSHPublicKey"},
			Resource: []string{a.EC2("instance/*")}, Condition: tagged},
		// Windows fleets: the Administrator password of the stack's machines.
		{Sid: "TheStacksWindowsPasswords", Effect: "Allow", Action: []string{"ec2:GetPasswordData"},
			Resource: []string{a.EC2("instance/*")}, Condition: tagged},
		{Sid: "TheStacksParameters", Effect: "Allow", Action: []string{"ssm:GetParameter", "ssm:PutParameter"},
			Resource: []string{StackParameters(a, stack)}},
		// SSM encrypts and decrypts a SecureString with the caller's
		// permissions, naming the parameter in the encryption context
		// ("How AWS Systems Manager Parameter Store uses AWS KMS").
		{Sid: "TheStacksSecretsThroughSSM", Effect: "Allow", Action: []string{"kms:Decrypt", "kms:Encrypt", "kms:GenerateDataKey"},
			Resource: []string{"*"}, Condition: map[string]map[string]any{"StringLike": {
				"kms:ViaService":                      policy.ViaSSMLike(region),
				"kms:EncryptionContext:PARAMETER_ARN": StackParameters(a, stack)}}},
		{Sid: "TheStacksLog", Effect: "Allow", Action: []string{"logs:CreateLogStream", "logs:PutLogEvents"},
			Resource: a.LogGroupAndStreams(Names{Stack: stack}.LogGroup())},
		{Sid: "TheStacksCache", Effect: "Allow", Action: []string{"s3:GetObject", "s3:PutObject"},
			Resource: []string{fmt.Sprintf("arn:%s:s3:::%s/*", a.Partition, CacheBucketPattern(stack))}},
		// docker+machine: machines with the runner profile only (the
		// profile is the stack's mark on a Spot machine the driver has not
		// tagged yet), in the stack's subnets and groups.
		{Sid: "LaunchTheStacksMachines", Effect: "Allow", Action: []string{"ec2:RunInstances", "ec2:RequestSpotInstances"},
			Resource:  []string{a.EC2("instance/*"), a.EC2("spot-instances-request/*")},
			Condition: map[string]map[string]any{"ArnLike": {"ec2:InstanceProfile": profile}}},
		{Sid: "LaunchIntoTheStacksNetwork", Effect: "Allow", Action: []string{"ec2:RunInstances", "ec2:RequestSpotInstances"},
			Resource: []string{a.EC2("subnet/*"), a.EC2("security-group/*")}, Condition: tagged},
		{Sid: "LaunchWithVolumesImagesAndInterfaces", Effect: "Allow", Action: []string{"ec2:RunInstances", "ec2:RequestSpotInstances"},
			Resource: append([]string{a.EC2("volume/*"), a.EC2("network-interface/*"), a.EC2Public("image/*"), a.EC2("spot-instances-request/*")}, keyPairs...)},
		{Sid: "ManageTheStacksMachines", Effect: "Allow",
			Action:    []string{"ec2:CreateTags", "ec2:StartInstances", "ec2:StopInstances", "ec2:RebootInstances", "ec2:TerminateInstances"},
			Resource:  []string{a.EC2("instance/*")},
			Condition: map[string]map[string]any{"ArnLike": {"ec2:InstanceProfile": profile}}},
		{Sid: "TagWhatTheyLaunch", Effect: "Allow", Action: []string{"ec2:CreateTags"},
			Resource:  []string{a.EC2("volume/*"), a.EC2("network-interface/*"), a.EC2("spot-instances-request/*")},
			Condition: map[string]map[string]any{"StringEquals": {"ec2:CreateAction": "RunInstances"}}},
		{Sid: "TheMachinesKeyPairs", Effect: "Allow", Action: []string{"ec2:CreateKeyPair", "ec2:ImportKeyPair", "ec2:DeleteKeyPair"},
			Resource: keyPairs},
		{Sid: "CancelSpotRequests", Effect: "Allow", Action: []string{"ec2:CancelSpotInstanceRequests"},
			Resource: []string{a.EC2("spot-instances-request/*")}},
		{Sid: "PassOnlyTheRunnerRole", Effect: "Allow", Action: []string{"iam:PassRole"},
			Resource:  []string{a.IAMRole(IAMName(stack, region, "runner"))},
			Condition: map[string]map[string]any{"StringEquals": {"iam:PassedToService": "ec2.amazonaws.com"}}},
	}
	return policy.PolicyDocument{Version: "2012-10-17", Statement: st}
}
