package main

import (
	"context"
	"crypto/tls"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/hookline/hookline/internal/config"
)

// newHealthcheckCmd returns `hookline healthcheck`: GET /healthz of the
// server on this machine, exit status 0 when it answers 200. Container
// images without curl (distroless) probe with it.
func newHealthcheckCmd(g *globals) *cobra.Command {
	var (
		path, target string
		timeout      time.Duration
	)
	cmd := &cobra.Command{
		Use:   "healthcheck",
		Short: "Exit 0 when the local server answers /healthz, 1 otherwise",
		Long: `Ask the server on this machine for GET /healthz and exit with status 0 when
it answers 200, 1 otherwise (a container HEALTHCHECK; the image has no
curl). The address comes from the server's own settings, read as serve
reads them (HOOKLINE_ADDR and the tls_* keys from the environment or
--config): https when TLS is configured, 127.0.0.1 when the server
listens on every interface. --url overrides it. The certificate is not
verified: this checks that the process answers, not who it is.`,
		Args: cobra.NoArgs,
		// healthcheck needs no API key.
		PersistentPreRunE: func(*cobra.Command, []string) error { return nil },
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, err := config.Load(path, g.lookup)
			if err != nil {
				return err
			}
			u, serverName, err := healthURL(cfg, target)
			if err != nil {
				return usagef(cmd, "%v", err)
			}
			ctx, cancel := context.WithTimeout(cmd.Context(), timeout)
			defer cancel()
			req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
			if err != nil {
				return err
			}
			req.Header.Set("User-Agent", g.build.UserAgent())
			// Local liveness, so no proxy and no verification: the name
			// on the certificate is the public one, not 127.0.0.1.
			tr := &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true, ServerName: serverName}}
			defer tr.CloseIdleConnections()
			res, err := (&http.Client{Transport: tr}).Do(req)
			if err != nil {
				return fmt.Errorf("unhealthy: %w", err)
			}
			defer res.Body.Close()
			body, _ := io.ReadAll(io.LimitReader(res.Body, 1024))
			if res.StatusCode != http.StatusOK {
				return fmt.Errorf("unhealthy: GET %s: %s %s", u, res.Status, strings.TrimSpace(string(body)))
			}
			fmt.Fprintf(cmd.OutOrStdout(), "healthy: GET %s: %s\n", u, res.Status)
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVarP(&path, "config", "c", "", "the server's YAML config file, to read its addr and tls_* keys from")
	f.StringVar(&target, "url", "", "URL to GET instead of the local server's /healthz")
	f.DurationVar(&timeout, "timeout", 5*time.Second, "give up after this long")
	return cmd
}

// healthURL is the URL of the /healthz of the server cfg configures, or
// target when set, and the name to send in the TLS handshake (the first
// automatic-certificate domain: without one the server has no
// certificate to answer with).
func healthURL(cfg config.Config, target string) (string, string, error) {
	var serverName string
	if len(cfg.TLSDomains) > 0 {
		serverName = cfg.TLSDomains[0]
	}
	if target != "" {
		u, err := url.Parse(target)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return "", "", fmt.Errorf("invalid --url %q: want an http:// or https:// URL", target)
		}
		return target, serverName, nil
	}
	host, port, err := net.SplitHostPort(cfg.Addr)
	if err != nil {
		return "", "", fmt.Errorf("addr %q: %w", cfg.Addr, err)
	}
	if ip := net.ParseIP(host); host == "" || (ip != nil && ip.IsUnspecified()) {
		host = "127.0.0.1"
	}
	scheme := "http"
	if cfg.TLSEnabled() {
		scheme = "https"
	}
	return scheme + "://" + net.JoinHostPort(host, port) + "/healthz", serverName, nil
}
