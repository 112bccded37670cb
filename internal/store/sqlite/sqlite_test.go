package sqlite_test

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/hookline/hookline/internal/event"
	"github.com/hookline/hookline/internal/secretbox"
	"github.com/hookline/hookline/internal/store"
	"github.com/hookline/hookline/internal/store/sqlite"
	"github.com/hookline/hookline/internal/store/storetest"
)

// openAt opens a store on the database at path, closed when the test ends.
func openAt(t *testing.T, path string) *sqlite.Store {
	t.Helper()
	box, err := secretbox.New(make([]byte, secretbox.KeySize))
	require.NoError(t, err)
	s, err := sqlite.Open(context.Background(), sqlite.Config{Path: path, Box: box})
	require.NoError(t, err)
	t.Cleanup(func() { s.Close() })
	return s
}

// open opens a store on a new database in the test's temporary directory.
func open(t *testing.T) store.Store {
	t.Helper()
	return openAt(t, filepath.Join(t.TempDir(), "hookline.db"))
}

// bigEvent is an event of about 8 KiB, so a few fill a page budget.
func bigEvent(tid string, i int) store.NewEvent {
	at := time.Now().UTC()
	data := fmt.Sprintf(`{"i":%d,"pad":%q}`, i, strings.Repeat("x", 8<<10))
	return store.NewEvent{Event: event.Event{ID: event.NewID(event.PrefixEvent, at), TenantID: tid, Type: "a.b", Source: "api",
		Data: json.RawMessage(data), OccurredAt: at, IdempotencyKey: fmt.Sprint("k", i), CreatedAt: at}, IdempotentSince: at.Add(-time.Hour)}
}

func TestConformance(t *testing.T) {
	t.Parallel()
	storetest.Run(t, open)
}

func TestSecretsEncryptedAtRest(t *testing.T) {
	t.Parallel()
	box, err := secretbox.New(make([]byte, secretbox.KeySize))
	require.NoError(t, err)
	path := filepath.Join(t.TempDir(), "hookline.db")
	s, err := sqlite.Open(context.Background(), sqlite.Config{Path: path, Box: box})
	require.NoError(t, err)
	ctx := context.Background()
	require.NoError(t, s.CreateTenant(ctx, store.Tenant{ID: "ten_1", Name: "a"}))
	const secret = "whsec_dGhpcyBpcyBhIHZlcnkgc2VjcmV0IGtleQ=="
	require.NoError(t, s.CreateEndpoint(ctx, store.Endpoint{ID: "ep_1", TenantID: "ten_1", URL: "https://x",
		Secrets: []store.Secret{{Key: secret}}}))
	require.NoError(t, s.CreateCollection(ctx, store.Collection{TenantID: "ten_1", Name: "c", Spec: []byte(`{}`),
		Secret: []byte(`{"headers":{"Authorization":"` + secret + `"}}`)}))
	require.NoError(t, s.CreateEndpoint(ctx, store.Endpoint{ID: "ep_2", TenantID: "ten_1", URL: "https://x",
		Headers: map[string]string{"Authorization": "Bearer " + secret}, Secrets: []store.Secret{{Key: "whsec_AAAA"}}}))
	const urlPassword = "pw-Zm9vYmFyYmF6cXV4"
	require.NoError(t, s.CreateEndpoint(ctx, store.Endpoint{ID: "ep_3", TenantID: "ten_1", URL: "amqp://app:" + urlPassword + "@mq/x/y",
		Secrets: []store.Secret{{Key: "whsec_AAAA"}}}))
	ep3, err := s.GetEndpoint(ctx, "ten_1", "ep_3")
	require.NoError(t, err)
	require.Equal(t, "amqp://app:redacted@mq/x/y", ep3.URL)
	require.Equal(t, urlPassword, ep3.URLSecret, "the driver opens what it sealed")
	rule := `{"name":"r","lookups":[{"name":"l","url":"https://x","headers":{"Authorization":"Bearer ` + secret + `"}}]}`
	require.NoError(t, s.CreateNotifyRule(ctx, store.NotifyRule{TenantID: "ten_1", Name: "r", Spec: []byte(rule)}))
	ep, err := s.GetEndpoint(ctx, "ten_1", "ep_2")
	require.NoError(t, err)
	require.Equal(t, "Bearer "+secret, ep.Headers["Authorization"], "the driver opens what it sealed")
	r, err := s.GetNotifyRule(ctx, "ten_1", "r")
	require.NoError(t, err)
	require.JSONEq(t, rule, string(r.Spec))
	require.NoError(t, s.Close())
	requireNotOnDisk(t, path, secret, "dGhpcyBpcyBhIHZlcnkgc2VjcmV0IGtleQ", urlPassword)
}

// requireNotOnDisk checks that neither the database file at path nor its
// WAL holds any of the values.
func requireNotOnDisk(t *testing.T, path string, values ...string) {
	t.Helper()
	for _, name := range []string{path, path + "-wal"} {
		raw, err := os.ReadFile(name)
		if os.IsNotExist(err) {
			continue
		}
		require.NoError(t, err)
		for _, v := range values {
			require.False(t, strings.Contains(string(raw), v), "%s holds %q", name, v)
		}
	}
}

// TestLegacyPlainHeadersSealedOnOpen: rows written before endpoint headers,
// notify rules and URL credentials were sealed still read, and opening the
// store seals them, leaving no plain copy in the file.
func TestLegacyPlainHeadersSealedOnOpen(t *testing.T) {
	t.Parallel()
	box, err := secretbox.New(make([]byte, secretbox.KeySize))
	require.NoError(t, err)
	path := filepath.Join(t.TempDir(), "hookline.db")
	ctx := context.Background()
	s, err := sqlite.Open(ctx, sqlite.Config{Path: path, Box: box})
	require.NoError(t, err)
	require.NoError(t, s.CreateTenant(ctx, store.Tenant{ID: "ten_1", Name: "a"}))
	require.NoError(t, s.CreateEndpoint(ctx, store.Endpoint{ID: "ep_1", TenantID: "ten_1", URL: "https://x",
		Secrets: []store.Secret{{Key: "whsec_AAAA"}}}))
	require.NoError(t, s.CreateNotifyRule(ctx, store.NotifyRule{TenantID: "ten_1", Name: "r", Spec: []byte(`{}`)}))
	require.NoError(t, s.Close())

	// Turn both rows into what an earlier version wrote.
	const headers = `{"Authorization":"Bearer legacy-s3cr3t"}`
	const rule = `{"name":"r","lookups":[{"name":"l","url":"https://x","headers":{"X-Key":"legacy-k3y"}}]}`
	db, err := sql.Open("sqlite", "file:"+path)
	require.NoError(t, err)
	_, err = db.Exec(`UPDATE endpoints SET headers = ?, sealed_headers = NULL, url = ?, sealed_url_secret = NULL`,
		headers, "https://hook:legacy-pa55@x")
	require.NoError(t, err)
	_, err = db.Exec(`UPDATE notify_rules SET spec = ?, sealed_spec = NULL`, rule)
	require.NoError(t, err)
	require.NoError(t, db.Close())

	s, err = sqlite.Open(ctx, sqlite.Config{Path: path, Box: box})
	require.NoError(t, err)
	ep, err := s.GetEndpoint(ctx, "ten_1", "ep_1")
	require.NoError(t, err)
	require.Equal(t, map[string]string{"Authorization": "Bearer legacy-s3cr3t"}, ep.Headers)
	require.Equal(t, "https://hook:redacted@x", ep.URL)
	require.Equal(t, "legacy-pa55", ep.URLSecret)
	r, err := s.GetNotifyRule(ctx, "ten_1", "r")
	require.NoError(t, err)
	require.JSONEq(t, rule, string(r.Spec))
	require.NoError(t, s.Close())
	requireNotOnDisk(t, path, "legacy-s3cr3t", "legacy-k3y", "legacy-pa55")

	s, err = sqlite.Open(ctx, sqlite.Config{Path: path, Box: box})
	require.NoError(t, err, "opening again finds nothing to seal")
	ep, err = s.GetEndpoint(ctx, "ten_1", "ep_1")
	require.NoError(t, err)
	require.Equal(t, "Bearer legacy-s3cr3t", ep.Headers["Authorization"])
	require.Equal(t, "legacy-pa55", ep.URLSecret)
	require.NoError(t, s.Close())
}

// benchStore opens a store on a new database with tenant ten_1, closed
// when the benchmark ends.
func benchStore(b *testing.B, created time.Time) *sqlite.Store {
	box, err := secretbox.New(make([]byte, secretbox.KeySize))
	require.NoError(b, err)
	s, err := sqlite.Open(context.Background(), sqlite.Config{Path: filepath.Join(b.TempDir(), "hookline.db"), Box: box})
	require.NoError(b, err)
	b.Cleanup(func() { s.Close() })
	require.NoError(b, s.CreateTenant(context.Background(), store.Tenant{ID: "ten_1", Name: "acme", CreatedAt: created}))
	return s
}

// BenchmarkAcceptEvents measures the raw group-commit rate of the schema:
// batches of 500 ~1 KiB events with one task each, fsync on.
func BenchmarkAcceptEvents(b *testing.B) {
	base := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	s := benchStore(b, base)
	ctx := context.Background()
	const batch = 500
	b.ResetTimer()
	for range b.N {
		evs := make([]store.NewEvent, batch)
		for i := range evs {
			e := event.Event{ID: event.NewID(event.PrefixEvent, time.Now()), TenantID: "ten_1", Type: "a.b", Source: "api",
				Data: json.RawMessage(`{"note":"` + strings.Repeat("x", 900) + `"}`), OccurredAt: base, CreatedAt: base}
			evs[i] = store.NewEvent{Event: e, Tasks: []store.Task{{ID: event.NewID(event.PrefixDelivery, base), TenantID: "ten_1",
				EventID: e.ID, EventType: e.Type, Kind: "endpoint", DestinationID: "ep_1", Status: store.StatusPending, NextAt: base,
				CreatedAt: base, UpdatedAt: base}}}
		}
		if _, err := s.AcceptEvents(ctx, evs); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N*batch)/b.Elapsed().Seconds(), "events/s")
}

// TestBackupOfStoppedDatabase backs up a database no process has open (no
// -wal or -shm file): the copy holds its events and the data dir is left
// as it was.
func TestBackupOfStoppedDatabase(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	path := filepath.Join(dir, "hookline.db")
	s := openAt(t, path)
	require.NoError(t, s.CreateTenant(t.Context(), store.Tenant{ID: "ten_1", Name: "a"}))
	ev := bigEvent("ten_1", 1)
	_, err := s.AcceptEvents(t.Context(), []store.NewEvent{ev})
	require.NoError(t, err)
	require.NoError(t, s.Close())
	list := func() []string {
		des, err := os.ReadDir(dir)
		require.NoError(t, err)
		var names []string
		for _, de := range des {
			names = append(names, de.Name())
		}
		return names
	}
	files := list()
	require.Equal(t, []string{"hookline.db"}, files)

	dst := filepath.Join(t.TempDir(), "copy.db")
	require.NoError(t, sqlite.Backup(t.Context(), path, dst))
	require.Equal(t, files, list(), "the backup wrote nothing next to the database")
	c := openAt(t, dst)
	got, err := c.GetEvent(t.Context(), "ten_1", ev.Event.ID)
	require.NoError(t, err)
	require.JSONEq(t, string(ev.Event.Data), string(got.Data))

	require.ErrorIs(t, sqlite.Backup(t.Context(), path, dst), sqlite.ErrBackupExists)
	require.ErrorIs(t, sqlite.Backup(t.Context(), filepath.Join(dir, "missing.db"), filepath.Join(t.TempDir(), "x.db")), os.ErrNotExist)
}

// BenchmarkCommit is the writer's steady state under S1: each commit
// accepts 32 events of 1 KiB with one leased delivery task each and
// records the attempts that delivered the previous 32, as the engine's
// writer does (one transaction, fsync on commit).
func BenchmarkCommit(b *testing.B) {
	for _, batch := range []int{1, 4, 32} {
		b.Run(fmt.Sprintf("batch_%d", batch), func(b *testing.B) { benchCommit(b, batch) })
	}
}

func benchCommit(b *testing.B, batch int) {
	base := time.Now()
	s := benchStore(b, base)
	ctx := context.Background()
	body := `{"type":"a.b","timestamp":"2026-01-02T03:04:05Z","data":{"note":"` + strings.Repeat("x", 1000) + `"}}`
	events := func() []store.NewEvent {
		evs := make([]store.NewEvent, batch)
		for i := range evs {
			e := event.Event{ID: event.NewID(event.PrefixEvent, time.Now()), TenantID: "ten_1", Type: "a.b", Source: "api",
				Data: json.RawMessage(`{"note":"` + strings.Repeat("x", 1000) + `"}`), OccurredAt: base, CreatedAt: base}
			evs[i] = store.NewEvent{Event: e, Tasks: []store.Task{{ID: event.NewID(event.PrefixDelivery, time.Now()), TenantID: "ten_1",
				EventID: e.ID, EventType: e.Type, Kind: "endpoint", DestinationID: "ep_1", Status: store.StatusPending, NextAt: base,
				CreatedAt: base, UpdatedAt: base, LeaseFor: time.Minute, LeaseOwner: "node"}}}
		}
		return evs
	}
	results := func(acc []store.Accepted) []store.TaskResult {
		var rs []store.TaskResult
		for _, a := range acc {
			for _, t := range a.Tasks {
				rs = append(rs, store.TaskResult{TaskID: t.ID, Token: t.LeaseToken, Status: store.StatusSucceeded, Attempt: store.Attempt{
					ID: event.NewID(event.PrefixAttempt, time.Now()), TaskID: t.ID, TenantID: "ten_1", Number: 1, StartedAt: base,
					Duration: time.Millisecond, Outcome: "succeeded", Kind: "http", RequestURL: "http://127.0.0.1:9000/hook",
					RequestHeaders: map[string]string{"Content-Type": "application/json", "User-Agent": "Hookline/1",
						"Webhook-Id": a.Event.ID, "Webhook-Timestamp": "1767323045", "Webhook-Signature": "redacted"},
					RequestBody: body, ResponseStatus: 204,
					ResponseHeaders: map[string]string{"Date": "Mon, 07 Dec 2026 21:00:00 GMT"}}})
			}
		}
		return rs
	}
	prev, _, err := s.Commit(ctx, events(), nil)
	require.NoError(b, err)
	b.ResetTimer()
	for range b.N {
		evs, rs := events(), results(prev)
		acc, stale, err := s.Commit(ctx, evs, rs)
		if err != nil || len(stale) > 0 {
			b.Fatal(err, stale)
		}
		prev = acc
	}
	b.ReportMetric(float64(b.N*batch)/b.Elapsed().Seconds(), "events/s")
}
