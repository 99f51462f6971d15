package stack

import (
	"context"
	"net/netip"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/provision-dev/provision/pkg/provision/config"
)

// fakeResolver answers every name with the same addresses.
type fakeResolver []string

func (f fakeResolver) LookupNetIP(context.Context, string, string) ([]netip.Addr, error) {
	var out []netip.Addr
	for _, a := range f {
		out = append(out, netip.MustParseAddr(a))
	}
	return out, nil
}

func TestResolveGitLab(t *testing.T) {
	cases := []struct {
		url     string
		answer  fakeResolver
		ipv6    bool
		private int
	}{
		{"https://gitlab.example.com", fakeResolver{"203.0.113.5"}, false, 0},
		{"https://gitlab.example.com", fakeResolver{"203.0.113.5", "2600:1f18:1:2::5"}, true, 0},
		{"https://gitlab.example.com", fakeResolver{"10.0.3.7"}, false, 1},
		{"https://gitlab.example.com", fakeResolver{"100.64.1.1", "fd00::1"}, false, 2},
		{"https://[2600:1f18:1:2::5]", nil, true, 0},
		{"http://127.0.0.1:8080", nil, false, 1},
	}
	for _, c := range cases {
		cfg := config.Defaults()
		cfg.GitLab.URL = c.url
		env := &Env{Cfg: &cfg, Resolver: c.answer}
		p, err := env.ResolveGitLab(context.Background())
		if err != nil || p.IPv6 != c.ipv6 || len(p.Private) != c.private {
			t.Errorf("%s %v: %+v %v, want ipv6=%v private=%d", c.url, c.answer, p, err, c.ipv6, c.private)
		}
	}
}

// With IPv6 on both sides GitLab's group also admits the manager's IPv6
// address alone and the private subnet's /64, and nothing wider.
func TestGitLabIngressAdmitsIPv6PathsNoWider(t *testing.T) {
	env := aclTestEnv(t)
	env.Cfg.GitLab.URL = "https://gitlab.example.com"
	must := func(err error) {
		if err != nil {
			t.Fatal(err)
		}
	}
	must(env.created(StepNATAddress, "eip", "eipalloc-1", map[string]string{"public_ip": "198.51.100.1"}))
	must(env.created(StepManagerAddress, "eip", "eipalloc-2", map[string]string{"public_ip": "198.51.100.2"}))
	must(env.created(StepManager, "instance", "i-1", map[string]string{"ipv6_address": "2001:db8:1200::10"}))
	s := gitlabIngress{env}
	if got := len(s.wanted()); got != 2 || len(s.needs()) != 2 {
		t.Fatalf("without IPv6 at GitLab: %d rules, deps %v", got, s.needs())
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
