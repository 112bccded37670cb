package netguard

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestAllowed(t *testing.T) {
	t.Parallel()
	cases := []struct {
		ip   string
		want bool
	}{
		{"93.184.216.34", true},
		{"8.8.8.8", true},
		{"1.1.1.1", true},
		{"2606:4700:4700::1111", true},
		{"::ffff:8.8.8.8", true},
		{"64:ff9b::808:808", true}, // NAT64 of 8.8.8.8
		{"2002:808:808::1", true},  // 6to4 of 8.8.8.8
		{"100.63.255.255", true},   // just below CGNAT
		{"100.128.0.0", true},      // just above CGNAT
		{"172.32.0.1", true},       // just above 172.16/12
		{"127.0.0.1", false},
		{"127.255.255.254", false},
		{"::1", false},
		{"10.0.0.1", false},
		{"172.16.0.1", false},
		{"172.31.255.255", false},
		{"192.168.1.1", false},
		{"fc00::1", false},
		{"fd12:3456::1", false},
		{"169.254.169.254", false},
		{"169.254.0.1", false},
		{"fe80::1", false},
		{"fe80::1%eth0", false},
		{"0.0.0.0", false},
		{"0.1.2.3", false},
		{"::", false},
		{"224.0.0.1", false},
		{"239.255.255.250", false},
		{"ff02::1", false},
		{"ff0e::1", false},
		{"100.64.0.1", false},
		{"100.127.255.255", false},
		{"255.255.255.255", false},
		{"240.0.0.1", false},
		{"192.0.2.1", false},
		{"198.51.100.7", false},
		{"203.0.113.9", false},
		{"198.18.0.1", false},
		{"2001:db8::1", false},
		{"::ffff:127.0.0.1", false},
		{"::ffff:10.0.0.1", false},
		{"::ffff:169.254.169.254", false},
		{"::127.0.0.1", false},         // IPv4-compatible
		{"64:ff9b::7f00:1", false},     // NAT64 of 127.0.0.1
		{"64:ff9b::a9fe:a9fe", false},  // NAT64 of 169.254.169.254
		{"2002:7f00:1::1", false},      // 6to4 of 127.0.0.1
		{"2002:a00:1::1", false},       // 6to4 of 10.0.0.1
		{"2001:0:4136:e378::1", false}, // Teredo
		{"fec0::1", false},             // site-local
	}
	for _, c := range cases {
		ip := netip.MustParseAddr(c.ip)
		require.Equal(t, c.want, Policy{}.Allowed(ip), c.ip)
		require.True(t, Policy{AllowPrivate: true}.Allowed(ip), c.ip)
	}
	require.False(t, Policy{}.Allowed(netip.Addr{}))
	require.False(t, Policy{AllowPrivate: true}.Allowed(netip.Addr{}))
}

func TestAllowedByPrefix(t *testing.T) {
	t.Parallel()
	allow, err := ParsePrefixes([]string{"10.1.0.0/16", " 192.168.0.10 ", "::ffff:172.16.0.0/112", "fd00::/8"})
	require.NoError(t, err)
	p := Policy{Allow: allow}
	cases := []struct {
		ip   string
		want bool
	}{
		{"10.1.2.3", true},
		{"::ffff:10.1.2.3", true},
		{"10.2.0.1", false},
		{"192.168.0.10", true},
		{"192.168.0.11", false},
		{"172.16.0.5", true},
		{"172.17.0.5", false},
		{"fd00::1", true},
		{"fc00::1", false},
		{"8.8.8.8", true},
		{"127.0.0.1", false},
	}
	for _, c := range cases {
		require.Equal(t, c.want, p.Allowed(netip.MustParseAddr(c.ip)), c.ip)
	}
}

func TestParsePrefixes(t *testing.T) {
	t.Parallel()
	got, err := ParsePrefixes([]string{"10.1.2.3/16", "127.0.0.1", "::1", "fe80::1%eth0", "::ffff:10.0.0.0/104"})
	require.NoError(t, err)
	want := []string{"10.1.0.0/16", "127.0.0.1/32", "::1/128", "fe80::1/128", "10.0.0.0/8"}
	require.Len(t, got, len(want))
	for i, p := range got {
		require.Equal(t, want[i], p.String())
	}

	for _, bad := range []string{"", "10.0.0.0/33", "example.com", "10.0.0.0/", "::ffff:0:0/90"} {
		_, err := ParsePrefixes([]string{bad})
		require.ErrorContains(t, err, "parse prefix", bad)
	}
}

// fakeResolver answers from a table and records the deadline it was given.
type fakeResolver struct {
	addrs map[string][]netip.Addr

	mu       sync.Mutex
	deadline time.Time
}

func (r *fakeResolver) LookupNetIP(ctx context.Context, _, host string) ([]netip.Addr, error) {
	r.mu.Lock()
	r.deadline, _ = ctx.Deadline()
	r.mu.Unlock()
	addrs, ok := r.addrs[host]
	if !ok {
		return nil, errors.New("no such host")
	}
	return addrs, nil
}

func newFakeResolver() *fakeResolver {
	ips := func(list ...string) []netip.Addr {
		var out []netip.Addr
		for _, s := range list {
			out = append(out, netip.MustParseAddr(s))
		}
		return out
	}
	return &fakeResolver{addrs: map[string][]netip.Addr{
		"public.example":   ips("93.184.216.34", "2606:2800:220:1::1"),
		"internal.example": ips("10.0.0.7"),
		"mixed.example":    ips("93.184.216.34", "127.0.0.1"),
		"metadata.example": ips("169.254.169.254"),
	}}
}

func TestCheckURL(t *testing.T) {
	t.Parallel()
	allow127, err := ParsePrefixes([]string{"127.0.0.0/8"})
	require.NoError(t, err)

	cases := []struct {
		name    string
		policy  Policy
		url     string
		wantIs  error
		wantMsg string
	}{
		{name: "public https", url: "https://public.example/hooks?x=1"},
		{name: "public ip", url: "http://93.184.216.34:8080/"},
		{name: "userinfo allowed", url: "https://user:pass@public.example/"},
		{name: "unresolvable accepted", url: "https://nxdomain.example/"},
		{name: "bad scheme", url: "ftp://public.example/", wantIs: ErrInvalidURL, wantMsg: "scheme"},
		{name: "no scheme", url: "public.example/hooks", wantIs: ErrInvalidURL, wantMsg: "scheme"},
		{name: "javascript", url: "javascript:alert(1)", wantIs: ErrInvalidURL, wantMsg: "scheme"},
		{name: "no host", url: "https:///path", wantIs: ErrInvalidURL, wantMsg: "no host"},
		{name: "port only", url: "http://:8080/", wantIs: ErrInvalidURL, wantMsg: "no host"},
		{name: "unparsable", url: "http://[::1/", wantIs: ErrInvalidURL},
		{name: "too long", url: "https://public.example/" + strings.Repeat("a", MaxURLLength), wantIs: ErrInvalidURL, wantMsg: "longer than"},
		{name: "loopback v4", url: "http://127.0.0.1:8080/", wantIs: ErrForbiddenAddress, wantMsg: "--allow-private-networks"},
		{name: "loopback v6", url: "http://[::1]/", wantIs: ErrForbiddenAddress, wantMsg: "--allow-private-networks"},
		{name: "mapped loopback", url: "http://[::ffff:127.0.0.1]/", wantIs: ErrForbiddenAddress},
		{name: "localhost", url: "http://localhost:3000/", wantIs: ErrForbiddenAddress, wantMsg: "--allow-private-networks"},
		{name: "sub.localhost", url: "http://api.LocalHost./", wantIs: ErrForbiddenAddress},
		{name: "private", url: "https://10.0.0.1/", wantIs: ErrForbiddenAddress},
		{name: "metadata", url: "http://169.254.169.254/latest/meta-data/", wantIs: ErrForbiddenAddress},
		{name: "unspecified", url: "http://0.0.0.0/", wantIs: ErrForbiddenAddress},
		{name: "name resolving to private", url: "https://internal.example/", wantIs: ErrForbiddenAddress, wantMsg: "resolves to 10.0.0.7"},
		{name: "one of several addresses private", url: "https://mixed.example/", wantIs: ErrForbiddenAddress, wantMsg: "127.0.0.1"},
		{name: "name resolving to metadata", url: "https://metadata.example/", wantIs: ErrForbiddenAddress},
		{name: "AllowPrivate loopback", policy: Policy{AllowPrivate: true}, url: "http://127.0.0.1:8080/"},
		{name: "AllowPrivate localhost", policy: Policy{AllowPrivate: true}, url: "http://localhost/"},
		{name: "AllowPrivate name", policy: Policy{AllowPrivate: true}, url: "https://internal.example/"},
		{name: "Allow prefix loopback", policy: Policy{Allow: allow127}, url: "http://127.0.0.1:8080/"},
		{name: "Allow prefix localhost", policy: Policy{Allow: allow127}, url: "http://localhost:8080/"},
		{name: "Allow prefix other loopback", policy: Policy{Allow: allow127}, url: "http://127.1.2.3/"},
		{name: "Allow prefix not private", policy: Policy{Allow: allow127}, url: "http://10.0.0.1/", wantIs: ErrForbiddenAddress},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			p := c.policy
			p.Resolver = newFakeResolver()
			u, err := p.CheckURL(t.Context(), c.url)
			if c.wantIs == nil {
				require.NoError(t, err)
				require.Equal(t, c.url, u.String())
				return
			}
			require.ErrorIs(t, err, c.wantIs)
			require.Nil(t, u)
			require.ErrorContains(t, err, c.wantMsg)
		})
	}
}

// TestCheckHost checks the host of a message system's URL as CheckURL
// checks an HTTP URL's.
func TestCheckHost(t *testing.T) {
	t.Parallel()
	guarded := Policy{Resolver: newFakeResolver()}
	for host, want := range map[string]error{
		"public.example": nil, "93.184.216.34": nil, "127.0.0.1": ErrForbiddenAddress, "localhost": ErrForbiddenAddress,
		"internal.example": ErrForbiddenAddress, "169.254.169.254": ErrForbiddenAddress, "::1": ErrForbiddenAddress,
	} {
		err := guarded.CheckHost(t.Context(), "nats://"+host+"/orders", host)
		if want == nil {
			require.NoError(t, err, host)
			continue
		}
		require.ErrorIs(t, err, want, host)
		require.ErrorContains(t, err, "nats://"+host+"/orders", "the error names the URL")
		require.NoError(t, Policy{AllowPrivate: true, Resolver: newFakeResolver()}.CheckHost(t.Context(), "nats://x/y", host), host)
	}
}

func TestCheckURLResolveTimeout(t *testing.T) {
	t.Parallel()
	r := newFakeResolver()
	before := time.Now()
	_, err := Policy{Resolver: r}.CheckURL(t.Context(), "https://public.example/")
	require.NoError(t, err)
	r.mu.Lock()
	defer r.mu.Unlock()
	require.False(t, r.deadline.IsZero(), "lookup has a deadline")
	require.WithinRange(t, r.deadline, before.Add(ResolveTimeout), time.Now().Add(ResolveTimeout))
}

type bundle struct {
	server   *httptest.Server
	redirect *httptest.Server
}

func setup(t *testing.T) bundle {
	t.Helper()
	server := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		_, _ = w.Write([]byte("ok"))
	}))
	t.Cleanup(server.Close)
	redirect := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, server.URL+"/elsewhere", http.StatusFound)
	}))
	t.Cleanup(redirect.Close)
	return bundle{server: server, redirect: redirect}
}

func get(t *testing.T, client *http.Client, url string) (*http.Response, error) {
	t.Helper()
	t.Cleanup(client.CloseIdleConnections)
	req, err := http.NewRequestWithContext(t.Context(), http.MethodGet, url, nil)
	require.NoError(t, err)
	resp, err := client.Do(req)
	if err == nil {
		t.Cleanup(func() { _ = resp.Body.Close() })
	}
	return resp, err
}

func TestClientRefusesLoopback(t *testing.T) {
	t.Parallel()
	b := setup(t)
	_, err := get(t, NewClient(Policy{}), b.server.URL)
	require.ErrorIs(t, err, ErrForbiddenAddress)
}

func TestClientRefusesLocalhostName(t *testing.T) {
	t.Parallel()
	b := setup(t)
	// The name resolves first; the check runs on the resolved address.
	url := strings.Replace(b.server.URL, "127.0.0.1", "localhost", 1)
	_, err := get(t, NewClient(Policy{}), url)
	require.ErrorIs(t, err, ErrForbiddenAddress)
}

func TestClientAllows(t *testing.T) {
	t.Parallel()
	allow127, err := ParsePrefixes([]string{"127.0.0.0/8"})
	require.NoError(t, err)
	for name, p := range map[string]Policy{
		"AllowPrivate": {AllowPrivate: true},
		"Allow prefix": {Allow: allow127},
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			b := setup(t)
			resp, err := get(t, NewClient(p), b.server.URL)
			require.NoError(t, err)
			require.Equal(t, http.StatusOK, resp.StatusCode)
		})
	}
}

func TestClientDoesNotFollowRedirects(t *testing.T) {
	t.Parallel()
	b := setup(t)
	resp, err := get(t, NewClient(Policy{AllowPrivate: true}), b.redirect.URL)
	require.NoError(t, err)
	require.Equal(t, http.StatusFound, resp.StatusCode)
	require.Equal(t, b.server.URL+"/elsewhere", resp.Header.Get("Location"))
}

func TestClientSettings(t *testing.T) {
	t.Parallel()
	client := NewClient(Policy{})
	require.Zero(t, client.Timeout)
	transport, ok := client.Transport.(*http.Transport)
	require.True(t, ok)
	require.Nil(t, transport.Proxy)
	require.Equal(t, 128, transport.MaxIdleConnsPerHost)
	require.Equal(t, 90*time.Second, transport.IdleConnTimeout)
	require.Equal(t, 10*time.Second, transport.TLSHandshakeTimeout)
	require.Zero(t, transport.ResponseHeaderTimeout)
}
