// Command receiver-go is a minimal webhook receiver for Hookline
// deliveries. It verifies every request with the official Standard Webhooks
// Go library, acknowledges a webhook-id it has already processed without
// processing it again, and answers 204 No Content.
//
//	HOOKLINE_WEBHOOK_SECRET=whsec_… go run ./examples/receiver-go -addr 127.0.0.1:9000
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"os/signal"
	"sync"
	"syscall"
	"time"

	standardwebhooks "github.com/standard-webhooks/standard-webhooks/libraries/go"
)

const (
	// secretEnv names the environment variable holding the endpoint's
	// signing secret (whsec_…), as printed by `hookline endpoints create`.
	secretEnv = "HOOKLINE_WEBHOOK_SECRET"
	// maxBody is the largest body accepted; Hookline's API accepts events
	// up to 1 MiB, and the envelope adds a little.
	maxBody = 2 << 20
	// dedupTTL is how long a processed webhook-id is remembered. Hookline
	// retries a delivery for about 27 hours with its default schedule, each
	// time with the same webhook-id.
	dedupTTL = 48 * time.Hour
	// dedupMax bounds the memory the dedup set may use.
	dedupMax = 100_000
)

func main() {
	addr := flag.String("addr", "127.0.0.1:9000", "address to listen on")
	flag.Parse()
	log := slog.New(slog.NewTextHandler(os.Stderr, nil))

	secret := os.Getenv(secretEnv)
	if secret == "" {
		fmt.Fprintf(os.Stderr, "set %s to the endpoint's signing secret (whsec_…)\n", secretEnv)
		os.Exit(2)
	}
	wh, err := standardwebhooks.NewWebhook(secret)
	if err != nil {
		fmt.Fprintf(os.Stderr, "%s: %v\n", secretEnv, err)
		os.Exit(2)
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	srv := &http.Server{
		Addr:              *addr,
		Handler:           newHandler(wh, newSeenSet(dedupTTL, dedupMax), log),
		ReadHeaderTimeout: 10 * time.Second,
	}
	go func() {
		<-ctx.Done()
		shutdownCtx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = srv.Shutdown(shutdownCtx)
	}()
	log.Info("receiver listening", "addr", *addr)
	if err := srv.ListenAndServe(); err != nil && !errors.Is(err, http.ErrServerClosed) {
		log.Error("serve", "error", err)
		os.Exit(1)
	}
}

// newHandler verifies, deduplicates and processes deliveries.
func newHandler(wh *standardwebhooks.Webhook, seen *seenSet, log *slog.Logger) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost {
			w.Header().Set("Allow", http.MethodPost)
			http.Error(w, "POST only", http.StatusMethodNotAllowed)
			return
		}
		body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxBody))
		if err != nil {
			http.Error(w, "body too large or unreadable", http.StatusRequestEntityTooLarge)
			return
		}
		// Verify the raw bytes before parsing them: the signature covers
		// webhook-id, webhook-timestamp and the body exactly as sent, and
		// the library rejects timestamps more than 5 minutes off.
		if err := wh.Verify(body, r.Header); err != nil {
			log.Warn("rejected delivery", "error", err)
			http.Error(w, "invalid signature", http.StatusUnauthorized)
			return
		}

		// webhook-id is the event id: the same on every retry and replay of
		// the event to this endpoint, so it is the deduplication key.
		id := r.Header.Get(standardwebhooks.HeaderWebhookID)
		if !seen.claim(id) {
			log.Info("duplicate delivery acknowledged", "webhook_id", id)
			w.WriteHeader(http.StatusNoContent)
			return
		}
		if err := process(id, r.Header.Get("Content-Type"), body, log); err != nil {
			// Forget the id so Hookline's retry is processed, and answer
			// non-2xx so that it retries.
			seen.forget(id)
			log.Error("process delivery", "webhook_id", id, "error", err)
			http.Error(w, "processing failed", http.StatusInternalServerError)
			return
		}
		w.WriteHeader(http.StatusNoContent)
	})
}

// process is where a real receiver does its work. Answer quickly: Hookline
// waits at most the endpoint's timeout (15 s by default) for the answer.
func process(id, contentType string, body []byte, log *slog.Logger) error {
	log.Info("delivery", "webhook_id", id, "content_type", contentType, "body", string(body))
	return nil
}

// seenSet remembers processed webhook-ids for a while, in memory. A real
// receiver keeps them in its database, in the same transaction as the work
// they stand for, so a restart does not forget them.
type seenSet struct {
	ttl time.Duration
	max int

	mu   sync.Mutex
	seen map[string]time.Time // webhook-id → when it was claimed
}

func newSeenSet(ttl time.Duration, max int) *seenSet {
	return &seenSet{ttl: ttl, max: max, seen: make(map[string]time.Time)}
}

// claim reports whether id is new and, if so, records it. Concurrent
// deliveries of one id are claimed once.
func (s *seenSet) claim(id string) bool {
	now := time.Now()
	s.mu.Lock()
	defer s.mu.Unlock()
	if t, ok := s.seen[id]; ok && now.Sub(t) < s.ttl {
		return false
	}
	if len(s.seen) >= s.max {
		s.pruneLocked(now)
	}
	s.seen[id] = now
	return true
}

// forget drops id, after its processing failed.
func (s *seenSet) forget(id string) {
	s.mu.Lock()
	delete(s.seen, id)
	s.mu.Unlock()
}

// pruneLocked drops expired ids; when that frees no room it also drops every
// id claimed in the older half of the time span the set covers, so memory
// stays bounded under any load.
func (s *seenSet) pruneLocked(now time.Time) {
	for id, t := range s.seen {
		if now.Sub(t) >= s.ttl {
			delete(s.seen, id)
		}
	}
	if len(s.seen) < s.max {
		return
	}
	cutoff := now
	for _, t := range s.seen {
		if t.Before(cutoff) {
			cutoff = t
		}
	}
	cutoff = cutoff.Add(now.Sub(cutoff) / 2) // midpoint of oldest claim and now
	for id, t := range s.seen {
		if !t.After(cutoff) {
			delete(s.seen, id)
		}
	}
}
