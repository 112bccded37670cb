package config

import (
	"net"
	"net/url"
	"regexp"
	"strings"
)

// TLSEnabled reports whether the server listens with HTTPS: a certificate
// of its own or automatic ones.
func (c Config) TLSEnabled() bool { return c.TLSCert != "" || len(c.TLSDomains) > 0 }

// domainName is a DNS name an ACME authority issues a certificate for
// over HTTP-01 or TLS-ALPN-01: labels of letters, digits and hyphens, at
// least two of them, no wildcard.
var domainName = regexp.MustCompile(`^([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$`)

// validateTLS checks the tls_* keys together.
func (c Config) validateTLS(bad func(key, format string, args ...any)) {
	switch {
	case c.TLSCert != "" && c.TLSKey == "":
		bad("tls_key", "is required with tls_cert (the certificate's private key, PEM)")
	case c.TLSKey != "" && c.TLSCert == "":
		bad("tls_cert", "is required with tls_key (the certificate, PEM)")
	}
	if len(c.TLSDomains) > 0 && (c.TLSCert != "" || c.TLSKey != "") {
		bad("tls_domains", "gets certificates automatically; it cannot be combined with tls_cert and tls_key (a certificate of your own): set one or the other")
	}
	for _, d := range c.TLSDomains {
		if !domainName.MatchString(d) || len(d) > 253 {
			bad("tls_domains", "%q is not a domain name such as hooks.example.com (no scheme, port or wildcard; lower case)", d)
		}
	}
	if len(c.TLSDomains) == 0 {
		for _, k := range []struct{ key, value string }{
			{"tls_email", c.TLSEmail}, {"tls_http_addr", c.TLSHTTPAddr}, {"tls_acme_directory", c.TLSACMEDirectory},
		} {
			if k.value != "" {
				bad(k.key, "only applies with tls_domains (automatic certificates)")
			}
		}
		return
	}
	if c.TLSEmail != "" && (!strings.Contains(c.TLSEmail, "@") || strings.ContainsAny(c.TLSEmail, " <>")) {
		bad("tls_email", "%q is not an email address", c.TLSEmail)
	}
	if c.TLSHTTPAddr != "" {
		if _, _, err := net.SplitHostPort(c.TLSHTTPAddr); err != nil {
			bad("tls_http_addr", "%q is not a host:port address such as :80", c.TLSHTTPAddr)
		}
	}
	if c.TLSACMEDirectory != "" {
		if u, err := url.Parse(c.TLSACMEDirectory); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			bad("tls_acme_directory", "%q is not an http(s) URL", c.TLSACMEDirectory)
		}
	}
}
