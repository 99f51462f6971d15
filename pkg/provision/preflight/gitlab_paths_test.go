package preflight

import (
	"context"
	"errors"
	"net/netip"
	"strings"
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

// GitLab's addresses sort into IPv6 (global) and private (loopback, RFC 1918, ULA, CGNAT).
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

// failingResolver resolves nothing, as for a name this machine cannot see.
type failingResolver struct{}

func (failingResolver) LookupNetIP(context.Context, string, string) ([]netip.Addr, error) {
	return nil, errors.New("no such host")
}

// calledResolver fails the test when a name is looked up.
type calledResolver struct{ t *testing.T }

func (r calledResolver) LookupNetIP(_ context.Context, _, host string) ([]netip.Addr, error) {
	r.t.Errorf("looked up %q", host)
	return nil, errors.New("unexpected")
}

// A name that does not resolve is an error naming it; a url without a host is not looked up.
func TestResolveGitLabLookupFailures(t *testing.T) {
	cfg := config.Defaults()
	cfg.GitLab.URL = "https://gitlab.invalid/group"
	_, err := ResolveGitLab(context.Background(), &stack.Env{Cfg: &cfg, Resolver: failingResolver{}})
	if err == nil || !strings.Contains(err.Error(), "resolve gitlab.invalid: no such host") {
		t.Errorf("%v, want the name and the resolver's error", err)
	}
	for _, url := range []string{"", "gitlab.example.com", "https://", "://bad"} {
		cfg.GitLab.URL = url
		p, err := ResolveGitLab(context.Background(), &stack.Env{Cfg: &cfg, Resolver: calledResolver{t}})
		if err != nil || p.IPv6 || p.Private != nil {
			t.Errorf("%q: %+v %v, want nothing found and no error", url, p, err)
		}
	}
}

// Preflight passes but warns when GitLab resolves to a private address, or not at all.
func TestPreflightWarnsAboutGitLabAddresses(t *testing.T) {
	cases := []struct {
		resolver stack.Resolver
		want     []string
	}{
		{fakeResolver{"10.0.3.7", "100.64.0.9"}, []string{"resolves here to 10.0.3.7, 100.64.0.9, which is not an internet address", "put GitLab's public name in gitlab.url"}},
		{failingResolver{}, []string{"gitlab.url: resolve localhost: no such host; the manager resolves it again at boot"}},
	}
	for _, c := range cases {
		a := newAccount(t, nil)
		a.e.Resolver = c.resolver
		if problems := a.preflight(t); problems != nil {
			t.Fatal(problems)
		}
		w := a.warnings()
		if len(w) != 1 {
			t.Fatalf("warnings %q, want one", w)
		}
		oneContaining(t, w, c.want...)
		if a.e.GitLab6 {
			t.Error("GitLab6 without a global IPv6 address")
		}
	}
}
