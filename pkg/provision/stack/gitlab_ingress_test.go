package stack

import (
	"slices"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/provision-dev/provision/pkg/provision/config"
)

// With IPv6 on both sides GitLab's group also admits the manager's IPv6
// address alone and the private subnet's /64, and nothing wider.
func TestGitLabIngressAdmitsIPv6PathsNoWider(t *testing.T) {
	env := aclTestEnv(t)
	env.Cfg.GitLab.URL = "https://gitlab.example.com"
	env.Cfg.Network.Zones = 1
	must := func(err error) {
		if err != nil {
			t.Fatal(err)
		}
	}
	must(env.records().Created(StepNATAddress, "eip", "eipalloc-1", map[string]string{"public_ip": "198.51.100.1"}))
	must(env.records().Created(StepManagerAddress, "eip", "eipalloc-2", map[string]string{"public_ip": "198.51.100.2"}))
	must(env.records().Created(StepManager, "instance", "i-1", map[string]string{"ipv6_address": "2001:db8:1200::10"}))
	s := gitlabIngressKind{env}
	if got := len(s.wanted()); got != 2 || len(s.Needs()) != 2 {
		t.Fatalf("without IPv6 at GitLab: %d rules, deps %v", got, s.Needs())
	}
	env.GitLab6 = true
	var cidrs []string
	for _, r := range s.wanted() {
		cidrs = append(cidrs, r.Source)
	}
	want := []string{"198.51.100.1/32", "198.51.100.2/32", "2001:db8:1200::10/128", "2001:db8:1201::/64"}
	if len(cidrs) != len(want) {
		t.Fatalf("rules %v, want %v", cidrs, want)
	}
	for i := range want {
		if cidrs[i] != want[i] {
			t.Errorf("rule %d: %s, want %s", i, cidrs[i], want[i])
		}
	}
	v4, v6 := 0, 0
	for _, p := range toPermissions(s.wanted(), false) {
		v4 += len(p.IpRanges)
		v6 += len(p.Ipv6Ranges)
		if aws.ToInt32(p.FromPort) != 443 || len(p.IpRanges)+len(p.Ipv6Ranges) != 1 {
			t.Errorf("permission %+v", p)
		}
	}
	if v4 != 2 || v6 != 2 {
		t.Errorf("%d IPv4 and %d IPv6 blocks, want 2 and 2", v4, v6)
	}
	env.Cfg.Network.IPv6 = false
	if got := len(s.wanted()); got != 2 {
		t.Errorf("a stack without IPv6 sends no IPv6: %d rules", got)
	}
}

// With a NAT gateway per zone GitLab admits every zone's NAT address, and
// with IPv6 every zone's private /64; with one NAT only the first's.
func TestGitLabIngressAdmitsEveryZonesNAT(t *testing.T) {
	env := aclTestEnv(t)
	env.Cfg.GitLab.URL = "https://gitlab.example.com"
	env.Cfg.Network.Zones, env.Cfg.Network.NAT = 2, config.NATPerZone
	must := func(err error) {
		if err != nil {
			t.Fatal(err)
		}
	}
	must(env.records().Created(StepNATAddress, "eip", "eipalloc-1", map[string]string{"public_ip": "198.51.100.1"}))
	must(env.records().Created(NATAddressStep(1), "eip", "eipalloc-3", map[string]string{"public_ip": "198.51.100.3"}))
	must(env.records().Created(StepManagerAddress, "eip", "eipalloc-2", map[string]string{"public_ip": "198.51.100.2"}))
	must(env.records().Created(StepManager, "instance", "i-1", map[string]string{"ipv6_address": "2001:db8:1200::10"}))
	must(env.records().Created(PrivateSubnetStep(1), "subnet", "subnet-priv2", map[string]string{"ipv6_cidr": "2001:db8:1203::/64"}))
	env.GitLab6 = true
	s := gitlabIngressKind{env}
	var cidrs []string
	for _, r := range s.wanted() {
		cidrs = append(cidrs, r.Source)
	}
	want := []string{"198.51.100.1/32", "198.51.100.3/32", "198.51.100.2/32", "2001:db8:1200::10/128", "2001:db8:1201::/64", "2001:db8:1203::/64"}
	if !slices.Equal(cidrs, want) {
		t.Errorf("rules %v, want %v", cidrs, want)
	}
	if !slices.Contains(s.Needs(), NATAddressStep(1)) || !slices.Contains(s.Needs(), PrivateSubnetStep(1)) {
		t.Errorf("needs %v: want eip/nat/2 and subnet/private/2", s.Needs())
	}
	env.Cfg.Network.NAT = config.NATSingle
	if got := len(s.wanted()); got != 5 {
		t.Errorf("one NAT: %d rules, want 5", got)
	}
}
