package provision

import (
	"fmt"
	"strings"
)

// The actions provision itself calls, by what they do. The e2e suite
// proves the lists: every action it sees the tool call is in the policy,
// and the policy holds no action the suite never sees called (but those
// AWS calls on the tool's behalf).
var (
	ec2Reads = []string{
		"ec2:DescribeAccountAttributes", "ec2:DescribeAddresses", "ec2:DescribeAvailabilityZones",
		"ec2:DescribeEgressOnlyInternetGateways", "ec2:DescribeImages", "ec2:DescribeInstanceTypeOfferings",
		"ec2:DescribeInstanceTypes", "ec2:DescribeInstances", "ec2:DescribeInternetGateways", "ec2:DescribeKeyPairs",
		"ec2:DescribeLaunchTemplateVersions", "ec2:DescribeLaunchTemplates", "ec2:DescribeNatGateways",
		"ec2:DescribeNetworkAcls", "ec2:DescribeNetworkInterfaces", "ec2:DescribeRegions", "ec2:DescribeRouteTables",
		"ec2:DescribeSecurityGroups", "ec2:DescribeSpotInstanceRequests", "ec2:DescribeSubnets",
		"ec2:DescribeVpcAttribute", "ec2:DescribeVpcEndpoints", "ec2:DescribeVpcs", "ec2:GetConsoleOutput", "ec2:GetEbsDefaultKmsKeyId",
	}
	ec2Writes = []string{
		"ec2:AllocateAddress", "ec2:AssociateAddress", "ec2:AssociateRouteTable", "ec2:AssociateSubnetCidrBlock",
		"ec2:AssociateVpcCidrBlock", "ec2:AttachInternetGateway", "ec2:AuthorizeSecurityGroupEgress",
		"ec2:AuthorizeSecurityGroupIngress", "ec2:CancelSpotInstanceRequests", "ec2:CreateEgressOnlyInternetGateway",
		"ec2:CreateInternetGateway", "ec2:CreateLaunchTemplate", "ec2:CreateLaunchTemplateVersion",
		"ec2:CreateNatGateway", "ec2:CreateNetworkAcl", "ec2:CreateNetworkAclEntry", "ec2:CreateRoute",
		"ec2:CreateRouteTable", "ec2:CreateSecurityGroup", "ec2:CreateSubnet", "ec2:CreateTags", "ec2:CreateVpc",
		"ec2:CreateVpcEndpoint", "ec2:DeleteVpcEndpoints", "ec2:ModifyVpcEndpoint",
		"ec2:DeleteEgressOnlyInternetGateway", "ec2:DeleteInternetGateway", "ec2:DeleteKeyPair",
		"ec2:DeleteLaunchTemplate", "ec2:DeleteNatGateway", "ec2:DeleteNetworkAcl", "ec2:DeleteNetworkAclEntry",
		"ec2:DeleteRoute", "ec2:DeleteRouteTable", "ec2:DeleteSecurityGroup", "ec2:DeleteSubnet", "ec2:DeleteTags",
		"ec2:DeleteVpc", "ec2:DetachInternetGateway", "ec2:DisassociateAddress", "ec2:DisassociateRouteTable",
		"ec2:ImportKeyPair", "ec2:ModifyInstanceAttribute", "ec2:ModifyLaunchTemplate", "ec2:ModifySubnetAttribute",
		"ec2:ModifyVpcAttribute", "ec2:ReleaseAddress", "ec2:ReplaceNetworkAclAssociation",
		"ec2:ReplaceNetworkAclEntry", "ec2:ReplaceRoute", "ec2:ReplaceRouteTableAssociation",
		"ec2:RevokeSecurityGroupEgress", "ec2:RevokeSecurityGroupIngress", "ec2:RunInstances", "ec2:StartInstances",
		"ec2:TerminateInstances",
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
	iamRoleActions = []string{
		"iam:AddRoleToInstanceProfile", "iam:CreateInstanceProfile", "iam:CreateRole", "iam:DeleteInstanceProfile",
		"iam:DeleteRole", "iam:DeleteRolePolicy", "iam:DetachRolePolicy", "iam:GetInstanceProfile", "iam:GetRole",
		"iam:GetRolePolicy", "iam:ListAttachedRolePolicies", "iam:ListRolePolicies", "iam:PutRolePolicy",
		"iam:RemoveRoleFromInstanceProfile", "iam:TagInstanceProfile", "iam:TagRole", "iam:UntagInstanceProfile",
		"iam:UntagRole", "iam:UpdateAssumeRolePolicy",
	}
	ssmParameterActions = []string{
		"ssm:AddTagsToResource", "ssm:DeleteParameter", "ssm:GetParameter", "ssm:GetParameters", "ssm:ListTagsForResource",
		"ssm:PutParameter", "ssm:RemoveTagsFromResource",
	}
	autoScalingWrites = []string{
		"autoscaling:CreateAutoScalingGroup", "autoscaling:CreateOrUpdateTags", "autoscaling:DeleteAutoScalingGroup",
		"autoscaling:DeleteTags", "autoscaling:SetInstanceProtection", "autoscaling:SuspendProcesses",
		"autoscaling:UpdateAutoScalingGroup",
	}
)

// ToolPolicy is the least-privilege policy for the person or CI job that
// runs up, down, plan, status and doctor for this configuration. What the
// tool creates by name is named (its roles and instance profiles, its SSM
// parameters, its Auto Scaling group, its state object); EC2's writes are
// allowed in the stack's region only, since the tool also changes what it
// does not tag (GitLab's group, an existing VPC's subnets, untagged Spot
// machines of docker+machine) and a tag condition would lock those out.
// Both executors' actions are always in it: down removes what either built.
func ToolPolicy(cfg *Config) PolicyDocument {
	partition := partitionOf(cfg.Region)
	region, regionCond := cfg.Region, map[string]map[string]string(nil)
	if region == "" {
		region = "*"
	} else {
		regionCond = map[string]map[string]string{"StringEquals": {"aws:RequestedRegion": region}}
	}
	iamName := fmt.Sprintf("%s-%s-*", cfg.Stack, region)
	st := []Statement{
		{Sid: "ReadWhatItChecks", Effect: "Allow", Action: append(append([]string{}, ec2Reads...),
			"autoscaling:DescribeAutoScalingGroups", "sts:GetCallerIdentity", "kms:DescribeKey", "kms:GetKeyPolicy", "kms:ListGrants"),
			Resource: []string{"*"}},
		{Sid: "BuildTheNetworkAndInstancesInTheRegion", Effect: "Allow", Action: ec2Writes, Resource: []string{"*"}, Condition: regionCond},
		{Sid: "ItsRolesAndInstanceProfiles", Effect: "Allow", Action: iamRoleActions, Resource: []string{
			fmt.Sprintf("arn:%s:iam::*:role%s%s", partition, iamPath, iamName),
			fmt.Sprintf("arn:%s:iam::*:instance-profile%s%s", partition, iamPath, iamName),
		}},
		// Preflight looks for the Spot service-linked role docker+machine needs.
		{Sid: "SeeTheSpotServiceLinkedRole", Effect: "Allow", Action: []string{"iam:GetRole"},
			Resource: []string{fmt.Sprintf("arn:%s:iam::*:role/aws-service-role/spot.amazonaws.com/AWSServiceRoleForEC2Spot", partition)}},
		{Sid: "PassItsRolesToEC2", Effect: "Allow", Action: []string{"iam:PassRole"},
			Resource:  []string{fmt.Sprintf("arn:%s:iam::*:role%s%s", partition, iamPath, iamName)},
			Condition: map[string]map[string]string{"StringEquals": {"iam:PassedToService": "ec2.amazonaws.com"}}},
		// CreateAutoScalingGroup makes Auto Scaling's service-linked role
		// in an account that has none, with the caller's permissions.
		// An interface endpoint with private DNS associates the VPC with a
		// private hosted zone AWS manages (its ARN is not known ahead),
		// with the caller's permission; Route 53 is global, so no region.
		{Sid: "LetEndpointsAssociateTheirPrivateDNS", Effect: "Allow", Action: []string{"route53:AssociateVPCWithHostedZone"},
			Resource: []string{"*"}},
		{Sid: "LetAutoScalingCreateItsServiceLinkedRole", Effect: "Allow", Action: []string{"iam:CreateServiceLinkedRole"},
			Resource:  []string{fmt.Sprintf("arn:%s:iam::*:role/aws-service-role/autoscaling.amazonaws.com/AWSServiceRoleForAutoScaling", partition)},
			Condition: map[string]map[string]string{"StringEquals": {"iam:AWSServiceName": "autoscaling.amazonaws.com"}}},
		{Sid: "ItsParameters", Effect: "Allow", Action: ssmParameterActions,
			Resource: []string{fmt.Sprintf("arn:%s:ssm:%s:*:parameter/provision/%s/*", partition, region, cfg.Stack)}},
		// The latest images are read from AWS's public parameters, alone or
		// with the stack's own in one GetParameters call.
		{Sid: "FindTheLatestImages", Effect: "Allow", Action: []string{"ssm:GetParameter", "ssm:GetParameters"},
			Resource: []string{fmt.Sprintf("arn:%s:ssm:%s::parameter/aws/service/*", partition, region)}},
		{Sid: "ItsAutoScalingGroup", Effect: "Allow", Action: autoScalingWrites,
			Resource: []string{fmt.Sprintf("arn:%s:autoscaling:%s:*:autoScalingGroup:*:autoScalingGroupName/%s-runners*", partition, region, cfg.Stack)}},
	}
	// The cache bucket (cache.s3), named <stack>-cache-<hash of account and
	// region>: always in the policy, as down removes one made earlier.
	cacheBucket := fmt.Sprintf("arn:%s:s3:::%s-cache-*", partition, cfg.Stack)
	st = append(st,
		Statement{Sid: "ItsCacheBucket", Effect: "Allow", Action: cacheBucketActions, Resource: []string{cacheBucket}},
		Statement{Sid: "EmptyItsCacheBucket", Effect: "Allow", Action: []string{"s3:DeleteObject"}, Resource: []string{cacheBucket + "/*"}})
	st = append(st, itsKeyStatements(cfg, partition, region)...)
	if s3 := cfg.State.S3; s3 != nil {
		// s3:GetObject also authorizes the deletes conditional on an ETag
		// (If-Match), which S3 evaluates with both permissions.
		st = append(st,
			Statement{Sid: "ItsStateAndLock", Effect: "Allow", Action: []string{"s3:GetObject", "s3:PutObject", "s3:DeleteObject"},
				Resource: []string{fmt.Sprintf("arn:%s:s3:::%s/%s", partition, s3.Bucket, s3.Key), fmt.Sprintf("arn:%s:s3:::%s/%s.lock", partition, s3.Bucket, s3.Key)}},
			Statement{Sid: "CheckTheStateBucketKeepsVersions", Effect: "Allow", Action: []string{"s3:GetBucketVersioning"},
				Resource: []string{fmt.Sprintf("arn:%s:s3:::%s", partition, s3.Bucket)}})
	}
	return PolicyDocument{Version: "2012-10-17", Statement: st}
}

// partitionOf is the ARN partition of a region.
func partitionOf(region string) string {
	switch {
	case strings.HasPrefix(region, "cn-"):
		return "aws-cn"
	case strings.HasPrefix(region, "us-gov-"):
		return "aws-us-gov"
	}
	return "aws"
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
func itsKeyStatements(cfg *Config, partition, region string) []Statement {
	keys := fmt.Sprintf("arn:%s:kms:%s:*:key/*", partition, region)
	tagged := map[string]string{"aws:ResourceTag/" + TagStack: cfg.Stack}
	st := []Statement{
		{Sid: "ItsKey", Effect: "Allow", Action: secretsKeyActions, Resource: []string{keys},
			Condition: map[string]map[string]string{"StringEquals": tagged}},
		{Sid: "CreateItsKey", Effect: "Allow", Action: []string{"kms:CreateKey", "kms:TagResource"}, Resource: []string{"*"},
			Condition: map[string]map[string]string{"StringEquals": {"aws:RequestTag/" + TagStack: cfg.Stack}}},
		{Sid: "NameItsKey", Effect: "Allow", Action: []string{"kms:CreateAlias", "kms:DeleteAlias"},
			Resource: []string{fmt.Sprintf("arn:%s:kms:%s:*:alias/provision/%s", partition, region, cfg.Stack)}},
		{Sid: "UseItsKeyThroughSSM", Effect: "Allow", Action: secretsKeyUse, Resource: []string{keys},
			Condition: map[string]map[string]string{"StringEquals": tagged, "StringLike": {"kms:ViaService": "ssm." + region + ".amazonaws.com*"}}},
		{Sid: "FindItsKey", Effect: "Allow", Action: []string{"kms:ListAliases", "kms:ListKeys", "ssm:DescribeParameters"}, Resource: []string{"*"}},
	}
	if given := cfg.Secrets.KMSKeyID; given != "" {
		// A key of one's own: its key policy must allow this too (README,
		// "Secrets"), or enable IAM policies.
		a := arns{partition: partition, region: region, account: "*"}
		grant := (&Env{Cfg: cfg}).secretsKeyGrantOf(a)
		s := Statement{Sid: "UseTheGivenKeyThroughSSM", Effect: "Allow", Action: secretsKeyUse, Resource: []string{grant.resource},
			Condition: map[string]map[string]string{"StringLike": {"kms:ViaService": "ssm." + region + ".amazonaws.com*"}}}
		if grant.alias != "" {
			s.Condition["ForAnyValue:StringEquals"] = map[string]string{"kms:ResourceAliases": grant.alias}
		}
		st = append(st, s)
	}
	return st
}
