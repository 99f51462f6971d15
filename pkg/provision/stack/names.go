package stack

import (
	"github.com/provision-dev/provision/pkg/plan"
	"github.com/provision-dev/provision/pkg/provision/config"
)

// Every step id, in the order the README's "What gets built" lists them.
// They key the state file and the provision:step tag: never rename one.
const (
	StepVPC            plan.ID = "vpc"
	StepIGW            plan.ID = "igw"
	stepEIGW           plan.ID = "eigw"
	StepPublicSubnet   plan.ID = "subnet/public"
	StepPrivateSubnet  plan.ID = "subnet/private"
	stepPublicRoutes   plan.ID = "rtb/public"
	StepNATAddress     plan.ID = "eip/nat"
	StepNAT            plan.ID = "nat"
	stepPrivateRoutes  plan.ID = "rtb/private"
	stepPublicACL      plan.ID = "nacl/public"
	stepPrivateACL     plan.ID = "nacl/private"
	StepManagerGroup   plan.ID = "sg/manager"
	StepRunnerGroup    plan.ID = "sg/runner"
	stepEndpointGroup  plan.ID = "sg/endpoints"
	stepS3Endpoint     plan.ID = "vpce/s3"
	StepCache          plan.ID = "s3/cache"
	stepSecretsKey     plan.ID = "kms/secrets"
	StepToken          plan.ID = "ssm/token"
	StepGitLabRunner   plan.ID = "gitlab/runner"
	stepManagerRole    plan.ID = "iam/manager"
	stepRunnerRole     plan.ID = "iam/runner"
	StepSSHKey         plan.ID = "ssm/ssh-key"
	stepKeyPair        plan.ID = "keypair/runner"
	stepLaunchTemplate plan.ID = "lt/runner"
	StepAutoScaling    plan.ID = "asg/runner"
	stepMachines       plan.ID = "machines/runner"
	StepManagerAddress plan.ID = "eip/manager"
	StepManager        plan.ID = "instance/manager"
	stepManagerAssoc   plan.ID = "eip/manager-assoc"
	stepDrain          plan.ID = "drain/manager"
	stepGitLabIngress  plan.ID = "gitlab/ingress"
	tagGitLabRunnerID          = "provision:gitlab-runner-id"
)

// TokenParameter is the SSM parameter holding the runner token.
func (e *Env) TokenParameter() string { return "/provision/" + e.Cfg.Stack + "/runner-token" }

// secretsKeyAlias names the stack's own KMS key, for people: the tool
// itself goes by the key's ARN in the state.
func (e *Env) secretsKeyAlias() string { return "alias/provision/" + e.Cfg.Stack }

// ownSecretsKey: the stack makes the key of its SecureString parameters
// (no secrets.kms_key_id).
func (e *Env) ownSecretsKey() bool { return e.Cfg.Secrets.KMSKeyID == "" }

// BootParameter is the SSM parameter the manager reports its boot stages
// in; the manager's role may write it and no other parameter.
func (e *Env) BootParameter() string { return BootParameterName(e.Cfg.Stack) }

// BootParameterName is BootParameter for a stack name.
func BootParameterName(stack string) string { return "/provision/" + stack + "/manager-boot" }

// SSHKeyParameter is the SSM parameter holding the machines' private SSH
// key (runners.ssh_keys: static).
func (e *Env) SSHKeyParameter() string { return "/provision/" + e.Cfg.Stack + "/runner-ssh-key" }

// keyPairName is the EC2 key pair of the machines (runners.ssh_keys: static).
func (e *Env) keyPairName() string { return e.Cfg.Stack + "-runner" }

// staticKeys: the manager reaches the machines with the stack's own key
// pair instead of a key pushed per machine through EC2 Instance Connect.
func (e *Env) staticKeys() bool {
	return e.Autoscaler() && e.Cfg.Runners.SSHKeys == config.SSHKeysStatic
}

func (e *Env) managerParameters() managerParameters {
	p := managerParameters{token: e.TokenParameter(), boot: e.BootParameter(), key: e.secretsKeyGrant()}
	if e.staticKeys() {
		p.sshKey = e.SSHKeyParameter()
	}
	if e.Cfg.Cache.S3 && e.Autoscaler() {
		p.cacheBucket = e.CacheBucketName()
	}
	if e.Autoscaler() {
		p.drain = DrainParameterName(e.Cfg.Stack)
	}
	return p
}

// iamName names a role and its instance profile. IAM names are global to
// the account, so the region is part of them.
func (e *Env) iamName(role string) string { return IAMName(e.Cfg.Stack, e.Region, role) }

// iamName is <stack>-<region>-<what>: the stack's roles, instance
// profiles and permissions boundary, also where no Env is at hand (the
// policies printed from the configuration alone).
func IAMName(stack, region, what string) string { return stack + "-" + region + "-" + what }

func (e *Env) launchTemplateName() string { return e.Cfg.Stack + "-runner" }

// runnerTypes are the instance types the machines may run, preferred
// first: runners.instance_type, then runners.instance_types.
func (e *Env) runnerTypes() []string {
	return append([]string{e.Cfg.Runners.InstanceType}, e.Cfg.Runners.InstanceTypes...)
}

// mixedInstances: the group launches through a mixed-instances policy
// (Spot, or several types). Auto Scaling then decides on-demand or Spot,
// and refuses a launch template that asks for Spot itself.
func (e *Env) mixedInstances() bool {
	return e.Autoscaler() && (e.Cfg.Runners.Spot || len(e.Cfg.Runners.InstanceTypes) > 0)
}

func (e *Env) Autoscaler() bool { return e.Cfg.Runners.Executor == config.ExecutorDockerAutoscaler }

// StateRecordParameter names the stack's record.
func StateRecordParameter(stack string) string { return "/provision/" + stack + "/state-location" }
