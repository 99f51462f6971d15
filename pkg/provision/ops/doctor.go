package ops

import (
	"context"
	"fmt"
	"net/netip"
	"net/url"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"

	"github.com/provision-dev/provision/pkg/plan"
	"github.com/provision-dev/provision/pkg/provision/awsapi"
	"github.com/provision-dev/provision/pkg/provision/config"
	"github.com/provision-dev/provision/pkg/provision/preflight"
	"github.com/provision-dev/provision/pkg/provision/stack"
	"github.com/provision-dev/provision/pkg/provision/traffic"
)

// Flow is one line of `provision doctor`: a path traffic must take, and
// whether the live security groups, ACLs and routes let it through.
type Flow struct {
	Name string `json:"flow"`
	OK   bool   `json:"ok"`
	// Blocked names the rule or route that stops the traffic, or what is
	// missing; Note adds what is worth knowing when it passes.
	Blocked string `json:"blocked,omitempty"`
	Note    string `json:"note,omitempty"`
}

// ephemeralPorts are the ends of Linux's ephemeral port range
// (net.ipv4.ip_local_port_range, 32768-60999 by default): the ports that
// answers come back to, which stateless ACLs must admit.
var ephemeralPorts = []int32{32768, 60999}

// liveNetwork is what doctor reads from AWS: the stack's resources as
// they are now, not as the state file remembers them.
type liveNetwork struct {
	publicCIDR, privateCIDR netip.Prefix
	publicACL, privateACL   *ec2types.NetworkAcl
	publicRoutes            *ec2types.RouteTable
	privateRoutes           *ec2types.RouteTable
	managerGroup, runnerSG  *ec2types.SecurityGroup
	gitlabGroup             *ec2types.SecurityGroup
	manager                 *ec2types.Instance
	managerEIP, natEIP      netip.Addr
	nat                     *ec2types.NatGateway
}

// Doctor checks the environment's traffic table against the live
// security groups, network ACLs and routes, and the manager's boot and
// token; each flow passes or names what blocks it. It only reads.
func Doctor(ctx context.Context, e *stack.Env) ([]Flow, error) {
	n, err := readLiveNetwork(ctx, e)
	if err != nil {
		return nil, err
	}
	gitlab, note := gitlabAddress(ctx, e)
	machine := firstHost(n.privateCIDR)
	var flows []Flow
	if gitlab.IsValid() {
		flows = append(flows,
			managerToGitLab(e, n, gitlab, note),
			machinesToGitLab(e, n, gitlab, machine, note))
	} else {
		flows = append(flows, Flow{Name: "GitLab's address", Blocked: note})
	}
	ports := []int32{22}
	if e.Cfg.Machines() {
		ports = append(ports, 2376)
	}
	for _, port := range ports {
		flows = append(flows, managerToMachines(e, n, machine, port))
	}
	for _, src := range e.Cfg.GitLab.SSHSourceCIDRs {
		flows = append(flows, sshToManager(e, n, src))
	}
	if gitlab.IsValid() {
		flows = append(flows, pathMTU(n, gitlab))
	}
	flows = append(flows, gitlabAdmits(e, n)...)
	flows = append(flows, bootFlow(ctx, e), tokenFlow(ctx, e))
	return flows, nil
}

// check is one hop of a flow: "" when it passes, else what blocks it.
type check func() string

// flow runs the checks in order; the first one that fails names the block.
func flow(name string, checks ...check) Flow {
	for _, c := range checks {
		if why := c(); why != "" {
			return Flow{Name: name, Blocked: why}
		}
	}
	return Flow{Name: name, OK: true}
}

func managerToGitLab(e *stack.Env, n liveNetwork, gitlab netip.Addr, note string) Flow {
	name := fmt.Sprintf("manager -> GitLab %s:443 (leaves from its Elastic IP %s)", gitlab, orNone(n.managerEIP))
	f := flow(name,
		func() string { return groupOut(n.managerGroup, "sg/manager", gitlab, 443) },
		func() string { return aclOut(n.publicACL, "nacl/public", gitlab, 443) },
		func() string { return routeVia(n.publicRoutes, "rtb/public", gitlab, "igw-") },
		func() string {
			if !n.managerEIP.IsValid() {
				return "the manager has no Elastic IP associated (eip/manager-assoc): run `provision up`"
			}
			return ""
		},
		func() string { return aclReturn(n.publicACL, "nacl/public", gitlab) },
	)
	f.Note = note
	return f
}

func machinesToGitLab(e *stack.Env, n liveNetwork, gitlab, machine netip.Addr, note string) Flow {
	name := fmt.Sprintf("runner machines -> GitLab %s:443 (through the NAT gateway, from %s)", gitlab, orNone(n.natEIP))
	natID := ""
	if n.nat != nil {
		natID = aws.ToString(n.nat.NatGatewayId)
	}
	f := flow(name,
		func() string { return groupOut(n.runnerSG, "sg/runner", gitlab, 443) },
		func() string { return aclOut(n.privateACL, "nacl/private", gitlab, 443) },
		func() string {
			if natID == "" {
				return "there is no NAT gateway (nat): run `provision up`"
			}
			if n.nat.State != ec2types.NatGatewayStateAvailable {
				return fmt.Sprintf("NAT gateway %s is %s", natID, n.nat.State)
			}
			return routeVia(n.privateRoutes, "rtb/private", gitlab, natID)
		},
		// The NAT gateway sits in the public subnet: its ACL sees the
		// machine's packet arrive, leave for GitLab, and the answer come
		// back and go on to the machine.
		func() string {
			return aclIn(n.publicACL, "nacl/public", machine, 443, "the machines' traffic to the NAT gateway")
		},
		func() string { return aclOut(n.publicACL, "nacl/public", gitlab, 443) },
		func() string { return routeVia(n.publicRoutes, "rtb/public", gitlab, "igw-") },
		func() string { return aclReturn(n.publicACL, "nacl/public", gitlab) },
		func() string { return aclReturnOut(n.publicACL, "nacl/public", machine) },
		func() string { return aclReturn(n.privateACL, "nacl/private", gitlab) },
	)
	f.Note = note
	return f
}

func managerToMachines(e *stack.Env, n liveNetwork, machine netip.Addr, port int32) Flow {
	managerIP := netip.Addr{}
	if n.manager != nil {
		managerIP, _ = netip.ParseAddr(aws.ToString(n.manager.PrivateIpAddress))
	}
	runnerGroup, managerGroup := stack.GroupID(n.runnerSG), stack.GroupID(n.managerGroup)
	return flow(fmt.Sprintf("manager -> runner machines %d (%s)", port, n.privateCIDR),
		func() string {
			if !managerIP.IsValid() {
				return "there is no manager (instance/manager): run `provision up`"
			}
			return ""
		},
		func() string { return groupOut(n.managerGroup, "sg/manager", machine, port, runnerGroup) },
		func() string { return aclOut(n.publicACL, "nacl/public", machine, port) },
		func() string { return groupIn(n.runnerSG, "sg/runner", managerIP, port, managerGroup) },
		func() string { return aclIn(n.privateACL, "nacl/private", managerIP, port, "the manager's connection") },
		func() string { return aclReturnOut(n.privateACL, "nacl/private", managerIP) },
		func() string { return aclReturn(n.publicACL, "nacl/public", machine) },
	)
}

func sshToManager(e *stack.Env, n liveNetwork, src string) Flow {
	p, err := netip.ParsePrefix(config.CanonicalCIDR(src))
	if err != nil {
		return Flow{Name: "SSH " + src + " -> manager 22", Blocked: "not a CIDR"}
	}
	from := p.Addr()
	return flow(fmt.Sprintf("SSH %s -> manager 22 (at %s)", src, orNone(n.managerEIP)),
		func() string { return groupIn(n.managerGroup, "sg/manager", from, 22) },
		func() string { return aclIn(n.publicACL, "nacl/public", from, 22, "SSH") },
		func() string { return aclReturnOut(n.publicACL, "nacl/public", from) },
	)
}

// pathMTU: a router's "fragmentation needed" must reach both subnets, or
// large transfers hang on any path with a smaller MTU.
func pathMTU(n liveNetwork, router netip.Addr) Flow {
	icmp := func(acl *ec2types.NetworkAcl, step string) string {
		ok, rule := traffic.Decide(aclEntries(acl), traffic.Packet{Protocol: "1", Peer: router.String(), ICMPType: 3, ICMPCode: 4})
		if !ok {
			return fmt.Sprintf("%s inbound %s ICMP fragmentation-needed (type 3 code 4)", aclName(acl, step), denial(rule))
		}
		return ""
	}
	return flow("ICMP fragmentation-needed reaches both subnets (path MTU discovery)",
		func() string { return icmp(n.publicACL, "nacl/public") },
		func() string { return icmp(n.privateACL, "nacl/private") })
}

// gitlabAdmits: GitLab's group admits both addresses on 443.
func gitlabAdmits(e *stack.Env, n liveNetwork) []Flow {
	if e.Cfg.GitLab.SecurityGroupID == "" {
		return nil
	}
	var out []Flow
	for _, a := range []struct {
		what string
		addr netip.Addr
	}{{"the manager's Elastic IP", n.managerEIP}, {"the NAT gateway's Elastic IP", n.natEIP}} {
		name := fmt.Sprintf("GitLab's group %s admits %s %s on 443", e.Cfg.GitLab.SecurityGroupID, a.what, orNone(a.addr))
		switch {
		case n.gitlabGroup == nil:
			out = append(out, Flow{Name: name, Blocked: "cannot read " + e.Cfg.GitLab.SecurityGroupID})
		case !a.addr.IsValid():
			out = append(out, Flow{Name: name, Blocked: "the address does not exist: run `provision up`"})
		default:
			out = append(out, flow(name, func() string {
				if !traffic.GroupAdmits(n.gitlabGroup.IpPermissions, "6", 443, a.addr) {
					return fmt.Sprintf("no inbound rule of %s admits tcp 443 from %s/32 (gitlab/ingress): run `provision up`", e.Cfg.GitLab.SecurityGroupID, a.addr)
				}
				return ""
			}))
		}
	}
	return out
}

func bootFlow(ctx context.Context, e *stack.Env) Flow {
	const name = "the manager's boot report"
	r, err := e.ReadBootReport(ctx)
	switch {
	case err != nil:
		return Flow{Name: name, Blocked: err.Error()}
	case r == nil:
		return Flow{Name: name, Blocked: "no report (" + e.Names().BootParameter() + " does not exist): " + DiagnoseBoot(ctx, e, nil).Cause}
	case r.Online():
		return Flow{Name: name, OK: true, Note: "online since " + r.Time.Format(time.RFC3339)}
	case r.Failed():
		return Flow{Name: name, Blocked: fmt.Sprintf("stage %s failed: %s", r.Stage, DiagnoseBoot(ctx, e, r).Cause)}
	}
	return Flow{Name: name, Blocked: fmt.Sprintf("still booting: last stage %s at %s", r.Stage, r.Time.Format(time.RFC3339))}
}

// tokenFlow asks GitLab whether the token the manager uses is valid and
// when it expires.
func tokenFlow(ctx context.Context, e *stack.Env) Flow {
	const name = "the runner token in SSM is valid"
	p, err := stack.GetParameter(ctx, e.SSM, e.Names().TokenParameter(e.Cfg.FirstFleet().Name), true)
	if err != nil || p == nil {
		return Flow{Name: name, Blocked: fmt.Sprintf("cannot read %s: %v", e.Names().TokenParameter(e.Cfg.FirstFleet().Name), err)}
	}
	exp, err := e.GitLab.VerifyRunnerToken(ctx, aws.ToString(p.Value))
	switch {
	case err != nil:
		return Flow{Name: name, Blocked: err.Error()}
	case exp.IsZero():
		return Flow{Name: name, OK: true, Note: "does not expire"}
	case time.Until(exp) < preflight.TokenExpiryWarning:
		return Flow{Name: name, OK: true, Note: "expires " + exp.UTC().Format(time.RFC3339) + ", soon: gitlab-runner renews it only while it runs"}
	}
	return Flow{Name: name, OK: true, Note: "expires " + exp.UTC().Format(time.RFC3339)}
}

// --- the hops ---

func groupOut(g *ec2types.SecurityGroup, step string, dst netip.Addr, port int32, dstGroups ...string) string {
	if g == nil {
		return step + " does not exist: run `provision up`"
	}
	if !traffic.GroupAdmits(g.IpPermissionsEgress, "6", port, dst, dstGroups...) {
		return fmt.Sprintf("%s (%s) has no outbound rule admitting tcp %d to %s", step, aws.ToString(g.GroupId), port, dst)
	}
	return ""
}

func groupIn(g *ec2types.SecurityGroup, step string, src netip.Addr, port int32, srcGroups ...string) string {
	if g == nil {
		return step + " does not exist: run `provision up`"
	}
	if !traffic.GroupAdmits(g.IpPermissions, "6", port, src, srcGroups...) {
		return fmt.Sprintf("%s (%s) has no inbound rule admitting tcp %d from %s", step, aws.ToString(g.GroupId), port, src)
	}
	return ""
}

func aclOut(acl *ec2types.NetworkAcl, step string, dst netip.Addr, port int32) string {
	if ok, rule := traffic.Decide(aclEntries(acl), traffic.Packet{Egress: true, Protocol: "6", Peer: dst.String(), Port: port}); !ok {
		return fmt.Sprintf("%s outbound %s tcp %d to %s", aclName(acl, step), denial(rule), port, dst)
	}
	return ""
}

func aclIn(acl *ec2types.NetworkAcl, step string, src netip.Addr, port int32, what string) string {
	if ok, rule := traffic.Decide(aclEntries(acl), traffic.Packet{Protocol: "6", Peer: src.String(), Port: port}); !ok {
		return fmt.Sprintf("%s inbound %s tcp %d from %s (%s)", aclName(acl, step), denial(rule), port, src, what)
	}
	return ""
}

// aclReturn: the answers from peer come back in to an ephemeral port.
func aclReturn(acl *ec2types.NetworkAcl, step string, peer netip.Addr) string {
	return aclAnswers(acl, step, peer, false)
}

// aclReturnOut: the answers to peer go out to its ephemeral port.
func aclReturnOut(acl *ec2types.NetworkAcl, step string, peer netip.Addr) string {
	return aclAnswers(acl, step, peer, true)
}

// aclAnswers checks both ends of the ephemeral range in one direction.
func aclAnswers(acl *ec2types.NetworkAcl, step string, peer netip.Addr, egress bool) string {
	dir, prep := "inbound", "from"
	if egress {
		dir, prep = "outbound", "to"
	}
	for _, port := range ephemeralPorts {
		if ok, rule := traffic.Decide(aclEntries(acl), traffic.Packet{Egress: egress, Protocol: "6", Peer: peer.String(), Port: port}); !ok {
			return fmt.Sprintf("%s %s %s the return traffic %s %s (tcp %d): ACLs are stateless, answers need a rule of their own", aclName(acl, step), dir, denial(rule), prep, peer, port)
		}
	}
	return ""
}

func routeVia(rt *ec2types.RouteTable, step string, dst netip.Addr, wantPrefix string) string {
	if rt == nil {
		return step + " does not exist or is not associated with its subnet: run `provision up`"
	}
	r, ok := traffic.Route(rt.Routes, dst)
	if !ok {
		return fmt.Sprintf("%s (%s) has no route to %s", step, aws.ToString(rt.RouteTableId), dst)
	}
	if got := traffic.Target(r); !strings.HasPrefix(got, wantPrefix) {
		return fmt.Sprintf("%s (%s) sends %s to %s (route %s), not to %s", step, aws.ToString(rt.RouteTableId), dst, got,
			aws.ToString(r.DestinationCidrBlock)+aws.ToString(r.DestinationIpv6CidrBlock), strings.TrimSuffix(wantPrefix, "-"))
	}
	return ""
}

func denial(rule int32) string {
	if rule == 0 {
		return "no rule admits"
	}
	return fmt.Sprintf("rule %d denies", rule)
}

func aclEntries(acl *ec2types.NetworkAcl) []ec2types.NetworkAclEntry {
	if acl == nil {
		return nil
	}
	return acl.Entries
}

func aclName(acl *ec2types.NetworkAcl, step string) string {
	if acl == nil {
		return step + " (missing: the subnet has no ACL of the stack)"
	}
	return fmt.Sprintf("%s (%s)", step, aws.ToString(acl.NetworkAclId))
}

func orNone(a netip.Addr) string {
	if !a.IsValid() {
		return "(none)"
	}
	return a.String()
}

// firstHost is the first address AWS gives to instances in a subnet (the
// first four are reserved).
func firstHost(p netip.Prefix) netip.Addr {
	a := p.Masked().Addr()
	for i := 0; i < 4 && a.IsValid(); i++ {
		a = a.Next()
	}
	return a
}

// gitlabAddress resolves gitlab.url to the IPv4 address the stack's
// traffic goes to; the note says when that address is not on the internet.
func gitlabAddress(ctx context.Context, e *stack.Env) (netip.Addr, string) {
	u, err := url.Parse(e.Cfg.GitLab.URL)
	if err != nil || u.Hostname() == "" {
		return netip.Addr{}, "gitlab.url is not set"
	}
	addrs, err := preflight.LookupGitLab(ctx, e, u.Hostname())
	if err != nil {
		return netip.Addr{}, fmt.Sprintf("%s does not resolve from here: %v", u.Hostname(), err)
	}
	for _, a := range addrs {
		if a = a.Unmap(); a.Is4() {
			if a.IsPrivate() || a.IsLoopback() {
				return a, "a private address: the stack reaches GitLab over the internet, so this only works if GitLab's public name resolves elsewhere to a public address"
			}
			return a, ""
		}
	}
	return netip.Addr{}, u.Hostname() + " has no IPv4 address"
}

// readLiveNetwork reads the stack's network as it is.
func readLiveNetwork(ctx context.Context, e *stack.Env) (liveNetwork, error) {
	var n liveNetwork
	n.publicCIDR, _ = netip.ParsePrefix(e.Cfg.Network.PublicSubnetCIDR)
	n.privateCIDR, _ = netip.ParsePrefix(e.Cfg.Network.PrivateSubnetCIDR)
	if e.IDOf(stack.StepVPC) == "" {
		return n, fmt.Errorf("stack %s has nothing recorded: run `provision up` first", e.Cfg.Stack)
	}
	for _, side := range []struct {
		subnet plan.ID
		acl    **ec2types.NetworkAcl
		routes **ec2types.RouteTable
	}{{stack.StepPublicSubnet, &n.publicACL, &n.publicRoutes}, {stack.StepPrivateSubnet, &n.privateACL, &n.privateRoutes}} {
		id := e.IDOf(side.subnet)
		if id == "" {
			continue
		}
		acls, err := e.EC2.DescribeNetworkAcls(ctx, &ec2.DescribeNetworkAclsInput{Filters: []ec2types.Filter{stack.Filter("association.subnet-id", id)}})
		if err != nil {
			return n, fmt.Errorf("read the ACL of %s: %w", id, err)
		}
		if len(acls.NetworkAcls) > 0 {
			*side.acl = &acls.NetworkAcls[0]
		}
		rts, err := e.EC2.DescribeRouteTables(ctx, &ec2.DescribeRouteTablesInput{Filters: []ec2types.Filter{stack.Filter("association.subnet-id", id)}})
		if err != nil {
			return n, fmt.Errorf("read the route table of %s: %w", id, err)
		}
		if len(rts.RouteTables) > 0 {
			*side.routes = &rts.RouteTables[0]
		}
	}
	groups := map[string]**ec2types.SecurityGroup{}
	for id, dst := range map[string]**ec2types.SecurityGroup{e.IDOf(stack.StepManagerGroup): &n.managerGroup, e.IDOf(stack.StepRunnerGroup): &n.runnerSG, e.Cfg.GitLab.SecurityGroupID: &n.gitlabGroup} {
		if id != "" {
			groups[id] = dst
		}
	}
	for id, dst := range groups {
		out, err := e.EC2.DescribeSecurityGroups(ctx, &ec2.DescribeSecurityGroupsInput{GroupIds: []string{id}})
		if err == nil && len(out.SecurityGroups) == 1 {
			*dst = &out.SecurityGroups[0]
		} else if err != nil && !awsapi.IsNotFound(err) {
			return n, fmt.Errorf("read security group %s: %w", id, err)
		}
	}
	if id := e.IDOf(stack.StepManager); id != "" {
		out, err := e.EC2.DescribeInstances(ctx, &ec2.DescribeInstancesInput{InstanceIds: []string{id}})
		if err == nil && len(out.Reservations) > 0 && len(out.Reservations[0].Instances) > 0 {
			i := out.Reservations[0].Instances[0]
			if i.State != nil && i.State.Name != ec2types.InstanceStateNameTerminated {
				n.manager = &i
			}
		}
	}
	if id := e.IDOf(stack.StepNAT); id != "" {
		out, err := e.EC2.DescribeNatGateways(ctx, &ec2.DescribeNatGatewaysInput{NatGatewayIds: []string{id}})
		if err == nil && len(out.NatGateways) == 1 {
			n.nat = &out.NatGateways[0]
		}
	}
	n.natEIP, _ = netip.ParseAddr(PublicAddress(ctx, e, stack.StepNATAddress))
	// The manager's address counts only while it is associated with it.
	if n.manager != nil {
		if a, err := netip.ParseAddr(PublicAddress(ctx, e, stack.StepManagerAddress)); err == nil && aws.ToString(n.manager.PublicIpAddress) == a.String() {
			n.managerEIP = a
		}
	}
	return n, nil
}
