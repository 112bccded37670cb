// Package netguard keeps Hookline's outgoing HTTP requests away from private
// networks (server-side request forgery).
//
// Two checks work together. CheckURL rejects a destination when it is
// configured, so users hear about a refused address at once. The client of
// NewClient checks every address it actually connects to, after DNS, so a
// name that resolves to a public address at configuration time and to
// 127.0.0.1 later (DNS rebinding) is still refused.
package netguard

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"net/url"
	"strings"
	"time"
)

// ErrForbiddenAddress means a destination is, or resolves to, an address
// the Policy refuses. Dial errors of NewClient's client and CheckURL's
// errors wrap it.
var ErrForbiddenAddress = errors.New("forbidden destination address")

// ErrInvalidURL means a destination URL is malformed or not http(s).
var ErrInvalidURL = errors.New("invalid destination url")

// MaxURLLength is the longest destination URL CheckURL accepts, in bytes.
const MaxURLLength = 2048

// ResolveTimeout bounds the DNS lookup of CheckURL.
const ResolveTimeout = 2 * time.Second

// Hint tells a user how to allow a refused address.
const Hint = "private, loopback and link-local addresses need --allow-private-networks"

// Resolver looks up the addresses of a host name. *net.Resolver is one.
type Resolver interface {
	LookupNetIP(ctx context.Context, network, host string) ([]netip.Addr, error)
}

var _ Resolver = (*net.Resolver)(nil)

// Policy says which destinations are allowed. The zero value allows public
// addresses only and resolves names with net.DefaultResolver.
type Policy struct {
	// AllowPrivate allows every address, private or not.
	AllowPrivate bool
	// Allow lists prefixes allowed even though they are not public.
	Allow []netip.Prefix
	// Resolver resolves host names for CheckURL; nil means
	// net.DefaultResolver. Dialling always uses the system resolver and
	// checks the address it returns.
	Resolver Resolver
}

// ParsePrefixes parses CIDR prefixes ("10.1.0.0/16") and bare addresses
// ("10.1.2.3", a single-address prefix). IPv4-mapped IPv6 entries are
// turned into IPv4 ones, so they match what Allowed compares.
func ParsePrefixes(list []string) ([]netip.Prefix, error) {
	prefixes := make([]netip.Prefix, 0, len(list))
	for _, s := range list {
		s = strings.TrimSpace(s)
		var (
			p   netip.Prefix
			err error
		)
		if strings.Contains(s, "/") {
			p, err = netip.ParsePrefix(s)
		} else {
			var addr netip.Addr
			addr, err = netip.ParseAddr(s)
			addr = addr.WithZone("")
			p = netip.PrefixFrom(addr, addr.BitLen())
		}
		if err != nil {
			return nil, fmt.Errorf("parse prefix %q: %w", s, err)
		}
		if p.Addr().Is4In6() {
			bits := p.Bits() - 96
			if bits < 0 {
				return nil, fmt.Errorf("parse prefix %q: mapped IPv4 prefix shorter than /96", s)
			}
			p = netip.PrefixFrom(p.Addr().Unmap(), bits)
		}
		prefixes = append(prefixes, p.Masked())
	}
	return prefixes, nil
}

// Allowed reports whether ip may be dialled: always with AllowPrivate, when
// it is in Allow, or when it is a public unicast address. Refused are
// loopback, private (RFC 1918, fc00::/7), link-local (cloud metadata at
// 169.254.169.254 among them), unspecified, multicast, broadcast, shared
// (100.64.0.0/10), reserved and documentation addresses, and those embedded
// in IPv4-mapped, NAT64 and 6to4 IPv6 addresses.
func (p Policy) Allowed(ip netip.Addr) bool {
	if !ip.IsValid() {
		return false
	}
	if p.AllowPrivate {
		return true
	}
	ip = ip.WithZone("").Unmap()
	for _, prefix := range p.Allow {
		if prefix.Contains(ip) {
			return true
		}
	}
	return isPublic(ip)
}

// CheckURL validates a destination URL when it is configured: http or https,
// a host, at most MaxURLLength bytes, and a host that is not a refused
// address. A host name is resolved, within ResolveTimeout, and refused when
// any of its addresses is; a name that does not resolve is accepted, since
// the dial-time check still guards it.
func (p Policy) CheckURL(ctx context.Context, raw string) (*url.URL, error) {
	if len(raw) > MaxURLLength {
		return nil, fmt.Errorf("check url: longer than %d bytes: %w", MaxURLLength, ErrInvalidURL)
	}
	u, err := url.Parse(raw)
	if err != nil {
		return nil, fmt.Errorf("check url: %w", errors.Join(ErrInvalidURL, err))
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return nil, fmt.Errorf("check url %q: scheme must be http or https: %w", raw, ErrInvalidURL)
	}
	host := u.Hostname()
	if host == "" {
		return nil, fmt.Errorf("check url %q: no host: %w", raw, ErrInvalidURL)
	}
	if err := p.CheckHost(ctx, raw, host); err != nil {
		return nil, err
	}
	return u, nil
}

// CheckHTTPURL checks the form of a URL a spec declares or a template
// renders: http or https, with a host. Its address is not checked:
// NewClient's client refuses it when it dials.
func CheckHTTPURL(raw string) error {
	u, err := url.Parse(raw)
	if err != nil {
		return err
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return errors.New("must be an http or https URL")
	}
	if u.Host == "" {
		return errors.New("has no host")
	}
	return nil
}

// CheckHost checks the host of a destination that is not an HTTP URL
// (a message broker's address, of an endpoint named by raw) as CheckURL
// checks an HTTP URL's: an address p refuses, a loopback name, or a name
// resolving to a refused address is ErrForbiddenAddress.
func (p Policy) CheckHost(ctx context.Context, raw, host string) error {
	if ip, err := netip.ParseAddr(host); err == nil {
		if !p.Allowed(ip) {
			return forbidden(raw, host, ip)
		}
		return nil
	}
	if isLocalhost(host) {
		if !p.Allowed(netip.IPv6Loopback()) && !p.Allowed(netip.AddrFrom4([4]byte{127, 0, 0, 1})) {
			return fmt.Errorf("check url %q: host %s is loopback (%s): %w", raw, host, Hint, ErrForbiddenAddress)
		}
		return nil
	}
	var resolver Resolver = net.DefaultResolver
	if p.Resolver != nil {
		resolver = p.Resolver
	}
	ctx, cancel := context.WithTimeout(ctx, ResolveTimeout)
	defer cancel()
	addrs, err := resolver.LookupNetIP(ctx, "ip", host)
	if err != nil {
		return nil
	}
	for _, ip := range addrs {
		if !p.Allowed(ip) {
			return forbidden(raw, host, ip)
		}
	}
	return nil
}

func forbidden(raw, host string, ip netip.Addr) error {
	if host == ip.String() {
		return fmt.Errorf("check url %q: %s is not a public address (%s): %w", raw, ip, Hint, ErrForbiddenAddress)
	}
	return fmt.Errorf("check url %q: host %s resolves to %s, not a public address (%s): %w", raw, host, ip, Hint, ErrForbiddenAddress)
}

// isLocalhost reports whether host is "localhost" or a name under it, which
// RFC 6761 reserves for loopback.
func isLocalhost(host string) bool {
	host = strings.ToLower(strings.TrimSuffix(host, "."))
	return host == "localhost" || strings.HasSuffix(host, ".localhost")
}
