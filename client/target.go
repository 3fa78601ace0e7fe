package client

import (
	"fmt"
	"net"
	"net/url"
	"strings"

	"google.golang.org/grpc/resolver"
	"google.golang.org/grpc/resolver/manual"
)

// listScheme is the scheme of the manual resolver that serves a
// comma-separated list of addresses. The resolver is registered on the one
// connection that uses it (grpc.WithResolvers), never globally.
const listScheme = "safethird-list"

// target is a parsed New target.
type target struct {
	// dial is what grpc.NewClient is given.
	dial string
	// list is the manual resolver for a comma-separated list; nil otherwise.
	list *manual.Resolver
	// hosts are the hosts dialled, for the loopback check; empty for a
	// unix socket, which never leaves the machine.
	hosts []string
}

// parseTarget accepts host:port, any gRPC target URI (dns:///host:port,
// unix:///path, ...), or a comma-separated list of host:port addresses.
func parseTarget(s string) (target, error) {
	s = strings.TrimSpace(s)
	switch {
	case s == "":
		return target{}, fmt.Errorf("target is empty: want host:port, dns:///host:port or a comma-separated list")
	case strings.Contains(s, ","):
		return parseList(s)
	case strings.HasPrefix(s, "unix:") || strings.HasPrefix(s, "unix-abstract:"):
		return target{dial: s}, nil
	case strings.Contains(s, "://"):
		u, err := url.Parse(s)
		if err != nil {
			return target{}, fmt.Errorf("target %q: %w", s, err)
		}
		endpoint := strings.TrimPrefix(u.Path, "/")
		if endpoint == "" {
			return target{}, fmt.Errorf("target %q names no host", s)
		}
		return target{dial: s, hosts: []string{hostOf(endpoint)}}, nil
	default:
		return target{dial: s, hosts: []string{hostOf(s)}}, nil
	}
}

// parseList builds a manual resolver over the addresses so the
// round_robin policy spreads calls across all of them.
func parseList(s string) (target, error) {
	var t target
	var endpoints []resolver.Endpoint
	for a := range strings.SplitSeq(s, ",") {
		a = strings.TrimSpace(a)
		if _, _, err := net.SplitHostPort(a); err != nil {
			return target{}, fmt.Errorf("address %q in list %q: want host:port: %w", a, s, err)
		}
		t.hosts = append(t.hosts, hostOf(a))
		// ServerName keeps each address's own name as its TLS authority,
		// as if it had been dialled alone.
		endpoints = append(endpoints, resolver.Endpoint{Addresses: []resolver.Address{{Addr: a, ServerName: a}}})
	}
	t.list = manual.NewBuilderWithScheme(listScheme)
	t.list.InitialState(resolver.State{Endpoints: endpoints})
	// The endpoint part of the URI becomes the channel's default authority;
	// the first address is a valid one.
	first, _, _ := strings.Cut(s, ",")
	t.dial = listScheme + ":///" + strings.TrimSpace(first)
	return t, nil
}

// hostOf returns the host of host:port, or the whole string when it has no port.
func hostOf(hostport string) string {
	if h, _, err := net.SplitHostPort(hostport); err == nil {
		return h
	}
	return strings.Trim(hostport, "[]")
}

// loopback reports whether every host dialled is on this machine.
func (t target) loopback() bool {
	for _, h := range t.hosts {
		if !isLoopback(h) {
			return false
		}
	}
	return true
}

func isLoopback(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}
