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
	"sync"
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
	r.logf("ceiling: %d requests of one HTTP hop from %d goroutines", n, r.cfg.Publishers)
	wall, errs, err := httpCeiling(ctx, n, r.cfg.Publishers)
	if err != nil {
		return c, fmt.Errorf("http ceiling: %w", err)
	}
	c.HTTPErrors = errs
	c.HTTPPerSec = float64(n-errs) / wall.Seconds()
	r.logf("ceiling: %.0f requests/s", c.HTTPPerSec)

	r.logf("ceiling: %d events into SQLite with AcceptEvents, %d per batch", n, sqliteBatch)
	wall, err = sqliteCeiling(ctx, filepath.Join(r.root, "ceiling"), n, sqliteBatch)
	if err != nil {
		return c, fmt.Errorf("sqlite ceiling: %w", err)
	}
	c.SQLitePerSec = float64(n) / wall.Seconds()
	r.logf("ceiling: %.0f events/s", c.SQLitePerSec)
	return c, nil
}

// httpCeiling posts n ~1 KiB bodies to a bench receiver from workers
// goroutines over keep-alive connections, as the publishers do, and
// returns the wall time and the number of failed requests.
func httpCeiling(ctx context.Context, n, workers int) (time.Duration, int, error) {
	rcv, err := startReceiver([]behaviour{behaviourOK}, 0)
	if err != nil {
		return 0, 0, err
	}
	defer rcv.close()
	var dials atomic.Int64
	hc := &http.Client{Transport: newTransport(workers, &dials), Timeout: publishTimeout}
	defer hc.CloseIdleConnections()
	body := []byte(`{"type":"bench.ceiling","timestamp":"2026-01-01T00:00:00.000Z","data":{"seq":0,"note":"` + note + `"}}`)
	url := rcv.url(0)
	var next, failed atomic.Int64
	var wg sync.WaitGroup
	start := time.Now()
	for range workers {
		wg.Go(func() {
			for {
				seq := next.Add(1) - 1
				if seq >= int64(n) || ctx.Err() != nil {
					return
				}
				if err := postHop(ctx, hc, url, "evt_ceiling_"+strconv.FormatInt(seq, 10), body); err != nil {
					failed.Add(1)
				}
			}
		})
	}
	wg.Wait()
	wall := time.Since(start)
	if err := ctx.Err(); err != nil {
		return 0, 0, err
	}
	if f := int(failed.Load()); f == n {
		return 0, 0, fmt.Errorf("all %d requests failed", n)
	}
	return wall, int(failed.Load()), nil
}

// postHop posts body to url as a delivery with webhook-id id.
func postHop(ctx context.Context, hc *http.Client, url, id string, body []byte) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("webhook-id", id)
	resp, err := hc.Do(req)
	if err != nil {
		return err
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if resp.StatusCode/100 != 2 {
		return fmt.Errorf("status %d", resp.StatusCode)
	}
	return nil
}

// sqliteCeiling writes n ~1 KiB events with one task each into a fresh
// SQLite store in dir with AcceptEvents, batch at a time, and returns the
// time the writes took (building the rows is not counted).
func sqliteCeiling(ctx context.Context, dir string, n, batch int) (time.Duration, error) {
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
