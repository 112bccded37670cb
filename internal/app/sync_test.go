package app_test

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"

	"github.com/hookline/hookline/client"
	"github.com/hookline/hookline/internal/testkit"
)

const customersSpec = `{
	"name": "customers", "key": "data.id", "version": "data.updated_at",
	"events": {"customer.created": "upsert", "customer.updated": "upsert", "customer.patched": "merge", "customer.deleted": "delete"},
	"map": {"drop": ["internal"]}
}`

// syncSetup creates the customers collection (with extra spec fields
// merged in) and a sync subscription to it.
func syncSetup(t *testing.T, b *bundle, extra map[string]any) {
	t.Helper()
	var spec map[string]any
	require.NoError(t, json.Unmarshal([]byte(customersSpec), &spec))
	for k, v := range extra {
		spec[k] = v
	}
	body, _ := json.Marshal(spec)
	status, out := b.do("POST", "/v1/collections", string(body))
	require.Equal(t, http.StatusCreated, status, "%v", out)
	status, out = b.do("POST", "/v1/subscriptions", `{"name": "customers-sync", "destination": {"kind": "sync", "collection": "customers"}}`)
	require.Equal(t, http.StatusCreated, status, "%v", out)
	require.ElementsMatch(t, []any{"customer.created", "customer.updated", "customer.patched", "customer.deleted"}, out["event_types"],
		"a sync subscription takes the collection's event types by default")
}

// settled waits until no task of the tenant is pending or retrying
// (testkit.Settled).
func (b *bundle) settled() {
	b.t.Helper()
	testkit.Settled(b.t, b.client)
}

func TestSyncEndToEnd(t *testing.T) {
	b := setup(t)
	syncSetup(t, b, nil)

	// Out of order, with a duplicate: the collection ends as the source
	// is.
	created := b.send("customer.created", `{"id": "c1", "updated_at": 1, "name": "Ada", "internal": "x"}`)
	b.settled()
	updated := b.send("customer.updated", `{"id": "c1", "updated_at": 3, "name": "Ada Lovelace"}`)
	b.settled()
	stale := b.send("customer.updated", `{"id": "c1", "updated_at": 2, "name": "Stale"}`)
	b.settled()
	status, out := b.do("GET", "/v1/collections/customers/records/c1", "")
	require.Equal(t, http.StatusOK, status)
	require.Equal(t, map[string]any{"id": "c1", "updated_at": 3.0, "name": "Ada Lovelace"}, out["data"], "mapped: internal dropped")
	require.Equal(t, "3", out["version"])
	require.Equal(t, updated.ID, out["event_id"])

	d := b.delivery(stale.ID)
	require.Equal(t, "sync", d.Kind)
	require.Equal(t, client.DeliverySucceeded, d.Status)
	require.Len(t, d.AttemptLog, 1)
	require.Equal(t, "stale", d.AttemptLog[0].Outcome, "the skip is logged on the attempt")
	require.Contains(t, d.AttemptLog[0].ResponseBody, `"stored_version":"3"`)
	require.Equal(t, "sync", d.AttemptLog[0].Kind)
	require.Equal(t, d.AttemptLog[0].ResponseBody, string(d.AttemptLog[0].Detail), "response_body keeps the detail, as documented before it")
	require.Equal(t, "collection:customers/c1", d.AttemptLog[0].RequestURL)

	_, err := b.client.ReplayEvent(context.Background(), created.ID)
	require.NoError(t, err)
	b.settled()

	// Every applied change is announced, so sync can chain onward.
	rc := newReceiver(t, nil)
	b.endpoint(client.EndpointCreate{URL: rc.URL, EventTypes: []string{"collection.customers.changed"}})
	b.send("customer.deleted", `{"id": "c1", "updated_at": 4}`)
	b.settled()
	eventually(t, func() bool { return rc.count() == 1 }, "changed event not delivered")
	var envelope struct{ Data client.RecordChange }
	require.NoError(t, json.Unmarshal(rc.requests()[0].body, &envelope))
	changed := envelope.Data
	require.Equal(t, client.RecordChange{Seq: 3, Collection: "customers", Key: "c1", Op: "delete", Version: "4", EventID: changed.EventID, At: changed.At}, changed)

	status, out = b.do("GET", "/v1/collections/customers/records/c1", "")
	require.Equal(t, http.StatusGone, status, "a tombstone: %v", out)
	b.send("customer.updated", `{"id": "c1", "updated_at": 3.5, "name": "Zombie"}`)
	b.settled()
	status, _ = b.do("GET", "/v1/collections/customers/records/c1", "")
	require.Equal(t, http.StatusGone, status, "a late, older upsert does not resurrect")

	status, out = b.do("GET", "/v1/collections/customers/changes?after=0", "")
	require.Equal(t, http.StatusOK, status)
	require.Len(t, out["data"], 3)
	require.Equal(t, "3", out["cursor"])

	t.Run("long poll", func(t *testing.T) {
		got := make(chan map[string]any, 1)
		go func() {
			_, out := b.do("GET", "/v1/collections/customers/changes?after=3&wait=20s", "")
			got <- out
		}()
		b.send("customer.created", `{"id": "c2", "updated_at": 1, "name": "Grace"}`)
		select {
		case out := <-got:
			require.Len(t, out["data"], 1)
			require.Equal(t, "4", out["cursor"])
		case <-time.After(10 * time.Second):
			t.Fatal("long poll did not return on a new change")
		}
	})

	t.Run("sse", func(t *testing.T) {
		req, err := http.NewRequest("GET", b.url+"/v1/collections/customers/changes?after=2", nil)
		require.NoError(t, err)
		req.Header.Set("Authorization", "Bearer "+b.key)
		req.Header.Set("Accept", "text/event-stream")
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		resp, err := http.DefaultClient.Do(req.WithContext(ctx))
		require.NoError(t, err)
		defer resp.Body.Close()
		require.Equal(t, "text/event-stream", resp.Header.Get("Content-Type"))
		sc := bufio.NewScanner(resp.Body)
		var ids []string
		next := func() {
			for sc.Scan() {
				if id, ok := strings.CutPrefix(sc.Text(), "id: "); ok {
					ids = append(ids, id)
					return
				}
			}
			t.Fatalf("stream ended: %v", sc.Err())
		}
		next()
		next()
		require.Equal(t, []string{"3", "4"}, ids, "the backlog first")
		b.send("customer.patched", `{"id": "c2", "updated_at": 2, "plan": "pro"}`)
		next()
		require.Equal(t, "5", ids[2], "then live changes")
	})

	t.Run("list with filter", func(t *testing.T) {
		b.send("customer.created", `{"id": "c3", "updated_at": 1, "name": "Linus"}`)
		b.settled()
		status, out := b.do("GET", "/v1/collections/customers/records?filter="+strings.ReplaceAll(`record.name startsWith "G"`, " ", "%20"), "")
		require.Equal(t, http.StatusOK, status, "%v", out)
		require.Len(t, out["data"], 1)
		_, out = b.do("GET", "/v1/collections/customers/records?filter="+strings.ReplaceAll(`key == "c3"`, " ", "%20"), "")
		require.Len(t, out["data"], 1, "key is a string in filters")
		status, out = b.do("GET", "/v1/collections/customers/records?limit=1", "")
		require.Equal(t, http.StatusOK, status)
		require.Len(t, out["data"], 1)
		require.Equal(t, "c2", out["next_cursor"])
		_, out = b.do("GET", "/v1/collections/customers/records?limit=1&cursor=c2", "")
		require.Equal(t, "c3", out["data"].([]any)[0].(map[string]any)["key"])
		_, out = b.do("GET", "/v1/collections/customers/records?include_deleted=true", "")
		require.Len(t, out["data"], 3)
		status, out = b.do("GET", "/v1/collections/customers/records?filter=record.(", "")
		require.Equal(t, http.StatusBadRequest, status)
		require.Contains(t, out["error"].(map[string]any)["message"], "filter")
	})
}

func TestSyncBadInput(t *testing.T) {
	b := setup(t)
	syncSetup(t, b, nil)
	b.send("customer.created", `{"id": "c1", "updated_at": 5, "name": "Ada"}`)
	for _, tc := range []struct{ data, outcome, msg string }{
		{`{"updated_at": 6}`, "invalid_key", "key: data.id is missing"},
		{`{"id": "c1", "updated_at": "yesterday"}`, "invalid_version", `"yesterday" is neither a number nor an RFC 3339 time`},
		{`{"id": "c1", "updated_at": "2026-01-01T00:00:00Z"}`, "invalid_version", "version type changed"},
	} {
		ev := b.send("customer.updated", tc.data)
		d := b.waitStatus(ev.ID, client.DeliveryFailed)
		require.Len(t, d.AttemptLog, 1, "bad input is not retried")
		require.Equal(t, tc.outcome, d.AttemptLog[0].Outcome)
		require.Contains(t, d.LastError, tc.msg)
	}
	status, out := b.do("GET", "/v1/collections/customers/records/c1", "")
	require.Equal(t, http.StatusOK, status)
	require.Equal(t, "Ada", out["data"].(map[string]any)["name"], "record untouched")

	status, out = b.do("POST", "/v1/collections", `{"name": "x", "key": "data.id", "events": {"a.b": "replace"}}`)
	require.Equal(t, http.StatusUnprocessableEntity, status)
	require.Equal(t, "events.a.b", out["error"].(map[string]any)["details"].(map[string]any)["field"])
	status, _ = b.do("POST", "/v1/subscriptions", `{"destination": {"kind": "sync", "collection": "nope"}}`)
	require.Equal(t, http.StatusUnprocessableEntity, status)
}

func TestSyncWriteRecords(t *testing.T) {
	b := setup(t)
	syncSetup(t, b, nil)
	status, out := b.do("POST", "/v1/collections/customers/records", `{"records": [
		{"id": "a", "updated_at": 2, "name": "A"}, {"id": "b", "updated_at": 1}, {"updated_at": 1}, {"id": "a", "updated_at": 1}]}`)
	require.Equal(t, http.StatusOK, status, "%v", out)
	require.Equal(t, 2.0, out["applied"])
	require.Equal(t, 1.0, out["skipped"])
	require.Equal(t, 1.0, out["errors"])
	res := out["results"].([]any)
	require.Equal(t, "error", res[2].(map[string]any)["outcome"])
	require.Contains(t, res[2].(map[string]any)["error"], "key")
	require.Equal(t, "stale", res[3].(map[string]any)["outcome"])
	// A webhook older than the backfilled state is skipped.
	ev := b.send("customer.updated", `{"id": "a", "updated_at": 1, "name": "old"}`)
	d := b.waitStatus(ev.ID, client.DeliverySucceeded)
	require.Equal(t, "stale", d.AttemptLog[0].Outcome)
}

func TestSyncDeclared(t *testing.T) {
	b := setup(t)
	var spec map[string]any
	require.NoError(t, json.Unmarshal([]byte(customersSpec), &spec))
	decl, _ := json.Marshal(map[string]any{
		"collections":   []any{spec},
		"subscriptions": []any{map[string]any{"name": "sync", "destination": map[string]any{"kind": "sync", "collection": "customers"}}},
	})
	status, out := b.do("POST", "/v1/apply", string(decl))
	require.Equal(t, http.StatusOK, status, "%v", out)
	require.Len(t, out["changes"], 2)
	status, out = b.do("POST", "/v1/apply", string(decl))
	require.Equal(t, http.StatusOK, status)
	for _, c := range out["changes"].([]any) {
		require.Equal(t, "unchanged", c.(map[string]any)["action"])
	}
	b.send("customer.created", `{"id": "z", "updated_at": 1}`)
	b.settled()
	status, _ = b.do("GET", "/v1/collections/customers/records/z", "")
	require.Equal(t, http.StatusOK, status)
}

// TestSyncMirror: the mirror table equals the collection after a
// shuffled, duplicated stream (real PostgreSQL).
func TestSyncMirror(t *testing.T) {
	// Trust auth ignores the password; it is there to be redacted.
	dsn := strings.Replace(testkit.PostgresSchema(t), "postgres://postgres@", "postgres://postgres:s3cret@", 1)
	b := setup(t)
	syncSetup(t, b, map[string]any{"mirror": map[string]any{
		"dsn": dsn, "table": "customers_mirror", "create": true,
		"columns": []any{
			map[string]any{"name": "name", "value": "record.name"},
			map[string]any{"name": "plan", "value": "record.plan"},
			map[string]any{"name": "updated_at", "value": "record.updated_at", "type": "bigint"},
			map[string]any{"name": "doc", "value": "record", "type": "jsonb"},
		},
	}})
	status, out := b.do("GET", "/v1/collections/customers", "")
	require.Equal(t, http.StatusOK, status)
	require.NotContains(t, fmt.Sprint(out), "s3cret", "the DSN is shown redacted")

	rnd := rand.New(rand.NewPCG(7, 7))
	type change struct{ typ, data string }
	var stream []change
	versions := map[int]int{}
	for range 300 {
		id := rnd.IntN(15)
		versions[id] += 1 + rnd.IntN(2)
		v := versions[id]
		switch rnd.IntN(5) {
		case 0:
			stream = append(stream, change{"customer.deleted", fmt.Sprintf(`{"id": "k%d", "updated_at": %d}`, id, v)})
		case 1:
			stream = append(stream, change{"customer.patched", fmt.Sprintf(`{"id": "k%d", "updated_at": %d, "plan": "p%d"}`, id, v, rnd.IntN(9))})
		default:
			stream = append(stream, change{"customer.updated", fmt.Sprintf(`{"id": "k%d", "updated_at": %d, "name": "n%d"}`, id, v, rnd.IntN(999))})
		}
	}
	for range 50 {
		stream = append(stream, stream[rnd.IntN(len(stream))])
	}
	rnd.Shuffle(len(stream), func(i, j int) { stream[i], stream[j] = stream[j], stream[i] })
	batch := client.EventBatch{}
	for _, c := range stream {
		batch.Events = append(batch.Events, client.EventCreate{Type: c.typ, Data: json.RawMessage(c.data)})
	}
	_, err := b.client.SendEvents(context.Background(), batch)
	require.NoError(t, err)
	b.settled()
	b.mirrorCaughtUp("customers")

	want := map[string]string{}
	status, out = b.do("GET", "/v1/collections/customers/records?limit=1000", "")
	require.Equal(t, http.StatusOK, status)
	for _, r := range out["data"].([]any) {
		rec := r.(map[string]any)
		doc, _ := json.Marshal(rec["data"])
		want[rec["key"].(string)] = string(doc)
	}
	require.NotEmpty(t, want)

	ctx := context.Background()
	conn, err := pgx.Connect(ctx, dsn)
	require.NoError(t, err)
	defer conn.Close(ctx)
	rows, err := conn.Query(ctx, `SELECT id, name, plan, updated_at, doc::text, hookline_seq FROM customers_mirror`)
	require.NoError(t, err)
	got := map[string]string{}
	for rows.Next() {
		var (
			id         string
			name, plan *string
			updated    int64
			doc        string
			seq        int64
		)
		require.NoError(t, rows.Scan(&id, &name, &plan, &updated, &doc, &seq))
		var m map[string]any
		require.NoError(t, json.Unmarshal([]byte(doc), &m))
		require.Equal(t, float64(updated), m["updated_at"])
		if name != nil {
			require.Equal(t, *name, m["name"])
		}
		got[id] = doc
	}
	require.NoError(t, rows.Err())
	require.Equal(t, len(want), len(got), "mirror rows = live records")
	for k, doc := range want {
		require.JSONEq(t, doc, got[k], "key %s", k)
	}
}

// TestDatabaseDialsGuarded: mirror and change capture databases are
// reached through the SSRF guard, like webhooks: a loopback database is
// refused unless allowed.
func TestDatabaseDialsGuarded(t *testing.T) {
	dsn := testkit.PostgresSchema(t)
	b := setup(t, withoutPrivateNetworks())
	syncSetup(t, b, map[string]any{"mirror": map[string]any{"dsn": dsn, "table": "m", "create": true}})
	ev := b.send("customer.created", `{"id": "c1", "updated_at": 1}`)
	d := b.waitStatus(ev.ID, client.DeliverySucceeded)
	require.Equal(t, "applied", d.AttemptLog[0].Outcome, "the collection does not wait for its mirror")
	var m *client.MirrorStatus
	eventually(t, func() bool { m = b.mirrorStatus("customers"); return m.State == "failing" }, "mirror never failed")
	require.Contains(t, m.LastError, "not a public address")
	status, out := b.do("POST", "/v1/sources", fmt.Sprintf(`{"name": "db", "postgres": {"dsn": %q, "tables": ["t"]}}`, dsn))
	require.Equal(t, http.StatusUnprocessableEntity, status)
	require.Contains(t, out["error"].(map[string]any)["message"], "not a public address")
}
