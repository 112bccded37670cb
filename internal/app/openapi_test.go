package app_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/hookline/hookline/docs"
	"github.com/hookline/hookline/internal/openapi/oapiclient"
)

// TestOpenAPIServedWithoutKey: GET /v1/openapi.json needs no API key and
// answers the document embedded in the binary.
func TestOpenAPIServedWithoutKey(t *testing.T) {
	t.Parallel()
	b := setup(t)
	resp, err := http.Get(b.url + "/v1/openapi.json")
	require.NoError(t, err)
	defer resp.Body.Close()
	got, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, resp.StatusCode, "%s", got)
	require.Equal(t, "application/json", resp.Header.Get("Content-Type"))
	require.Equal(t, string(docs.OpenAPI), string(got))
}

// TestGeneratedClient runs the client oapi-codegen generated from the
// document (internal/openapi/oapiclient) against a real server: create an
// endpoint, publish an event, list its deliveries until it arrived.
func TestGeneratedClient(t *testing.T) {
	t.Parallel()
	b := setup(t)
	got := make(chan string, 1)
	rcv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		select {
		case got <- string(body):
		default:
		}
		w.WriteHeader(http.StatusNoContent)
	}))
	t.Cleanup(rcv.Close)
	c, err := oapiclient.NewClientWithResponses(b.url, oapiclient.WithRequestEditorFn(func(_ context.Context, r *http.Request) error {
		r.Header.Set("Authorization", "Bearer "+b.key)
		return nil
	}))
	require.NoError(t, err)
	ctx := t.Context()

	ep, err := c.CreateEndpointWithResponse(ctx, oapiclient.EndpointCreate{Url: rcv.URL, EventTypes: &[]string{"order.*"}})
	require.NoError(t, err)
	require.Equal(t, http.StatusCreated, ep.StatusCode(), "%s", ep.Body)
	require.NotEmpty(t, ep.JSON201.Id)
	require.NotEmpty(t, ep.JSON201.Secret)

	key := "order-1"
	ev, err := c.PublishEventWithResponse(ctx, &oapiclient.PublishEventParams{IdempotencyKey: &key},
		oapiclient.EventCreate{Type: "order.created", Data: map[string]any{"id": "ord_1"}})
	require.NoError(t, err)
	require.Equal(t, http.StatusAccepted, ev.StatusCode(), "%s", ev.Body)
	require.Equal(t, int64(1), *ev.JSON202.Deliveries)
	var delivered struct {
		Type string         `json:"type"`
		Data map[string]any `json:"data"`
	}
	require.NoError(t, json.Unmarshal([]byte(<-got), &delivered))
	require.Equal(t, "order.created", delivered.Type)
	require.Equal(t, map[string]any{"id": "ord_1"}, delivered.Data)

	eventually(t, func() bool {
		ds, err := c.ListDeliveriesWithResponse(ctx, &oapiclient.ListDeliveriesParams{EndpointId: &ep.JSON201.Id})
		require.NoError(t, err)
		require.Equal(t, http.StatusOK, ds.StatusCode(), "%s", ds.Body)
		return len(ds.JSON200.Data) == 1 && ds.JSON200.Data[0].Status == "succeeded" && ds.JSON200.Data[0].EventId == ev.JSON202.Id
	}, "the delivery succeeds")

	// An error answer is the document's error body.
	missing, err := c.GetEndpointWithResponse(ctx, "ep_missing")
	require.NoError(t, err)
	require.Equal(t, http.StatusNotFound, missing.StatusCode())
	require.Equal(t, "not_found", missing.JSON404.Error.Code)
}
