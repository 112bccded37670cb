package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/hookline/hookline/client"
	"github.com/hookline/hookline/internal/app"
	"github.com/hookline/hookline/internal/app/apptest"
	"github.com/hookline/hookline/internal/config"
	"github.com/hookline/hookline/internal/secretbox"
	"github.com/hookline/hookline/internal/store"
	"github.com/hookline/hookline/internal/store/sqlite"
)

// startOn starts a real server on the SQLite database of dataDir and stops
// it when the test ends.
func startOn(t *testing.T, dataDir string) *client.Client {
	t.Helper()
	cfg := config.Default()
	cfg.Addr = "127.0.0.1:0"
	cfg.DataDir = dataDir
	cfg.APIKey = liveKey
	return client.New("http://"+apptest.Run(t, cfg, app.Options{}).Addr(), liveKey)
}

// eventIDs lists the ids of every event of the default tenant in the
// SQLite database at path, opened with the data dir's key.
func eventIDs(t *testing.T, path, keyFile string) ([]string, store.Store) {
	t.Helper()
	key, err := os.ReadFile(keyFile)
	require.NoError(t, err)
	k, err := secretbox.ParseKey(string(key))
	require.NoError(t, err)
	box, err := secretbox.New(k)
	require.NoError(t, err)
	st, err := sqlite.Open(t.Context(), sqlite.Config{Path: path, Box: box})
	require.NoError(t, err)
	t.Cleanup(func() { st.Close() })
	tn, err := st.TenantByName(t.Context(), app.DefaultTenant)
	require.NoError(t, err)
	evs, err := st.ListEvents(t.Context(), tn.ID, store.EventQuery{Page: store.Page{Limit: 100000}})
	require.NoError(t, err)
	ids := make([]string, 0, len(evs))
	for _, e := range evs {
		ids = append(ids, e.ID)
	}
	return ids, st
}

// TestBackupWhileServing backs up the database of a server that keeps
// accepting events: the copy opens with the SQLite store and holds every
// event accepted before the backup began, and only accepted ones, with
// its secrets; a second backup to the same file is refused and leaves it
// alone; a server started on the copy (the documented restore) serves
// the events.
func TestBackupWhileServing(t *testing.T) {
	t.Parallel()
	dataDir := filepath.Join(t.TempDir(), "data")
	c := startOn(t, dataDir)
	ctx := t.Context()

	ep, err := c.CreateEndpoint(ctx, client.EndpointCreate{URL: "https://receiver.example/hook", EventTypes: []string{"unrelated.type"}})
	require.NoError(t, err)
	require.NotEmpty(t, ep.Secret)
	send := func(i int) string {
		ev, err := c.SendEvent(ctx, client.EventCreate{Type: "order.created", Data: json.RawMessage(fmt.Sprintf(`{"i":%d}`, i))})
		require.NoError(t, err)
		return ev.ID
	}
	var before []string
	for i := range 20 {
		before = append(before, send(i))
	}

	// Events keep arriving while the backup runs.
	var (
		mu       sync.Mutex
		accepted []string
		wg       sync.WaitGroup
	)
	stop := make(chan struct{})
	wg.Add(1)
	go func() {
		defer wg.Done()
		for i := 1000; ; i++ {
			select {
			case <-stop:
				return
			default:
			}
			ev, err := c.SendEvent(ctx, client.EventCreate{Type: "order.created", Data: json.RawMessage(fmt.Sprintf(`{"i":%d}`, i))})
			if !assert.NoError(t, err) {
				return
			}
			mu.Lock()
			accepted = append(accepted, ev.ID)
			mu.Unlock()
		}
	}()
	// Let the stream get going, so the backup overlaps it.
	require.Eventually(t, func() bool {
		mu.Lock()
		defer mu.Unlock()
		return len(accepted) >= 10
	}, 10*time.Second, time.Millisecond)

	b := &bundle{env: map[string]string{}}
	file := filepath.Join(t.TempDir(), "hookline-backup.db")
	res := b.run(t, "", "backup", file, "--data-dir", dataDir)
	close(stop)
	wg.Wait()
	require.Equal(t, 0, res.code, res.stderr)
	keyFile := filepath.Join(dataDir, "encryption.key")
	require.Equal(t, "backed up "+filepath.Join(dataDir, "hookline.db")+" to "+file+"\n"+
		"keep "+keyFile+" with it: the copy's secrets are sealed with that key\n", res.stdout)

	got, st := eventIDs(t, file, keyFile)
	for _, id := range before {
		require.Contains(t, got, id, "an event accepted before the backup is in the copy")
	}
	all := append(slices.Clone(before), accepted...)
	for _, id := range got {
		require.Contains(t, all, id, "the copy holds only accepted events")
	}
	t.Logf("copy holds %d events: %d sent before the backup, %d of the %d accepted while it ran",
		len(got), len(before), len(got)-len(before), len(accepted))
	tn, err := st.TenantByName(ctx, app.DefaultTenant)
	require.NoError(t, err)
	stored, err := st.GetEndpoint(ctx, tn.ID, ep.ID)
	require.NoError(t, err)
	require.Len(t, stored.Secrets, 1)
	require.Equal(t, ep.Secret, stored.Secrets[0].Key, "the copy's secrets open with the data dir's key")
	require.NoError(t, st.Close())

	copied, err := os.ReadFile(file)
	require.NoError(t, err)
	res = b.run(t, "", "backup", file, "--data-dir", dataDir)
	require.Equal(t, 1, res.code)
	require.Equal(t, "error: backup to "+file+": backup file already exists\n", res.stderr)
	again, err := os.ReadFile(file)
	require.NoError(t, err)
	require.Equal(t, copied, again, "an existing file is left alone")
	leftovers, err := filepath.Glob(filepath.Join(filepath.Dir(file), ".*partial"))
	require.NoError(t, err)
	require.Empty(t, leftovers)

	// Restore as docs/operations.md has it: the copy as hookline.db of a
	// data dir, next to the key.
	restored := filepath.Join(t.TempDir(), "restored")
	require.NoError(t, os.MkdirAll(restored, 0o700))
	require.NoError(t, os.WriteFile(filepath.Join(restored, "hookline.db"), copied, 0o600))
	key, err := os.ReadFile(keyFile)
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(filepath.Join(restored, "encryption.key"), key, 0o600))
	rc := startOn(t, restored)
	for _, id := range before {
		ev, err := rc.GetEvent(ctx, id)
		require.NoError(t, err)
		require.Equal(t, "order.created", ev.Type)
	}
	rep, err := rc.GetEndpoint(ctx, ep.ID)
	require.NoError(t, err)
	require.Equal(t, ep.URL, rep.URL)
}

// TestBackupRefusals: no database, a PostgreSQL database, a missing
// argument.
func TestBackupRefusals(t *testing.T) {
	t.Parallel()
	dir := filepath.Join(t.TempDir(), "typo")
	file := filepath.Join(t.TempDir(), "b.db")
	b := &bundle{env: map[string]string{}}
	res := b.run(t, "", "backup", file, "--data-dir", dir)
	require.Equal(t, 1, res.code)
	require.Equal(t, "error: no database at "+filepath.Join(dir, "hookline.db")+"\n", res.stderr)
	_, err := os.Stat(dir)
	require.ErrorIs(t, err, os.ErrNotExist, "backup created nothing")
	_, err = os.Stat(file)
	require.ErrorIs(t, err, os.ErrNotExist)

	b = &bundle{env: map[string]string{"HOOKLINE_DATABASE": "postgres://db.example/hookline"}}
	res = b.run(t, "", "backup", file)
	require.Equal(t, 1, res.code)
	require.Contains(t, res.stderr, "back up a PostgreSQL database with pg_dump")

	res = b.run(t, "", "backup")
	require.Equal(t, 1, res.code)
	require.Contains(t, res.stderr, "missing argument FILE")
}
