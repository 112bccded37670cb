package app_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/hookline/hookline/client"
)

// postIn posts body to /in/{source} with the given headers (name, value
// pairs) and returns the event id.
func (b *bundle) postIn(source, body string, headers ...string) string {
	b.t.Helper()
	req, err := http.NewRequest(http.MethodPost, b.url+"/in/"+source, strings.NewReader(body))
	require.NoError(b.t, err)
	req.Header.Set("Content-Type", "application/json")
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Add(headers[i], headers[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	require.NoError(b.t, err)
	defer resp.Body.Close()
	var out struct{ ID string }
	require.NoError(b.t, json.NewDecoder(resp.Body).Decode(&out))
	require.Equal(b.t, http.StatusOK, resp.StatusCode)
	return out.ID
}

func receiptsOf(ms []client.QueueMessage) []string {
	out := make([]string, len(ms))
	for i, m := range ms {
		out[i] = m.Receipt
	}
	return out
}

func eventIDs(ms []client.QueueMessage) []string {
	out := make([]string, len(ms))
	for i, m := range ms {
		out[i] = m.Event.ID
	}
	return out
}

// TestPullQueue leases, acknowledges and rejects events of a queue, and
// sees an event leased again once its visibility timeout passes (on the
// store's clock, which the test moves).
func TestPullQueue(t *testing.T) {
	t.Parallel()
	b, clk := setupAt(t, time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC))
	ctx := t.Context()
	for _, name := range []string{"gh", "other"} {
		_, err := b.client.CreateSource(ctx, client.SourceCreate{Name: name, Verification: &client.Verification{Kind: "none"}})
		require.NoError(t, err)
	}
	q, err := b.client.PutQueue(ctx, client.QueueSpec{Name: "dmz", Source: "gh"})
	require.NoError(t, err)
	require.Equal(t, []string{}, q.EventTypes)

	none, err := b.client.LeaseMessages(ctx, "dmz", client.LeaseOptions{})
	require.NoError(t, err)
	require.Empty(t, none)

	var ids []string
	for i := range 3 {
		ids = append(ids, b.postIn("gh", fmt.Sprintf("{ \"n\": %d }", i), "X-Hub-Signature-256", "sha256=abc", "Authorization", "Bearer secret",
			"X-Multi", "a", "X-Multi", "b"))
	}
	b.postIn("other", `{}`)
	b.send("order.created", `{}`)

	first, err := b.client.LeaseMessages(ctx, "dmz", client.LeaseOptions{Limit: 2})
	require.NoError(t, err)
	require.Equal(t, ids[:2], eventIDs(first), "oldest first, only the queue's source")
	m := first[0]
	require.Equal(t, 1, m.Deliveries)
	require.Equal(t, `{ "n": 0 }`, m.Event.RawBody, "the body as it arrived")
	require.Equal(t, "sha256=abc", m.RequestHeaders["X-Hub-Signature-256"], "signatures are kept to forward")
	require.Equal(t, "a, b", m.RequestHeaders["X-Multi"])
	require.Equal(t, "application/json", m.RequestHeaders["Content-Type"])
	require.NotContains(t, m.RequestHeaders, "Authorization", "credentials are never kept")
	ev, err := b.client.GetEvent(ctx, ids[0])
	require.NoError(t, err)
	require.NotContains(t, ev.Headers, "X-Hub-Signature-256", "the event's shown headers are as before")

	second, err := b.client.LeaseMessages(ctx, "dmz", client.LeaseOptions{Limit: 10})
	require.NoError(t, err)
	require.Equal(t, ids[2:], eventIDs(second), "leased events are invisible to other leases")
	qs, err := b.client.GetQueue(ctx, "dmz")
	require.NoError(t, err)
	require.Equal(t, [2]int{3, 3}, [2]int{qs.Messages, qs.InFlight})

	acked, err := b.client.AckMessages(ctx, "dmz", receiptsOf(first)...)
	require.NoError(t, err)
	require.Equal(t, client.QueueAcked{Settled: 2, Stale: []string{}}, *acked)
	acked, err = b.client.AckMessages(ctx, "dmz", receiptsOf(first)...)
	require.NoError(t, err)
	require.Equal(t, receiptsOf(first), acked.Stale, "acknowledged already")

	nacked, err := b.client.NackMessages(ctx, "dmz", 0, receiptsOf(second)...)
	require.NoError(t, err)
	require.Equal(t, 1, nacked.Settled)
	again, err := b.client.LeaseMessages(ctx, "dmz", client.LeaseOptions{Visibility: 30 * time.Second})
	require.NoError(t, err)
	require.Equal(t, ids[2:], eventIDs(again), "a rejected event is leased again")
	require.Equal(t, 2, again[0].Deliveries)

	clk.Advance(29 * time.Second)
	none, err = b.client.LeaseMessages(ctx, "dmz", client.LeaseOptions{})
	require.NoError(t, err)
	require.Empty(t, none, "still within its visibility timeout")
	clk.Advance(2 * time.Second)
	third, err := b.client.LeaseMessages(ctx, "dmz", client.LeaseOptions{})
	require.NoError(t, err)
	require.Equal(t, ids[2:], eventIDs(third), "not acknowledged in time: leased again")
	require.Equal(t, 3, third[0].Deliveries)
	acked, err = b.client.AckMessages(ctx, "dmz", again[0].Receipt, third[0].Receipt)
	require.NoError(t, err)
	require.Equal(t, client.QueueAcked{Settled: 1, Stale: []string{again[0].Receipt}}, *acked, "the lapsed lease cannot acknowledge it")

	// Long poll: a lease waits for the next event.
	got := make(chan []client.QueueMessage, 1)
	go func() {
		ms, err := b.client.LeaseMessages(ctx, "dmz", client.LeaseOptions{Wait: 30 * time.Second})
		if err != nil {
			t.Error(err)
		}
		got <- ms
	}()
	id := b.postIn("gh", `{"late":true}`)
	select {
	case ms := <-got:
		require.Equal(t, []string{id}, eventIDs(ms))
	case <-time.After(20 * time.Second):
		t.Fatal("the waiting lease did not get the event")
	}

	// Replay: past events go on a new queue; none twice.
	_, err = b.client.PutQueue(ctx, client.QueueSpec{Name: "late", EventTypes: []string{"gh.*"}})
	require.NoError(t, err)
	replayed, err := b.client.ReplayQueue(ctx, "late", clk.Now().Add(-time.Hour))
	require.NoError(t, err)
	require.Equal(t, 4, replayed.Enqueued, "the gh source's four events")
	replayed, err = b.client.ReplayQueue(ctx, "late", clk.Now().Add(-time.Hour))
	require.NoError(t, err)
	require.Zero(t, replayed.Enqueued)

	list, err := b.client.ListQueues(ctx)
	require.NoError(t, err)
	require.Len(t, list, 2)
	require.NoError(t, b.client.DeleteQueue(ctx, "late"))
	_, err = b.client.LeaseMessages(ctx, "late", client.LeaseOptions{})
	var ce *client.Error
	require.True(t, asClientError(err, &ce))
	require.Equal(t, http.StatusNotFound, ce.Status)

	for _, tt := range []struct{ path, body, field string }{
		{"/v1/queues/dmz/lease", `{"limit": 101}`, "limit"},
		{"/v1/queues/dmz/lease", `{"visibility": "10ms"}`, "visibility"},
		{"/v1/queues/dmz/lease", `{"wait": "2m"}`, "wait"},
		{"/v1/queues/dmz/ack", `{"receipts": []}`, "receipts"},
		{"/v1/queues/dmz/ack", `{"receipts": ["nope"]}`, "receipts"},
		{"/v1/queues/dmz/ack", `{"receipts": ["evt_1.1"], "delay": "1s"}`, "delay"},
		{"/v1/queues/dmz/nack", `{"receipts": ["evt_1.1"], "delay": "13h"}`, "delay"},
		{"/v1/queues/dmz/replay", `{}`, "since"},
	} {
		status, body := b.do(http.MethodPost, tt.path, tt.body)
		apiRequire(t, http.StatusUnprocessableEntity, "validation_failed", status, body)
		require.Equal(t, tt.field, body["error"].(map[string]any)["details"].(map[string]any)["field"], tt.body)
	}
	for _, body := range []string{`{"source": "Bad Name"}`, `{"event_types": ["a..b"]}`, `{"name": "other"}`} {
		status, out := b.do(http.MethodPut, "/v1/queues/dmz", body)
		apiRequire(t, http.StatusUnprocessableEntity, "validation_failed", status, out)
	}
}

// TestPullQueueConcurrentConsumers drains a queue with consumers leasing
// and acknowledging at once while one consumer leases and dies, on SQLite
// and on PostgreSQL: every event is delivered, none to two consumers
// within its visibility timeout (no consumer leases one of the dead
// consumer's events before it passed), and the dead consumer's events
// come back after it.
func TestPullQueueConcurrentConsumers(t *testing.T) {
	t.Parallel()
	drivers(t, func(t *testing.T, b *bundle) {
		const deadVisibility = 2 * time.Second
		ctx := t.Context()
		_, err := b.client.PutQueue(ctx, client.QueueSpec{Name: "work", EventTypes: []string{"job.*"}})
		require.NoError(t, err)
		batch := client.EventBatch{}
		for i := range 120 {
			batch.Events = append(batch.Events, client.EventCreate{Type: "job.run", Data: json.RawMessage(fmt.Sprintf(`{"i":%d}`, i))})
		}
		res, err := b.client.SendEvents(ctx, batch)
		require.NoError(t, err)
		want := map[string]bool{}
		for _, r := range res.Results {
			want[r.ID] = true
		}
		require.Len(t, want, 120)

		// Taken before the lease: the server's lease starts after it.
		deadAt := time.Now()
		dead, err := b.client.LeaseMessages(ctx, "work", client.LeaseOptions{Limit: 10, Visibility: deadVisibility})
		require.NoError(t, err)
		require.Len(t, dead, 10)
		isDead := map[string]bool{}
		for _, m := range dead {
			isDead[m.Event.ID] = true
		}

		var (
			mu  sync.Mutex
			got = map[string]int{}
		)
		drain := func() {
			var wg sync.WaitGroup
			for range 4 {
				wg.Go(func() {
					for {
						ms, err := b.client.LeaseMessages(ctx, "work", client.LeaseOptions{Limit: 7, Visibility: time.Hour})
						if err != nil || len(ms) == 0 {
							if err != nil {
								t.Error(err)
							}
							return
						}
						mu.Lock()
						for _, m := range ms {
							got[m.Event.ID]++
							if isDead[m.Event.ID] && time.Since(deadAt) < deadVisibility {
								t.Errorf("%s leased again within the dead consumer's visibility timeout", m.Event.ID)
							}
						}
						mu.Unlock()
						acked, err := b.client.AckMessages(ctx, "work", receiptsOf(ms)...)
						if err != nil || len(acked.Stale) > 0 {
							t.Errorf("ack: %v, %v", acked, err)
							return
						}
					}
				})
			}
			wg.Wait()
		}
		drain()
		require.GreaterOrEqual(t, len(got), 110, "all but the dead consumer's")
		require.Eventually(t, func() bool {
			drain()
			mu.Lock()
			defer mu.Unlock()
			return len(got) == 120
		}, 30*time.Second, 100*time.Millisecond, "the dead consumer's events come back")
		for id, n := range got {
			require.True(t, want[id])
			require.Equal(t, 1, n, "%s delivered to one consumer", id)
		}
		q, err := b.client.GetQueue(ctx, "work")
		require.NoError(t, err)
		require.Zero(t, q.Messages, "nothing left, nothing lost")
	})
}

// TestPullQueueTenantIsolation: a tenant cannot see, lease, settle,
// replay or delete another tenant's queue, and a queue takes only its own
// tenant's events.
func TestPullQueueTenantIsolation(t *testing.T) {
	t.Parallel()
	b := setup(t)
	ctx := t.Context()
	_, err := b.client.PutQueue(ctx, client.QueueSpec{Name: "dmz"})
	require.NoError(t, err)
	mine := b.send("order.created", `{}`)
	ms, err := b.client.LeaseMessages(ctx, "dmz", client.LeaseOptions{Visibility: time.Second})
	require.NoError(t, err)
	require.Equal(t, []string{mine.ID}, eventIDs(ms))

	tc, err := b.client.CreateTenant(ctx, client.TenantCreate{Name: "other"})
	require.NoError(t, err)
	other := client.New(b.url, tc.APIKey.Key)
	for _, call := range []func() error{
		func() error { _, err := other.GetQueue(ctx, "dmz"); return err },
		func() error { _, err := other.LeaseMessages(ctx, "dmz", client.LeaseOptions{}); return err },
		func() error { _, err := other.AckMessages(ctx, "dmz", ms[0].Receipt); return err },
		func() error { _, err := other.NackMessages(ctx, "dmz", 0, ms[0].Receipt); return err },
		func() error { _, err := other.ReplayQueue(ctx, "dmz", time.Now().Add(-time.Hour)); return err },
		func() error { return other.DeleteQueue(ctx, "dmz") },
	} {
		var ce *client.Error
		require.True(t, asClientError(call(), &ce))
		require.Equal(t, http.StatusNotFound, ce.Status)
	}
	list, err := other.ListQueues(ctx)
	require.NoError(t, err)
	require.Empty(t, list)

	// The other tenant's queue of the same name is its own.
	_, err = other.PutQueue(ctx, client.QueueSpec{Name: "dmz"})
	require.NoError(t, err)
	theirs, err := other.SendEvent(ctx, client.EventCreate{Type: "order.created", Data: json.RawMessage(`{}`)})
	require.NoError(t, err)
	got, err := other.LeaseMessages(ctx, "dmz", client.LeaseOptions{})
	require.NoError(t, err)
	require.Equal(t, []string{theirs.ID}, eventIDs(got))
	acked, err := other.AckMessages(ctx, "dmz", ms[0].Receipt, got[0].Receipt)
	require.NoError(t, err)
	require.Equal(t, []string{ms[0].Receipt}, acked.Stale, "a receipt of the first tenant's queue settles nothing in the other's")
	acked, err = b.client.AckMessages(ctx, "dmz", ms[0].Receipt)
	require.NoError(t, err)
	require.Equal(t, 1, acked.Settled)
	replayed, err := other.ReplayQueue(ctx, "dmz", time.Now().Add(-time.Hour))
	require.NoError(t, err)
	require.Equal(t, 1, replayed.Enqueued, "its own event only (acknowledged, then put back)")
}
