package preflight

import (
	"context"
	"net/netip"
	"testing"

	"github.com/provision-dev/provision/pkg/provision/config"
	"github.com/provision-dev/provision/pkg/provision/stack"
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
		env := &stack.Env{Cfg: &cfg, Resolver: c.answer}
		p, err := ResolveGitLab(context.Background(), env)
		if err != nil || p.IPv6 != c.ipv6 || len(p.Private) != c.private {
			t.Errorf("%s %v: %+v %v, want ipv6=%v private=%d", c.url, c.answer, p, err, c.ipv6, c.private)
		}
	}
}
