package bench

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/hookline/hookline/internal/event"
	"github.com/hookline/hookline/internal/secretbox"
	"github.com/hookline/hookline/internal/store"
	"github.com/hookline/hookline/internal/store/sqlite"
)

// sqliteBatch is the batch size of the SQLite ceiling: the largest batch
// Hookline's group-commit writer forms.
const sqliteBatch = 500

// ceilings measures both ceilings with n requests or events each.
func (r *runner) ceilings(ctx context.Context, n int) (Ceilings, error) {
	c := Ceilings{HTTPRequests: n, SQLiteEvents: n, SQLiteBatch: sqliteBatch}
	r.logf("ceiling: %d requests of %d bytes, one HTTP hop from %d publishers", n, r.cfg.EventSize, r.cfg.Publishers)
	p, err := httpCeiling(ctx, n, r.cfg.Publishers, r.cfg.EventSize)
	if err != nil {
		return c, fmt.Errorf("http ceiling: %w", err)
	}
	c.HTTPErrors = p.errors
	c.HTTPPerSec = float64(len(p.accepted)) / p.wall.Seconds()
	c.HTTPLatency = summarize(p.latency)
	r.logf("ceiling: %.0f requests/s, p50 %s p99 %s", c.HTTPPerSec, msStr(c.HTTPLatency.P50MS), msStr(c.HTTPLatency.P99MS))

	r.logf("ceiling: %d events into SQLite with AcceptEvents, %d per batch", n, sqliteBatch)
	wall, err := sqliteCeiling(ctx, filepath.Join(r.root, "ceiling"), n, sqliteBatch, r.cfg.EventSize)
	if err != nil {
		return c, fmt.Errorf("sqlite ceiling: %w", err)
	}
	c.SQLitePerSec = float64(n) / wall.Seconds()
	r.logf("ceiling: %.0f events/s", c.SQLitePerSec)
	return c, nil
}

// httpCeiling posts n event bodies of size bytes to a bench receiver from
// workers publishers over keep-alive connections, the way the scenarios'
// publishers post events to the server, and returns what they measured.
func httpCeiling(ctx context.Context, n, workers, size int) (published, error) {
	rcv, err := startReceiver([]behaviour{behaviourOK}, 0)
	if err != nil {
		return published{}, err
	}
	defer rcv.close()
	var dials atomic.Int64
	hc := &http.Client{Transport: newTransport(workers, &dials), Timeout: publishTimeout}
	defer hc.CloseIdleConnections()
	pub := &publisher{
		send: hopTo(hc, rcv.url(0)), shape: newEventShape("bench.ceiling", size), events: n, workers: workers,
	}
	p := pub.run(ctx)
	if err := ctx.Err(); err != nil {
		return published{}, err
	}
	if len(p.accepted) == 0 {
		return published{}, fmt.Errorf("all %d requests failed; the first: %w", n, p.firstErr)
	}
	return p, nil
}

// hopTo returns the sendFunc that posts a body to url as a delivery of
// event seq would arrive there.
func hopTo(hc *http.Client, url string) sendFunc {
	return func(ctx context.Context, seq int, body []byte) (string, time.Time, error) {
		id := "evt_ceiling_" + strconv.Itoa(seq)
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(body))
		if err != nil {
			return "", time.Time{}, err
		}
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("webhook-id", id)
		resp, err := hc.Do(req)
		if err != nil {
			return "", time.Time{}, err
		}
		at := time.Now()
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode/100 != 2 {
			return "", time.Time{}, fmt.Errorf("status %d", resp.StatusCode)
		}
		return id, at, nil
	}
}

// sqliteCeiling writes n events of about size bytes with one task each into a fresh
// SQLite store in dir with AcceptEvents, batch at a time, and returns the
// time the writes took (building the rows is not counted).
func sqliteCeiling(ctx context.Context, dir string, n, batch, size int) (time.Duration, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return 0, fmt.Errorf("create dir: %w", err)
	}
	key := make([]byte, secretbox.KeySize)
	_, _ = rand.Read(key) // crypto/rand never fails on supported platforms
	box, err := secretbox.New(key)
	if err != nil {
		return 0, err
	}
	st, err := sqlite.Open(ctx, sqlite.Config{Path: filepath.Join(dir, "hookline.db"), Box: box})
	if err != nil {
		return 0, err
	}
	defer st.Close()
	now := time.Now().UTC()
	tenant := store.Tenant{ID: event.NewID(event.PrefixTenant, now), Name: "bench", CreatedAt: now}
	if err := st.CreateTenant(ctx, tenant); err != nil {
		return 0, fmt.Errorf("create tenant: %w", err)
	}
	dest := event.NewID(event.PrefixEndpoint, now)
	// The data of an event body of size bytes, without the type around it.
	note := strings.Repeat("x", max(size-len(`{"type":"bench.ceiling","data":{"seq":00000,"note":""}}`), 0))
	batches := make([][]store.NewEvent, 0, n/batch+1)
	for i := 0; i < n; i += batch {
		b := make([]store.NewEvent, 0, min(batch, n-i))
		for j := i; j < i+cap(b); j++ {
			data, _ := json.Marshal(map[string]any{"seq": j, "note": note})
			ev := event.Event{
				ID: event.NewID(event.PrefixEvent, now), TenantID: tenant.ID, Type: "bench.ceiling", Source: "api",
				Data: data, OccurredAt: now, CreatedAt: now,
			}
			b = append(b, store.NewEvent{Event: ev, Tasks: []store.Task{{
				ID: event.NewID(event.PrefixDelivery, now), TenantID: tenant.ID, EventID: ev.ID, EventType: ev.Type,
				Kind: "endpoint", DestinationID: dest, Status: store.StatusPending,
				NextAt: now, LeaseFor: time.Minute, LeaseOwner: "bench", CreatedAt: now, UpdatedAt: now,
			}}})
		}
		batches = append(batches, b)
	}
	start := time.Now()
	for _, b := range batches {
		if _, err := st.AcceptEvents(ctx, b); err != nil {
			return 0, fmt.Errorf("accept events: %w", err)
		}
	}
	return time.Since(start), nil
}
