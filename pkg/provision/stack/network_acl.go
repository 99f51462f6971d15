package stack

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"sort"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"

	"github.com/provision-dev/provision/pkg/plan"
	"github.com/provision-dev/provision/pkg/provision/awsapi"
	"github.com/provision-dev/provision/pkg/provision/bootstrap"
	"github.com/provision-dev/provision/pkg/provision/config"
	"github.com/provision-dev/provision/pkg/provision/resource"
)

// networkACLKind owns a network ACL, its entries and its associations with
// every zone's subnet of its role. ACLs are stateless: every flow needs a rule for its return
// traffic too: an ACL that lets requests out but not their answers in
// breaks every package install and GitLab call without an error message.
type networkACLKind struct {
	env     *Env
	id      plan.ID
	role    string
	subnets []plan.ID
	public  bool
}

type networkACL = *ec2types.NetworkAcl

func newNetworkACLStep(env *Env, public bool) plan.Step {
	return resource.NewStep[networkACL, aclFix](env.shared(), "network-acl", newNetworkACLs(env, public))
}

func newNetworkACLs(env *Env, public bool) networkACLKind {
	if public {
		return networkACLKind{env: env, id: StepPublicACL, role: "public", subnets: env.publicSubnets(), public: true}
	}
	return networkACLKind{env: env, id: StepPrivateACL, role: "private", subnets: env.privateSubnets()}
}

func (k networkACLKind) StepID() plan.ID { return k.id }

// The private ACL names the public subnet's IPv6 block.
func (k networkACLKind) Needs() []plan.ID {
	return slices.Compact(append([]plan.ID{StepVPC, StepPublicSubnet}, k.subnets...))
}

// aclEntry is one ACL rule, in a form that compares by value.
type aclEntry struct {
	Egress   bool
	Rule     int32
	Protocol string // "-1" all, "6" TCP
	Allow    bool
	CIDR     string // IPv4 or IPv6
	From, To int32  // TCP port range; ICMP type and code; 0,0 for all protocols
	// icmpUnread: an ICMP rule whose answer carried no type and code. AWS
	// always returns them; an emulator that drops them must not make the
	// rule look different from the one the tool wrote.
	icmpUnread bool
}

// Hooks names the optional parts of resource.Step this kind has.
func (k networkACLKind) Hooks() resource.Hooks[networkACL, aclFix] {
	return resource.Hooks[networkACL, aclFix]{ShownOnCreate: k.shownOnCreate, EC2Tags: k.ec2TagsOf}
}

// matches reports whether a rule read from AWS is the rule wanted.
func (e aclEntry) matches(want aclEntry) bool {
	if e.icmpUnread {
		e.From, e.To, e.icmpUnread = want.From, want.To, false
	}
	return e == want
}

func (e aclEntry) String() string {
	dir, verb, peer := "inbound", "allow", "from"
	if e.Egress {
		dir, peer = "outbound", "to"
	}
	if !e.Allow {
		verb = "deny"
	}
	what := "all traffic"
	switch e.Protocol {
	case tcp:
		what = fmt.Sprintf("tcp %d", e.From)
		if e.To != e.From {
			what = fmt.Sprintf("tcp %d-%d", e.From, e.To)
		}
	case icmp:
		what = fmt.Sprintf("icmp type %d code %d", e.From, e.To)
	case icmpv6:
		what = fmt.Sprintf("icmpv6 type %d", e.From)
	}
	return fmt.Sprintf("%s %d %s %s %s %s", dir, e.Rule, verb, what, peer, e.CIDR)
}

const (
	tcp       = "6"
	icmp      = "1"
	icmpv6    = "58"
	allProtos = "-1"
	anyIPv4   = "0.0.0.0/0"
	anyIPv6   = "::/0"
)

// wanted returns the rules a new ACL gets.
func (k networkACLKind) wanted() []aclEntry { return k.rules(k.env.vpcBlocks(), nil) }

// rules returns the rules (docs/design.md) for a VPC with these
// blocks, given the entries the ACL has (none: a new ACL). Rule numbers are
// fixed so that a rule removed by hand is found and put back in place; only
// the denies of the VPC's blocks take their numbers from what the ACL has
// (vpcDenies).
func (k networkACLKind) rules(blocks addressBlocks, have []ec2types.NetworkAclEntry) []aclEntry {
	n := k.env.Cfg.Network
	ipv6 := n.IPv6
	var es []aclEntry
	in := func(rule int32, proto string, allow bool, cidr string, from, to int32) {
		if cidr == "" {
			cidr = knownAfterApply
		}
		es = append(es, aclEntry{Rule: rule, Protocol: proto, Allow: allow, CIDR: config.CanonicalCIDR(cidr), From: from, To: to})
	}
	if k.public {
		// NAT traffic from the private subnet arrives from inside the VPC.
		in(100, allProtos, true, k.env.vpcCIDR(), 0, 0)
		if ipv6 {
			in(101, allProtos, true, k.env.AttrOf(StepVPC, AttrIPv6CIDR), 0, 0)
		}
		for i, src := range k.env.Cfg.GitLab.SSHSourceCIDRs {
			in(110+int32(i), tcp, true, src, 22, 22)
		}
		for i, src := range k.env.Cfg.Manager.MetricsCIDRs {
			in(130+int32(i), tcp, true, src, bootstrap.MetricsPort, bootstrap.MetricsPort)
		}
	} else {
		pub6 := k.env.AttrOf(StepPublicSubnet, AttrIPv6CIDR)
		// 2376 (Docker over TLS) only for docker+machine, which alone uses it.
		dockerTLS := k.env.Cfg.Machines()
		in(100, tcp, true, n.PublicSubnetCIDR, 22, 22)
		if dockerTLS {
			in(101, tcp, true, n.PublicSubnetCIDR, 2376, 2376)
		}
		if ipv6 {
			in(102, tcp, true, pub6, 22, 22)
			if dockerTLS {
				in(103, tcp, true, pub6, 2376, 2376)
			}
		}
		// WinRM over HTTP (5985), which the fleeting plugin speaks to
		// Windows machines, from the manager's subnet only.
		winrm := k.env.Cfg.WindowsFleets()
		if winrm {
			in(106, tcp, true, n.PublicSubnetCIDR, bootstrap.WinRMPort, bootstrap.WinRMPort)
			if ipv6 {
				in(107, tcp, true, pub6, bootstrap.WinRMPort, bootstrap.WinRMPort)
			}
		}
		// The manager reaches the interface endpoints, whose network
		// interfaces are in this subnet, on 443 (the machines are in the
		// subnet itself, which no ACL stands between).
		if len(k.env.Cfg.Network.Endpoints) > 0 {
			in(104, tcp, true, n.PublicSubnetCIDR, 443, 443)
			if ipv6 {
				in(105, tcp, true, pub6, 443, 443)
			}
		}
		// Machines reach the interface endpoints' network interfaces in
		// other zones' private subnets on 443 (its DNS name answers with
		// every zone's), and those answer back: the subnets differ, so the
		// ACL stands between them (rules 1-9 out, 120-129 in: before the
		// VPC's denies).
		for i, c := range k.crossZoneEndpoints() {
			in(120+int32(i), tcp, true, c, 443, 443)
		}
		// The return-traffic range below includes 2376: deny it (and 22)
		// from everywhere else first.
		in(110, tcp, false, anyIPv4, 22, 22)
		in(111, tcp, false, anyIPv4, 2376, 2376)
		if ipv6 {
			in(112, tcp, false, anyIPv6, 22, 22)
			in(113, tcp, false, anyIPv6, 2376, 2376)
		}
		if winrm {
			in(114, tcp, false, anyIPv4, bootstrap.WinRMPort, bootstrap.WinRMPort)
			if ipv6 {
				in(115, tcp, false, anyIPv6, bootstrap.WinRMPort, bootstrap.WinRMPort)
			}
		}
	}
	// Return traffic of every outbound connection (package downloads,
	// GitLab, the NAT and the egress-only gateway).
	in(200, tcp, true, anyIPv4, 1024, 65535)
	if ipv6 {
		in(201, tcp, true, anyIPv6, 1024, 65535)
	}
	// Path-MTU discovery: a router on a path with a smaller MTU answers a
	// too-large packet with ICMP "fragmentation needed" (type 3 code 4) or
	// ICMPv6 "packet too big" (type 2). ACLs are stateless for ICMP too, so
	// without these the answer is dropped and TLS and git transfers hang on
	// any such path (RFC 1191, RFC 8201; "Path MTU Discovery" in the EC2
	// User Guide).
	in(210, icmp, true, anyIPv4, 3, 4)
	if ipv6 {
		in(211, icmpv6, true, anyIPv6, 2, -1)
	}
	out := func(rule int32, proto string, allow bool, cidr string, from, to int32) {
		if cidr == "" {
			cidr = knownAfterApply
		}
		es = append(es, aclEntry{Egress: true, Rule: rule, Protocol: proto, Allow: allow, CIDR: config.CanonicalCIDR(cidr), From: from, To: to})
	}
	if !k.public {
		// Jobs are untrusted code: from the private subnet, nothing opens a
		// connection into the VPC (with network.vpc_id, everything there
		// that trusts the VPC's ranges): every block of the VPC, IPv4 and
		// IPv6, primary or not, is denied. Answers to the manager's SSH and
		// Docker connections still go back to the public subnet; the
		// internet, GitLab and the NAT gateway (whose destination is the
		// internet address) stay reachable. The Amazon DNS resolver,
		// instance metadata and NTP are not subject to ACLs.
		out(10, tcp, true, n.PublicSubnetCIDR, 1024, 65535)
		if ipv6 {
			out(11, tcp, true, k.env.AttrOf(StepPublicSubnet, AttrIPv6CIDR), 1024, 65535)
		}
		for i, c := range k.crossZoneEndpoints() {
			out(1+int32(i), tcp, true, c, 443, 65535)
		}
		es = append(es, vpcDenies(blocks.all(), have)...)
	}
	out(100, allProtos, true, anyIPv4, 0, 0)
	if ipv6 {
		out(101, allProtos, true, anyIPv6, 0, 0)
	}
	return es
}

// crossZoneEndpoints are the private subnets' ranges that machines of
// another zone reach interface endpoints in: none with one zone or no
// endpoints.
func (k networkACLKind) crossZoneEndpoints() []string {
	zs := k.env.zoneSubnets()
	if len(zs) < 2 || len(k.env.Cfg.Network.Endpoints) == 0 {
		return nil
	}
	var cidrs []string
	for _, z := range zs {
		cidrs = append(cidrs, z.Private)
	}
	return cidrs
}

// The private ACL's outbound denies of the VPC's blocks are numbered in
// [firstVPCDeny, lastVPCDeny]: after the answers to the manager (10, 11),
// before everything else is allowed (100, 101). The range holds a deny for
// each block of a VPC with as many blocks of each family as the largest
// rule quota (40) admits.
const (
	firstVPCDeny = 20
	lastVPCDeny  = 99
)

// vpcDenies are the private ACL's outbound denies of these blocks. A block
// keeps the number its deny has in the ACL: renumbering would rewrite the
// rules one by one and leave a block open in between. A new block takes the
// lowest free number (a stale deny's number is rewritten in one call).
func vpcDenies(blocks []string, have []ec2types.NetworkAclEntry) []aclEntry {
	held := map[string]int32{}
	taken := map[int32]bool{}
	for _, e := range sortedByRule(have) {
		h := fromEC2Entry(e)
		if !h.Egress || h.Allow || h.Protocol != allProtos || h.Rule < firstVPCDeny || h.Rule > lastVPCDeny {
			continue
		}
		if _, dup := held[h.CIDR]; !dup && slices.Contains(blocks, h.CIDR) {
			held[h.CIDR], taken[h.Rule] = h.Rule, true
		}
	}
	var es []aclEntry
	next := int32(firstVPCDeny)
	for _, b := range blocks {
		rule, ok := held[b]
		if !ok {
			for taken[next] {
				next++
			}
			rule, taken[next] = next, true
		}
		es = append(es, aclEntry{Egress: true, Rule: rule, Protocol: allProtos, CIDR: b})
	}
	return es
}

func sortedByRule(entries []ec2types.NetworkAclEntry) []ec2types.NetworkAclEntry {
	sorted := slices.Clone(entries)
	slices.SortStableFunc(sorted, func(a, b ec2types.NetworkAclEntry) int {
		return int(aws.ToInt32(a.RuleNumber) - aws.ToInt32(b.RuleNumber))
	})
	return sorted
}

// vpcBlocks are the VPC's blocks as recorded (an existing VPC's, or the
// stack's own once made), else those the configuration gives a new VPC.
func (e *Env) vpcBlocks() addressBlocks {
	if v4 := e.AttrOf(StepVPC, AttrCIDRBlocks); v4 != "" {
		b := addressBlocks{ipv4: strings.Split(v4, ",")}
		if v6 := e.AttrOf(StepVPC, AttrIPv6CIDRBlocks); v6 != "" {
			b.ipv6 = strings.Split(v6, ",")
		}
		return b
	}
	b := addressBlocks{ipv4: []string{config.CanonicalCIDR(e.vpcCIDR())}}
	if v6 := e.AttrOf(StepVPC, AttrIPv6CIDR); v6 != "" {
		b.ipv6 = []string{config.CanonicalCIDR(v6)}
	} else if e.Cfg.Network.IPv6 {
		b.ipv6 = []string{knownAfterApply}
	}
	return b
}

// checkRuleQuota: AWS counts a network ACL's rules per direction and per
// address family, its default deny (*) included, against the quota "Rules
// per network ACL": 20 unless raised, 40 at most (Amazon VPC quotas, in
// the VPC User Guide). The emulator has no such limit. Only the private
// ACL's count depends on something else than the configuration: the
// number of the VPC's blocks.
func (k networkACLKind) checkRuleQuota(vpcID string, rules []aclEntry, blocks addressBlocks) error {
	// A configuration not read from a file (tests) has no quota: AWS's default.
	quota := cmp.Or(k.env.Cfg.Network.ACLRuleQuota, 20)
	for _, fam := range []struct {
		name   string
		ipv6   bool
		blocks int
	}{{"IPv4", false, len(blocks.ipv4)}, {"IPv6", true, len(blocks.ipv6)}} {
		count := 0
		for _, r := range rules {
			if r.Egress && strings.Contains(r.CIDR, ":") == fam.ipv6 {
				count++
			}
		}
		if count == 0 {
			continue
		}
		if count++; count > quota {
			return fmt.Errorf("vpc %s has %d %s blocks: the private subnet's network ACL denies each, which takes %d outbound %s rules with the ones it needs and AWS's default deny, more than the %d rules a network ACL may have (network.acl_rule_quota). Disassociate blocks the VPC no longer uses, or have the quota raised (Service Quotas, Amazon VPC, \"Rules per network ACL\", up to 40) and set network.acl_rule_quota to the new value",
				vpcID, fam.blocks, fam.name, count, fam.name, quota)
		}
	}
	return nil
}

// vpcCIDR is the VPC's IPv4 range: as recorded (an existing VPC's own),
// else the configured one.
func (e *Env) vpcCIDR() string {
	if c := e.AttrOf(StepVPC, AttrCIDR); c != "" {
		return c
	}
	return e.Cfg.Network.CIDR
}

func (k networkACLKind) Describe() plan.Change {
	c := plan.Change{Step: k.id, Kind: "network-acl", Name: k.env.name(k.role), Attrs: []plan.Attr{}}
	c.Attrs = append(c.Attrs, subnetsAttr(k.env, k.subnets))
	in, out := 0, 0
	for _, e := range k.wanted() {
		if e.Egress {
			out++
		} else {
			in++
		}
	}
	c.Attrs = append(c.Attrs, plan.Attr{Key: "rules", Value: fmt.Sprintf("%d in, %d out", in, out)})
	return c
}

// shownOnCreate lists the rules a new ACL gets.
func (k networkACLKind) shownOnCreate(resource.Found[networkACL]) []string {
	var rules []string
	for _, e := range k.wanted() {
		rules = append(rules, e.String())
	}
	return rules
}

func (k networkACLKind) Find(ctx context.Context) (resource.Found[networkACL], error) {
	acls, err := describeShared(ctx, k.env, "network-acls", k.env.EC2.DescribeNetworkAcls, &ec2.DescribeNetworkAclsInput{Filters: k.env.stackFilter()},
		func(o *ec2.DescribeNetworkAclsOutput) []ec2types.NetworkAcl { return o.NetworkAcls })
	if err != nil {
		return resource.Found[networkACL]{}, fmt.Errorf("find network ACL %s by tags: %w", k.id, err)
	}
	return lookupOwned(k.env, k.id, resource.Pointers(acls), networkACLID, func(a networkACL) bool { return k.env.ownedBy(a.Tags, k.id) }), nil
}

func networkACLID(a networkACL) string { return aws.ToString(a.NetworkAclId) }

func (k networkACLKind) Record(a networkACL) resource.Recorded {
	return resource.Recorded{ID: networkACLID(a)}
}

// aclFix is the work on an existing ACL.
type aclFix struct {
	create, replace []aclEntry
	remove          []aclEntry
	assoc           map[string]string // subnet -> its current association, to move to this ACL
}

func (k networkACLKind) Diff(ctx context.Context, acl networkACL) (aclFix, []string, error) {
	blocks := k.env.vpcBlocks()
	want := k.rules(blocks, acl.Entries)
	if !k.public {
		if err := k.checkRuleQuota(k.env.IDOf(StepVPC), want, blocks); err != nil {
			return aclFix{}, nil, err
		}
	}
	f := diffEntries(acl.Entries, want)
	mine := map[string]bool{}
	for _, a := range acl.Associations {
		mine[aws.ToString(a.SubnetId)] = true
	}
	for _, subnetID := range k.env.idsOf(k.subnets) {
		if mine[subnetID] {
			continue
		}
		out, err := k.env.EC2.DescribeNetworkAcls(ctx, &ec2.DescribeNetworkAclsInput{Filters: []ec2types.Filter{Filter("association.subnet-id", subnetID)}})
		if err != nil {
			return f, nil, fmt.Errorf("find the network ACL of %s: %w", subnetID, err)
		}
		assoc := ""
		for _, other := range out.NetworkAcls {
			for _, a := range other.Associations {
				if aws.ToString(a.SubnetId) == subnetID {
					assoc = aws.ToString(a.NetworkAclAssociationId)
				}
			}
		}
		if assoc == "" {
			return f, nil, plan.TryAgainf("subnet %s has no network ACL association yet", subnetID)
		}
		if f.assoc == nil {
			f.assoc = map[string]string{}
		}
		f.assoc[subnetID] = assoc
	}
	var reasons []string
	for _, e := range f.create {
		reasons = append(reasons, "add "+e.String())
	}
	for _, e := range f.replace {
		reasons = append(reasons, "restore "+e.String())
	}
	for _, e := range f.remove {
		reasons = append(reasons, "remove "+e.String())
	}
	for _, subnetID := range sortedKeys(f.assoc) {
		reasons = append(reasons, "associate with "+subnetID)
	}
	reasons = append(reasons, laterSubnets(k.env, k.subnets)...)
	return f, reasons, nil
}

// diffEntries compares the entries an ACL has with the rules wanted, by
// direction and rule number; AWS's built-in deny-all rules are left alone.
func diffEntries(entries []ec2types.NetworkAclEntry, wanted []aclEntry) aclFix {
	var f aclFix
	have := map[string]aclEntry{}
	for _, e := range entries {
		if r := aws.ToInt32(e.RuleNumber); r >= 32767 {
			continue
		}
		ae := fromEC2Entry(e)
		have[ae.key()] = ae
	}
	want := map[string]bool{}
	for _, w := range wanted {
		want[w.key()] = true
		h, ok := have[w.key()]
		switch {
		case !ok:
			f.create = append(f.create, w)
		case !h.matches(w):
			f.replace = append(f.replace, w)
		}
	}
	keys := make([]string, 0, len(have))
	for key := range have {
		keys = append(keys, key)
	}
	sort.Strings(keys)
	for _, key := range keys {
		if !want[key] {
			f.remove = append(f.remove, have[key])
		}
	}
	return f
}

func (k networkACLKind) Create(ctx context.Context, token string, _ resource.Found[networkACL]) (networkACL, aclFix, error) {
	out, err := k.env.EC2.CreateNetworkAcl(ctx, &ec2.CreateNetworkAclInput{
		VpcId:             aws.String(k.env.IDOf(StepVPC)),
		ClientToken:       &token,
		TagSpecifications: k.env.tagSpec(ec2types.ResourceTypeNetworkAcl, k.id, k.role),
	})
	if err != nil {
		return nil, aclFix{}, awsapi.RetryableCreate(fmt.Errorf("create network ACL %s: %w", k.id, err))
	}
	f, _, err := k.Diff(ctx, out.NetworkAcl)
	return out.NetworkAcl, f, err
}

// Update adds and rewrites rules before it removes any: a rule that moved
// to another number (the answers to the manager, once at 90 and 91) is in
// place at its new number before the old one goes, so no flow is cut or
// opened in between. Create and remove never touch the same number.
func (k networkACLKind) Update(ctx context.Context, acl networkACL, f aclFix) error {
	id := networkACLID(acl)
	for _, e := range f.create {
		if _, err := k.env.EC2.CreateNetworkAclEntry(ctx, e.createInput(id)); err != nil {
			return awsapi.RetryableCreate(fmt.Errorf("add %s to %s: %w", e, id, err))
		}
	}
	for _, e := range f.replace {
		in := e.createInput(id)
		_, err := k.env.EC2.ReplaceNetworkAclEntry(ctx, &ec2.ReplaceNetworkAclEntryInput{NetworkAclId: in.NetworkAclId, Egress: in.Egress, RuleNumber: in.RuleNumber,
			Protocol: in.Protocol, RuleAction: in.RuleAction, CidrBlock: in.CidrBlock, Ipv6CidrBlock: in.Ipv6CidrBlock, PortRange: in.PortRange, IcmpTypeCode: in.IcmpTypeCode})
		if err != nil {
			return fmt.Errorf("restore %s in %s: %w", e, id, err)
		}
	}
	for _, e := range f.remove {
		_, err := k.env.EC2.DeleteNetworkAclEntry(ctx, &ec2.DeleteNetworkAclEntryInput{NetworkAclId: &id, Egress: aws.Bool(e.Egress), RuleNumber: aws.Int32(e.Rule)})
		if err != nil && !awsapi.IsNotFound(err) {
			return fmt.Errorf("remove %s from %s: %w", e, id, err)
		}
	}
	for _, subnetID := range sortedKeys(f.assoc) {
		assoc := f.assoc[subnetID]
		if _, err := k.env.EC2.ReplaceNetworkAclAssociation(ctx, &ec2.ReplaceNetworkAclAssociationInput{AssociationId: &assoc, NetworkAclId: &id}); err != nil {
			return awsapi.RetryableCreate(fmt.Errorf("associate %s with %s: %w", id, subnetID, err))
		}
	}
	return nil
}

// Remove first puts the subnets back on the VPC's default ACL: an ACL that
// is still associated cannot be deleted, and a subnet always has one.
func (k networkACLKind) Remove(ctx context.Context, acl networkACL) error {
	id, vpcID := networkACLID(acl), aws.ToString(acl.VpcId)
	if len(acl.Associations) > 0 {
		def, err := k.env.EC2.DescribeNetworkAcls(ctx, &ec2.DescribeNetworkAclsInput{Filters: []ec2types.Filter{Filter("vpc-id", vpcID), Filter("default", "true")}})
		if err != nil {
			return fmt.Errorf("find the default network ACL of %s: %w", vpcID, err)
		}
		if len(def.NetworkAcls) == 0 {
			return fmt.Errorf("vpc %s has no default network ACL to give subnets back to", vpcID)
		}
		for _, a := range acl.Associations {
			_, err := k.env.EC2.ReplaceNetworkAclAssociation(ctx, &ec2.ReplaceNetworkAclAssociationInput{AssociationId: a.NetworkAclAssociationId, NetworkAclId: def.NetworkAcls[0].NetworkAclId})
			if err != nil && !awsapi.IsNotFound(err) {
				return awsapi.RetryableDelete(fmt.Errorf("return subnet %s to the default network ACL: %w", aws.ToString(a.SubnetId), err))
			}
		}
	}
	_, err := k.env.EC2.DeleteNetworkAcl(ctx, &ec2.DeleteNetworkAclInput{NetworkAclId: &id})
	if err != nil && !awsapi.IsNotFound(err) {
		return awsapi.RetryableDelete(fmt.Errorf("delete network ACL %s: %w", id, err))
	}
	return nil
}

func (e aclEntry) key() string { return fmt.Sprintf("%t/%d", e.Egress, e.Rule) }

func (e aclEntry) createInput(aclID string) *ec2.CreateNetworkAclEntryInput {
	in := &ec2.CreateNetworkAclEntryInput{
		NetworkAclId: &aclID,
		Egress:       aws.Bool(e.Egress),
		RuleNumber:   aws.Int32(e.Rule),
		Protocol:     aws.String(e.Protocol),
		RuleAction:   ec2types.RuleActionAllow,
	}
	if !e.Allow {
		in.RuleAction = ec2types.RuleActionDeny
	}
	if strings.Contains(e.CIDR, ":") {
		in.Ipv6CidrBlock = aws.String(e.CIDR)
	} else {
		in.CidrBlock = aws.String(e.CIDR)
	}
	switch e.Protocol {
	case tcp:
		in.PortRange = &ec2types.PortRange{From: aws.Int32(e.From), To: aws.Int32(e.To)}
	case icmp, icmpv6:
		in.IcmpTypeCode = &ec2types.IcmpTypeCode{Type: aws.Int32(e.From), Code: aws.Int32(e.To)}
	}
	return in
}

func fromEC2Entry(e ec2types.NetworkAclEntry) aclEntry {
	ae := aclEntry{
		Egress:   aws.ToBool(e.Egress),
		Rule:     aws.ToInt32(e.RuleNumber),
		Protocol: aws.ToString(e.Protocol),
		Allow:    e.RuleAction == ec2types.RuleActionAllow,
		CIDR:     aws.ToString(e.CidrBlock),
	}
	if e.Ipv6CidrBlock != nil {
		ae.CIDR = aws.ToString(e.Ipv6CidrBlock)
	}
	ae.CIDR = config.CanonicalCIDR(ae.CIDR)
	switch {
	case ae.Protocol == tcp && e.PortRange != nil:
		ae.From, ae.To = aws.ToInt32(e.PortRange.From), aws.ToInt32(e.PortRange.To)
	case (ae.Protocol == icmp || ae.Protocol == icmpv6) && e.IcmpTypeCode != nil:
		ae.From, ae.To = aws.ToInt32(e.IcmpTypeCode.Type), aws.ToInt32(e.IcmpTypeCode.Code)
	case ae.Protocol == icmp || ae.Protocol == icmpv6:
		ae.icmpUnread = true
	}
	return ae
}

// ec2TagsOf: the configuration's tags follow `tags:` (resource.Step, through Hooks.EC2Tags).
func (k networkACLKind) ec2TagsOf(cur networkACL) []ec2types.Tag { return cur.Tags }
