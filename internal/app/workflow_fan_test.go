package app_test

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/require"
)

// children lists the runs a run's steps started, oldest first.
func (b *bundle) children(runID string) []map[string]any {
	b.t.Helper()
	_, out := b.do("GET", "/v1/runs?limit=100&parent_run_id="+runID, "")
	var kids []map[string]any
	for _, d := range out["data"].([]any) {
		kids = append([]map[string]any{d.(map[string]any)}, kids...)
	}
	return kids
}

// rendezvous lets two requests of a service through only once both have
// arrived: a test that they ran at the same time would hang otherwise.
type rendezvous struct {
	mu      sync.Mutex
	arrived map[string]chan struct{}
}

func newRendezvous(names ...string) *rendezvous {
	rv := &rendezvous{arrived: map[string]chan struct{}{}}
	for _, n := range names {
		rv.arrived[n] = make(chan struct{})
	}
	return rv
}

// meet marks name arrived and waits for other (or the request's end).
func (rv *rendezvous) meet(r *http.Request, name, other string) bool {
	rv.mu.Lock()
	select {
	case <-rv.arrived[name]:
	default:
		close(rv.arrived[name])
	}
	rv.mu.Unlock()
	select {
	case <-rv.arrived[other]:
		return true
	case <-r.Context().Done():
		return false
	}
}

const fulfilFlow = `name: fulfil
on: { events: ["order.paid"] }
steps:
  - id: prepare
    parallel:
      branches:
        - name: payment
          steps:
            - id: capture
              http: { method: POST, url: "%[1]s/capture", body: '{"order": "{{ event.data.id }}"}' }
              retry: { attempts: 3, backoff: fixed, initial: 1ms }
        - name: warehouse
          steps:
            - id: pick
              http: { method: POST, url: "%[1]s/pick", body: '{"order": "{{ event.data.id }}", "lines": {{ len(event.data.lines) }}}' }
            - id: label
              set: { carrier: "steps.pick.output.body.carrier" }
  - id: ship
    emit:
      type: order.shipped
      data: { order: "{{ event.data.id }}", capture: "{{ steps.capture.output.body.id }}", carrier: "{{ steps.prepare.output.branches[1].output.carrier }}" }
`

// TestWorkflowParallel: branches run at the same time (each waits for
// the other's request), each with its own retries; after the join their
// steps and outputs are the run's.
func TestWorkflowParallel(t *testing.T) {
	drivers(t, func(t *testing.T, b *bundle) {
		rv := newRendezvous("capture", "pick")
		var captured atomic.Bool
		svc := newService(t, func(n int, w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "application/json")
			switch r.URL.Path {
			case "/capture":
				if !captured.Swap(true) {
					w.WriteHeader(http.StatusServiceUnavailable)
					return
				}
				if rv.meet(r, "capture", "pick") {
					io.WriteString(w, `{"id": "cap_1"}`)
				}
			case "/pick":
				if rv.meet(r, "pick", "capture") {
					io.WriteString(w, `{"carrier": "ups"}`)
				}
			}
		})
		b.saveWorkflow(fmt.Sprintf(fulfilFlow, svc.URL))
		b.send("order.paid", `{"id": "o1", "lines": [1, 2]}`)
		run := b.waitRun("fulfil", "succeeded")
		shipped := b.eventsOf("order.shipped")
		require.Len(t, shipped, 1)
		require.JSONEq(t, `{"order": "o1", "capture": "cap_1", "carrier": "ups"}`, string(shipped[0].Data))
		log := stepLog(run)
		require.Equal(t, "succeeded", log["prepare"]["status"])
		var out struct {
			Join     string `json:"join"`
			Branches []struct {
				Name   string `json:"name"`
				Status string `json:"status"`
				RunID  string `json:"run_id"`
			} `json:"branches"`
		}
		require.NoError(t, json.Unmarshal(mustJSON(t, log["prepare"]["output"]), &out))
		require.Equal(t, "all", out.Join)
		require.Len(t, out.Branches, 2)
		require.Equal(t, "payment", out.Branches[0].Name)
		require.Equal(t, "succeeded", out.Branches[1].Status)

		kids := b.children(run["id"].(string))
		require.Len(t, kids, 2, "one child run per branch")
		for _, k := range kids {
			require.Equal(t, "succeeded", k["status"])
			require.Equal(t, "fulfil", k["workflow"])
		}
		_, payment := b.do("GET", "/v1/runs/"+kids[0]["id"].(string), "")
		require.Equal(t, 2.0, stepLog(payment)["capture"]["attempts"], "the branch's own retries")

		t.Run("any: the first branch to succeed wins, the others are cancelled", func(t *testing.T) {
			quotes := newService(t, nil)
			b.saveWorkflow(fmt.Sprintf(`name: quote
on: { events: ["quote.requested"] }
steps:
  - id: fastest
    parallel:
      join: any
      branches:
        - name: slow
          steps:
            - id: hold
              delay: { for: 1h }
        - name: fast
          steps:
            - id: fast_quote
              http: { url: "%s/quote" }
  - id: done
    set: { price: "steps.fastest.output.branches[1].output.body.ok" }
`, quotes.URL))
			b.send("quote.requested", `{}`)
			run := b.waitRun("quote", "succeeded")
			require.Equal(t, true, run["vars"].(map[string]any)["price"])
			kids := b.children(run["id"].(string))
			require.Len(t, kids, 2)
			require.Equal(t, "cancelled", kids[0]["status"], "the slow branch")
			require.Equal(t, "succeeded", kids[1]["status"])
		})

		t.Run("all: a failing branch cancels the others and takes on_error", func(t *testing.T) {
			b.saveWorkflow(`name: all-or-nothing
on: { events: ["order.checked"] }
steps:
  - id: both
    parallel:
      branches:
        - steps:
            - id: wait_stock
              wait_for: { event: stock.never, timeout: 1h }
        - steps:
            - id: boom
              fail: { message: "no stock for {{ event.data.id }}" }
    on_error: compensate
  - id: ok
    set: { fine: "true" }
    next: end
  - id: compensate
    emit: { type: order.compensated, data: { why: "{{ steps.both.error }}" } }
`)
			b.send("order.checked", `{"id": "o7"}`)
			run := b.waitRun("all-or-nothing", "succeeded")
			log := stepLog(run)
			require.Equal(t, "failed", log["both"]["status"])
			require.NotContains(t, log, "ok")
			kids := b.children(run["id"].(string))
			require.Equal(t, "cancelled", kids[0]["status"], "the waiting branch")
			require.Equal(t, "failed", kids[1]["status"])
			comp := b.eventsOf("order.compensated")
			require.Len(t, comp, 1)
			require.Contains(t, string(comp[0].Data), "branch 1 (run "+kids[1]["id"].(string)+") failed: step boom: no stock for o7")
			require.Empty(t, b.eventsOf("workflow.failed"), "a branch's failure is its step's, handled by on_error")
		})
	})
}

func mustJSON(t *testing.T, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	require.NoError(t, err)
	return b
}

// TestWorkflowForeach: one iteration per item, at most concurrency at a
// time, outputs in the items' order; over a collection's records too;
// too many items fail the step with the limit named.
func TestWorkflowForeach(t *testing.T) {
	drivers(t, func(t *testing.T, b *bundle) {
		var inFlight, most atomic.Int32
		rv := newRendezvous("1", "2")
		var svc *receiver
		svc = newService(t, func(n int, w http.ResponseWriter, r *http.Request) {
			cur := inFlight.Add(1)
			defer inFlight.Add(-1)
			for m := most.Load(); cur > m && !most.CompareAndSwap(m, cur); m = most.Load() {
			}
			var line struct {
				SKU   string `json:"sku"`
				Index int    `json:"index"`
			}
			_ = json.Unmarshal([]byte(svc.body(n-1)), &line)
			if n <= 2 {
				// The first two requests meet: two iterations at once.
				rv.meet(r, fmt.Sprint(n), fmt.Sprint(3-n))
			}
			w.Header().Set("Content-Type", "application/json")
			fmt.Fprintf(w, `{"res": "res_%s_%d"}`, line.SKU, line.Index)
		})
		b.saveWorkflow(fmt.Sprintf(`name: reserve-lines
on: { events: ["order.created"] }
steps:
  - id: lines
    foreach:
      items: "event.data.lines"
      concurrency: 2
      steps:
        - id: reserve
          http: { method: POST, url: "%s/reserve", body: '{"sku": "{{ item.sku }}", "index": {{ index }}}' }
        - id: line
          set: { sku: "item.sku", res: "steps.reserve.output.body.res" }
  - id: done
    set: { count: "steps.lines.output.count", last: "steps.lines.output.outputs[4].res" }
`, svc.URL))
		b.send("order.created", `{"id": "o1", "lines": [{"sku": "a"}, {"sku": "b"}, {"sku": "c"}, {"sku": "d"}, {"sku": "e"}]}`)
		run := b.waitRun("reserve-lines", "succeeded")
		require.Equal(t, 5, svc.count())
		require.Equal(t, int32(2), most.Load(), "two at a time, never more")
		require.Equal(t, map[string]any{"count": 5.0, "last": "res_e_4"}, run["vars"])
		outputs := stepLog(run)["lines"]["output"].(map[string]any)["outputs"].([]any)
		for i, sku := range []string{"a", "b", "c", "d", "e"} {
			require.Equal(t, map[string]any{"sku": sku, "res": fmt.Sprintf("res_%s_%d", sku, i)}, outputs[i], "in the items' order")
		}
		require.Len(t, b.children(run["id"].(string)), 5)

		t.Run("over a collection", func(t *testing.T) {
			status, out := b.do("POST", "/v1/collections", `{"name": "customers", "key": "data.id", "events": {"customer.updated": "upsert"}}`)
			require.Equal(t, http.StatusCreated, status, "%v", out)
			status, out = b.do("POST", "/v1/collections/customers/records",
				`{"records": [{"id": "c1", "plan": "pro"}, {"id": "c2", "plan": "free"}, {"id": "c3", "plan": "pro"}]}`)
			require.Less(t, status, 300, "%v", out)
			b.saveWorkflow(`name: pro-digest
on: { events: ["digest.due"] }
steps:
  - id: each_pro
    foreach:
      collection: { name: customers, filter: 'record.plan == "pro"' }
      concurrency: 3
      steps:
        - id: greet
          set: { who: "item.key" }
`)
			b.send("digest.due", `{}`)
			run := b.waitRun("pro-digest", "succeeded")
			out = stepLog(run)["each_pro"]["output"].(map[string]any)
			require.Equal(t, []any{map[string]any{"who": "c1"}, map[string]any{"who": "c3"}}, out["outputs"])
		})

		t.Run("nested in a parallel branch, with a branch cancelled alone", func(t *testing.T) {
			b.saveWorkflow(`name: nested
on: { events: ["batch.ready"] }
steps:
  - id: split
    parallel:
      branches:
        - name: sums
          steps:
            - id: each_n
              foreach:
                items: "event.data.n"
                concurrency: 3
                steps:
                  - id: inner
                    parallel:
                      join: any
                      branches:
                        - steps: [ { id: double, set: { v: "item * 2 + index" } } ]
        - name: gate
          steps:
            - id: hold
              wait_for: { event: gate.open, timeout: 1h }
    on_error: closed
  - id: total
    set: { sum: "steps.each_n.output.outputs" }
    next: end
  - id: closed
    set: { why: "steps.split.error" }
`)
			b.send("batch.ready", `{"n": [1, 2, 3, 4]}`)
			run := b.waitRun("nested", "waiting")
			var gate map[string]any
			eventually(t, func() bool {
				for _, k := range b.children(run["id"].(string)) {
					if k["current_step"] == "hold" && k["status"] == "waiting" {
						gate = k
					}
				}
				return gate != nil
			}, "the gate branch never waited")
			b.succeededChildren(run, 1) // the sums branch, with its nested iterations and branches
			var sums map[string]any
			for _, k := range b.children(run["id"].(string)) {
				if k["status"] == "succeeded" {
					sums = k
				}
			}
			_, sumsRun := b.do("GET", "/v1/runs/"+sums["id"].(string), "")
			var got []any
			for _, o := range stepLog(sumsRun)["each_n"]["output"].(map[string]any)["outputs"].([]any) {
				// Each iteration's output is its parallel step's.
				got = append(got, o.(map[string]any)["branches"].([]any)[0].(map[string]any)["output"].(map[string]any)["v"])
			}
			require.Equal(t, []any{2.0, 5.0, 8.0, 11.0}, got, "item * 2 + index, in order, through a nested parallel")
			status, out := b.do("POST", "/v1/runs/"+gate["id"].(string)+"/cancel", "")
			require.Equal(t, http.StatusOK, status, "%v", out)
			run = b.waitRun("nested", "succeeded")
			require.Contains(t, run["vars"].(map[string]any)["why"], "branch gate (run "+gate["id"].(string)+") cancelled: cancelled")
		})

		t.Run("over the run's vars, which stay whole", func(t *testing.T) {
			b.saveWorkflow(`name: over-vars
on: { events: ["skus.listed"] }
steps:
  - id: keep
    set: { skus: "event.data.skus" }
  - id: each_sku
    foreach: { items: "vars.skus", concurrency: 2, steps: [ { id: upper, set: { u: "upper(item)" } } ] }
  - id: after
    set: { first: "vars.skus[0]", count: "len(vars.skus)" }
`)
			b.send("skus.listed", `{"skus": ["a", "b", "c"]}`)
			run := b.waitRun("over-vars", "succeeded")
			vars := run["vars"].(map[string]any)
			require.Equal(t, "a", vars["first"])
			require.Equal(t, []any{"a", "b", "c"}, vars["skus"])
			require.Equal(t, []any{map[string]any{"u": "A"}, map[string]any{"u": "B"}, map[string]any{"u": "C"}},
				stepLog(run)["each_sku"]["output"].(map[string]any)["outputs"])
		})

		t.Run("too many items", func(t *testing.T) {
			b.saveWorkflow(`name: too-many
on: { events: ["bulk.requested"] }
steps:
  - id: each_n
    foreach:
      items: "event.data.n"
      steps:
        - id: noop
          set: { i: "index" }
`)
			b.send("bulk.requested", `{"n": [`+strings.TrimSuffix(strings.Repeat("0,", 1001), ",")+`]}`)
			run := b.waitRun("too-many", "failed")
			require.Contains(t, run["error"], "items: 1001 items, more than the limit of 1000")
			require.Empty(t, b.children(run["id"].(string)), "no iteration started")
		})
	})
}

const chargeFlow = `name: charge-card
on: { events: ["charge.never"] }
steps:
  - id: charge
    http: { method: POST, url: "%s/charge", body: '{"amount": {{ event.data.amount }}}' }
  - id: result
    set: { charge_id: "steps.charge.output.body.id" }
`

const checkoutFlow = `name: checkout
on: { events: ["checkout.started"] }
steps:
  - id: pay
    call: { workflow: charge-card, input: { amount: "{{ event.data.total }}" } }
    on_error: declined
  - id: receipt
    emit: { type: receipt.sent, data: { charge: "{{ steps.pay.output.vars.charge_id }}", run: "{{ steps.pay.output.run_id }}" } }
    next: end
  - id: declined
    emit: { type: checkout.declined, data: { why: "{{ steps.pay.error }}" } }
`

// TestWorkflowCall: a call step runs another workflow with its input and
// takes its vars; a failed call takes on_error; cancelling the caller
// cancels the called run; a workflow calling itself stops at the depth
// limit.
func TestWorkflowCall(t *testing.T) {
	drivers(t, func(t *testing.T, b *bundle) {
		var svc *receiver
		svc = newService(t, func(n int, w http.ResponseWriter, r *http.Request) {
			var in struct{ Amount float64 }
			_ = json.Unmarshal([]byte(svc.body(n-1)), &in)
			if in.Amount > 100 {
				w.WriteHeader(http.StatusPaymentRequired)
				return
			}
			w.Header().Set("Content-Type", "application/json")
			io.WriteString(w, `{"id": "ch_1"}`)
		})
		b.saveWorkflow(fmt.Sprintf(chargeFlow, svc.URL))
		b.saveWorkflow(checkoutFlow)
		b.send("checkout.started", `{"total": 42}`)
		run := b.waitRun("checkout", "succeeded")
		require.Equal(t, `{"amount": 42}`, svc.body(0), "the input is the called run's event data")
		kids := b.children(run["id"].(string))
		require.Len(t, kids, 1)
		require.Equal(t, "charge-card", kids[0]["workflow"])
		require.Equal(t, run["id"], kids[0]["parent_run_id"])
		receipts := b.eventsOf("receipt.sent")
		require.Len(t, receipts, 1)
		require.JSONEq(t, fmt.Sprintf(`{"charge": "ch_1", "run": %q}`, kids[0]["id"]), string(receipts[0].Data))
		status, out := b.do("POST", "/v1/runs/"+kids[0]["id"].(string)+"/retry", "")
		require.Equal(t, http.StatusConflict, status, "%v", out)

		t.Run("a failed call takes on_error", func(t *testing.T) {
			b.send("checkout.started", `{"total": 500}`)
			eventually(t, func() bool { return len(b.eventsOf("checkout.declined")) == 1 }, "decline never emitted")
			why := string(b.eventsOf("checkout.declined")[0].Data)
			require.Contains(t, why, "workflow charge-card (run ")
			require.Contains(t, why, "failed: step charge: POST "+svc.URL+"/charge answered 402 Payment Required")
		})

		t.Run("cancelling the caller cancels the called run", func(t *testing.T) {
			b.saveWorkflow(`name: waiter
on: { events: ["waiter.never"] }
steps:
  - id: hold
    wait_for: { event: parcel.arrived, timeout: 1h }
`)
			b.saveWorkflow(`name: caller
on: { events: ["caller.start"] }
steps:
  - id: wait_child
    call: { workflow: waiter }
`)
			b.send("caller.start", `{}`)
			run := b.waitRun("caller", "waiting")
			var kid map[string]any
			eventually(t, func() bool {
				kids := b.children(run["id"].(string))
				if len(kids) == 1 {
					kid = kids[0]
				}
				return kid != nil && kid["status"] == "waiting"
			}, "called run never waited")
			status, out := b.do("POST", "/v1/runs/"+run["id"].(string)+"/cancel", "")
			require.Equal(t, http.StatusOK, status, "%v", out)
			_, got := b.do("GET", "/v1/runs/"+kid["id"].(string), "")
			require.Equal(t, "cancelled", got["status"])
		})

		t.Run("recursion stops at the depth limit", func(t *testing.T) {
			b.saveWorkflow(`name: loop
on: { events: ["loop.start"] }
steps:
  - id: again
    call: { workflow: loop }
`)
			b.send("loop.start", `{}`)
			run := b.waitRun("loop", "failed")
			require.Contains(t, run["error"], "calls nest deeper than 8 runs")
			_, out := b.do("GET", "/v1/workflows/loop/runs?limit=100", "")
			require.Len(t, out["data"], 9, "the run and 8 nested calls")
			require.Len(t, b.eventsOf("workflow.failed"), 1, "only the top run announces its failure")
		})
	})
}

// TestWorkflowFanValidationAPI: malformed parallel, foreach and call
// steps are refused with the path of each mistake.
func TestWorkflowFanValidationAPI(t *testing.T) {
	b := setup(t)
	status, out := b.do("POST", "/v1/workflows", `name: bad
on: { events: [x.y] }
steps:
  - id: fan
    parallel:
      join: some
      branches: []
  - id: each
    foreach: { items: "event.data.x", concurrency: 51, steps: [ { id: s1, set: { a: "item +" } } ] }
  - id: sub
    call: { workflow: "Not A Name" }
  - id: inner
    parallel:
      branches:
        - steps:
            - id: fan
              set: { b: "1" }
`, "Content-Type", "application/yaml")
	require.Equal(t, http.StatusUnprocessableEntity, status, "%v", out)
	var fields []string
	for _, e := range out["error"].(map[string]any)["details"].(map[string]any)["errors"].([]any) {
		fields = append(fields, e.(map[string]any)["field"].(string))
	}
	require.ElementsMatch(t, []string{"steps[0].parallel.join", "steps[1].foreach.concurrency", "steps[2].call.workflow",
		"steps[3].parallel.branches[0].steps[0].id"}, fields)
}

// succeededChildren waits until n of a run's children succeeded.
func (b *bundle) succeededChildren(run map[string]any, n int) {
	b.t.Helper()
	eventually(b.t, func() bool {
		done := 0
		for _, c := range b.children(run["id"].(string)) {
			if c["status"] == "succeeded" {
				done++
			}
		}
		return done == n
	}, "%d children of %s never succeeded", n, run["id"])
}

// blocker is a service whose first request to path hangs until release
// is closed (or the request ends); every request is recorded.
func blocker(t *testing.T, path string) (*receiver, chan struct{}) {
	t.Helper()
	release := make(chan struct{})
	var first atomic.Bool
	first.Store(true)
	svc := newService(t, func(n int, w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == path && first.Swap(false) {
			select {
			case <-release:
			case <-r.Context().Done():
			}
			return
		}
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, `{"ok": true}`)
	})
	t.Cleanup(func() {
		select {
		case <-release:
		default:
			close(release)
		}
	})
	return svc, release
}

// paths counts a receiver's requests by path.
func paths(rc *receiver) map[string]int {
	out := map[string]int{}
	for _, r := range rc.requests() {
		out[r.path]++
	}
	return out
}

// TestWorkflowFanCrash: the process dies while a branch's step, then an
// iteration's, is in flight; after the restart that step runs again (with
// the same idempotency key), the run completes, and what follows the join
// runs once.
func TestWorkflowFanCrash(t *testing.T) {
	drivers(t, func(t *testing.T, b *bundle) {
		svc, release := blocker(t, "/capture")
		b.saveWorkflow(fmt.Sprintf(`name: crash-parallel
on: { events: ["order.paid"] }
steps:
  - id: prepare
    parallel:
      branches:
        - steps:
            - id: capture
              http: { method: POST, url: "%[1]s/capture", headers: { Idempotency-Key: "{{ run.id }}-capture" } }
              timeout: 30s
        - steps:
            - id: pick
              http: { method: POST, url: "%[1]s/pick" }
  - id: ship
    http: { method: POST, url: "%[1]s/ship" }
`, svc.URL))
		b.send("order.paid", `{"id": "o1"}`)
		top := b.waitRun("crash-parallel", "waiting")
		b.succeededChildren(top, 1)
		require.Equal(t, 1, paths(svc)["/capture"], "capture in flight")
		b.restart(true) // crash with the capture in flight
		close(release)
		run := b.waitRun("crash-parallel", "succeeded")
		p := paths(svc)
		require.Equal(t, map[string]int{"/capture": 2, "/pick": 1, "/ship": 1}, p, "the interrupted step again, the rest once")
		caps := svc.requests()
		var keys []string
		for _, r := range caps {
			if r.path == "/capture" {
				keys = append(keys, r.header.Get("Idempotency-Key"))
			}
		}
		require.Equal(t, keys[0], keys[1], "the same key: the branch's run id")
		require.Len(t, b.children(run["id"].(string)), 2)

		t.Run("inside a foreach", func(t *testing.T) {
			svc, release := blocker(t, "/reserve/b")
			b.saveWorkflow(fmt.Sprintf(`name: crash-foreach
on: { events: ["stock.requested"] }
steps:
  - id: each_sku
    foreach: { items: "event.data.skus", concurrency: 2, steps: [
      { id: hold, http: { method: POST, url: "%[1]s/reserve/{{ item }}" }, timeout: 30s },
      { id: held, set: { sku: "item" } } ] }
  - id: confirm
    http: { method: POST, url: "%[1]s/confirm" }
`, svc.URL))
			b.send("stock.requested", `{"skus": ["a", "b", "c"]}`)
			top := b.waitRun("crash-foreach", "waiting")
			b.succeededChildren(top, 2) // a, then c in its place
			require.Equal(t, 1, paths(svc)["/reserve/b"], "b in flight")
			b.restart(true)
			close(release)
			run := b.waitRun("crash-foreach", "succeeded")
			require.Equal(t, map[string]int{"/reserve/a": 1, "/reserve/b": 2, "/reserve/c": 1, "/confirm": 1}, paths(svc))
			out := stepLog(run)["each_sku"]["output"].(map[string]any)["outputs"]
			require.Equal(t, []any{map[string]any{"sku": "a"}, map[string]any{"sku": "b"}, map[string]any{"sku": "c"}}, out)
		})
	})
}
