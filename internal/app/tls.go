package app

import (
	"crypto/tls"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"sync"
	"time"

	"golang.org/x/crypto/acme"
	"golang.org/x/crypto/acme/autocert"

	"github.com/hookline/hookline/internal/config"
)

// acmeCacheDir is where automatic certificates and the ACME account key
// are kept, under the data dir, so a restart does not ask for new ones.
const acmeCacheDir = "acme"

// serverTLS is how the server listens over TLS: the listener's config and,
// with automatic certificates and tls_http_addr, the plain-HTTP handler
// answering ACME HTTP-01 challenges and redirecting the rest to HTTPS.
type serverTLS struct {
	config *tls.Config
	// challenge is nil without tls_http_addr.
	challenge http.Handler
	// mode names the source of certificates for the start log.
	mode string
}

// newServerTLS returns the TLS setup cfg asks for, nil without TLS. A
// certificate of one's own is read now, so a mistake stops the start.
func newServerTLS(cfg config.Config, log *slog.Logger) (*serverTLS, error) {
	switch {
	case cfg.TLSCert != "":
		files := &certFiles{cert: cfg.TLSCert, key: cfg.TLSKey, log: log}
		if err := files.load(); err != nil {
			return nil, err
		}
		return &serverTLS{config: &tls.Config{MinVersion: tls.VersionTLS12, GetCertificate: files.get}, mode: "certificate files"}, nil
	case len(cfg.TLSDomains) > 0:
		m := &autocert.Manager{
			Prompt:     autocert.AcceptTOS,
			HostPolicy: autocert.HostWhitelist(cfg.TLSDomains...),
			Cache:      autocert.DirCache(filepath.Join(cfg.DataDir, acmeCacheDir)),
			Email:      cfg.TLSEmail,
		}
		if cfg.TLSACMEDirectory != "" {
			m.Client = &acme.Client{DirectoryURL: cfg.TLSACMEDirectory}
		}
		st := &serverTLS{config: m.TLSConfig(), mode: "acme"}
		st.config.MinVersion = tls.VersionTLS12
		if cfg.TLSHTTPAddr != "" {
			st.challenge = m.HTTPHandler(nil)
		}
		return st, nil
	}
	return nil, nil
}

// certFiles serves the certificate of a pair of PEM files and reads them
// again when either changes (a renewal by certbot or cert-manager), so a
// renewed certificate is served without a restart. A pair that does not
// load after a change is logged and the previous certificate kept.
type certFiles struct {
	cert, key string
	log       *slog.Logger

	mu      sync.Mutex
	stamp   [2]fileStamp
	current *tls.Certificate
	// failed is the last error logged, so a missing file is logged once,
	// not at every handshake.
	failed string
}

// fileStamp tells a changed file: its modification time and size.
type fileStamp struct {
	mod  time.Time
	size int64
}

func stampOf(path string) (fileStamp, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return fileStamp{}, err
	}
	return fileStamp{mod: fi.ModTime(), size: fi.Size()}, nil
}

// load reads the pair; the first load's error is the start's.
func (c *certFiles) load() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	_, err := c.reload()
	return err
}

// reload reads the pair when its stamps differ from the last ones read;
// c.mu is held.
func (c *certFiles) reload() (bool, error) {
	var stamp [2]fileStamp
	for i, p := range []string{c.cert, c.key} {
		s, err := stampOf(p)
		if err != nil {
			return false, fmt.Errorf("tls: %w", err)
		}
		stamp[i] = s
	}
	if c.current != nil && stamp == c.stamp {
		return false, nil
	}
	pair, err := tls.LoadX509KeyPair(c.cert, c.key)
	if err != nil {
		// Do not try this pair again until a file changes once more.
		c.stamp = stamp
		return false, fmt.Errorf("tls: load %s and %s: %w", c.cert, c.key, err)
	}
	c.stamp, c.current = stamp, &pair
	return true, nil
}

// get is the listener's GetCertificate: the current pair, read again
// first if a file changed (two stats per handshake).
func (c *certFiles) get(*tls.ClientHelloInfo) (*tls.Certificate, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	changed, err := c.reload()
	switch {
	case err != nil && err.Error() != c.failed:
		c.failed = err.Error()
		c.log.Warn("tls: keeping the certificate in use", "error", err)
	case err == nil:
		c.failed = ""
		if changed {
			c.log.Info("tls: certificate read again", "cert", c.cert)
		}
	}
	return c.current, nil
}
