package config

import "fmt"

// What follows from the configuration, asked in many places.

// Autoscaler: some fleet uses the docker-autoscaler executor (the stack
// has launch templates, groups, their drain and the cache).
func (c *Config) Autoscaler() bool { return c.anyFleet(Fleet.Autoscaler) }

// Machines: some fleet uses docker+machine (the manager launches machines
// itself, with the runner role).
func (c *Config) Machines() bool {
	return c.anyFleet(func(f Fleet) bool { return f.Executor == ExecutorDockerMachine })
}

// StaticSSHKeys: the manager reaches some fleet's machines with the
// stack's own key pair instead of a key pushed per machine through EC2
// Instance Connect.
func (c *Config) StaticSSHKeys() bool { return c.anyFleet(Fleet.StaticSSHKeys) }

// WindowsFleets: some fleet runs Windows machines (reached over WinRM).
func (c *Config) WindowsFleets() bool { return c.anyFleet(Fleet.Windows) }

// OwnSecretsKey: the stack makes the key of its SecureString parameters
// (no secrets.kms_key_id).
func (c *Config) OwnSecretsKey() bool { return c.Secrets.KMSKeyID == "" }

// SpotPools is how many Spot capacity pools (an instance type in a zone)
// a fleet's group draws from; 0 when Auto Scaling picks the types
// (instance_requirements) or the machines are not Spot.
func (c *Config) SpotPools(f Fleet) int {
	if !f.Autoscaler() || !f.Spot || f.InstanceRequirements != nil {
		return 0
	}
	return len(f.RunnerTypes()) * c.Network.ZoneCount()
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
