package stack

import (
	"github.com/provision-dev/provision/pkg/plan"
	"github.com/provision-dev/provision/pkg/provision/policy"
)

// Every step id (the interface endpoints' are vpce/<service>, made in
// vpc_endpoint.go; the zones after the first add "/N" to the per-zone ones,
// zones.go). The order of the graph is stack.go's. They key the
// state file and the provision:step tag: never rename one.
const (
	StepVPC            plan.ID = "vpc"
	StepIGW            plan.ID = "igw"
	StepEIGW           plan.ID = "eigw"
	StepPublicSubnet   plan.ID = "subnet/public"
	StepPrivateSubnet  plan.ID = "subnet/private"
	StepPublicRoutes   plan.ID = "rtb/public"
	StepNATAddress     plan.ID = "eip/nat"
	StepNAT            plan.ID = "nat"
	StepPrivateRoutes  plan.ID = "rtb/private"
	StepPublicACL      plan.ID = "nacl/public"
	StepPrivateACL     plan.ID = "nacl/private"
	StepManagerGroup   plan.ID = "sg/manager"
	StepRunnerGroup    plan.ID = "sg/runner"
	StepEndpointGroup  plan.ID = "sg/endpoints"
	StepS3Endpoint     plan.ID = "vpce/s3"
	StepCache          plan.ID = "s3/cache"
	StepSecretsKey     plan.ID = "kms/secrets"
	StepToken          plan.ID = "ssm/token"
	StepRunnerConfig   plan.ID = "ssm/runner-config"
	StepGitLabRunner   plan.ID = "gitlab/runner"
	StepManagerRole    plan.ID = "iam/manager"
	StepRunnerRole     plan.ID = "iam/runner"
	StepSSHKey         plan.ID = "ssm/ssh-key"
	StepKeyPair        plan.ID = "keypair/runner"
	StepLaunchTemplate plan.ID = "lt/runner"
	StepAutoScaling    plan.ID = "asg/runner"
	StepMachines       plan.ID = "machines/runner"
	StepManagerAddress plan.ID = "eip/manager"
	StepManager        plan.ID = "instance/manager"
	StepManagerAssoc   plan.ID = "eip/manager-assoc"
	StepDrain          plan.ID = "drain/manager"
	StepGitLabIngress  plan.ID = "gitlab/ingress"
	StepLogs           plan.ID = "logs/manager"
)

// tagGitLabRunnerID tags the token parameter with GitLab's id of its runner.
const tagGitLabRunnerID = "provision:gitlab-runner-id"

// BootParameterName is BootParameter for a stack name.
func BootParameterName(stack string) string { return "/provision/" + stack + "/manager-boot" }

func (e *Env) managerParameters() policy.ManagerParameters {
	p := policy.ManagerParameters{Boot: e.Names().BootParameter(), Config: e.Names().RunnerConfigParameter(), LogGroup: e.Names().LogGroup(), Key: e.secretsKeyGrant()}
	for _, f := range e.Cfg.FleetList() {
		p.Tokens = append(p.Tokens, e.Names().TokenParameter(f.Name))
		if f.Autoscaler() && len(e.Cfg.Fleets) > 0 {
			p.Groups = append(p.Groups, policy.FleetGroupPattern(e.Cfg.Stack, f.Name))
		}
		if f.Windows() {
			p.WindowsGroups = append(p.WindowsGroups, policy.FleetGroupPattern(e.Cfg.Stack, f.Name))
		}
	}
	if e.Cfg.StaticSSHKeys() {
		p.SSHKey = e.Names().SSHKeyParameter()
	}
	if e.Cfg.Cache.S3 && e.Cfg.Autoscaler() {
		p.CacheBucket = e.CacheBucketName()
	}
	if e.Cfg.Autoscaler() {
		p.Drain = DrainParameterName(e.Cfg.Stack)
	}
	return p
}

// IAMName is <stack>-<region>-<what>: the stack's roles, instance
// profiles and permissions boundary, also where no Env is at hand (the
// policies printed from the configuration alone).
func IAMName(stack, region, what string) string { return stack + "-" + region + "-" + what }

// StateRecordParameter names the stack's record.
func StateRecordParameter(stack string) string { return "/provision/" + stack + "/state-location" }

// Names are the names of the stack's resources that follow from its name
// and region alone.
type Names struct{ Stack, Region string }

// Names are this stack's names.
func (e *Env) Names() Names { return Names{Stack: e.Cfg.Stack, Region: e.Region} }

// TokenParameter is the SSM parameter holding a fleet's runner token.
func (n Names) TokenParameter(fleet string) string {
	return fleetName("/provision/"+n.Stack+"/runner-token", fleet)
}

// RunnerConfigParameter is the SSM parameter holding the runner
// configuration (config.toml without the token), which the manager applies.
func (n Names) RunnerConfigParameter() string { return "/provision/" + n.Stack + "/runner-config" }

// SecretsKeyAlias names the stack's own KMS key, for people: the tool
// itself goes by the key's ARN in the state.
func (n Names) SecretsKeyAlias() string { return "alias/provision/" + n.Stack }

// BootParameter is the SSM parameter the manager reports its boot stages
// in; the manager's role may write it and no other parameter.
func (n Names) BootParameter() string { return BootParameterName(n.Stack) }

// SSHKeyParameter is the SSM parameter holding the machines' private SSH
// key (runners.ssh_keys: static).
func (n Names) SSHKeyParameter() string { return "/provision/" + n.Stack + "/runner-ssh-key" }

// LogGroup is the CloudWatch Logs group of the manager's journal. A
// stack's name holds no slash, so no stack's group is inside another's.
func (n Names) LogGroup() string { return "/provision/" + n.Stack + "/manager" }

// KeyPairName is the EC2 key pair of the machines (runners.ssh_keys: static).
func (n Names) KeyPairName() string { return n.Stack + "-runner" }

// IAM names a role and its instance profile. IAM names are global to the
// account, so the region is part of them.
func (n Names) IAM(role string) string { return IAMName(n.Stack, n.Region, role) }

// LaunchTemplateName is a fleet's launch template.
func (n Names) LaunchTemplateName(fleet string) string { return fleetName(n.Stack+"-runner", fleet) }
