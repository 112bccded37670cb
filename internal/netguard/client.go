package netguard

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"syscall"
	"time"
)

// Transport settings of NewClient: many destinations, a few connections
// each. There is no overall or response-header timeout: callers bound each
// request with a context, per endpoint.
const (
	dialTimeout         = 30 * time.Second
	keepAlive           = 30 * time.Second
	maxIdleConns        = 1024
	maxIdleConnsPerHost = 128
	idleConnTimeout     = 90 * time.Second
	tlsHandshakeTimeout = 10 * time.Second
	expectContinue      = time.Second
)

// NewClient returns an HTTP client that connects only to addresses p
// allows, checked on the resolved address of every connection attempt, and
// that returns redirects to the caller instead of following them. It uses no
// proxy, since a proxy would connect on its behalf, unchecked.
func NewClient(p Policy) *http.Client {
	dialer := &net.Dialer{
		Timeout:   dialTimeout,
		KeepAlive: keepAlive,
		Control:   p.control,
	}
	transport := &http.Transport{
		Proxy:                 nil,
		DialContext:           dialer.DialContext,
		ForceAttemptHTTP2:     true,
		MaxIdleConns:          maxIdleConns,
		MaxIdleConnsPerHost:   maxIdleConnsPerHost,
		IdleConnTimeout:       idleConnTimeout,
		TLSHandshakeTimeout:   tlsHandshakeTimeout,
		ExpectContinueTimeout: expectContinue,
	}
	return &http.Client{
		Transport: transport,
		CheckRedirect: func(*http.Request, []*http.Request) error {
			return http.ErrUseLastResponse
		},
	}
}

// Dial returns a dial function that connects only to addresses p allows,
// for connections other than HTTP that a tenant names (such as databases
// to mirror into or capture changes from).
func (p Policy) Dial() func(ctx context.Context, network, addr string) (net.Conn, error) {
	d := &net.Dialer{Timeout: dialTimeout, KeepAlive: keepAlive, Control: p.control}
	return d.DialContext
}

// control runs after DNS resolution, just before each connect, with the
// address about to be dialled.
func (p Policy) control(network, address string, _ syscall.RawConn) error {
	switch network {
	case "tcp", "tcp4", "tcp6":
	default:
		return fmt.Errorf("network %s not allowed: %w", network, ErrForbiddenAddress)
	}
	addrPort, err := netip.ParseAddrPort(address)
	if err != nil {
		return fmt.Errorf("address %q is not an IP address and port: %w", address, ErrForbiddenAddress)
	}
	if !p.Allowed(addrPort.Addr()) {
		return fmt.Errorf("%s is not a public address (%s): %w", addrPort.Addr(), Hint, ErrForbiddenAddress)
	}
	return nil
}
