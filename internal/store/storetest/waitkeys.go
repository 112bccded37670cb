package storetest

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/hookline/hookline/internal/store"
)

// Keyed waits are found by key and value, and only while waiting.
func testWaitKeys(t *testing.T, s store.Store) {
	ctx := context.Background()
	a := tenant(t, s, "a")
	b := tenant(t, s, "b")
	waiting := func(tenantID, id, value string) store.Run {
		r := newRun(tenantID, id)
		r.Status, r.WaitEvent, r.WaitKey, r.WaitValue = store.RunWaiting, "shipment.*", "event.data.order_id", value
		write(t, s.SaveRun, store.RunSave{Run: r})
		r.Rev, r.State = 1, nil
		return r
	}
	w1 := waiting(a, "run_1", "o1")
	w2 := waiting(a, "run_2", "o2")
	w3 := waiting(a, "run_3", "o1")
	waiting(b, "run_b", "o1")
	read(t, []store.Run{w1, w3}, "by key and value, oldest first, without state")(s.WaitingRunsFor(ctx, a, "event.data.order_id", "o1"))
	read(t, []store.Run{w2})(s.WaitingRunsFor(ctx, a, "event.data.order_id", "o2"))
	none, err := s.WaitingRunsFor(ctx, a, "event.data.id", "o1")
	require.NoError(t, err)
	require.Empty(t, none, "another key")
	list, err := s.WaitingRuns(ctx, a)
	require.NoError(t, err)
	require.ElementsMatch(t, []store.Run{w1, w2, w3}, list, "WaitingRuns carries the keys")

	// Resumed: the run no longer waits, whatever its columns say.
	w1.Status = store.RunRunning
	write(t, s.SaveRun, store.RunSave{Run: w1, Rev: 1})
	read(t, []store.Run{w3})(s.WaitingRunsFor(ctx, a, "event.data.order_id", "o1"))
	got, err := s.GetRun(ctx, a, "run_3")
	require.NoError(t, err)
	require.Equal(t, "o1", got.WaitValue)
}

// Buffered events are listed by key and value since a time, are kept once
// per event, and are pruned with the event log's retention.
func testWaitBuffer(t *testing.T, s store.Store) {
	ctx := context.Background()
	a := tenant(t, s, "a")
	b := tenant(t, s, "b")
	buf := func(tenantID, value, id string, at time.Time) store.BufferedEvent {
		e := store.BufferedEvent{TenantID: tenantID, Key: "event.data.order_id", Value: value, EventID: id,
			EventType: "shipment.confirmed", CreatedAt: at}
		write(t, s.BufferEvent, e)
		return e
	}
	old := buf(a, "o1", "evt_1", base.Add(-time.Hour))
	e2 := buf(a, "o1", "evt_2", base)
	buf(a, "o2", "evt_3", base)
	buf(b, "o1", "evt_4", base)
	write(t, s.BufferEvent, e2) // again: no second row

	read(t, []store.BufferedEvent{old, e2}, "oldest first")(s.BufferedEvents(ctx, a, "event.data.order_id", "o1", base.Add(-2*time.Hour)))
	read(t, []store.BufferedEvent{e2}, "since")(s.BufferedEvents(ctx, a, "event.data.order_id", "o1", base))
	none, err := s.BufferedEvents(ctx, a, "event.data.id", "o1", base.Add(-2*time.Hour))
	require.NoError(t, err)
	require.Empty(t, none, "another key")

	for i := range store.MaxBuffered + 5 {
		buf(a, "many", fmt.Sprintf("evt_m%03d", i), base.Add(time.Duration(i)*time.Millisecond))
	}
	many, err := s.BufferedEvents(ctx, a, "event.data.order_id", "many", base.Add(-time.Hour))
	require.NoError(t, err)
	require.Len(t, many, store.MaxBuffered, "at most MaxBuffered")
	require.Equal(t, "evt_m000", many[0].EventID)

	// Pruned with the event log: those accepted before the cutoff go.
	n, err := s.PruneRuns(ctx, base.Add(-time.Minute), 1000)
	require.NoError(t, err)
	require.Equal(t, 1, n)
	read(t, []store.BufferedEvent{e2})(s.BufferedEvents(ctx, a, "event.data.order_id", "o1", base.Add(-2*time.Hour)))
}
