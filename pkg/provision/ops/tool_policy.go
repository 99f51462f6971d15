package ops

import (
	"fmt"
	"strings"

	"github.com/provision-dev/provision/pkg/provision/config"
	"github.com/provision-dev/provision/pkg/provision/policy"
	"github.com/provision-dev/provision/pkg/provision/stack"
)

// The actions provision itself calls, by what they do. The e2e suite
// proves the lists: every action it sees the tool call is in the policy,
// and the policy holds no action the suite never sees called (but those
// AWS calls on the tool's behalf).
var (
	// ec2Creates make a resource the tool tags as it is made
	// (TagSpecifications), so the policy can require the stack's tag in
	// the request (aws:RequestTag).
	ec2Creates = []string{
		"ec2:AllocateAddress", "ec2:CreateEgressOnlyInternetGateway", "ec2:CreateInternetGateway",
		"ec2:CreateLaunchTemplate", "ec2:CreateNatGateway", "ec2:CreateNetworkAcl", "ec2:CreateRouteTable",
		"ec2:CreateSecurityGroup", "ec2:CreateSubnet", "ec2:CreateVpc", "ec2:CreateVpcEndpoint", "ec2:ImportKeyPair",
	}
	// ec2CreatesIn make their resource inside others (a VPC, a subnet).
	ec2CreatesIn = []string{
		"ec2:CreateEgressOnlyInternetGateway", "ec2:CreateNatGateway", "ec2:CreateNetworkAcl", "ec2:CreateRouteTable",
		"ec2:CreateSecurityGroup", "ec2:CreateSubnet", "ec2:CreateVpcEndpoint",
	}
	// ec2OnItsOwn change or delete what carries the stack's tag
	// (aws:ResourceTag).
	ec2OnItsOwn = []string{
		// Every verb that only changes or deletes (the condition keeps
		// them to the stack's resources), then the single calls.
		"ec2:Associate*", "ec2:Attach*", "ec2:Authorize*", "ec2:Delete*", "ec2:Detach*", "ec2:Disassociate*",
		"ec2:Replace*", "ec2:Revoke*", "ec2:CreateLaunchTemplateVersion", "ec2:CreateNetworkAclEntry", "ec2:CreateRoute",
		"ec2:ModifyInstanceAttribute", "ec2:ModifyLaunchTemplate", "ec2:ModifySubnetAttribute", "ec2:ModifyVpcAttribute",
		"ec2:ModifyVpcEndpoint", "ec2:ReleaseAddress", "ec2:StartInstances", "ec2:TerminateInstances",
		// The manager's console, read when its boot fails.
		"ec2:GetConsoleOutput",
	}
	// CreateBucket with ObjectOwnership also takes PutBucketOwnershipControls
	// ("CreateBucket" in the S3 API reference); HeadBucket and
	// ListObjectsV2 are s3:ListBucket.
	cacheBucketActions = []string{
		"s3:CreateBucket", "s3:DeleteBucket", "s3:GetBucketOwnershipControls", "s3:GetBucketPublicAccessBlock",
		"s3:GetBucketTagging", "s3:GetEncryptionConfiguration", "s3:GetLifecycleConfiguration", "s3:ListBucket",
		"s3:PutBucketOwnershipControls", "s3:PutBucketPublicAccessBlock", "s3:PutBucketTagging",
		"s3:PutEncryptionConfiguration", "s3:PutLifecycleConfiguration",
	}
	// logGroupActions are what provision does with the manager's log
	// group, and reading it (FilterLogEvents).
	logGroupActions = []string{
		"logs:AssociateKmsKey", "logs:CreateLogGroup", "logs:DeleteLogGroup", "logs:DisassociateKmsKey", "logs:FilterLogEvents",
		"logs:ListTagsForResource", "logs:PutRetentionPolicy", "logs:TagResource", "logs:UntagResource",
	}
	// iamBoundedRoleActions write a role's permissions: IAM allows them
	// only with the stack's boundary on the role (iam:PermissionsBoundary,
	// a condition key of exactly these actions in the Service
	// Authorization Reference).
	iamBoundedRoleActions = []string{
		"iam:CreateRole", "iam:DeleteRolePolicy", "iam:DetachRolePolicy", "iam:PutRolePermissionsBoundary", "iam:PutRolePolicy",
		// No condition key describes a trust policy's content, but a role
		// under the boundary grants whoever it trusts no more than that.
		"iam:UpdateAssumeRolePolicy",
	}
	// iamRoleActions do not change what a role may do.
	iamRoleActions = []string{
		"iam:AddRoleToInstanceProfile", "iam:CreateInstanceProfile", "iam:DeleteInstanceProfile",
		"iam:DeleteRole", "iam:GetInstanceProfile", "iam:GetRole",
		"iam:GetRolePolicy", "iam:ListAttachedRolePolicies", "iam:ListRolePolicies",
		"iam:RemoveRoleFromInstanceProfile", "iam:TagInstanceProfile", "iam:TagRole", "iam:UntagInstanceProfile",
		"iam:UntagRole",
	}
	ssmParameterActions = []string{
		"ssm:AddTagsToResource", "ssm:DeleteParameter", "ssm:GetParameter", "ssm:GetParameters", "ssm:ListTagsForResource",
		"ssm:PutParameter", "ssm:RemoveTagsFromResource",
	}
	autoScalingWrites = []string{
		"autoscaling:CreateOrUpdateTags", "autoscaling:DeleteAutoScalingGroup",
		"autoscaling:DeleteTags", "autoscaling:SetInstanceProtection", "autoscaling:SuspendProcesses",
		"autoscaling:UpdateAutoScalingGroup",
	}
)

// ToolPolicy is the least-privilege policy for the person or CI job that
// runs up, down, plan, status and doctor for this configuration. It cannot
// reach beyond the stack, nor grant more than it holds:
//   - roles are made and changed only with the stack's permissions
//     boundary, which it may not edit, swap or remove, and only the stack's
//     two roles may be passed, to EC2 only;
//   - EC2 resources are made only with the stack's tag (aws:RequestTag) and
//     changed or deleted only when they carry it (aws:ResourceTag); what
//     the stack changes but does not own is named exactly: GitLab's group,
//     an existing VPC, docker+machine's machines by their instance profile
//     and their key pairs by their names;
//   - groups, parameters, the cache bucket, the key's alias and the state
//     are named exactly, with patterns of exact length that no other
//     stack's names match.
//
// Both executors' actions are always in it: down removes what either built.
func ToolPolicy(cfg *config.Config) policy.PolicyDocument {
	partition := policy.PartitionOf(cfg.Region)
	region, regionCond := cfg.Region, map[string]any(nil)
	if region == "" {
		region = "*"
	} else {
		regionCond = map[string]any{"aws:RequestedRegion": region}
	}
	a := policy.ARNs{Partition: partition, Region: region, Account: "*"}
	inRegion := func(more map[string]map[string]any) map[string]map[string]any {
		c := map[string]map[string]any{}
		for op, kv := range more {
			c[op] = map[string]any{}
			for k, v := range kv {
				c[op][k] = v
			}
		}
		if regionCond != nil {
			if c["StringEquals"] == nil {
				c["StringEquals"] = map[string]any{}
			}
			for k, v := range regionCond {
				c["StringEquals"][k] = v
			}
		}
		return c
	}
	requestTagged := map[string]map[string]any{"StringEquals": {"aws:RequestTag/" + stack.TagStack: cfg.Stack}}
	tagged := map[string]map[string]any{"StringEquals": {"aws:ResourceTag/" + stack.TagStack: cfg.Stack}}
	roles := []string{a.IAMRole(stack.IAMName(cfg.Stack, region, "manager")), a.IAMRole(stack.IAMName(cfg.Stack, region, "runner"))}
	profiles := []string{a.IAMInstanceProfile(stack.IAMName(cfg.Stack, region, "manager")), a.IAMInstanceProfile(stack.IAMName(cfg.Stack, region, "runner"))}
	// The account is not known here, so ARNs hold * for it: conditions on
	// them use ArnLike (StringEquals and ArnEquals take * literally).
	boundary := a.IAMPolicy(stack.BoundaryName(cfg.Stack, region))
	st := []policy.Statement{
		// Describe calls read and change nothing, and take no resource.
		{Sid: "Reads", Effect: "Allow", Action: []string{"ec2:Describe*", "ec2:GetEbsDefaultKmsKeyId",
			"autoscaling:DescribeAutoScalingGroups", "sts:GetCallerIdentity", "kms:DescribeKey", "kms:GetKeyPolicy", "kms:ListGrants"},
			Resource: []string{"*"}},
		{Sid: "CreateTagged", Effect: "Allow", Action: ec2Creates, Resource: []string{"*"}, Condition: inRegion(requestTagged)},
		// Tags given at creation are authorized as ec2:CreateTags with
		// ec2:CreateAction naming the call ("Grant permission to tag
		// resources during creation" in the EC2 user guide).
		{Sid: "TagOnCreate", Effect: "Allow", Action: []string{"ec2:CreateTags"}, Resource: []string{"*"},
			Condition: inRegion(map[string]map[string]any{"StringEquals": {"aws:RequestTag/" + stack.TagStack: cfg.Stack},
				"ForAnyValue:StringEquals": {"ec2:CreateAction": append(creationNames(), "RunInstances")}})},
		// Tags of its own resources may change, but the stack's tag may not
		// be given to another stack: RequestTag holds only if present.
		{Sid: "Retag", Effect: "Allow", Action: []string{"ec2:CreateTags"}, Resource: []string{"*"},
			Condition: inRegion(map[string]map[string]any{"StringEquals": {"aws:ResourceTag/" + stack.TagStack: cfg.Stack},
				"StringEqualsIfExists": {"aws:RequestTag/" + stack.TagStack: cfg.Stack}})},
		{Sid: "ChangeOwn", Effect: "Allow", Action: ec2OnItsOwn, Resource: []string{"*"}, Condition: inRegion(tagged)},
		// A create call also authorizes the resources it makes its
		// resource in (the VPC of a subnet, the subnet and address of a
		// NAT gateway, ...), which the request's tags do not describe:
		// those must be the stack's own.
		{Sid: "CreateInOwn", Effect: "Allow", Action: ec2CreatesIn, Resource: createdInResources(a), Condition: inRegion(tagged)},
		// The manager: a new instance and volume carry the stack's tag; it
		// launches into the stack's subnet and group, from any image (AWS's
		// or runners.ami), with the key pair manager.key_name names.
		{Sid: "LaunchTagged", Effect: "Allow", Action: []string{"ec2:RunInstances"},
			Resource: []string{a.EC2("instance/*"), a.EC2("volume/*")}, Condition: inRegion(requestTagged)},
		{Sid: "LaunchInOwnNet", Effect: "Allow", Action: []string{"ec2:RunInstances"},
			Resource: []string{a.EC2("subnet/*"), a.EC2("security-group/*"), a.EC2("launch-template/*")}, Condition: inRegion(tagged)},
		{Sid: "LaunchImage", Effect: "Allow", Action: []string{"ec2:RunInstances"},
			Resource: []string{a.EC2Public("image/*"), a.EC2("image/*"), a.EC2("network-interface/*"), a.EC2("key-pair/*")}, Condition: inRegion(nil)},
		// docker+machine's machines are the stack's by their instance
		// profile (a Spot machine carries no tag until the driver adds it);
		// their key pairs by their names, of exact length; their Spot
		// requests carry no tag at all.
		{Sid: "EndMachines", Effect: "Allow", Action: []string{"ec2:TerminateInstances"}, Resource: []string{a.EC2("instance/*")},
			Condition: inRegion(map[string]map[string]any{"ArnLike": {"ec2:InstanceProfile": profiles[1]}})},
		{Sid: "MachineKeys", Effect: "Allow", Action: []string{"ec2:DeleteKeyPair"},
			Resource: policy.MachineKeyPairs(a, cfg.Stack)},
		{Sid: "CancelSpot", Effect: "Allow", Action: []string{"ec2:CancelSpotInstanceRequests"},
			Resource: []string{a.EC2("spot-instances-request/*")}, Condition: inRegion(nil)},
		// A subnet goes back to its VPC's default network ACL before the
		// stack's ACL is deleted; the default ACL carries no tag of the
		// stack. In an existing VPC it is named by its VPC.
		returnToDefaultACL(cfg, a, inRegion),
	}
	if vpc := cfg.Network.VpcID; vpc != "" {
		// An existing VPC carries no tag of the stack: it is named.
		st = append(st, policy.Statement{Sid: "CreateInTheVPC", Effect: "Allow", Action: ec2CreatesIn, Resource: []string{a.EC2("vpc/" + vpc)}, Condition: inRegion(nil)})
	}
	if sg := cfg.GitLab.SecurityGroupID; sg != "" {
		st = append(st, policy.Statement{Sid: "GitLabGroup", Effect: "Allow",
			Action:   []string{"ec2:AuthorizeSecurityGroupIngress", "ec2:RevokeSecurityGroupIngress"},
			Resource: []string{a.EC2("security-group/" + sg)}})
	}
	st = append(st,
		policy.Statement{Sid: "Roles", Effect: "Allow", Action: iamRoleActions, Resource: append(append([]string{}, roles...), profiles...)},
		policy.Statement{Sid: "RolesBounded", Effect: "Allow", Action: iamBoundedRoleActions, Resource: roles,
			Condition: map[string]map[string]any{"ArnLike": {"iam:PermissionsBoundary": boundary}}},
		policy.Statement{Sid: "Boundary", Effect: "Allow", Action: []string{"iam:GetPolicy", "iam:GetPolicyVersion"}, Resource: []string{boundary}},
		// Explicit denies win over any allow this principal may get
		// elsewhere: the boundary stays as the administrator made it.
		policy.Statement{Sid: "KeepBoundary", Effect: "Deny",
			Action:   []string{"iam:CreatePolicyVersion", "iam:DeletePolicy", "iam:DeletePolicyVersion", "iam:SetDefaultPolicyVersion"},
			Resource: []string{boundary}},
		policy.Statement{Sid: "KeepBoundaries", Effect: "Deny", Action: []string{"iam:DeleteRolePermissionsBoundary"}, Resource: []string{"*"}},
		// Preflight looks for the Spot service-linked role docker+machine needs.
		policy.Statement{Sid: "SpotRole", Effect: "Allow", Action: []string{"iam:GetRole"},
			Resource: []string{fmt.Sprintf("arn:%s:iam::*:role/aws-service-role/spot.amazonaws.com/AWSServiceRoleForEC2Spot", partition)}},
		policy.Statement{Sid: "PassRoles", Effect: "Allow", Action: []string{"iam:PassRole"}, Resource: roles,
			Condition: map[string]map[string]any{"StringEquals": {"iam:PassedToService": "ec2.amazonaws.com"}}},
		// An interface endpoint with private DNS associates the VPC with a
		// private hosted zone AWS manages (its ARN is not known ahead),
		// with the caller's permission; Route 53 is global, so no region.
		policy.Statement{Sid: "EndpointDNS", Effect: "Allow", Action: []string{"route53:AssociateVPCWithHostedZone"},
			Resource: []string{"*"}},
		// CreateAutoScalingGroup makes Auto Scaling's service-linked role
		// in an account that has none, with the caller's permissions.
		policy.Statement{Sid: "ASGRole", Effect: "Allow", Action: []string{"iam:CreateServiceLinkedRole"},
			Resource:  []string{fmt.Sprintf("arn:%s:iam::*:role/aws-service-role/autoscaling.amazonaws.com/AWSServiceRoleForAutoScaling", partition)},
			Condition: map[string]map[string]any{"StringEquals": {"iam:AWSServiceName": "autoscaling.amazonaws.com"}}},
		policy.Statement{Sid: "Parameters", Effect: "Allow", Action: ssmParameterActions, Resource: []string{stack.StackParameters(a, cfg.Stack)}},
		// The latest images are read from AWS's public parameters, alone or
		// with the stack's own in one GetParameters call.
		policy.Statement{Sid: "Images", Effect: "Allow", Action: []string{"ssm:GetParameter", "ssm:GetParameters"},
			Resource: []string{fmt.Sprintf("arn:%s:ssm:%s::parameter/aws/service/*", partition, region)}},
		policy.Statement{Sid: "CreateGroup", Effect: "Allow", Action: []string{"autoscaling:CreateAutoScalingGroup", "autoscaling:CreateOrUpdateTags"},
			Resource: stack.GroupResources(a, cfg.Stack), Condition: requestTagged},
		policy.Statement{Sid: "ChangeGroup", Effect: "Allow", Action: autoScalingWrites, Resource: stack.GroupResources(a, cfg.Stack), Condition: tagged},
	)
	// The cache bucket (cache.s3), named <stack>-cache-<hash of account and
	// region>: always in the policy, as down removes one made earlier.
	cacheBucket := fmt.Sprintf("arn:%s:s3:::%s", partition, stack.CacheBucketPattern(cfg.Stack))
	st = append(st,
		policy.Statement{Sid: "Cache", Effect: "Allow", Action: cacheBucketActions, Resource: []string{cacheBucket}},
		policy.Statement{Sid: "EmptyCache", Effect: "Allow", Action: []string{"s3:DeleteObject"}, Resource: []string{cacheBucket + "/*"}})
	// The manager's log group, by its exact name: made, kept in shape and
	// read (provision logs). CreateLogGroup with tags takes
	// logs:TagResource too ("Actions, resources, and condition keys for
	// Amazon CloudWatch Logs"). Finding it lists the groups of the region.
	st = append(st,
		policy.Statement{Sid: "Logs", Effect: "Allow", Action: logGroupActions, Resource: a.LogGroupAndStreams(stack.Names{Stack: cfg.Stack}.LogGroup())},
		policy.Statement{Sid: "FindLogs", Effect: "Allow", Action: []string{"logs:DescribeLogGroups"}, Resource: []string{a.LogGroup("*")}},
		// provision cost reads on-demand prices; the API takes no resource.
		policy.Statement{Sid: "Prices", Effect: "Allow", Action: []string{"pricing:GetProducts"}, Resource: []string{"*"}})
	st = append(st, itsKeyStatements(cfg, partition, region)...)
	if s3 := cfg.State.S3; s3 != nil {
		// s3:GetObject also authorizes the deletes conditional on an ETag
		// (If-Match), which S3 evaluates with both permissions.
		st = append(st,
			policy.Statement{Sid: "State", Effect: "Allow", Action: []string{"s3:GetObject", "s3:PutObject", "s3:DeleteObject"},
				Resource: []string{fmt.Sprintf("arn:%s:s3:::%s/%s", partition, s3.Bucket, s3.Key), fmt.Sprintf("arn:%s:s3:::%s/%s.lock", partition, s3.Bucket, s3.Key)}},
			policy.Statement{Sid: "StateBucket", Effect: "Allow", Action: []string{"s3:GetBucketVersioning"},
				Resource: []string{fmt.Sprintf("arn:%s:s3:::%s", partition, s3.Bucket)}})
	}
	return policy.PolicyDocument{Version: "2012-10-17", Statement: st}
}

// ManagedPolicyLimit is how long a managed policy may be: 6,144
// characters, whitespace not counted ("IAM and AWS STS quotas" in the IAM
// User Guide).
const ManagedPolicyLimit = 6144

// ToolPolicyParts is ToolPolicy in as many managed policies as its length
// needs, statements kept whole and in order: all of them are attached to
// the operator.
func ToolPolicyParts(cfg *config.Config) []policy.PolicyDocument {
	var parts []policy.PolicyDocument
	cur := policy.PolicyDocument{Version: "2012-10-17"}
	for _, s := range ToolPolicy(cfg).Statement {
		next := cur
		next.Statement = append(append([]policy.Statement{}, cur.Statement...), s)
		if len(next.JSON()) > ManagedPolicyLimit && len(cur.Statement) > 0 {
			parts = append(parts, cur)
			next = policy.PolicyDocument{Version: "2012-10-17", Statement: []policy.Statement{s}}
		}
		cur = next
	}
	return append(parts, cur)
}

// createdInResources are what the calls of ec2CreatesIn make their
// resource in.
func createdInResources(a policy.ARNs) []string {
	var out []string
	for _, t := range []string{"vpc", "subnet", "security-group", "route-table", "elastic-ip"} {
		out = append(out, a.EC2(t+"/*"))
	}
	return out
}

// creationNames are the EC2 calls in ec2Creates, as ec2:CreateAction
// names them.
func creationNames() []string {
	names := make([]string, len(ec2Creates))
	for i, a := range ec2Creates {
		names[i] = strings.TrimPrefix(a, "ec2:")
	}
	return names
}

// returnToDefaultACL lets down put a subnet back on its VPC's default
// network ACL: in an existing VPC only that VPC's ACLs (ec2:Vpc); in the
// stack's own VPC, whose id is not known ahead, any ACL of the region,
// which lets the holder move a subnet between ACLs but reaches no data or
// permission (docs/security.md, "Security model").
func returnToDefaultACL(cfg *config.Config, a policy.ARNs, inRegion func(map[string]map[string]any) map[string]map[string]any) policy.Statement {
	s := policy.Statement{Sid: "DefaultACL", Effect: "Allow", Action: []string{"ec2:ReplaceNetworkAclAssociation"},
		Resource: []string{a.EC2("network-acl/*")}, Condition: inRegion(nil)}
	if vpc := cfg.Network.VpcID; vpc != "" {
		s.Condition = inRegion(map[string]map[string]any{"ArnLike": {"ec2:Vpc": a.EC2("vpc/" + vpc)}})
	}
	return s
}

// The KMS actions on the stack's secrets key (kms/secrets): what the tool
// calls itself, then what SSM calls with the caller's permissions when the
// tool puts a SecureString under the key (Encrypt, or GenerateDataKey in
// the advanced tier) or reads one decrypted (Decrypt).
var (
	secretsKeyActions = []string{
		"kms:CreateAlias", "kms:DeleteAlias", "kms:DescribeKey", "kms:GetKeyPolicy", "kms:ListResourceTags",
		"kms:PutKeyPolicy", "kms:ScheduleKeyDeletion", "kms:TagResource", "kms:UntagResource",
	}
	secretsKeyUse = []string{"kms:Decrypt", "kms:Encrypt", "kms:GenerateDataKey"}
)

// itsKeyStatements scope the secrets key's actions as far as KMS lets
// them: a key by the stack's tag (KMS names no key ahead: its ARN holds a
// random id), CreateKey by the tag it must be made with (tags at creation
// are authorized as kms:TagResource, so TagResource with the stack's tag
// is allowed on any key: whoever may run this policy could tag another key
// of the account as the stack's), the alias by its name, the key's use
// through SSM only. ListKeys and ListAliases (finding the key by its
// tags) and ssm:DescribeParameters (which key a parameter is under) take
// no resource.
func itsKeyStatements(cfg *config.Config, partition, region string) []policy.Statement {
	a := policy.ARNs{Partition: partition, Region: region, Account: "*"}
	keys := fmt.Sprintf("arn:%s:kms:%s:*:key/*", partition, region)
	tagged := map[string]any{"aws:ResourceTag/" + stack.TagStack: cfg.Stack}
	st := []policy.Statement{
		{Sid: "Key", Effect: "Allow", Action: secretsKeyActions, Resource: []string{keys},
			Condition: map[string]map[string]any{"StringEquals": tagged}},
		{Sid: "CreateKey", Effect: "Allow", Action: []string{"kms:CreateKey", "kms:TagResource"}, Resource: []string{"*"},
			Condition: map[string]map[string]any{"StringEquals": {"aws:RequestTag/" + stack.TagStack: cfg.Stack}}},
		{Sid: "KeyAlias", Effect: "Allow", Action: []string{"kms:CreateAlias", "kms:DeleteAlias"},
			Resource: []string{fmt.Sprintf("arn:%s:kms:%s:*:alias/provision/%s", partition, region, cfg.Stack)}},
		{Sid: "KeyViaSSM", Effect: "Allow", Action: secretsKeyUse, Resource: []string{keys},
			Condition: map[string]map[string]any{"StringEquals": tagged, "StringLike": {"kms:ViaService": policy.ViaSSMLike(region),
				"kms:EncryptionContext:PARAMETER_ARN": stack.StackParameters(a, cfg.Stack)}}},
		{Sid: "FindKey", Effect: "Allow", Action: []string{"kms:ListAliases", "kms:ListKeys", "ssm:DescribeParameters"}, Resource: []string{"*"}},
	}
	if given := cfg.Secrets.KMSKeyID; given != "" {
		// A key of one's own: its key policy must allow this too (docs/configuration.md,
		// "Secrets"), or enable IAM policies.
		grant := (&stack.Env{Cfg: cfg}).SecretsKeyGrantOf(a)
		s := policy.Statement{Sid: "GivenKeyViaSSM", Effect: "Allow", Action: secretsKeyUse, Resource: []string{grant.Resource},
			Condition: map[string]map[string]any{"StringLike": {"kms:ViaService": policy.ViaSSMLike(region)}}}
		if grant.Alias != "" {
			s.Condition["ForAnyValue:StringEquals"] = map[string]any{"kms:ResourceAliases": grant.Alias}
		}
		st = append(st, s)
	}
	return st
}
