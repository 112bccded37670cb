package route_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/hookline/hookline/internal/clock"
	"github.com/hookline/hookline/internal/engine"
	"github.com/hookline/hookline/internal/event"
	"github.com/hookline/hookline/internal/expr"
	"github.com/hookline/hookline/internal/route"
	"github.com/hookline/hookline/internal/testkit"
)

// filler is a domain whose routing inputs the test sets, as a store
// would hold them.
type filler struct {
	mu   sync.Mutex
	fill route.Fill
	err  error
	// gate, when set, holds FillRoutes after it read the inputs until
	// the test closes it; entered is signalled then.
	gate    chan struct{}
	entered chan struct{}
}

func (f *filler) FillRoutes(ctx context.Context, _ string) (route.Fill, error) {
	f.mu.Lock()
	fill, err, gate, entered := f.fill, f.err, f.gate, f.entered
	fill.Entries = append([]route.Entry(nil), fill.Entries...)
	fill.Waits = append([]route.Wait(nil), fill.Waits...)
	f.mu.Unlock()
	if gate != nil {
		entered <- struct{}{}
		select {
		case <-gate:
		case <-ctx.Done():
			return route.Fill{}, ctx.Err()
		}
	}
	return fill, err
}

func (f *filler) set(fill route.Fill) {
	f.mu.Lock()
	f.fill = fill
	f.mu.Unlock()
}

// gated is a filler whose builds wait at its gate until the test opens
// it (routeDuringBuild).
func gated(fill route.Fill) *filler {
	return &filler{fill: fill, gate: make(chan struct{}), entered: make(chan struct{}, 1)}
}

type bundle struct {
	table *route.Table
	clock *clock.Manual
	logs  *testkit.Buffer
}

func setup(t *testing.T, fs ...route.Filler) *bundle {
	t.Helper()
	b := &bundle{clock: clock.NewManual(time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)), logs: &testkit.Buffer{}}
	b.table = route.New(route.Config{Clock: b.clock, Logger: slog.New(slog.NewTextHandler(b.logs, nil))})
	b.table.Register(fs...)
	return b
}

const tenant = "ten_1"

func ev(typ, data string) *event.Event {
	return &event.Event{ID: event.NewID(event.PrefixEvent, time.Now()), TenantID: tenant, Type: typ, Data: []byte(data)}
}

func (b *bundle) route(t *testing.T, e *event.Event) []string {
	t.Helper()
	ts, err := b.table.Route(context.Background(), e)
	require.NoError(t, err)
	return ids(ts)
}

// routeDuringBuild routes e with a build that f, a gated filler, holds
// once it has read its inputs: during runs then, before the gate opens.
// It returns what e was routed to.
func (b *bundle) routeDuringBuild(f *filler, e *event.Event, during func()) []string {
	gate := f.gate
	done := make(chan []string)
	go func() {
		ts, _ := b.table.Route(context.Background(), e)
		done <- ids(ts)
	}()
	<-f.entered
	during()
	f.mu.Lock()
	f.gate = nil
	f.mu.Unlock()
	close(gate)
	return <-done
}

func ids(ts []engine.Target) []string {
	out := []string{}
	for _, tg := range ts {
		out = append(out, tg.Kind+":"+tg.DestinationID)
	}
	return out
}

func entry(kind, id string, patterns ...string) route.Entry {
	return route.Entry{Target: engine.Target{Kind: kind, DestinationID: id}, Patterns: patterns}
}

func filter(t *testing.T, en route.Entry, src string) route.Entry {
	t.Helper()
	f, err := expr.CompileFilter(src)
	require.NoError(t, err)
	en.Filter = f
	return en
}

func TestPatterns(t *testing.T) {
	t.Parallel()
	b := setup(t, &filler{fill: route.Fill{Entries: []route.Entry{
		entry("endpoint", "exact", "order.created"),
		entry("endpoint", "star", "order.*"),
		entry("endpoint", "deep", "order.**"),
		entry("endpoint", "first", "*.created"),
		entry("endpoint", "all"),
		entry("endpoint", "every", "*"),
		entry("endpoint", "two", "user.deleted", "order.created"),
		entry("endpoint", "twice", "order.created", "order.*"),
	}}}, &filler{fill: route.Fill{Entries: []route.Entry{
		entry("notify", "exact", "order.created"),
	}}})
	for _, c := range []struct {
		typ  string
		want []string
	}{
		{"order.created", []string{"endpoint:exact", "endpoint:star", "endpoint:deep", "endpoint:first", "endpoint:all", "endpoint:every", "endpoint:two", "endpoint:twice", "notify:exact"}},
		{"order.created.v2", []string{"endpoint:deep", "endpoint:all", "endpoint:every"}},
		{"user.created", []string{"endpoint:first", "endpoint:all", "endpoint:every"}},
		{"user.deleted", []string{"endpoint:all", "endpoint:every", "endpoint:two"}},
		{"order", []string{"endpoint:all", "endpoint:every"}},
		{"invoice.paid", []string{"endpoint:all", "endpoint:every"}},
	} {
		// Twice: the second answer comes from the per-type memo.
		for range 2 {
			require.Equal(t, c.want, b.route(t, ev(c.typ, `{}`)), c.typ)
		}
	}
}

func TestFiltersShareOneParsedEvent(t *testing.T) {
	t.Parallel()
	var seen []any
	same := func() func(*route.Event) bool {
		return func(e *route.Event) bool {
			if env, err := e.Env(); err == nil {
				seen = append(seen, env["data"])
			}
			return true
		}
	}
	big := filter(t, entry("endpoint", "big", "order.*"), "data.total > 100")
	big.Cond = same()
	eur := filter(t, entry("endpoint", "eur", "order.*"), `data.currency == "EUR" && event.type == "order.created"`)
	eur.Cond = same()
	broken := filter(t, entry("endpoint", "broken", "order.*"), "data.total > 1")
	broken.LogKey, broken.LogMsg = "endpoint_id", "endpoint filter failed; event not routed to it"
	b := setup(t, &filler{fill: route.Fill{Entries: []route.Entry{big, eur, broken, entry("endpoint", "plain", "order.*")}}})

	require.Equal(t, []string{"endpoint:big", "endpoint:eur", "endpoint:broken", "endpoint:plain"},
		b.route(t, ev("order.created", `{"total": 150, "currency": "EUR"}`)))
	require.Len(t, seen, 2)
	require.Equal(t, fmt.Sprintf("%p", seen[0]), fmt.Sprintf("%p", seen[1]), "both filters see the one parsed value")

	require.Equal(t, []string{"endpoint:broken", "endpoint:plain"}, b.route(t, ev("order.created", `{"total": 50, "currency": "USD"}`)))

	// A filter that cannot be evaluated is logged, and only that entry is
	// skipped.
	require.Equal(t, []string{"endpoint:plain"}, b.route(t, ev("order.created", `{"total": "many"}`)))
	require.Contains(t, b.logs.String(), "endpoint filter failed; event not routed to it")
	require.Contains(t, b.logs.String(), "endpoint_id=broken")

	// Data that does not parse fails the routing when a filter needs it,
	// and only then.
	_, err := b.table.Route(context.Background(), ev("order.created", `{not json`))
	require.ErrorContains(t, err, "parse event data")
	require.Empty(t, b.route(t, ev("user.created", `{not json`)))
}

func TestEventField(t *testing.T) {
	t.Parallel()
	e := route.NewEvent(ev("workflow.failed", `{"event": {"type": "workflow.failed"}, "n": 1}`))
	v, ok := e.Field("event", "type")
	require.True(t, ok)
	require.Equal(t, "workflow.failed", v)
	_, ok = e.Field("n", "x")
	require.False(t, ok)
	_, ok = route.NewEvent(ev("x", `[1]`)).Field("event")
	require.False(t, ok)
	require.Nil(t, route.NewEvent(ev("x", `{bad`)).Data())
}

func TestInvalidate(t *testing.T) {
	t.Parallel()
	f := &filler{fill: route.Fill{Entries: []route.Entry{entry("endpoint", "a", "order.created")}}}
	b := setup(t, f)
	require.Equal(t, []string{"endpoint:a"}, b.route(t, ev("order.created", `{}`)))

	// A change the table was not told of is not seen: events are routed
	// from the table, not the store.
	f.set(route.Fill{Entries: []route.Entry{entry("endpoint", "b", "order.created")}})
	require.Equal(t, []string{"endpoint:a"}, b.route(t, ev("order.created", `{}`)))

	b.table.Invalidate(tenant)
	require.Equal(t, []string{"endpoint:b"}, b.route(t, ev("order.created", `{}`)))

	// Another tenant's invalidation changes nothing here.
	f.set(route.Fill{Entries: []route.Entry{entry("endpoint", "c", "order.created")}})
	b.table.Invalidate("ten_other")
	require.Equal(t, []string{"endpoint:b"}, b.route(t, ev("order.created", `{}`)))

	// A table older than MaxAge is built again, in case a change was
	// missed.
	b.clock.Advance(route.DefaultMaxAge - time.Millisecond)
	require.Equal(t, []string{"endpoint:b"}, b.route(t, ev("order.created", `{}`)))
	b.clock.Advance(time.Millisecond)
	require.Equal(t, []string{"endpoint:c"}, b.route(t, ev("order.created", `{}`)))
}

func TestFillError(t *testing.T) {
	t.Parallel()
	f := &filler{err: errors.New("load endpoints: database is down")}
	b := setup(t, f)
	_, err := b.table.Route(context.Background(), ev("order.created", `{}`))
	require.ErrorContains(t, err, "database is down")
	f.mu.Lock()
	f.err, f.fill = nil, route.Fill{Entries: []route.Entry{entry("endpoint", "a", "order.created")}}
	f.mu.Unlock()
	require.Equal(t, []string{"endpoint:a"}, b.route(t, ev("order.created", `{}`)))
}

func TestInvalidateDuringBuild(t *testing.T) {
	t.Parallel()
	f := gated(route.Fill{Entries: []route.Entry{entry("endpoint", "old", "order.created")}})
	b := setup(t, f)
	got := b.routeDuringBuild(f, ev("order.created", `{}`), func() {
		// The build read the old inputs; the change and its Invalidate
		// land before it ends.
		f.set(route.Fill{Entries: []route.Entry{entry("endpoint", "new", "order.created")}})
		b.table.Invalidate(tenant)
	})
	require.Equal(t, []string{"endpoint:old"}, got, "the racing event is routed by the build it made")
	require.Equal(t, []string{"endpoint:new"}, b.route(t, ev("order.created", `{}`)), "the stale build was not kept")
}

func TestFirstBuildRacesInvalidate(t *testing.T) {
	t.Parallel()
	f := gated(route.Fill{RouteWaits: true, Waits: []route.Wait{{Kind: "workflow", RunID: "run_1", Rev: 2, Pattern: "payment.*"}}})
	b := setup(t, f)
	got := b.routeDuringBuild(f, ev("payment.received", `{}`), func() { b.table.Invalidate(tenant) })
	require.Equal(t, []string{"workflow:run_1"}, got, "the racing event is offered to the waiting run")
	require.Equal(t, []string{"workflow:run_1"}, b.route(t, ev("payment.received", `{}`)))
}

func TestWaits(t *testing.T) {
	t.Parallel()
	trigger := ev("order.created", `{}`)
	wf := &filler{fill: route.Fill{
		Entries: []route.Entry{entry("workflow", "flow", "order.created")},
		Waits: []route.Wait{
			{Kind: "workflow", RunID: "run_2", Rev: 3, Pattern: "payment.*", EventID: trigger.ID},
			{Kind: "workflow", RunID: "run_1", Rev: 2, Pattern: "payment.received"},
		},
		RouteWaits: true,
	}}
	b := setup(t, &filler{fill: route.Fill{Entries: []route.Entry{entry("endpoint", "ep", "*")}}}, wf,
		&filler{fill: route.Fill{Entries: []route.Entry{entry("notify", "rule", "*")}}})

	// Waiting runs come after their domain's entries, by run id.
	require.Equal(t, []string{"endpoint:ep", "workflow:run_1", "workflow:run_2", "notify:rule"},
		b.route(t, ev("payment.received", `{}`)))
	require.Equal(t, []string{"endpoint:ep", "workflow:run_2", "notify:rule"}, b.route(t, ev("payment.failed", `{}`)))
	require.Equal(t, []string{"endpoint:ep", "workflow:flow", "notify:rule"}, b.route(t, ev("order.created", `{}`)))

	// The event that started a run is never offered to its wait.
	trigger.Type = "payment.received"
	require.Equal(t, []string{"endpoint:ep", "workflow:run_1", "notify:rule"}, b.route(t, trigger))

	ctx := context.Background()
	// A run that starts waiting is seen by the next event, with no
	// rebuild (the filler still says nothing of it).
	b.table.SetWait(ctx, tenant, route.Wait{Kind: "workflow", RunID: "run_3", Rev: 4, Pattern: "refund.issued"})
	require.Equal(t, []string{"endpoint:ep", "workflow:run_3", "notify:rule"}, b.route(t, ev("refund.issued", `{}`)))
	// One that stops is no longer offered events.
	b.table.SetWait(ctx, tenant, route.Wait{Kind: "workflow", RunID: "run_1", Rev: 3})
	require.Equal(t, []string{"endpoint:ep", "notify:rule"}, b.route(t, ev("payment.received.v2", `{}`)))
	require.Equal(t, []string{"endpoint:ep", "workflow:run_2", "notify:rule"}, b.route(t, ev("payment.received", `{}`)))

	// Changes apply by revision, whatever order they arrive in: a late
	// start does not bring back a wait that ended, nor replace a newer one.
	b.table.SetWait(ctx, tenant, route.Wait{Kind: "workflow", RunID: "run_1", Rev: 2, Pattern: "payment.received"})
	b.table.SetWait(ctx, tenant, route.Wait{Kind: "workflow", RunID: "run_2", Rev: 1, Pattern: "order.*"})
	require.Equal(t, []string{"endpoint:ep", "workflow:run_2", "notify:rule"}, b.route(t, ev("payment.received", `{}`)))
	// The same run waiting again at a later revision, for something else.
	b.table.SetWait(ctx, tenant, route.Wait{Kind: "workflow", RunID: "run_1", Rev: 5, Pattern: "shipment.sent"})
	require.Equal(t, []string{"endpoint:ep", "workflow:run_1", "notify:rule"}, b.route(t, ev("shipment.sent", `{}`)))

	// A domain that says its waits are not routed (no workflows left)
	// routes none, including ones set since.
	wf.set(route.Fill{Waits: []route.Wait{{Kind: "workflow", RunID: "run_2", Rev: 3, Pattern: "payment.*"}}})
	b.table.Invalidate(tenant)
	require.Equal(t, []string{"endpoint:ep", "notify:rule"}, b.route(t, ev("payment.received", `{}`)))
	b.table.SetWait(ctx, tenant, route.Wait{Kind: "workflow", RunID: "run_4", Rev: 2, Pattern: "payment.received"})
	require.Equal(t, []string{"endpoint:ep", "notify:rule"}, b.route(t, ev("payment.received", `{}`)))
}

func TestWaitDuringBuild(t *testing.T) {
	t.Parallel()
	f := gated(route.Fill{RouteWaits: true})
	b := setup(t, f)
	ctx := context.Background()
	b.routeDuringBuild(f, ev("payment.received", `{}`), func() {
		// The build read the store before these changes were committed.
		b.table.SetWait(ctx, tenant, route.Wait{Kind: "workflow", RunID: "run_1", Rev: 2, Pattern: "payment.received"})
		b.table.SetWait(ctx, tenant, route.Wait{Kind: "workflow", RunID: "run_2", Rev: 2, Pattern: "payment.received"})
		b.table.SetWait(ctx, tenant, route.Wait{Kind: "workflow", RunID: "run_2", Rev: 3})
	})
	require.Equal(t, []string{"workflow:run_1"}, b.route(t, ev("payment.received", `{}`)), "changes made during the build are kept")

	// A rebuild reads the store again, which has them by now.
	f.set(route.Fill{RouteWaits: true, Waits: []route.Wait{{Kind: "workflow", RunID: "run_1", Rev: 2, Pattern: "payment.received"}}})
	b.table.Invalidate(tenant)
	require.Equal(t, []string{"workflow:run_1"}, b.route(t, ev("payment.received", `{}`)))
}

func TestRegisterAfterRoute(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.route(t, ev("x", `{}`))
	require.Panics(t, func() { b.table.Register(&filler{}) })
}

// BenchmarkRoute routes an event of one of ten types against n
// subscriptions, each taking one type, half of them with a filter.
func BenchmarkRoute(b *testing.B) {
	for _, n := range []int{10, 100, 1000, 10000} {
		b.Run(fmt.Sprint(n), func(b *testing.B) {
			f, err := expr.CompileFilter("data.total > 100")
			require.NoError(b, err)
			var es []route.Entry
			for i := range n {
				en := entry("endpoint", fmt.Sprintf("ep_%d", i), fmt.Sprintf("order.type%d", i%10))
				if i%2 == 0 {
					en.Filter = f
				}
				es = append(es, en)
			}
			tb := route.New(route.Config{})
			tb.Register(&filler{fill: route.Fill{Entries: es, RouteWaits: true}})
			e := ev("order.type3", `{"id": "o_1", "total": 150, "items": [{"sku": "a", "qty": 2}]}`)
			ctx := context.Background()
			b.ReportAllocs()
			for b.Loop() {
				ts, err := tb.Route(ctx, e)
				if err != nil || len(ts) != n/10 {
					b.Fatal(err, len(ts))
				}
			}
		})
	}
}
