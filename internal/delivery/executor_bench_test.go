package delivery_test

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/hookline/hookline/internal/delivery"
	"github.com/hookline/hookline/internal/event"
	"github.com/hookline/hookline/internal/netguard"
	"github.com/hookline/hookline/internal/signature"
	"github.com/hookline/hookline/internal/store"
	"github.com/hookline/hookline/internal/store/sqlite/sqlitetest"
	"github.com/hookline/hookline/internal/telemetry"
)

// benchData is a realistic event of about 1 KiB: an order with a
// customer, an address and a few lines.
var benchData = json.RawMessage(`{"id":"ord_01J8ZK3Q4W5E6R7T8Y9U0I1O2P","status":"paid","currency":"EUR",` +
	`"total":"1249.90","subtotal":"1049.92","tax":"199.98","shipping":"0.00",` +
	`"customer":{"id":"cus_01J8ZK3Q4W5E6R7T8Y9U0I1O2Q","email":"ada.lovelace@example.com","name":"Ada Lovelace","phone":"+44 20 7946 0958"},` +
	`"shipping_address":{"line1":"12 Analytical Engine Street","line2":"Flat 3","city":"London","postal_code":"EC1A 1BB","country":"GB"},` +
	`"lines":[{"sku":"BK-1843-NOTES","name":"Notes on the Analytical Engine","quantity":2,"unit_price":"49.99","tags":["book","history"]},` +
	`{"sku":"PC-DIFF-ENG-2","name":"Difference Engine No. 2, scale model","quantity":1,"unit_price":"899.95","tags":["model","brass"]},` +
	`{"sku":"GF-WRAP","name":"Gift wrapping","quantity":1,"unit_price":"0.00","tags":[]}],` +
	`"payment":{"method":"card","brand":"visa","last4":"4242","captured_at":"2026-12-07T21:30:00.000Z"},` +
	`"metadata":{"channel":"web","campaign":"winter-sale","ab_bucket":"b","referrer":"https://example.com/blog/engines"},` +
	`"notes":"Leave at the door if nobody answers; the parcel fits through the letterbox only when unwrapped.",` +
	`"created_at":"2026-12-07T21:29:58.123Z","updated_at":"2026-12-07T21:30:00.456Z"}`)

// BenchmarkDeliver is one delivery attempt as the engine runs it: the
// real executor POSTs a 1 KiB event, signed with the endpoint's secret,
// to a loopback receiver over a kept-alive connection and builds the
// attempt record.
func BenchmarkDeliver(b *testing.B) {
	const tenant = "ten_bench"
	st := sqlitetest.Open(b, store.Tenant{ID: tenant, Name: "bench", CreatedAt: time.Now()})
	rcv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		w.WriteHeader(http.StatusNoContent)
	}))
	b.Cleanup(rcv.Close)
	secret, err := signature.GenerateSecret()
	require.NoError(b, err)
	now := time.Now()
	ep := store.Endpoint{ID: "ep_bench", TenantID: tenant, URL: rcv.URL + "/hooks", Enabled: true,
		Secrets: []store.Secret{{Key: secret}}, CreatedAt: now, UpdatedAt: now}
	require.NoError(b, st.CreateEndpoint(b.Context(), ep))
	client := telemetry.Off.Client(netguard.NewClient(netguard.Policy{AllowPrivate: true}))
	b.Cleanup(client.CloseIdleConnections)
	x := delivery.NewExecutor(delivery.ExecutorConfig{Store: st, Client: client})
	ev := event.Event{ID: event.NewID(event.PrefixEvent, now), TenantID: tenant, Type: "order.paid",
		Source: "api", Data: benchData, OccurredAt: now, CreatedAt: now}
	task := store.Task{ID: "tsk_bench", TenantID: tenant, EventID: ev.ID, EventType: ev.Type, Kind: delivery.Kind,
		DestinationID: ep.ID, Event: &ev}

	out := x.Execute(b.Context(), &task)
	require.NoError(b, out.Err)
	require.Equal(b, "success", out.Attempt.Outcome)
	require.Equal(b, http.StatusNoContent, out.Attempt.ResponseStatus)
	require.True(b, strings.HasPrefix(out.Attempt.RequestBody, `{"type":"order.paid","timestamp":"`))

	b.ReportAllocs()
	for b.Loop() {
		if out := x.Execute(b.Context(), &task); out.Err != nil {
			b.Fatal(out.Err)
		}
	}
}
