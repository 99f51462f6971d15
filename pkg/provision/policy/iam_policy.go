package policy

import (
	"encoding/json"
	"fmt"
	"net/url"
	"slices"
	"strings"

	"github.com/provision-dev/provision/pkg/provision/bootstrap"
)

// PolicyDocument is an IAM policy in the form AWS takes it.
type PolicyDocument struct {
	Version   string      `json:"Version"`
	Statement []Statement `json:"Statement"`
}

// Statement is one IAM policy statement.
type Statement struct {
	Sid       string                    `json:"Sid,omitempty"`
	Effect    string                    `json:"Effect"`
	Principal map[string]string         `json:"Principal,omitempty"`
	Action    []string                  `json:"Action"`
	Resource  []string                  `json:"Resource,omitempty"`
	Condition map[string]map[string]any `json:"Condition,omitempty"`
}

// JSON encodes the document compactly (the form IAM stores).
func (p PolicyDocument) JSON() string {
	b, _ := json.Marshal(p)
	return string(b)
}

// ARNs builds the ARNs the policies name.
type ARNs struct {
	Partition, Region, Account string
}

func (a ARNs) EC2(resource string) string {
	return fmt.Sprintf("arn:%s:ec2:%s:%s:%s", a.Partition, a.Region, a.Account, resource)
}

// EC2Public is for resources owned by no account in the ARN (AMIs).
func (a ARNs) EC2Public(resource string) string {
	return fmt.Sprintf("arn:%s:ec2:%s::%s", a.Partition, a.Region, resource)
}

func (a ARNs) AutoScalingGroup(name string) string {
	return fmt.Sprintf("arn:%s:autoscaling:%s:%s:autoScalingGroup:*:autoScalingGroupName/%s", a.Partition, a.Region, a.Account, name)
}

// KMSKey is the ARN of a KMS key of this account and region.
func (a ARNs) KMSKey(id string) string {
	return fmt.Sprintf("arn:%s:kms:%s:%s:key/%s", a.Partition, a.Region, a.Account, id)
}

// KMSAlias is the ARN of an alias (alias/NAME) of this account and region.
func (a ARNs) KMSAlias(name string) string {
	return fmt.Sprintf("arn:%s:kms:%s:%s:%s", a.Partition, a.Region, a.Account, name)
}

// MachineKeyPairs are the key pairs docker-machine imports for the
// stack's machines: a machine's name, or its name and 5 letters. The
// lengths are exact, so no other stack's key pairs match.
func MachineKeyPairs(a ARNs, stack string) []string {
	name := a.EC2("key-pair/" + bootstrap.MachineNameIAMPattern(stack))
	return []string{name, name + "-?????"}
}

// ViaSSMLike matches SSM's kms:ViaService in the region (StringLike) in
// either partition's domain, and in every region when the region is *.
func ViaSSMLike(region string) string { return "ssm." + region + ".amazonaws.com*" }

// viaSSM is SSM's value of kms:ViaService in the region: the service's
// endpoint name, under amazonaws.com.cn in the China regions.
func (a ARNs) viaSSM() string {
	if a.Partition == "aws-cn" {
		return "ssm." + a.Region + ".amazonaws.com.cn"
	}
	return "ssm." + a.Region + ".amazonaws.com"
}

// LogGroup is the ARN of a CloudWatch Logs group, as KMS's encryption
// context (kms:EncryptionContext:aws:logs:arn) and IAM name it.
func (a ARNs) LogGroup(name string) string {
	return fmt.Sprintf("arn:%s:logs:%s:%s:log-group:%s", a.Partition, a.Region, a.Account, name)
}

// LogGroupAndStreams are a log group and its streams as IAM resources:
// CreateLogStream is authorized on the group, PutLogEvents on a stream
// (log-group:NAME:log-stream:STREAM, "Actions, resources, and condition
// keys for Amazon CloudWatch Logs" in the Service Authorization
// Reference). The ":" before the "*" keeps another group whose name
// begins with this one out.
func (a ARNs) LogGroupAndStreams(name string) []string {
	return []string{a.LogGroup(name), a.LogGroup(name) + ":*"}
}

// shipLogsStatement lets the manager write its journal to the stack's
// log group, and nothing else of CloudWatch Logs: it creates its own
// streams (one per unit and instance) and puts events in them.
func shipLogsStatement(a ARNs, logGroup string) Statement {
	return Statement{Sid: "ShipTheJournal", Effect: "Allow", Action: []string{"logs:CreateLogStream", "logs:PutLogEvents"},
		Resource: a.LogGroupAndStreams(logGroup)}
}

func (a ARNs) SSMParameter(name string) string {
	// name starts with a slash; the ARN has exactly one.
	return fmt.Sprintf("arn:%s:ssm:%s:%s:parameter%s", a.Partition, a.Region, a.Account, name)
}

// IAMPath is the path of every role and instance profile the tool makes.
// On AWS the path is part of the ARN (arn:aws:iam::ACCOUNT:role/provision/NAME,
// "IAM identifiers" in the IAM User Guide), so every ARN a policy names is
// built here with the same path CreateRole and CreateInstanceProfile get.
const IAMPath = "/provision/"

// IAMRole is the ARN of a role this tool made.
// ssmParameters are the ARNs of parameters.
func (a ARNs) ssmParameters(names []string) []string {
	var out []string
	for _, n := range names {
		out = append(out, a.SSMParameter(n))
	}
	return out
}

func (a ARNs) IAMRole(name string) string {
	return fmt.Sprintf("arn:%s:iam::%s:role%s%s", a.Partition, a.Account, IAMPath, name)
}

// IAMInstanceProfile is the ARN of an instance profile this tool made.
func (a ARNs) IAMInstanceProfile(name string) string {
	return fmt.Sprintf("arn:%s:iam::%s:instance-profile%s%s", a.Partition, a.Account, IAMPath, name)
}

// EC2AssumeRolePolicy lets EC2 instances take the role.
func EC2AssumeRolePolicy() PolicyDocument {
	return PolicyDocument{Version: "2012-10-17", Statement: []Statement{{
		Effect: "Allow", Principal: map[string]string{"Service": "ec2.amazonaws.com"}, Action: []string{"sts:AssumeRole"},
	}}}
}

// AutoscalerManagerPolicy is least privilege for the fleeting AWS plugin:
// scale and terminate in this one group, see instances, reach this
// group's machines (with the stack's key, or by pushing keys to them only),
// and read this stack's token.
//
// With several fleets, "this one group" is each autoscaler fleet's group
// (params.Groups, patterns of every generation's group of one fleet).
func AutoscalerManagerPolicy(a ARNs, stack string, params ManagerParameters) PolicyDocument {
	groups := params.Groups
	if len(groups) == 0 {
		groups = []string{GenerationGroupPattern(stack)}
	}
	var groupARNs []string
	for _, g := range groups {
		groupARNs = append(groupARNs, a.AutoScalingGroup(g))
	}
	connect := Statement{Sid: "ConnectToTheGroupsMachines", Effect: "Allow",
		Action:    []string{"ec2-instance-connect:SendSSHPublicKey"},
		Resource:  []string{a.EC2("instance/*")},
		Condition: map[string]map[string]any{"StringLike": {"ec2:ResourceTag/aws:autoscaling:groupName": oneOrMany(groups)}}}
	var machinesKey []Statement
	if params.SSHKey != "" {
		// A SecureString under the stack's secrets key, as the token.
		connect = Statement{Sid: "ReadTheMachinesKey", Effect: "Allow", Action: []string{"ssm:GetParameter"},
			Resource: []string{a.SSMParameter(params.SSHKey)}}
		machinesKey = append(machinesKey, secretsKeyStatement(a, "DecryptTheMachinesKeyThroughSSM", params.Key, []string{params.SSHKey}, "kms:Decrypt"))
	}
	st := []Statement{
		{Sid: "ScaleTheRunnerGroup", Effect: "Allow",
			Action:   []string{"autoscaling:SetDesiredCapacity", "autoscaling:TerminateInstanceInAutoScalingGroup"},
			Resource: groupARNs},
		{Sid: "SeeTheFleet", Effect: "Allow",
			Action:   []string{"autoscaling:DescribeAutoScalingGroups", "ec2:DescribeInstances"},
			Resource: []string{"*"}},
		connect,
	}
	st = append(st, machinesKey...)
	if len(params.WindowsGroups) > 0 {
		// The AWS fleeting plugin logs in to a Windows machine with the
		// password AWS provisions, which it reads with GetPasswordData
		// (its README, "Default connector config"); only on the Windows
		// fleets' machines.
		st = append(st, Statement{Sid: "ReadTheWindowsMachinesPasswords", Effect: "Allow", Action: []string{"ec2:GetPasswordData"},
			Resource:  []string{a.EC2("instance/*")},
			Condition: map[string]map[string]any{"StringLike": {"ec2:ResourceTag/aws:autoscaling:groupName": oneOrMany(params.WindowsGroups)}}})
	}
	st = append(st, readTokenStatements(a, params)...)
	st = append(st, reportBootStatement(a, params.Boot))
	st = append(st, readConfigStatements(a, params)...)
	if params.LogGroup != "" {
		st = append(st, shipLogsStatement(a, params.LogGroup))
	}
	if params.Drain != "" {
		// A replaced manager reads the drain request and answers it.
		st = append(st, Statement{Sid: "AnswerDrainRequests", Effect: "Allow", Action: []string{"ssm:GetParameter", "ssm:PutParameter"},
			Resource: []string{a.SSMParameter(params.Drain)}})
	}
	if params.CacheBucket != "" {
		// gitlab-runner signs the cache's download and upload URLs with
		// this role (AuthenticationType iam; cache/s3v2 presigns GetObject
		// and PutObject): the URLs work as far as the role reaches.
		st = append(st, Statement{Sid: "UseTheCache", Effect: "Allow", Action: []string{"s3:GetObject", "s3:PutObject"},
			Resource: []string{fmt.Sprintf("arn:%s:s3:::%s/*", a.Partition, params.CacheBucket)}})
	}
	return PolicyDocument{Version: "2012-10-17", Statement: st}
}

// DockerMachineManagerPolicy lets docker-machine's amazonec2 driver launch,
// tag and remove machines: only in this region, subnet and zone, only with
// the runner instance profile, key pairs only of the stack's machine names.
// The runner instance profile is the stack's mark on a machine: a Spot
// machine carries no tags until the driver adds them after launch (tags on
// a Spot request are not copied to its instance), and launching with the
// profile takes iam:PassRole on the runner role, which only this policy
// grants; so tagging, stopping and terminating are conditioned on it.
func DockerMachineManagerPolicy(a ARNs, stack, zone, subnetID, runnerGroupID, runnerRoleName, runnerProfileName string, params ManagerParameters, spot bool) PolicyDocument {
	region := map[string]any{"aws:RequestedRegion": a.Region}
	keyPairs := MachineKeyPairs(a, stack)
	profile := map[string]any{"ec2:InstanceProfile": a.IAMInstanceProfile(runnerProfileName)}
	subnet := a.EC2("subnet/" + subnetID)
	launch := []string{"ec2:RunInstances"}
	if spot {
		// Spot machines come from RunInstances with market options or,
		// in older driver versions, from RequestSpotInstances.
		launch = append(launch, "ec2:RequestSpotInstances")
	}
	st := []Statement{
		{Sid: "LaunchIntoTheRunnerSubnet", Effect: "Allow", Action: launch,
			Resource: []string{subnet, a.EC2("security-group/" + runnerGroupID)}},
		{Sid: "LaunchWithTheRunnerProfile", Effect: "Allow", Action: []string{"ec2:RunInstances"},
			Resource: []string{a.EC2("instance/*")},
			Condition: map[string]map[string]any{
				"StringEquals": {"aws:RequestedRegion": a.Region, "ec2:InstanceProfile": a.IAMInstanceProfile(runnerProfileName)},
			}},
		{Sid: "LaunchNetworkInterfacesInTheRunnerSubnet", Effect: "Allow", Action: launch,
			Resource:  []string{a.EC2("network-interface/*")},
			Condition: map[string]map[string]any{"StringEquals": {"ec2:Subnet": subnet}}},
		{Sid: "LaunchVolumesImagesAndKeys", Effect: "Allow", Action: launch,
			Resource:  append([]string{a.EC2("volume/*"), a.EC2Public("image/*")}, keyPairs...),
			Condition: map[string]map[string]any{"StringEquals": region}},
		// A resource type's condition keys apply to every action on it ("Actions,
		// resources, and condition keys for Amazon EC2" in the Service
		// Authorization Reference): instance has ec2:InstanceProfile, volume
		// ec2:AvailabilityZone, network-interface ec2:Subnet, so tags made at
		// launch and the ones the driver adds to a Spot machine later both match.
		{Sid: "TagTheRunnerMachines", Effect: "Allow", Action: []string{"ec2:CreateTags"},
			Resource: []string{a.EC2("instance/*")}, Condition: map[string]map[string]any{"StringEquals": profile}},
		{Sid: "TagTheirVolumesInTheZone", Effect: "Allow", Action: []string{"ec2:CreateTags"},
			Resource: []string{a.EC2("volume/*")}, Condition: map[string]map[string]any{"StringEquals": {"ec2:AvailabilityZone": zone}}},
		{Sid: "TagTheirNetworkInterfaces", Effect: "Allow", Action: []string{"ec2:CreateTags"},
			Resource: []string{a.EC2("network-interface/*")}, Condition: map[string]map[string]any{"StringEquals": {"ec2:Subnet": subnet}}},
		{Sid: "ManageTheRunnerMachines", Effect: "Allow",
			Action:    []string{"ec2:StartInstances", "ec2:StopInstances", "ec2:RebootInstances", "ec2:TerminateInstances"},
			Resource:  []string{a.EC2("instance/*")},
			Condition: map[string]map[string]any{"StringEquals": profile}},
		{Sid: "MachineKeyPairs", Effect: "Allow",
			Action:   []string{"ec2:CreateKeyPair", "ec2:ImportKeyPair", "ec2:DeleteKeyPair"},
			Resource: keyPairs},
		{Sid: "PassOnlyTheRunnerRole", Effect: "Allow", Action: []string{"iam:PassRole"},
			Resource: []string{a.IAMRole(runnerRoleName)}},
		{Sid: "SeeWhatTheDriverNeeds", Effect: "Allow",
			Action: []string{"ec2:DescribeInstances", "ec2:DescribeKeyPairs", "ec2:DescribeSubnets", "ec2:DescribeSecurityGroups",
				"ec2:DescribeImages", "ec2:DescribeAccountAttributes", "ec2:DescribeSpotInstanceRequests"},
			Resource: []string{"*"}},
	}
	if spot {
		st = append(st, Statement{Sid: "SpotRequestsInTheRegion", Effect: "Allow",
			Action:    []string{"ec2:RunInstances", "ec2:RequestSpotInstances", "ec2:CancelSpotInstanceRequests"},
			Resource:  []string{a.EC2("spot-instances-request/*")},
			Condition: map[string]map[string]any{"StringEquals": region}},
			Statement{Sid: "TagSpotRequestsWhenMade", Effect: "Allow", Action: []string{"ec2:CreateTags"},
				Resource: []string{a.EC2("spot-instances-request/*")},
				Condition: map[string]map[string]any{"StringEquals": {"aws:RequestedRegion": a.Region},
					"ForAnyValue:StringEquals": {"ec2:CreateAction": "RunInstances"}}})
	}
	st = append(st, readTokenStatements(a, params)...)
	st = append(st, reportBootStatement(a, params.Boot))
	st = append(st, readConfigStatements(a, params)...)
	if params.LogGroup != "" {
		st = append(st, shipLogsStatement(a, params.LogGroup))
	}
	return PolicyDocument{Version: "2012-10-17", Statement: st}
}

// ManagerParameters are what the manager uses besides the group: the SSM
// parameters of the runner token, its boot report and the machines' SSH
// key ("": no static key), the cache bucket ("": none), the drain
// request ("": none), and the KMS key of the SecureStrings.
type ManagerParameters struct {
	// Tokens are the fleets' token parameters, one per fleet.
	Tokens                                             []string
	Boot, Config, SSHKey, CacheBucket, Drain, LogGroup string
	// Groups are the name patterns of the autoscaler fleets' groups (empty:
	// the one fleet's, GenerationGroupPattern).
	Groups []string
	// WindowsGroups are those of the Windows fleets, whose machines'
	// Administrator password the fleeting plugin reads.
	WindowsGroups []string
	Key           SecretsKeyGrant
}

// Merge is a's statements, then those of b whose Sid a does not have (a
// policy's Sids are unique; the two executors' policies share their
// statements on the token, the boot report, the configuration and the log).
func Merge(a, b PolicyDocument) PolicyDocument {
	if len(a.Statement) == 0 {
		return b
	}
	out := a
	out.Statement = append([]Statement(nil), a.Statement...)
	for _, s := range b.Statement {
		if !slices.ContainsFunc(out.Statement, func(t Statement) bool { return t.Sid == s.Sid }) {
			out.Statement = append(out.Statement, s)
		}
	}
	return out
}

// oneOrMany is a condition's value: one string as itself (the policy a
// stack of one fleet always had), several as a list, any of which
// matches.
func oneOrMany(values []string) any {
	if len(values) == 1 {
		return values[0]
	}
	return values
}

// SecretsKeyGrant is how a policy names the KMS key of the SecureString
// parameters: by its ARN, or, for a key given by an alias only
// (secrets.kms_key_id), as any key of the account and region that the
// alias names (kms:ResourceAliases; a key policy cannot be named by alias).
type SecretsKeyGrant struct {
	Resource string
	Alias    string
}

// reportBootStatement lets the manager write its boot report, to this one
// parameter only (a String, so no key is involved).
func reportBootStatement(a ARNs, bootParameter string) Statement {
	return Statement{Sid: "ReportTheBoot", Effect: "Allow", Action: []string{"ssm:PutParameter"},
		Resource: []string{a.SSMParameter(bootParameter)}}
}

// tokenKeyActions are what SSM asks KMS for, with the caller's
// permissions, when the manager reads the token (Decrypt) and writes back
// the one gitlab-runner renewed: Encrypt for a standard parameter, which
// KMS encrypts directly, GenerateDataKey for one in the advanced tier
// (an account whose default tier is advanced or intelligent-tiering),
// which SSM envelope-encrypts ("How AWS Systems Manager Parameter Store
// uses AWS KMS" in the KMS developer guide).
var tokenKeyActions = []string{"kms:Decrypt", "kms:Encrypt", "kms:GenerateDataKey"}

// readConfigStatements let the manager read the runner configuration,
// which it applies at boot and whenever a new version appears. It is a
// SecureString under the stack's key, as the token is: whoever may change
// it decides where the manager sends the token (url) and what it runs as
// root (the plugin), so changing it takes what reading the token takes.
func readConfigStatements(a ARNs, params ManagerParameters) []Statement {
	return []Statement{
		{Sid: "ReadTheRunnerConfiguration", Effect: "Allow", Action: []string{"ssm:GetParameter"}, Resource: []string{a.SSMParameter(params.Config)}},
		secretsKeyStatement(a, "DecryptTheRunnerConfigurationThroughSSM", params.Key, []string{params.Config}, "kms:Decrypt"),
	}
}

// readTokenStatements let the manager read the token at boot and write
// back the token gitlab-runner renews, on this one parameter only, and use
// the stack's secrets key for it through SSM only. The key is the stack's
// own (or secrets.kms_key_id), not the account's aws/ssm, whose key policy
// lets every principal of the account decrypt through SSM: so ssm: alone
// no longer reads the token.
func readTokenStatements(a ARNs, params ManagerParameters) []Statement {
	return []Statement{
		{Sid: "ReadAndRenewTheRunnerToken", Effect: "Allow", Action: []string{"ssm:GetParameter", "ssm:PutParameter"},
			Resource: a.ssmParameters(params.Tokens)},
		secretsKeyStatement(a, "UseTheSecretsKeyForTheToken", params.Key, params.Tokens, tokenKeyActions...),
	}
}

// secretsKeyStatement lets a principal use the secrets key for one
// parameter, and only as SSM does on its behalf: kms:ViaService is SSM of
// the region, and the encryption context SSM passes to KMS, PARAMETER_ARN,
// is that parameter's ARN ("How AWS Systems Manager Parameter Store uses
// AWS KMS", on the encryption context, in the KMS developer guide).
func secretsKeyStatement(a ARNs, sid string, key SecretsKeyGrant, parameters []string, actions ...string) Statement {
	cond := map[string]map[string]any{"StringEquals": {
		"kms:ViaService":                      a.viaSSM(),
		"kms:EncryptionContext:PARAMETER_ARN": oneOrMany(a.ssmParameters(parameters)),
	}}
	if key.Alias != "" {
		cond["ForAnyValue:StringEquals"] = map[string]any{"kms:ResourceAliases": key.Alias}
	}
	return Statement{Sid: sid, Effect: "Allow", Action: actions, Resource: []string{key.Resource}, Condition: cond}
}

// SecretsKeyPolicy is the key policy of the stack's own secrets key.
//
// Its first statement is KMS's default one ("Default key policy" in the
// KMS developer guide): the account may use IAM policies to allow any KMS
// action on the key. Without it only the key policy would say who may use
// or manage the key, and a key whose policy names no administrator cannot
// be managed any more, by anyone (AWS support included). It is what lets
// the operator policy of `provision iam-policy` create, read and delete
// the key.
//
// The last lets CloudWatch Logs encrypt and decrypt the manager's log
// group with the key, and no other group: the service principal of the
// region with the group's ARN as encryption context, as "Encrypt log data
// in CloudWatch Logs using AWS KMS" (CloudWatch Logs User Guide) asks.
//
// The other three let the manager's role use the key, only through SSM
// and only for its three parameters (what the role's own policy says too; KMS
// allows a call that either the key policy or, through the first
// statement, an IAM policy allows). The role is named by aws:PrincipalArn
// under the account's principal rather than as the principal itself: KMS
// refuses a key policy naming a role that does not exist yet (the key is
// made before the role), and a role named as principal turns into its
// unique id, which a role made again under the same name does not match.
func SecretsKeyPolicy(a ARNs, managerRole string, tokenParameters []string, sshKeyParameter, configParameter, logGroup string) PolicyDocument {
	root := map[string]string{"AWS": fmt.Sprintf("arn:%s:iam::%s:root", a.Partition, a.Account)}
	manager := func(sid string, parameters []string, actions ...string) Statement {
		return Statement{Sid: sid, Effect: "Allow", Principal: root, Action: actions, Resource: []string{"*"},
			Condition: map[string]map[string]any{
				"StringEquals": {"kms:ViaService": a.viaSSM(), "kms:EncryptionContext:PARAMETER_ARN": oneOrMany(a.ssmParameters(parameters))},
				"ArnEquals":    {"aws:PrincipalArn": a.IAMRole(managerRole)},
			}}
	}
	return PolicyDocument{Version: "2012-10-17", Statement: []Statement{
		{Sid: "Enable IAM User Permissions", Effect: "Allow", Principal: root, Action: []string{"kms:*"}, Resource: []string{"*"}},
		manager("ManagerReadsAndRenewsTheTokenThroughSSM", tokenParameters, tokenKeyActions...),
		manager("ManagerReadsTheMachinesKeyThroughSSM", []string{sshKeyParameter}, "kms:Decrypt"),
		manager("ManagerReadsTheRunnerConfigThroughSSM", []string{configParameter}, "kms:Decrypt"),
		{Sid: "CloudWatchLogsUsesItForTheManagersLog", Effect: "Allow", Principal: map[string]string{"Service": a.logsService()},
			Action:   []string{"kms:Encrypt*", "kms:Decrypt*", "kms:ReEncrypt*", "kms:GenerateDataKey*", "kms:Describe*"},
			Resource: []string{"*"}, Condition: map[string]map[string]any{"ArnEquals": {"kms:EncryptionContext:aws:logs:arn": a.LogGroup(logGroup)}}},
	}}
}

// logsService is CloudWatch Logs' service principal in the region.
func (a ARNs) logsService() string {
	if a.Partition == "aws-cn" {
		return "logs." + a.Region + ".amazonaws.com.cn"
	}
	return "logs." + a.Region + ".amazonaws.com"
}

// PartitionOf is the ARN partition of a region.
func PartitionOf(region string) string {
	switch {
	case strings.HasPrefix(region, "cn-"):
		return "aws-cn"
	case strings.HasPrefix(region, "us-gov-"):
		return "aws-us-gov"
	}
	return "aws"
}

// LegacyGroupName is the group of a manager launched before groups had
// generations.
func LegacyGroupName(stack string) string { return stack + "-runners" }

// GenerationGroupPattern matches the name of every generation's group.
func GenerationGroupPattern(stack string) string { return LegacyGroupName(stack) + "-??????" }

// FleetGroupsPattern matches every generation's group of every fleet
// but the default one: a stack's name holds no ".", so only this stack's
// names start with its generation's name and a ".".
func FleetGroupsPattern(stack string) string { return GenerationGroupPattern(stack) + ".*" }

// FleetGroupPattern matches every generation's group of one fleet: the
// generation's name, then "." and the fleet's (the default fleet's is the
// generation's name alone).
func FleetGroupPattern(stack, fleet string) string {
	if fleet == "" || fleet == "default" {
		return GenerationGroupPattern(stack)
	}
	return GenerationGroupPattern(stack) + "." + fleet
}

// SamePolicy compares two policy documents by meaning: IAM hands them back
// URL-encoded, and may turn one-element lists into plain strings.
func SamePolicy(got, want string) bool {
	if dec, err := url.QueryUnescape(got); err == nil {
		got = dec
	}
	return normalizePolicy(got) == normalizePolicy(want)
}

func normalizePolicy(doc string) string {
	var v any
	if json.Unmarshal([]byte(doc), &v) != nil {
		return doc
	}
	b, _ := json.Marshal(listify(v, ""))
	return string(b)
}

// listify turns the string form of Action/Resource/Principal values into
// one-element lists so both spellings compare equal.
func listify(v any, key string) any {
	switch x := v.(type) {
	case map[string]any:
		for k, val := range x {
			x[k] = listify(val, k)
		}
		return x
	case []any:
		for i := range x {
			x[i] = listify(x[i], "")
		}
		return x
	case string:
		switch key {
		case "Action", "Resource", "NotAction", "NotResource", "Service", "AWS":
			return []any{x}
		}
	}
	return v
}

// IAMPolicy is the ARN of a managed policy at the tool's path.
func (a ARNs) IAMPolicy(name string) string {
	return fmt.Sprintf("arn:%s:iam::%s:policy%s%s", a.Partition, a.Account, IAMPath, name)
}

// GitLabCI names the GitLab CI jobs a role trusts: those of one project
// of one GitLab, and with Ref only those of that branch (or, as
// "tag:NAME", that tag; or, as "NAME/*", the branches of that namespace).
type GitLabCI struct {
	Partition, Account string
	Host               string // GitLab's host (and path), as its OIDC issuer: gitlab.example.com
	Project            string // group/subgroup/project
	Ref                string // "": any branch or tag
}

// Subject is the ID token's sub claim the role accepts:
// project_path:GROUP/PROJECT:ref_type:branch|tag:ref:NAME, with a
// wildcard for the ref when none is given ("OpenID Connect (OIDC)
// authentication using ID tokens", GitLab CI/CD documentation).
func (g GitLabCI) Subject() string {
	if g.Ref == "" {
		return "project_path:" + g.Project + ":*"
	}
	kind, name := "branch", g.Ref
	if t, ok := strings.CutPrefix(g.Ref, "tag:"); ok {
		kind, name = "tag", t
	}
	return "project_path:" + g.Project + ":ref_type:" + kind + ":ref:" + name
}

// GitLabTrustPolicy lets the role be assumed with a GitLab CI job's ID
// token (sts:AssumeRoleWithWebIdentity through the account's OIDC
// provider of that GitLab), by the jobs g names only: the token's aud
// must be GitLab's own address (what the job's id_tokens asks for) and
// its sub that project, and that ref when one is given.
func GitLabTrustPolicy(g GitLabCI) PolicyDocument {
	// A ref namespace (runners/*) or none is a pattern; a ref is exact.
	op := "StringEquals"
	if g.Ref == "" || strings.Contains(g.Ref, "*") {
		op = "StringLike"
	}
	cond := map[string]map[string]any{
		"StringEquals": {g.Host + ":aud": "https://" + g.Host},
	}
	if op == "StringEquals" {
		cond["StringEquals"][g.Host+":sub"] = g.Subject()
	} else {
		cond["StringLike"] = map[string]any{g.Host + ":sub": g.Subject()}
	}
	return PolicyDocument{Version: "2012-10-17", Statement: []Statement{{
		Effect:    "Allow",
		Principal: map[string]string{"Federated": fmt.Sprintf("arn:%s:iam::%s:oidc-provider/%s", g.Partition, g.Account, g.Host)},
		Action:    []string{"sts:AssumeRoleWithWebIdentity"},
		Condition: cond,
	}}}
}
