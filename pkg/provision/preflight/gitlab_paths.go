package preflight

import (
	"context"
	"fmt"
	"net"
	"net/netip"
	"net/url"
	"strings"

	"github.com/provision-dev/provision/pkg/provision/stack"
)

// GitLabPaths is how the stack's traffic reaches GitLab, from what GitLab's
// name resolves to.
type GitLabPaths struct {
	// IPv6: GitLab has a global IPv6 address. The manager and the machines
	// have IPv6 addresses and a ::/0 route too, so they connect over IPv6
	// first (RFC 6724 address selection), from their own addresses rather
	// than the Elastic IPs; GitLab's group must admit those paths as well.
	IPv6 bool
	// Private lists addresses that are not reachable over the internet.
	Private []netip.Addr
}

// ResolveGitLab finds which paths GitLab's traffic takes. A name that does
// not resolve from here is not an error: the token check says whether
// GitLab answers at all.
func ResolveGitLab(ctx context.Context, e *stack.Env) (GitLabPaths, error) {
	var p GitLabPaths
	u, err := url.Parse(e.Cfg.GitLab.URL)
	if err != nil || u.Hostname() == "" {
		return p, nil
	}
	addrs, err := LookupGitLab(ctx, e, u.Hostname())
	if err != nil {
		return p, err
	}
	for _, a := range addrs {
		a = a.Unmap()
		switch {
		case a.IsLoopback() || a.IsPrivate() || a.IsLinkLocalUnicast() || cgnat.Contains(a):
			p.Private = append(p.Private, a)
		case a.Is6() && a.IsGlobalUnicast():
			p.IPv6 = true
		}
	}
	return p, nil
}

// LookupGitLab resolves GitLab's host name (an address stands for itself).
func LookupGitLab(ctx context.Context, e *stack.Env, host string) ([]netip.Addr, error) {
	if a, err := netip.ParseAddr(host); err == nil {
		return []netip.Addr{a}, nil
	}
	r := e.Resolver
	if r == nil {
		r = net.DefaultResolver
	}
	addrs, err := r.LookupNetIP(ctx, "ip", host)
	if err != nil {
		return nil, fmt.Errorf("resolve %s: %w", host, err)
	}
	return addrs, nil
}

// cgnat is the shared address space of RFC 6598, not reachable from AWS.
var cgnat = netip.MustParsePrefix("100.64.0.0/10")

// privateGitLabWarning says what a private GitLab address means here.
func privateGitLabWarning(url string, addrs []netip.Addr) string {
	var list []string
	for _, a := range addrs {
		list = append(list, a.String())
	}
	return fmt.Sprintf("gitlab.url %s resolves here to %s, which is not an internet address. The manager and the runner machines reach GitLab over the internet through the two Elastic IPs, in a VPC of their own, so they cannot reach a private address (and the rules added to GitLab's group would never match). If this machine sees GitLab through a private DNS view, make sure the public name resolves to GitLab's public address; otherwise put GitLab's public name in gitlab.url", url, strings.Join(list, ", "))
}
