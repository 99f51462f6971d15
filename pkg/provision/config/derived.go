package config

import "fmt"

// What follows from the configuration, asked in many places.

// Autoscaler: the runners use the docker-autoscaler executor.
func (c *Config) Autoscaler() bool { return c.Runners.Executor == ExecutorDockerAutoscaler }

// StaticSSHKeys: the manager reaches the machines with the stack's own key
// pair instead of a key pushed per machine through EC2 Instance Connect.
func (c *Config) StaticSSHKeys() bool {
	return c.Autoscaler() && c.Runners.SSHKeys == SSHKeysStatic
}

// OwnSecretsKey: the stack makes the key of its SecureString parameters
// (no secrets.kms_key_id).
func (c *Config) OwnSecretsKey() bool { return c.Secrets.KMSKeyID == "" }

// RunnerTypes are the instance types the machines may run, preferred
// first: runners.instance_type, then runners.instance_types.
func (c *Config) RunnerTypes() []string {
	return append([]string{c.Runners.InstanceType}, c.Runners.InstanceTypes...)
}

// MixedInstances: the group launches through a mixed-instances policy
// (Spot, or several types). Auto Scaling then decides on-demand or Spot,
// and refuses a launch template that asks for Spot itself.
func (c *Config) MixedInstances() bool {
	return c.Autoscaler() && (c.Runners.Spot || len(c.Runners.InstanceTypes) > 0 || c.Runners.InstanceRequirements != nil)
}

// SpotPools is how many Spot capacity pools (an instance type in a zone)
// the group draws from; 0 when Auto Scaling picks the types
// (instance_requirements) or the machines are not Spot.
func (c *Config) SpotPools() int {
	if !c.Autoscaler() || !c.Runners.Spot || c.Runners.InstanceRequirements != nil {
		return 0
	}
	return len(c.RunnerTypes()) * c.Network.ZoneCount()
}

// String writes the requirements as the plan shows them.
func (r InstanceRequirements) String() string {
	span := func(g Range, unit string) string {
		if g.Max == 0 {
			return fmt.Sprintf("%d+%s", g.Min, unit)
		}
		return fmt.Sprintf("%d-%d%s", g.Min, g.Max, unit)
	}
	return "vcpu " + span(r.VCPU, "") + ", memory " + span(r.MemoryMiB, " MiB")
}

// ManagerImageLatest: without manager.ami, up moves the manager to the
// latest image of its family. By default only where a drain lets its
// jobs finish first (docker-autoscaler).
func (c *Config) ManagerImageLatest() bool {
	if c.Manager.ImageUpdates == "" {
		return c.Autoscaler()
	}
	return c.Manager.ImageUpdates == ImageUpdatesLatest
}

// RunnerImageLatest: without runners.ami, new machines get the latest image
// of their family.
func (c *Config) RunnerImageLatest() bool { return c.Runners.ImageUpdates != ImageUpdatesPinned }
