package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/spf13/cobra"
	standardwebhooks "github.com/standard-webhooks/standard-webhooks/libraries/go"
)

const (
	// maxListenBody is the largest request body listen accepts; larger ones
	// get 413.
	maxListenBody = 1 << 20
	// maxShownBody is how much of a body listen prints, in bytes.
	maxShownBody = 4 << 10
	// listenShutdownTimeout bounds how long listen waits for requests in
	// flight when it stops.
	listenShutdownTimeout = 5 * time.Second
)

func newListenCmd() *cobra.Command {
	var (
		addr, secret string
		status       int
	)
	cmd := &cobra.Command{
		Use:   "listen",
		Short: "Run a local webhook receiver that prints every request",
		Long: `Run a local webhook receiver for development. It prints every request it
gets: time, method, path, the webhook-id and webhook-timestamp headers, the
content type and the body (pretty JSON, cut at 4 KiB), then whether the
Standard Webhooks signature is valid for --secret.

It answers every request with --status and {"ok":true}; bodies over 1 MiB get
413. Stop it with Ctrl-C.`,
		Example: `  hookline listen --secret whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw
  hookline listen --addr 127.0.0.1:9001 --status 500   # make deliveries fail`,
		Args: argsNamed(),
		RunE: func(cmd *cobra.Command, _ []string) error {
			if status < 200 || status > 599 {
				return usagef(cmd, "invalid --status %d: want 200 to 599", status)
			}
			cfg := listenConfig{status: status}
			if secret != "" {
				wh, err := parseSecret(secret)
				if err != nil {
					return usagef(cmd, "invalid --secret: %v", err)
				}
				cfg.verifier = wh
			}
			ln, err := new(net.ListenConfig).Listen(cmd.Context(), "tcp", addr)
			if err != nil {
				return fmt.Errorf("listen: %w", err)
			}
			srv := &http.Server{
				Handler:           newListenHandler(cmd.OutOrStdout(), cfg),
				ReadHeaderTimeout: 10 * time.Second,
			}
			fmt.Fprintf(cmd.ErrOrStderr(), "listening on http://%s, answering %d; Ctrl-C to stop\n", ln.Addr(), status)
			return serveUntilDone(cmd.Context(), srv, ln)
		},
	}
	f := cmd.Flags()
	f.StringVar(&addr, "addr", "127.0.0.1:9000", "address to listen on")
	f.StringVar(&secret, "secret", "", "endpoint signing secret (whsec_…) to verify signatures with")
	f.IntVar(&status, "status", http.StatusOK, "HTTP status to answer with")
	return cmd
}

// parseSecret builds a verifier for a whsec_ secret.
func parseSecret(secret string) (*standardwebhooks.Webhook, error) {
	if strings.TrimPrefix(secret, "whsec_") == "" {
		return nil, errors.New("empty secret")
	}
	wh, err := standardwebhooks.NewWebhook(secret)
	if err != nil {
		return nil, errors.New("want whsec_ followed by base64")
	}
	return wh, nil
}

// serveUntilDone serves on ln until ctx is done, then shuts srv down,
// letting requests in flight finish.
func serveUntilDone(ctx context.Context, srv *http.Server, ln net.Listener) error {
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return fmt.Errorf("listen: %w", err)
	case <-ctx.Done():
	}
	shutdownCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), listenShutdownTimeout)
	defer cancel()
	if err := srv.Shutdown(shutdownCtx); err != nil {
		return fmt.Errorf("listen: shut down: %w", err)
	}
	if err := <-errc; !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("listen: %w", err)
	}
	return nil
}

// listenConfig configures the development receiver.
type listenConfig struct {
	// verifier checks signatures; nil means they are not checked.
	verifier *standardwebhooks.Webhook
	// status is the HTTP status of every answer to an acceptable request.
	status int
}

// newListenHandler returns the development receiver: it prints one block per
// request to out and answers with cfg.status.
func newListenHandler(out io.Writer, cfg listenConfig) http.Handler {
	var mu sync.Mutex // keeps blocks of concurrent requests apart on out
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxListenBody))

		var b strings.Builder
		fmt.Fprintf(&b, "── %s %s %s\n", time.Now().UTC().Format(time.RFC3339Nano), r.Method, r.URL.RequestURI())
		fmt.Fprintf(&b, "webhook-id: %s\n", orDash(r.Header.Get(standardwebhooks.HeaderWebhookID)))
		fmt.Fprintf(&b, "webhook-timestamp: %s\n", showTimestamp(r.Header.Get(standardwebhooks.HeaderWebhookTimestamp)))
		fmt.Fprintf(&b, "content-type: %s\n", orDash(r.Header.Get("Content-Type")))

		status, answer := cfg.status, `{"ok":true}`
		var tooLarge *http.MaxBytesError
		switch {
		case errors.As(err, &tooLarge):
			fmt.Fprintf(&b, "body: rejected, larger than %d bytes (answered 413)\n", tooLarge.Limit)
			status, answer = http.StatusRequestEntityTooLarge, `{"ok":false,"error":"body larger than 1 MiB"}`
		case err != nil:
			fmt.Fprintf(&b, "body: read failed: %v\n", err)
			status, answer = http.StatusBadRequest, `{"ok":false,"error":"body read failed"}`
		default:
			b.WriteString(showBody(body))
			fmt.Fprintf(&b, "signature: %s\n", checkSignature(cfg.verifier, body, r.Header))
		}
		b.WriteString("\n")

		mu.Lock()
		_, _ = io.WriteString(out, b.String())
		mu.Unlock()

		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		_, _ = io.WriteString(w, answer)
	})
}

// showTimestamp shows a webhook-timestamp header with its time in UTC.
func showTimestamp(h string) string {
	sec, err := strconv.ParseInt(h, 10, 64)
	if err != nil {
		return orDash(h)
	}
	return h + " (" + time.Unix(sec, 0).UTC().Format(time.RFC3339) + ")"
}

// showBody renders a request body: pretty JSON when it is JSON, text when it
// is text, cut at maxShownBody.
func showBody(body []byte) string {
	if len(body) == 0 {
		return "body: (empty)\n"
	}
	var pretty bytes.Buffer
	text := body
	if json.Indent(&pretty, body, "", "  ") == nil {
		text = pretty.Bytes()
	} else if !utf8.Valid(body) {
		return fmt.Sprintf("body: (%d bytes of binary data)\n", len(body))
	}
	var b strings.Builder
	fmt.Fprintf(&b, "body (%d bytes):\n", len(body))
	if len(text) > maxShownBody {
		cut := maxShownBody
		for cut > 0 && !utf8.RuneStart(text[cut]) {
			cut--
		}
		b.Write(text[:cut])
		b.WriteString("\n… (cut at 4 KiB)\n")
		return b.String()
	}
	b.Write(text)
	b.WriteString("\n")
	return b.String()
}

// checkSignature verifies a request with the official Standard Webhooks
// library and says what it found.
func checkSignature(wh *standardwebhooks.Webhook, body []byte, h http.Header) string {
	if wh == nil {
		return "not checked (no --secret)"
	}
	err := wh.Verify(body, h)
	switch {
	case err == nil:
		return "verified"
	case errors.Is(err, standardwebhooks.ErrRequiredHeaders):
		return "INVALID (missing webhook-id, webhook-timestamp or webhook-signature header)"
	case errors.Is(err, standardwebhooks.ErrInvalidHeaders):
		return "INVALID (webhook-timestamp is not a Unix time)"
	case errors.Is(err, standardwebhooks.ErrMessageTooOld):
		return "INVALID (timestamp more than 5 minutes old)"
	case errors.Is(err, standardwebhooks.ErrMessageTooNew):
		return "INVALID (timestamp more than 5 minutes in the future)"
	case errors.Is(err, standardwebhooks.ErrNoMatchingSignature):
		return "INVALID (no signature matches the secret)"
	default:
		return "INVALID (" + err.Error() + ")"
	}
}
