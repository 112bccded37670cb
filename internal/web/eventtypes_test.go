package web_test

import (
	"context"
	"encoding/json"
	"net/http"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/hookline/hookline/client"
)

// orderSchema is an event type's schema with an example.
const orderSchema = `{"type": "object", "required": ["order_id"], "properties": {"order_id": {"type": "string"}, "total": {"type": "integer"}},
 "examples": [{"order_id": "ord_example", "total": 990}]}`

func TestEventTypePages(t *testing.T) {
	t.Parallel()
	b, c := setupSignedIn(t)
	ctx := context.Background()

	_, page := b.get(c, "/event-types")
	require.Contains(t, page, "No event types declared")

	_, err := b.api.CreateEventType(ctx, client.EventType{Name: "order.created", Description: "An order was placed.", Schema: json.RawMessage(orderSchema)})
	require.NoError(t, err)
	_, err = b.api.CreateEventType(ctx, client.EventType{Name: "free.form"})
	require.NoError(t, err)

	resp, page := b.get(c, "/event-types")
	require.Equal(t, http.StatusOK, resp.StatusCode)
	require.Contains(t, page, `href="/event-types/order.created"`)
	require.Contains(t, page, "An order was placed.")
	require.Contains(t, page, "any JSON", "free.form has no schema")

	resp, page = b.get(c, "/event-types/order.created")
	require.Equal(t, http.StatusOK, resp.StatusCode)
	require.Contains(t, page, `<span class="j-key">&#34;required&#34;</span>`, "the schema, highlighted")
	require.Contains(t, page, `<span class="j-str">&#34;ord_example&#34;</span>`, "the schema's example")
	require.NotContains(t, page, "The newest event")
	require.Contains(t, page, "No event of this type among the 500 newest.")
	require.NotRegexp(t, inline, page)

	ev := b.send("order.created", `{"order_id": "ord_real", "total": 5}`)
	_, page = b.get(c, "/event-types/order.created")
	require.Contains(t, page, `href="/events/`+ev+`"`, "the newest event, as an example")
	require.Contains(t, page, `<span class="j-str">&#34;ord_real&#34;</span>`)

	_, page = b.get(c, "/event-types/free.form")
	require.Contains(t, page, "No schema")
	require.Contains(t, page, "No event of this type among the 500 newest: add")

	resp, _ = b.get(c, "/event-types/no.such")
	require.Equal(t, http.StatusNotFound, resp.StatusCode)

	oc, _ := b.otherTenant()
	resp, _ = b.get(oc, "/event-types/order.created")
	require.Equal(t, http.StatusNotFound, resp.StatusCode)
}
