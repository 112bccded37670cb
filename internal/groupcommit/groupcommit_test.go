package groupcommit_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/hookline/hookline/internal/groupcommit"
)

// item is one submitted value; the commit stores its batch number in it.
type item struct {
	v     int
	batch int
}

// rig is a Group whose commits record their batches and stall while
// stall holds a channel: the commit waits for it to close.
type rig struct {
	g *groupcommit.Group[*item]

	mu      sync.Mutex
	batches [][]int
	stall   chan struct{}
	started chan struct{} // signalled when a stalled commit starts
}

func setup(t *testing.T, cfg groupcommit.Config[*item]) *rig {
	t.Helper()
	r := &rig{started: make(chan struct{}, 1)}
	cfg.Commit = func(_ context.Context, batch []*item) {
		r.mu.Lock()
		vs := make([]int, len(batch))
		for i, it := range batch {
			vs[i] = it.v
			it.batch = len(r.batches) + 1
		}
		r.batches = append(r.batches, vs)
		stall := r.stall
		r.stall = nil
		r.mu.Unlock()
		if stall != nil {
			r.started <- struct{}{}
			<-stall
		}
	}
	r.g = groupcommit.New(cfg)
	return r
}

// stallNext makes the next commit wait until the returned channel closes.
func (r *rig) stallNext() chan struct{} {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.stall = make(chan struct{})
	return r.stall
}

func (r *rig) committed() [][]int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.batches
}

// submit runs Do for each v in its own goroutine and returns a function
// waiting for their errors.
func (r *rig) submit(ctx context.Context, deadline time.Time, vs ...int) func() []error {
	errs := make([]error, len(vs))
	var wg sync.WaitGroup
	for i, v := range vs {
		wg.Go(func() { errs[i] = r.g.Do(ctx, &item{v: v}, deadline) })
		synctest.Wait() // queue in order
	}
	return func() []error { wg.Wait(); return errs }
}

func noErrors(t *testing.T, errs []error) {
	t.Helper()
	for i, err := range errs {
		if err != nil {
			t.Fatalf("caller %d: %v", i, err)
		}
	}
}

func equal(t *testing.T, got, want [][]int) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("batches %v, want %v", got, want)
	}
	for i := range got {
		if len(got[i]) != len(want[i]) {
			t.Fatalf("batches %v, want %v", got, want)
		}
		for j := range got[i] {
			if got[i][j] != want[i][j] {
				t.Fatalf("batches %v, want %v", got, want)
			}
		}
	}
}

func TestLoneItemCommitsAtOnce(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		r := setup(t, groupcommit.Config[*item]{})
		start := time.Now()
		it := &item{v: 1}
		if err := r.g.Do(t.Context(), it, time.Time{}); err != nil {
			t.Fatal(err)
		}
		if d := time.Since(start); d != 0 {
			t.Fatalf("a lone item waited %s", d)
		}
		if it.batch != 1 {
			t.Fatalf("outcome not stored: batch %d", it.batch)
		}
	})
}

// TestBatching: items queued behind a commit in progress go in the next
// commit together, MaxRows rows at most, in order.
func TestBatching(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		r := setup(t, groupcommit.Config[*item]{MaxRows: 4, Rows: func(it *item) int { return it.v % 10 }})
		release := r.stallNext()
		first := r.submit(t.Context(), time.Time{}, 1)
		<-r.started
		// Rows 1, 2, 1 | 3, 2 | 1: a batch is closed once it holds 4 rows.
		rest := r.submit(t.Context(), time.Time{}, 11, 2, 21, 3, 12, 31)
		close(release)
		noErrors(t, first())
		noErrors(t, rest())
		equal(t, r.committed(), [][]int{{1}, {11, 2, 21}, {3, 12}, {31}})
	})
}

// TestTogether: an item that may not join the batch's first stays queued,
// in order, for the next batch.
func TestTogether(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		r := setup(t, groupcommit.Config[*item]{Together: func(a, b *item) bool { return a.v%2 == b.v%2 }})
		release := r.stallNext()
		first := r.submit(t.Context(), time.Time{}, 0)
		<-r.started
		rest := r.submit(t.Context(), time.Time{}, 1, 2, 3, 4, 5)
		close(release)
		noErrors(t, first())
		noErrors(t, rest())
		equal(t, r.committed(), [][]int{{0}, {1, 3, 5}, {2, 4}})
	})
}

// TestDeadline: an item still queued at its caller's deadline is taken
// back and never written; an item whose batch does not answer by the
// deadline gets ErrNoAnswer; the deadline of ctx counts when earlier.
func TestDeadline(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		r := setup(t, groupcommit.Config[*item]{})
		release := r.stallNext()
		start := time.Now()
		first := r.submit(t.Context(), start.Add(time.Second), 1)
		<-r.started
		queued := r.submit(t.Context(), start.Add(2*time.Second), 2)
		ctx, cancel := context.WithDeadline(t.Context(), start.Add(500*time.Millisecond))
		defer cancel()
		early := r.submit(ctx, start.Add(time.Hour), 3)
		later := r.submit(t.Context(), start.Add(time.Hour), 4)

		if errs := early(); !errors.Is(errs[0], groupcommit.ErrNotTaken) {
			t.Fatalf("ctx deadline: %v, want ErrNotTaken", errs[0])
		}
		if d := time.Since(start); d != 500*time.Millisecond {
			t.Fatalf("answered after %s, want 500ms", d)
		}
		if errs := first(); !errors.Is(errs[0], groupcommit.ErrNoAnswer) {
			t.Fatalf("stalled batch: %v, want ErrNoAnswer", errs[0])
		}
		if errs := queued(); !errors.Is(errs[0], groupcommit.ErrNotTaken) {
			t.Fatalf("queued: %v, want ErrNotTaken", errs[0])
		}
		if d := time.Since(start); d != 2*time.Second {
			t.Fatalf("answered after %s, want 2s", d)
		}
		close(release)
		noErrors(t, later())
		equal(t, r.committed(), [][]int{{1}, {4}})
	})
}

// TestCancel: a caller that leaves takes its item back while it is
// queued, and waits for its batch once it is taken; with Detach it
// leaves at once and its item is written anyway.
func TestCancel(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name   string
		detach bool
		want   [][]int
	}{
		{name: "take back", want: [][]int{{1}, {3}}},
		{name: "detach", detach: true, want: [][]int{{1}, {2, 3}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			synctest.Test(t, func(t *testing.T) {
				r := setup(t, groupcommit.Config[*item]{Detach: tc.detach})
				release := r.stallNext()
				ctx1, cancel1 := context.WithCancel(t.Context())
				first := r.submit(ctx1, time.Time{}, 1)
				<-r.started
				ctx2, cancel2 := context.WithCancel(t.Context())
				queued := r.submit(ctx2, time.Time{}, 2)
				other := r.submit(t.Context(), time.Time{}, 3)
				cancel2()
				if errs := queued(); !errors.Is(errs[0], context.Canceled) {
					t.Fatalf("queued: %v, want context.Canceled", errs[0])
				}
				cancel1()
				synctest.Wait()
				if tc.detach {
					if errs := first(); !errors.Is(errs[0], context.Canceled) {
						t.Fatalf("detached: %v, want context.Canceled", errs[0])
					}
				}
				close(release)
				if !tc.detach {
					noErrors(t, first()) // waited for its batch
				}
				noErrors(t, other())
				equal(t, r.committed(), tc.want)
			})
		})
	}
}

// TestStopDrains: Stop waits for the queued items to be committed, and
// refuses items after it.
func TestStopDrains(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		r := setup(t, groupcommit.Config[*item]{})
		release := r.stallNext()
		first := r.submit(t.Context(), time.Time{}, 1)
		<-r.started
		rest := r.submit(t.Context(), time.Time{}, 2, 3)
		stopped := make(chan struct{})
		go func() { r.g.Stop(); close(stopped) }()
		synctest.Wait()
		select {
		case <-stopped:
			t.Fatal("Stop returned before the queued items were committed")
		default:
		}
		if err := r.g.Do(t.Context(), &item{v: 4}, time.Time{}); !errors.Is(err, groupcommit.ErrStopped) {
			t.Fatalf("after Stop: %v, want ErrStopped", err)
		}
		close(release)
		<-stopped
		noErrors(t, first())
		noErrors(t, rest())
		equal(t, r.committed(), [][]int{{1}, {2, 3}})
	})
}

// TestSerial: groups sharing a Limit of one never commit at once; an item
// of one stays queued, and can be taken back, while the other commits.
func TestSerial(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		serial := groupcommit.NewLimit(1)
		a := setup(t, groupcommit.Config[*item]{Limit: serial})
		b := setup(t, groupcommit.Config[*item]{Limit: serial})
		release := a.stallNext()
		first := a.submit(t.Context(), time.Time{}, 1)
		<-a.started
		start := time.Now()
		late := b.submit(t.Context(), start.Add(time.Second), 2)
		waiting := b.submit(t.Context(), time.Time{}, 3)
		if errs := late(); !errors.Is(errs[0], groupcommit.ErrNotTaken) {
			t.Fatalf("behind the other group: %v, want ErrNotTaken", errs[0])
		}
		if len(b.committed()) != 0 {
			t.Fatalf("b committed %v while a was committing", b.committed())
		}
		close(release)
		noErrors(t, first())
		noErrors(t, waiting())
		equal(t, b.committed(), [][]int{{3}})
	})
}

// TestSerialHeld: while the Limit is held nothing commits; items stay
// queued, so a caller's deadline takes its item back, and the rest commit
// in one batch once it is released.
func TestSerialHeld(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		serial := groupcommit.NewLimit(1)
		serial.Lock()
		r := setup(t, groupcommit.Config[*item]{Limit: serial})
		start := time.Now()
		late := r.submit(t.Context(), start.Add(time.Second), 1)
		waiting := r.submit(t.Context(), time.Time{}, 2, 3)
		if errs := late(); !errors.Is(errs[0], groupcommit.ErrNotTaken) {
			t.Fatalf("held: %v, want ErrNotTaken", errs[0])
		}
		if len(r.committed()) != 0 {
			t.Fatalf("committed %v while held", r.committed())
		}
		serial.Unlock()
		noErrors(t, waiting())
		equal(t, r.committed(), [][]int{{2, 3}})
	})
}

// TestLanes: with two lanes a second batch commits while the first is
// still committing; with both busy, items queue and go in one batch when
// a lane frees; Stop waits for every lane.
func TestLanes(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		var (
			mu       sync.Mutex
			batches  [][]int
			inFlight int
			most     int
		)
		gates := map[int]chan struct{}{1: make(chan struct{}), 2: make(chan struct{})}
		g := groupcommit.New(groupcommit.Config[*item]{Lanes: 2, Commit: func(_ context.Context, batch []*item) {
			mu.Lock()
			vs := make([]int, len(batch))
			for i, it := range batch {
				vs[i] = it.v
			}
			batches = append(batches, vs)
			inFlight++
			most = max(most, inFlight)
			gate := gates[batch[0].v]
			mu.Unlock()
			if gate != nil {
				<-gate
			}
			mu.Lock()
			inFlight--
			mu.Unlock()
		}})
		errs := make([]error, 5)
		var wg sync.WaitGroup
		for i, v := range []int{1, 2, 3, 4} {
			wg.Go(func() { errs[i] = g.Do(t.Context(), &item{v: v}, time.Time{}) })
			synctest.Wait()
		}
		mu.Lock()
		if most != 2 || len(batches) != 2 {
			t.Fatalf("%d batches committing at once (%v), want 2", most, batches)
		}
		mu.Unlock()
		close(gates[2])
		synctest.Wait()
		close(gates[1])
		wg.Wait()
		for i, err := range errs[:4] {
			if err != nil {
				t.Fatalf("caller %d: %v", i, err)
			}
		}
		equal(t, batches, [][]int{{1}, {2}, {3, 4}})
		g.Stop()
		if err := g.Do(t.Context(), &item{v: 5}, time.Time{}); !errors.Is(err, groupcommit.ErrStopped) {
			t.Fatalf("after Stop: %v, want ErrStopped", err)
		}
	})
}

// TestLimitHeldAcrossLanes: Hold takes every slot of a Limit, so a group
// of several lanes commits nothing until Release, and then at most the
// Limit's size of batches at once.
func TestLimitHeldAcrossLanes(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		limit := groupcommit.NewLimit(2)
		limit.Hold()
		var mu sync.Mutex
		var inFlight, most, n int
		release := make(chan struct{})
		g := groupcommit.New(groupcommit.Config[*item]{Lanes: 4, Limit: limit, Commit: func(_ context.Context, batch []*item) {
			mu.Lock()
			n += len(batch)
			inFlight++
			most = max(most, inFlight)
			mu.Unlock()
			<-release
			mu.Lock()
			inFlight--
			mu.Unlock()
		}})
		var wg sync.WaitGroup
		for v := range 4 {
			wg.Go(func() { _ = g.Do(t.Context(), &item{v: v}, time.Time{}) })
		}
		synctest.Wait()
		mu.Lock()
		if n != 0 {
			t.Fatalf("%d items committed while the limit was held", n)
		}
		mu.Unlock()
		limit.Release()
		synctest.Wait()
		close(release)
		wg.Wait()
		if most > 2 {
			t.Fatalf("%d batches at once under a limit of 2", most)
		}
		if n != 4 {
			t.Fatalf("%d items committed, want 4", n)
		}
	})
}
