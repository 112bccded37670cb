package storetest

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/hookline/hookline/internal/event"
	"github.com/hookline/hookline/internal/store"
)

// queue makes a tenant's queue name.
func queue(t *testing.T, s store.Store, tenantID, name string) store.Queue {
	t.Helper()
	q, err := s.PutQueue(context.Background(), store.Queue{ID: event.NewID("q", base), TenantID: tenantID, Name: name,
		Source: "github", EventTypes: []string{"github.*"}, CreatedAt: base, UpdatedAt: base})
	require.NoError(t, err)
	return q
}

// queued accepts n events put on the queues and returns their ids.
func queued(t *testing.T, s store.Store, tenantID string, n int, queues ...string) []string {
	t.Helper()
	evs := make([]store.NewEvent, n)
	ids := make([]string, n)
	for i := range evs {
		evs[i] = newEvent(tenantID, "github.push", "", base)
		evs[i].Queues = queues
		ids[i] = evs[i].Event.ID
	}
	accept(t, s, evs...)
	return ids
}

// queuedOn makes tenant "a" with the queue "dmz" and n events on it, and
// returns the tenant, the queue and the events' ids.
func queuedOn(t *testing.T, s store.Store, n int) (string, store.Queue, []string) {
	t.Helper()
	a := tenant(t, s, "a")
	q := queue(t, s, a, "dmz")
	return a, q, queued(t, s, a, n, q.ID)
}

func receipts(ms []store.QueueMessage) []store.QueueReceipt {
	out := make([]store.QueueReceipt, len(ms))
	for i, m := range ms {
		out[i] = store.QueueReceipt{EventID: m.Event.ID, Token: m.Token}
	}
	return out
}

func leasedIDs(ms []store.QueueMessage) []string {
	out := make([]string, len(ms))
	for i, m := range ms {
		out[i] = m.Event.ID
	}
	return out
}

func testQueues(t *testing.T, s store.Store) {
	ctx := context.Background()
	a, b := tenant(t, s, "a"), tenant(t, s, "b")
	q := queue(t, s, a, "dmz")
	read(t, q)(s.GetQueue(ctx, a, "dmz"))
	require.ErrorIs(t, errOf(s.GetQueue(ctx, b, "dmz")), store.ErrNotFound)

	again := store.Queue{ID: "q_other", TenantID: a, Name: "dmz", EventTypes: nil, CreatedAt: base.Add(time.Hour), UpdatedAt: base.Add(time.Hour)}
	put, err := s.PutQueue(ctx, again)
	require.NoError(t, err)
	require.Equal(t, q.ID, put.ID, "putting a queue of the same name replaces its filter, keeping its id")
	require.Equal(t, q.CreatedAt, put.CreatedAt)
	require.Equal(t, base.Add(time.Hour), put.UpdatedAt)
	require.Empty(t, put.Source)
	require.Equal(t, []string{}, put.EventTypes)

	queue(t, s, b, "dmz")
	list, err := s.ListQueues(ctx, a)
	require.NoError(t, err)
	require.Len(t, list, 1)
	require.Equal(t, q.ID, list[0].ID)

	ids := queued(t, s, a, 2, q.ID)
	ev, err := s.GetEvent(ctx, a, ids[0])
	require.NoError(t, err)
	n, err := s.EnqueueEvents(ctx, a, q.ID, []string{ids[0], "evt_missing"})
	require.NoError(t, err)
	require.Zero(t, n, "an event on the queue already is not added twice; an unknown id is skipped")
	other := queue(t, s, a, "other")
	n, err = s.EnqueueEvents(ctx, b, other.ID, ids)
	require.NoError(t, err)
	require.Zero(t, n, "another tenant cannot put the events on a queue")
	n, err = s.EnqueueEvents(ctx, a, other.ID, append(ids, ids[0]))
	require.NoError(t, err)
	require.Equal(t, 2, n)
	ms, err := s.LeaseMessages(ctx, a, other.ID, 10, time.Hour)
	require.NoError(t, err)
	require.Equal(t, ids, leasedIDs(ms))
	require.Equal(t, ev, ms[0].Event, "a message carries its event")

	none, err := s.LeaseMessages(ctx, b, q.ID, 10, time.Hour)
	require.NoError(t, err)
	require.Empty(t, none, "another tenant leases nothing of the queue")
	stale, err := s.AckMessages(ctx, b, other.ID, receipts(ms))
	require.NoError(t, err)
	require.Equal(t, receipts(ms), stale, "nor acknowledges its messages")
	total, leased, err := s.CountMessages(ctx, a, other.ID)
	require.NoError(t, err)
	require.Equal(t, [2]int{2, 2}, [2]int{total, leased})

	deleteOnce(t, s.DeleteQueue, a, "other")
	total, _, err = s.CountMessages(ctx, a, other.ID)
	require.NoError(t, err)
	require.Zero(t, total, "a deleted queue's messages go with it")
}

func testQueueLease(t *testing.T, s store.Store) {
	ctx := context.Background()
	a, q, ids := queuedOn(t, s, 5)

	first, err := s.LeaseMessages(ctx, a, q.ID, 2, time.Hour)
	require.NoError(t, err)
	require.Equal(t, ids[:2], leasedIDs(first), "oldest first, at most the limit")
	require.Equal(t, 1, first[0].Deliveries)
	second, err := s.LeaseMessages(ctx, a, q.ID, 10, time.Hour)
	require.NoError(t, err)
	require.Equal(t, ids[2:], leasedIDs(second), "a leased message is not leased again within its visibility")

	stale, err := s.AckMessages(ctx, a, q.ID, receipts(first))
	require.NoError(t, err)
	require.Empty(t, stale)
	stale, err = s.AckMessages(ctx, a, q.ID, receipts(first))
	require.NoError(t, err)
	require.Equal(t, receipts(first), stale, "a second ack finds nothing")

	stale, err = s.NackMessages(ctx, a, q.ID, receipts(second[:1]), 0)
	require.NoError(t, err)
	require.Empty(t, stale)
	re, err := s.LeaseMessages(ctx, a, q.ID, 10, time.Hour)
	require.NoError(t, err)
	require.Equal(t, ids[2:3], leasedIDs(re), "a rejected message is leased again")
	require.Equal(t, 2, re[0].Deliveries)
	require.NotEqual(t, second[0].Token, re[0].Token)
	stale, err = s.AckMessages(ctx, a, q.ID, receipts(second[:1]))
	require.NoError(t, err)
	require.Equal(t, receipts(second[:1]), stale, "the first lease's receipt no longer acknowledges it")

	stale, err = s.NackMessages(ctx, a, q.ID, receipts(second[1:]), time.Hour)
	require.NoError(t, err)
	require.Empty(t, stale)
	none, err := s.LeaseMessages(ctx, a, q.ID, 10, time.Hour)
	require.NoError(t, err)
	require.Empty(t, none, "a message rejected with a delay stays invisible until then")

	// A lapsed lease: the message is leased again with a new token.
	short := queue(t, s, a, "short")
	one := queued(t, s, a, 1, short.ID)
	lapsed, err := s.LeaseMessages(ctx, a, short.ID, 10, time.Millisecond)
	require.NoError(t, err)
	require.Len(t, lapsed, 1)
	var again []store.QueueMessage
	require.Eventually(t, func() bool {
		again, err = s.LeaseMessages(ctx, a, short.ID, 10, time.Hour)
		require.NoError(t, err)
		return len(again) == 1
	}, 10*time.Second, time.Millisecond, "the message is visible again once its lease lapses")
	require.Equal(t, one, leasedIDs(again))
	require.Equal(t, 2, again[0].Deliveries)
	stale, err = s.AckMessages(ctx, a, short.ID, receipts(lapsed))
	require.NoError(t, err)
	require.Equal(t, receipts(lapsed), stale, "the lapsed lease cannot acknowledge what another lease holds")
	stale, err = s.AckMessages(ctx, a, short.ID, append(receipts(lapsed), receipts(again)...))
	require.NoError(t, err)
	require.Equal(t, receipts(lapsed), stale, "of two receipts of one message, the live one settles it")
	require.Equal(t, one, leasedIDs(again))

	n, err := s.Prune(ctx, base.Add(time.Second), 100)
	require.NoError(t, err)
	require.Equal(t, 6, n, "events are pruned whatever queue holds them")
	total, _, err := s.CountMessages(ctx, a, q.ID)
	require.NoError(t, err)
	require.Zero(t, total, "with their messages")
}

// testQueueConcurrentLeases has consumers lease and acknowledge at once:
// every message is leased by exactly one of them.
func testQueueConcurrentLeases(t *testing.T, s store.Store) {
	ctx := context.Background()
	a, q, ids := queuedOn(t, s, 60)
	var (
		mu  sync.Mutex
		got = map[string]int{}
		wg  sync.WaitGroup
	)
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				ms, err := s.LeaseMessages(ctx, a, q.ID, 7, time.Hour)
				if err != nil {
					t.Error(err)
					return
				}
				if len(ms) == 0 {
					return
				}
				mu.Lock()
				for _, m := range ms {
					got[m.Event.ID]++
				}
				mu.Unlock()
				if stale, err := s.AckMessages(ctx, a, q.ID, receipts(ms)); err != nil || len(stale) > 0 {
					t.Errorf("ack: stale %v, error %v", stale, err)
					return
				}
			}
		}()
	}
	wg.Wait()
	require.Len(t, got, len(ids))
	for _, id := range ids {
		require.Equal(t, 1, got[id], "event %s leased once", id)
	}
}
