package app_test

import (
	"crypto/tls"
	"crypto/x509"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/hookline/hookline/client"
	"github.com/hookline/hookline/internal/app"
	"github.com/hookline/hookline/internal/app/apptest"
	"github.com/hookline/hookline/internal/config"
	"github.com/hookline/hookline/internal/testkit"
	"github.com/hookline/hookline/internal/tlstest"
)

// startTLS starts an app on cfg with a loopback address and returns it
// with its logs; it is stopped when the test ends.
func startTLS(t *testing.T, cfg config.Config) (*app.App, *testkit.Buffer) {
	t.Helper()
	cfg.Addr = "127.0.0.1:0"
	cfg.APIKey = clusterKey
	var logs testkit.Buffer
	a := apptest.Run(t, cfg, app.Options{Logger: slog.New(slog.NewTextHandler(&logs, nil))})
	return a, &logs
}

// trusting returns an HTTP client that trusts only cert; h2 lets it
// offer HTTP/2.
func trusting(cert *x509.Certificate, h2 bool) *http.Client {
	tr := &http.Transport{TLSClientConfig: &tls.Config{RootCAs: tlstest.Pool(cert)}, ForceAttemptHTTP2: h2}
	return &http.Client{Transport: tr, Timeout: 10 * time.Second}
}

// TestTLSServesHTTP2 serves HTTPS with a certificate of its own: a client
// trusting it negotiates HTTP/2 and uses the API; an HTTP/1.1-only client
// still gets HTTP/1.1; a renewed pair of files is served from the next
// handshake on, without a restart.
func TestTLSServesHTTP2(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	cert, certFile, keyFile := tlstest.Files(t, dir, 1)
	cfg := apptest.Config(t)
	cfg.TLSCert, cfg.TLSKey = certFile, keyFile
	a, logs := startTLS(t, cfg)
	require.Contains(t, logs.Line(`msg="hookline listening"`), `tls="certificate files"`)
	base := "https://" + a.Addr()

	h2 := trusting(cert, true)
	res, err := h2.Get(base + "/healthz")
	require.NoError(t, err)
	body, err := io.ReadAll(res.Body)
	res.Body.Close()
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, res.StatusCode)
	require.Equal(t, "HTTP/2.0", res.Proto, "a TLS client offering h2 negotiates HTTP/2")
	require.Equal(t, "h2", res.TLS.NegotiatedProtocol)
	require.JSONEq(t, `{"status":"ok"}`, string(body))

	c := client.New(base, clusterKey, client.WithHTTPClient(h2))
	ev, err := c.SendEvent(t.Context(), client.EventCreate{Type: "order.created", Data: []byte(`{"id":1}`)})
	require.NoError(t, err)
	got, err := c.GetEvent(t.Context(), ev.ID)
	require.NoError(t, err)
	require.Equal(t, "order.created", got.Type)

	res, err = trusting(cert, false).Get(base + "/readyz")
	require.NoError(t, err)
	res.Body.Close()
	require.Equal(t, http.StatusOK, res.StatusCode)
	require.Equal(t, "HTTP/1.1", res.Proto)

	// Plain HTTP on the TLS port is refused.
	res, err = http.Get("http://" + a.Addr() + "/healthz")
	require.NoError(t, err)
	res.Body.Close()
	require.Equal(t, http.StatusBadRequest, res.StatusCode)

	// A renewal replaces both files; the next handshake serves the new
	// certificate.
	renewed, _, _ := tlstest.Files(t, dir, 2)
	later := time.Now().Add(time.Minute)
	require.NoError(t, os.Chtimes(certFile, later, later))
	require.NoError(t, os.Chtimes(keyFile, later, later))
	conn, err := tls.Dial("tcp", a.Addr(), &tls.Config{RootCAs: tlstest.Pool(renewed), ServerName: "localhost"})
	require.NoError(t, err, "the renewed certificate is served")
	require.Equal(t, int64(2), conn.ConnectionState().PeerCertificates[0].SerialNumber.Int64())
	conn.Close()
	require.Contains(t, logs.Line("certificate read again"), "cert="+certFile)

	// A broken renewal keeps the certificate in use.
	require.NoError(t, os.WriteFile(keyFile, []byte("not a key"), 0o600))
	conn, err = tls.Dial("tcp", a.Addr(), &tls.Config{RootCAs: tlstest.Pool(renewed), ServerName: "localhost"})
	require.NoError(t, err)
	require.Equal(t, int64(2), conn.ConnectionState().PeerCertificates[0].SerialNumber.Int64())
	conn.Close()
	require.Contains(t, logs.Line("keeping the certificate in use"), "key.pem")
}

// TestTLSFilesThatDoNotLoad: a certificate file that is missing or not a
// certificate stops the start with an error naming it.
func TestTLSFilesThatDoNotLoad(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	_, certFile, keyFile := tlstest.Files(t, dir, 1)
	cfg := apptest.Config(t)
	cfg.TLSCert, cfg.TLSKey = filepath.Join(dir, "missing.pem"), keyFile
	_, err := app.New(t.Context(), cfg, app.Options{})
	require.ErrorContains(t, err, "tls: stat "+filepath.Join(dir, "missing.pem")+": no such file or directory")

	cfg.TLSCert, cfg.TLSKey = keyFile, certFile
	_, err = app.New(t.Context(), cfg, app.Options{})
	require.ErrorContains(t, err, "tls: load "+keyFile+" and "+certFile)
}

// acmeDirectory is a stand-in for an ACME authority that records the
// paths asked of it and answers none of them.
type acmeDirectory struct {
	srv   *httptest.Server
	mu    sync.Mutex
	paths []string
}

func newACMEDirectory(t *testing.T) *acmeDirectory {
	d := &acmeDirectory{}
	d.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		d.mu.Lock()
		d.paths = append(d.paths, r.URL.Path)
		d.mu.Unlock()
		http.Error(w, "no such directory", http.StatusNotFound)
	}))
	t.Cleanup(d.srv.Close)
	return d
}

func (d *acmeDirectory) asked() []string {
	d.mu.Lock()
	defer d.mu.Unlock()
	return append([]string(nil), d.paths...)
}

// TestACMECertificates serves automatic certificates: a handshake for a
// configured domain goes to the ACME directory for a certificate (which
// this one does not give), one for another name does not; the HTTP-01
// listener answers challenges of the configured domain only and redirects
// everything else to HTTPS.
func TestACMECertificates(t *testing.T) {
	t.Parallel()
	dir := newACMEDirectory(t)
	cfg := apptest.Config(t)
	cfg.TLSDomains = []string{"hooks.example.test"}
	cfg.TLSEmail = "ops@example.test"
	cfg.TLSHTTPAddr = "127.0.0.1:0"
	cfg.TLSACMEDirectory = dir.srv.URL + "/directory"
	a, logs := startTLS(t, cfg)
	line := logs.Line(`msg="hookline listening"`)
	require.Contains(t, line, "tls=acme")
	m := regexp.MustCompile(`acme_http_addr=(\S+)`).FindStringSubmatch(line)
	require.NotNil(t, m, line)
	challengeAddr := m[1]

	handshake := func(name string) error {
		conn, err := tls.Dial("tcp", a.Addr(), &tls.Config{ServerName: name, InsecureSkipVerify: true})
		if err == nil {
			conn.Close()
		}
		return err
	}
	require.Error(t, handshake("other.example.test"))
	require.Empty(t, dir.asked(), "no certificate is asked for a name not configured")
	require.Error(t, handshake("hooks.example.test"), "the directory gives no certificate")
	require.Contains(t, dir.asked(), "/directory", "a certificate for the configured domain is asked of the ACME directory")

	noRedirect := &http.Client{Timeout: 10 * time.Second, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	get := func(host, path string) *http.Response {
		req, err := http.NewRequest(http.MethodGet, "http://"+challengeAddr+path, nil)
		require.NoError(t, err)
		req.Host = host
		res, err := noRedirect.Do(req)
		require.NoError(t, err)
		res.Body.Close()
		return res
	}
	res := get("hooks.example.test", "/v1/events?limit=1")
	require.Equal(t, http.StatusFound, res.StatusCode)
	require.Equal(t, "https://hooks.example.test/v1/events?limit=1", res.Header.Get("Location"))
	require.Equal(t, http.StatusNotFound, get("hooks.example.test", "/.well-known/acme-challenge/unknown-token").StatusCode)
	require.Equal(t, http.StatusForbidden, get("other.example.test", "/.well-known/acme-challenge/unknown-token").StatusCode)
}
