package provision

import (
	"context"
	"fmt"
	"sort"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"

	"github.com/provision-dev/provision/pkg/plan"
)


// networkACLStep owns a network ACL, its entries and its association with
// one subnet. ACLs are stateless: every flow needs a rule for its return
// traffic too: an ACL that lets requests out but not their answers in
// breaks every package install and GitLab call without an error message.
type networkACLStep struct {
	env    *Env
	id     plan.ID
	role   string
	subnet plan.ID
	public bool
}

func newNetworkACLStep(env *Env, public bool) *networkACLStep {
	if public {
		return &networkACLStep{env: env, id: stepPublicACL, role: "public", subnet: stepPublicSubnet, public: true}
	}
	return &networkACLStep{env: env, id: stepPrivateACL, role: "private", subnet: stepPrivateSubnet}
}

func (s *networkACLStep) ID() plan.ID { return s.id }
func (s *networkACLStep) DependsOn() []plan.ID {
	// The private ACL names the public subnet's IPv6 block.
	return []plan.ID{stepVPC, stepPublicSubnet, s.subnet}
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

// wanted returns the rules (README, "What gets built"). Rule numbers are fixed so that a
// rule removed by hand is found and put back in place.
func (s *networkACLStep) wanted() []aclEntry {
	n := s.env.Cfg.Network
	ipv6 := n.IPv6
	var es []aclEntry
	in := func(rule int32, proto string, allow bool, cidr string, from, to int32) {
		if cidr == "" {
			cidr = knownAfterApply
		}
		es = append(es, aclEntry{Rule: rule, Protocol: proto, Allow: allow, CIDR: canonicalCIDR(cidr), From: from, To: to})
	}
	if s.public {
		// NAT traffic from the private subnet arrives from inside the VPC.
		in(100, allProtos, true, s.vpcCIDR(), 0, 0)
		if ipv6 {
			in(101, allProtos, true, s.env.attrOf(stepVPC, "ipv6_cidr"), 0, 0)
		}
		for i, src := range s.env.Cfg.GitLab.SSHSourceCIDRs {
			in(110+int32(i), tcp, true, src, 22, 22)
		}
	} else {
		pub6 := s.env.attrOf(stepPublicSubnet, "ipv6_cidr")
		// 2376 (Docker over TLS) only for docker+machine, which alone uses it.
		dockerTLS := !s.env.autoscaler()
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
		// The return-traffic range below includes 2376: deny it (and 22)
		// from everywhere else first.
		in(110, tcp, false, anyIPv4, 22, 22)
		in(111, tcp, false, anyIPv4, 2376, 2376)
		if ipv6 {
			in(112, tcp, false, anyIPv6, 22, 22)
			in(113, tcp, false, anyIPv6, 2376, 2376)
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
		es = append(es, aclEntry{Egress: true, Rule: rule, Protocol: proto, Allow: allow, CIDR: canonicalCIDR(cidr), From: from, To: to})
	}
	if !s.public {
		// Jobs are untrusted code: from the private subnet, nothing opens a
		// connection into the VPC (with network.vpc_id, everything there
		// that trusts the VPC's range). Answers to the manager's SSH and
		// Docker connections still go back to the public subnet; the
		// internet, GitLab and the NAT gateway (whose destination is the
		// internet address) stay reachable. The Amazon DNS resolver,
		// instance metadata and NTP are not subject to ACLs.
		out(90, tcp, true, n.PublicSubnetCIDR, 1024, 65535)
		if ipv6 {
			out(91, tcp, true, s.env.attrOf(stepPublicSubnet, "ipv6_cidr"), 1024, 65535)
		}
		out(95, allProtos, false, s.vpcCIDR(), 0, 0)
		if ipv6 {
			out(96, allProtos, false, s.env.attrOf(stepVPC, "ipv6_cidr"), 0, 0)
		}
	}
	out(100, allProtos, true, anyIPv4, 0, 0)
	if ipv6 {
		out(101, allProtos, true, anyIPv6, 0, 0)
	}
	return es
}

func (s *networkACLStep) vpcCIDR() string {
	if c := s.env.attrOf(stepVPC, "cidr"); c != "" {
		return c
	}
	return s.env.Cfg.Network.CIDR
}

func (s *networkACLStep) change() plan.Change {
	c := plan.Change{Step: s.id, Kind: "network-acl", Name: s.env.name(s.role), Attrs: []plan.Attr{
		{Key: "subnet", Value: orUnknown(s.env.idOf(s.subnet))},
	}}
	in, out := 0, 0
	for _, e := range s.wanted() {
		if e.Egress {
			out++
		} else {
			in++
		}
	}
	c.Attrs = append(c.Attrs, plan.Attr{Key: "rules", Value: fmt.Sprintf("%d in, %d out", in, out)})
	return c
}

// aclFixes is the work Apply does on an existing ACL.
type aclFixes struct {
	create, replace []aclEntry
	remove          []aclEntry
	assocID         string // the subnet's current association, to move to this ACL
}

func (s *networkACLStep) Plan(ctx context.Context) (plan.Change, error) {
	c := s.change()
	acl, err := s.find(ctx)
	if err != nil {
		return c, err
	}
	if acl == nil {
		c.Action = plan.Create
		for _, e := range s.wanted() {
			c.Reasons = append(c.Reasons, e.String())
		}
		return c, s.env.markGone(s.id)
	}
	c.ID = aws.ToString(acl.NetworkAclId)
	if err := s.env.created(s.id, "network-acl", c.ID, nil); err != nil {
		return c, err
	}
	f, err := s.diff(ctx, acl)
	if err != nil {
		return c, err
	}
	for _, e := range f.create {
		c.Reasons = append(c.Reasons, "add "+e.String())
	}
	for _, e := range f.replace {
		c.Reasons = append(c.Reasons, "restore "+e.String())
	}
	for _, e := range f.remove {
		c.Reasons = append(c.Reasons, "remove "+e.String())
	}
	if f.assocID != "" {
		c.Reasons = append(c.Reasons, "associate with "+s.env.idOf(s.subnet))
	}
	if len(c.Reasons) > 0 {
		c.Action = plan.Update
		c.Detail = f
	}
	return c, nil
}

func (s *networkACLStep) diff(ctx context.Context, acl *ec2types.NetworkAcl) (*aclFixes, error) {
	f := &aclFixes{}
	have := map[string]aclEntry{}
	for _, e := range acl.Entries {
		if r := aws.ToInt32(e.RuleNumber); r >= 32767 {
			continue // the built-in deny-all rules
		}
		ae := fromEC2Entry(e)
		have[ae.key()] = ae
	}
	want := map[string]bool{}
	for _, w := range s.wanted() {
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
	for k := range have {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		if !want[k] {
			f.remove = append(f.remove, have[k])
		}
	}
	subnetID := s.env.idOf(s.subnet)
	for _, a := range acl.Associations {
		if aws.ToString(a.SubnetId) == subnetID {
			return f, nil
		}
	}
	out, err := s.env.EC2.DescribeNetworkAcls(ctx, &ec2.DescribeNetworkAclsInput{Filters: []ec2types.Filter{filter("association.subnet-id", subnetID)}})
	if err != nil {
		return nil, fmt.Errorf("find the network ACL of %s: %w", subnetID, err)
	}
	for _, other := range out.NetworkAcls {
		for _, a := range other.Associations {
			if aws.ToString(a.SubnetId) == subnetID {
				f.assocID = aws.ToString(a.NetworkAclAssociationId)
			}
		}
	}
	if f.assocID == "" {
		return nil, plan.TryAgainf("subnet %s has no network ACL association yet", subnetID)
	}
	return f, nil
}

func (s *networkACLStep) Apply(ctx context.Context, c plan.Change) error {
	id := c.ID
	f, _ := c.Detail.(*aclFixes)
	if c.Action == plan.Create {
		token, err := s.env.beginCreate(s.id, "network-acl")
		if err != nil {
			return err
		}
		out, err := s.env.EC2.CreateNetworkAcl(ctx, &ec2.CreateNetworkAclInput{
			VpcId:             aws.String(s.env.idOf(stepVPC)),
			ClientToken:       &token,
			TagSpecifications: s.env.tagSpec(ec2types.ResourceTypeNetworkAcl, s.id, s.role),
		})
		if err != nil {
			return retryableCreate(fmt.Errorf("create network ACL %s: %w", s.id, err))
		}
		id = aws.ToString(out.NetworkAcl.NetworkAclId)
		if err := s.env.created(s.id, "network-acl", id, nil); err != nil {
			return err
		}
		if f, err = s.diff(ctx, out.NetworkAcl); err != nil {
			return err
		}
	}
	for _, e := range f.remove {
		_, err := s.env.EC2.DeleteNetworkAclEntry(ctx, &ec2.DeleteNetworkAclEntryInput{NetworkAclId: &id, Egress: aws.Bool(e.Egress), RuleNumber: aws.Int32(e.Rule)})
		if err != nil && !isNotFound(err) {
			return fmt.Errorf("remove %s from %s: %w", e, id, err)
		}
	}
	for _, e := range f.replace {
		in := e.createInput(id)
		_, err := s.env.EC2.ReplaceNetworkAclEntry(ctx, &ec2.ReplaceNetworkAclEntryInput{NetworkAclId: in.NetworkAclId, Egress: in.Egress, RuleNumber: in.RuleNumber,
			Protocol: in.Protocol, RuleAction: in.RuleAction, CidrBlock: in.CidrBlock, Ipv6CidrBlock: in.Ipv6CidrBlock, PortRange: in.PortRange, IcmpTypeCode: in.IcmpTypeCode})
		if err != nil {
			return fmt.Errorf("restore %s in %s: %w", e, id, err)
		}
	}
	for _, e := range f.create {
		if _, err := s.env.EC2.CreateNetworkAclEntry(ctx, e.createInput(id)); err != nil {
			return retryableCreate(fmt.Errorf("add %s to %s: %w", e, id, err))
		}
	}
	if f.assocID != "" {
		if _, err := s.env.EC2.ReplaceNetworkAclAssociation(ctx, &ec2.ReplaceNetworkAclAssociationInput{AssociationId: &f.assocID, NetworkAclId: &id}); err != nil {
			return retryableCreate(fmt.Errorf("associate %s with %s: %w", id, s.env.idOf(s.subnet), err))
		}
	}
	return nil
}

func (s *networkACLStep) PlanDelete(ctx context.Context) (plan.Change, error) {
	c := s.change()
	acl, err := s.find(ctx)
	if err != nil || acl == nil {
		if err == nil {
			err = s.env.forget(s.id)
		}
		return c, err
	}
	c.ID = aws.ToString(acl.NetworkAclId)
	c.Action = plan.Delete
	c.Detail = acl
	return c, nil
}

// Delete first puts the subnets back on the VPC's default ACL: an ACL that
// is still associated cannot be deleted, and a subnet always has one.
func (s *networkACLStep) Delete(ctx context.Context, c plan.Change) error {
	acl := c.Detail.(*ec2types.NetworkAcl)
	if len(acl.Associations) > 0 {
		def, err := s.env.EC2.DescribeNetworkAcls(ctx, &ec2.DescribeNetworkAclsInput{Filters: []ec2types.Filter{
			filter("vpc-id", aws.ToString(acl.VpcId)), filter("default", "true")}})
		if err != nil {
			return fmt.Errorf("find the default network ACL of %s: %w", aws.ToString(acl.VpcId), err)
		}
		if len(def.NetworkAcls) == 0 {
			return fmt.Errorf("vpc %s has no default network ACL to give subnets back to", aws.ToString(acl.VpcId))
		}
		for _, a := range acl.Associations {
			_, err := s.env.EC2.ReplaceNetworkAclAssociation(ctx, &ec2.ReplaceNetworkAclAssociationInput{AssociationId: a.NetworkAclAssociationId, NetworkAclId: def.NetworkAcls[0].NetworkAclId})
			if err != nil && !isNotFound(err) {
				return retryableDelete(fmt.Errorf("return subnet %s to the default network ACL: %w", aws.ToString(a.SubnetId), err))
			}
		}
	}
	_, err := s.env.EC2.DeleteNetworkAcl(ctx, &ec2.DeleteNetworkAclInput{NetworkAclId: &c.ID})
	if err != nil && !isNotFound(err) {
		return retryableDelete(fmt.Errorf("delete network ACL %s: %w", c.ID, err))
	}
	return s.env.forget(s.id)
}

func (s *networkACLStep) find(ctx context.Context) (*ec2types.NetworkAcl, error) {
	if r := s.env.Ledger.Get(string(s.id)); r != nil && r.ID != "" {
		out, err := s.env.EC2.DescribeNetworkAcls(ctx, &ec2.DescribeNetworkAclsInput{NetworkAclIds: []string{r.ID}})
		if err != nil && !isNotFound(err) {
			return nil, fmt.Errorf("describe network ACL %s: %w", r.ID, err)
		}
		if err == nil && len(out.NetworkAcls) == 1 {
			return &out.NetworkAcls[0], nil
		}
	}
	out, err := s.env.EC2.DescribeNetworkAcls(ctx, &ec2.DescribeNetworkAclsInput{Filters: s.env.ownerFilters(s.id)})
	if err != nil {
		return nil, fmt.Errorf("find network ACL %s by tags: %w", s.id, err)
	}
	for i := range out.NetworkAcls {
		if s.env.ownedBy(out.NetworkAcls[i].Tags, s.id) {
			return &out.NetworkAcls[i], nil
		}
	}
	return nil, nil
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
	ae.CIDR = canonicalCIDR(ae.CIDR)
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
