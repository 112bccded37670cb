package app_test

import (
	"encoding/json"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/stretchr/testify/require"

	"github.com/hookline/hookline/client"
	"github.com/hookline/hookline/internal/api"
	"github.com/hookline/hookline/internal/event"
)

// notUTF8 is a JSON string literal's content that is not UTF-8: encoding/json
// decodes it to U+FFFD in a string and keeps it in a json.RawMessage.
const notUTF8 = "\xff\xfe"

// routePath fills a route pattern's wildcards with placeholder values.
func routePath(pattern string) (method, path string) {
	method, path, _ = strings.Cut(pattern, " ")
	var out []string
	for _, seg := range strings.Split(path, "/") {
		if strings.HasPrefix(seg, "{") {
			seg = "x"
		}
		out = append(out, seg)
	}
	return method, strings.Join(out, "/")
}

// TestEveryJSONRouteRefusesBadBodies sends each route of the API that takes
// a body every kind of body that is not one JSON object of UTF-8 text: all
// are 400 invalid_json, before anything is looked up or stored. A new route
// is checked as soon as it is added; one without a body must be listed.
func TestEveryJSONRouteRefusesBadBodies(t *testing.T) {
	t.Parallel()
	b := setup(t)

	// Routes that take no body, and those where it is optional (an empty
	// body is no body; anything else must be an object).
	noBody := map[string]bool{
		"POST /v1/events/{id}/replay":    true,
		"POST /v1/deliveries/{id}/retry": true,
		"POST /v1/runs/{id}/retry":       true,
		"POST /v1/runs/{id}/cancel":      true,
		"DELETE /v1/api-keys/{id}":       true,
		"DELETE /v1/endpoints/{id}":      true,
		"DELETE /v1/sources/{id}":        true,
		"DELETE /v1/subscriptions/{id}":  true,
		"DELETE /v1/collections/{name}":  true,
		"DELETE /v1/workflows/{name}":    true,
		"DELETE /v1/recipients/{id}":     true,
		"DELETE /v1/templates/{name}":    true,
		"DELETE /v1/notify-rules/{name}": true,
		"DELETE /v1/queues/{name}":       true,
	}
	optional := map[string]bool{
		"POST /v1/api-keys":                     true,
		"POST /v1/endpoints/{id}/rotate-secret": true,
		"POST /v1/templates/{name}/preview":     true,
		"POST /v1/portal/sessions":              true,
		"PUT /v1/queues/{name}":                 true,
		"POST /v1/queues/{name}/lease":          true,
		"POST /v1/workflows/{name}/runs":        true,
		"POST /v1/runs/{id}/approve":            true,
		"POST /v1/runs/{id}/reject":             true,
	}
	routes := api.Routes()
	for p := range noBody {
		require.Contains(t, routes, p, "noBody lists a route that is gone")
	}
	for p := range optional {
		require.Contains(t, routes, p, "optional lists a route that is gone")
	}

	bad := []struct {
		name, body, msg string
	}{
		{"null", `null`, "must be a JSON object, not null"},
		{"null padded", " \n null ", "must be a JSON object, not null"},
		{"array", `[]`, "must be a JSON object, not an array"},
		{"array of objects", `[{}]`, "must be a JSON object, not an array"},
		{"string", `"{}"`, "must be a JSON object, not a string"},
		{"number", `0`, "must be a JSON object, not a number"},
		{"boolean", `true`, "must be a JSON object, not a boolean"},
		{"two objects", `{} {}`, "single JSON object"},
		{"object then null", `{}null`, "single JSON object"},
		{"object then garbage", `{} x`, "single JSON object"},
		{"white space only", "  \n", "empty"},
		{"not UTF-8 in a value", `{"description":"` + notUTF8 + `"}`, "request body is not valid UTF-8 at byte 17"},
		{"not UTF-8 in a key", `{"` + notUTF8 + `":1}`, "request body is not valid UTF-8 at byte 3"},
		{"not UTF-8 after the object", `{}` + notUTF8, "request body is not valid UTF-8 at byte 3"},
		{"not UTF-8 in an array", `[1,"` + notUTF8 + `"]`, "request body is not valid UTF-8 at byte 5"},
	}
	checked := 0
	for _, pattern := range routes {
		method, path := routePath(pattern)
		if method == http.MethodGet || noBody[pattern] {
			continue
		}
		checked++
		t.Run(pattern, func(t *testing.T) {
			for _, tt := range bad {
				status, body := b.do(method, path, tt.body)
				apiRequire(t, http.StatusBadRequest, "invalid_json", status, body)
				_, msg, _ := apiErrorOf(t, body)
				require.Contains(t, msg, tt.msg, tt.name)
			}
			status, body := b.do(method, path, "", "Content-Type", "application/json")
			if optional[pattern] {
				require.NotEqual(t, http.StatusBadRequest, status, "an empty body is no body: %v", body)
				// curl -d '' sends a form type with its empty body.
				status, body = b.do(method, path, "", "Content-Type", "application/x-www-form-urlencoded")
				require.NotContains(t, []int{http.StatusBadRequest, http.StatusUnsupportedMediaType}, status, "%v", body)
			} else {
				apiRequire(t, http.StatusBadRequest, "invalid_json", status, body)
			}
		})
	}
	require.Greater(t, checked, 20, "routes with a body were found")
	status, raw := b.rawGet("/v1/endpoints")
	require.Equal(t, http.StatusOK, status)
	require.JSONEq(t, `{"data":[]}`, string(raw), "nothing was created")
}

// TestInvalidUTF8IsNeverStored sends invalid UTF-8 where each kind of
// resource keeps text: every request is refused, and the lists stay
// readable by a strict JSON client.
func TestInvalidUTF8IsNeverStored(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.send("order.created", `{"ok":"é"}`)

	tests := []struct {
		name, method, path, body string
		headers                  []string
		status                   int
		code, msg                string
	}{
		{"event data", "POST", "/v1/events", `{"type":"order.created","data":{"x":"` + notUTF8 + `"}}`, nil,
			400, "invalid_json", "request body is not valid UTF-8 at byte 38"},
		{"event data escaped key", "POST", "/v1/events", `{"type":"order.created","data":{"` + notUTF8 + `":1}}`, nil,
			400, "invalid_json", "not valid UTF-8"},
		{"event in a batch", "POST", "/v1/events/batch", `{"events":[{"type":"a.b","data":{}},{"type":"a.b","data":{"x":"` + notUTF8 + `"}}]}`, nil,
			400, "invalid_json", "not valid UTF-8"},
		{"idempotency key field", "POST", "/v1/events", `{"type":"a.b","data":{},"idempotency_key":"k` + notUTF8 + `"}`, nil,
			400, "invalid_json", "not valid UTF-8"},
		{"Idempotency-Key header", "POST", "/v1/events", `{"type":"a.b","data":{}}`, []string{"Idempotency-Key", "k" + notUTF8},
			400, "bad_request", "Idempotency-Key header is not valid UTF-8 at byte 2"},
		{"endpoint description", "POST", "/v1/endpoints", `{"url":"http://example.com/","description":"` + notUTF8 + `"}`, nil,
			400, "invalid_json", "not valid UTF-8"},
		{"recipient name", "PUT", "/v1/recipients/c1", `{"email":"a@example.com","name":"Ad` + notUTF8 + `"}`, nil,
			400, "invalid_json", "not valid UTF-8"},
		{"recipient id in the path", "PUT", "/v1/recipients/c%FF", `{"email":"a@example.com"}`, nil,
			400, "bad_request", "path /v1/recipients/c%FF is not valid UTF-8 at byte 17"},
		{"apply", "POST", "/v1/apply", `{"endpoints":[{"name":"e","url":"http://example.com/","description":"` + notUTF8 + `"}]}`, nil,
			400, "invalid_json", "not valid UTF-8"},
		{"event type schema", "POST", "/v1/event-types", `{"name":"a.b","description":"` + notUTF8 + `"}`, nil,
			400, "invalid_json", "not valid UTF-8"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			status, body := b.do(tt.method, tt.path, tt.body, tt.headers...)
			apiRequire(t, tt.status, tt.code, status, body)
			_, msg, _ := apiErrorOf(t, body)
			require.Contains(t, msg, tt.msg)
		})
	}

	for _, list := range []string{"/v1/events", "/v1/endpoints", "/v1/recipients", "/v1/event-types"} {
		status, raw := b.rawGet(list)
		require.Equal(t, http.StatusOK, status, list)
		require.True(t, utf8.Valid(raw), "%s is UTF-8, as JSON must be: %q", list, raw)
		require.True(t, json.Valid(raw), list)
	}
	evs, err := b.client.ListEvents(t.Context(), client.EventListOptions{})
	require.NoError(t, err)
	require.Len(t, evs.Data, 1, "only the good event is stored")
	require.JSONEq(t, `{"ok":"é"}`, string(evs.Data[0].Data))
	eps, err := b.client.ListEndpoints(t.Context(), client.ListOptions{})
	require.NoError(t, err)
	require.Empty(t, eps.Data)
}

// TestCursorsOnEveryList sends every list route of the API malformed
// cursors, cursors of another kind of list and bad limits: all are 400
// naming the parameter, where they used to give a wrong page.
func TestCursorsOnEveryList(t *testing.T) {
	t.Parallel()
	b := setup(t)
	ctx := t.Context()
	now := time.Now()

	// The nested lists answer 404 before reading the cursor without these.
	src := b.source(client.SourceCreate{Name: "shop", Verification: &client.Verification{Kind: "none"}})
	status, out := b.do("POST", "/v1/collections", customersSpec)
	require.Equal(t, http.StatusCreated, status, "%v", out)
	_, err := b.client.PutRecipient(ctx, client.Recipient{ID: "c1", Email: "c1@example.com"})
	require.NoError(t, err)

	// Every list and what a good cursor of it looks like; other GET
	// routes show one thing or stream, and those listed as unpaged return
	// every item.
	paged := map[string]string{
		"GET /v1/endpoints":                  event.NewID(event.PrefixEndpoint, now),
		"GET /v1/events":                     event.NewID(event.PrefixEvent, now),
		"GET /v1/deliveries":                 event.NewID(event.PrefixDelivery, now),
		"GET /v1/sources":                    event.NewID(event.PrefixSource, now),
		"GET /v1/sources/{id}/rejections":    event.NewID(event.PrefixReject, now),
		"GET /v1/subscriptions":              event.NewID(event.PrefixSub, now),
		"GET /v1/runs":                       "run_" + strings.TrimPrefix(event.NewID(event.PrefixDelivery, now), "dlv_"),
		"GET /v1/workflows/{name}/runs":      "run_" + strings.TrimPrefix(event.NewID(event.PrefixDelivery, now), "dlv_"),
		"GET /v1/messages":                   "msg_" + strings.TrimPrefix(event.NewID(event.PrefixDelivery, now), "dlv_") + "_email",
		"GET /v1/recipients":                 "c0",
		"GET /v1/collections/{name}/records": "customer 7",
	}
	unpaged := []string{"GET /v1/api-keys", "GET /v1/event-types", "GET /v1/collections", "GET /v1/workflows",
		"GET /v1/templates", "GET /v1/notify-rules", "GET /v1/queues"}
	notLists := []string{"GET /v1/cluster", "GET /v1/events/stream", "GET /v1/endpoints/{id}/secret",
		"GET /v1/recipients/{id}/token", "GET /v1/collections/{name}/changes"}
	pathOf := func(pattern string) string {
		_, p, _ := strings.Cut(pattern, " ")
		p = strings.Replace(p, "/sources/{id}/", "/sources/"+src.ID+"/", 1)
		p = strings.Replace(p, "/collections/{name}/", "/collections/customers/", 1)
		return strings.Replace(p, "{name}", "x", 1)
	}
	for _, pattern := range api.Routes() {
		if !strings.HasPrefix(pattern, "GET ") || strings.HasSuffix(pattern, "}") || strings.HasSuffix(pattern, "...}") {
			continue
		}
		if slices.Contains(unpaged, pattern) || slices.Contains(notLists, pattern) {
			continue
		}
		good, ok := paged[pattern]
		require.True(t, ok, "%s is a new list: add it to paged (and to listCursors) or unpaged", pattern)
		t.Run(pattern, func(t *testing.T) {
			path := pathOf(pattern)
			status, body := b.do("GET", path+"?limit=5&cursor="+url.QueryEscape(good), "")
			require.NotEqual(t, http.StatusBadRequest, status, "a cursor of the right kind: %v", body)
			require.NotEqual(t, http.StatusInternalServerError, status, "%v", body)

			var bads []string
			if strings.Contains(good, "_") && !strings.Contains(pattern, "records") && !strings.Contains(pattern, "recipients") {
				prefix, rest, _ := strings.Cut(good, "_")
				other := "ep"
				if prefix == "ep" {
					other = "evt"
				}
				bads = []string{
					"garbage", "1", prefix, prefix + "_", other + "_" + rest,
					strings.ToUpper(good), good[:len(good)-1], good + "0",
					prefix + "_" + strings.Repeat("z", 26), good + "\xff",
				}
			} else {
				bads = []string{"\xff", good + "\xfe", strings.Repeat("k", 1024)}
			}
			for _, bad := range bads {
				status, body := b.do("GET", path+"?cursor="+url.QueryEscape(bad), "")
				apiRequire(t, http.StatusBadRequest, "bad_request", status, body)
				_, msg, details := apiErrorOf(t, body)
				require.Contains(t, msg, "cursor", "cursor %q", bad)
				require.Equal(t, "cursor", details["parameter"], "cursor %q", bad)
			}
			for _, limit := range []string{"0", "-1", "abc", "1001", "1.5"} {
				status, body := b.do("GET", path+"?limit="+limit, "")
				apiRequire(t, http.StatusBadRequest, "bad_request", status, body)
				_, _, details := apiErrorOf(t, body)
				require.Equal(t, "limit", details["parameter"], "limit %q", limit)
			}
		})
	}

	// The changes feed's cursor is `after`, a sequence number.
	for _, q := range []string{"after=x", "after=-1", "after=evt_1", "limit=0"} {
		status, body := b.do("GET", "/v1/collections/customers/changes?"+q, "")
		apiRequire(t, http.StatusBadRequest, "bad_request", status, body)
		_, _, details := apiErrorOf(t, body)
		require.Equal(t, strings.Split(q, "=")[0], details["parameter"], q)
	}

	// A recipient's inbox pages by the ids of its inbox messages.
	status, out = b.do("GET", "/v1/recipients/c1/token", "")
	require.Equal(t, http.StatusOK, status, "%v", out)
	inbox := "/inbox?token=" + url.QueryEscape(out["token"].(string))
	inboxID := "msg_" + strings.TrimPrefix(event.NewID(event.PrefixDelivery, now), "dlv_") + "_inbox"
	status, raw := b.rawGet(inbox + "&cursor=" + inboxID)
	require.Equal(t, http.StatusOK, status, "%s", raw)
	for _, bad := range []string{"garbage", strings.TrimSuffix(inboxID, "_inbox") + "_email", strings.ToUpper(inboxID),
		event.NewID(event.PrefixEvent, now)} {
		status, raw := b.rawGet(inbox + "&cursor=" + url.QueryEscape(bad))
		require.Equal(t, http.StatusBadRequest, status, "cursor %q: %s", bad, raw)
		require.Contains(t, string(raw), `"code":"bad_request"`)
		require.Contains(t, string(raw), "cursor")
	}

	// A good cursor still pages.
	for i := range 3 {
		b.endpoint(client.EndpointCreate{URL: "http://example.com/" + string(rune('a'+i))})
	}
	first, err := b.client.ListEndpoints(ctx, client.ListOptions{Limit: 2})
	require.NoError(t, err)
	require.Len(t, first.Data, 2)
	require.NotEmpty(t, first.NextCursor)
	second, err := b.client.ListEndpoints(ctx, client.ListOptions{Limit: 2, Cursor: first.NextCursor})
	require.NoError(t, err)
	require.Len(t, second.Data, 1)
	require.NotContains(t, []string{first.Data[0].ID, first.Data[1].ID}, second.Data[0].ID)
}

// TestIngestRefusesInvalidUTF8 posts webhooks whose JSON body or kept
// headers are not UTF-8: each is 400 with a JSON error and stores nothing,
// while a binary body that is not UTF-8 is kept, encoded.
func TestIngestRefusesInvalidUTF8(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.source(client.SourceCreate{Name: "open", Verification: &client.Verification{Kind: "none"}})
	b.source(client.SourceCreate{Name: "hooks", Verification: &client.Verification{Kind: "none"},
		Dedup: &client.SourceDedup{Header: "X-Delivery"}, KeepHeaders: &[]string{"X-Tenant"}})

	jsonType := http.Header{"Content-Type": {"application/json"}}
	tests := []struct {
		name   string
		source string
		body   string
		header http.Header
		code   string
		msg    string
	}{
		{"JSON", "open", `{"x":"` + notUTF8 + `"}`, jsonType, "bad_body", "JSON is not valid UTF-8 at byte 7"},
		{"JSON without a type", "open", `{"x":["` + notUTF8 + `"]}`, nil, "bad_body", "JSON is not valid UTF-8 at byte 8"},
		{"structured CloudEvent", "open", `{"specversion":"1.0","id":"1","source":"s","type":"t","data":{"x":"` + notUTF8 + `"}}`,
			http.Header{"Content-Type": {"application/cloudevents+json"}}, "bad_body", "not valid UTF-8"},
		{"text", "open", "a" + notUTF8, http.Header{"Content-Type": {"text/plain"}}, "bad_body", "text is not valid UTF-8 at byte 2"},
		{"kept header", "hooks", `{}`, http.Header{"Content-Type": {"application/json"}, "X-Tenant": {"acme" + notUTF8}},
			"bad_header", "header X-Tenant is not valid UTF-8 at byte 5"},
		{"default kept header", "open", `{}`, http.Header{"Content-Type": {"application/json"}, "X-Github-Delivery": {notUTF8}},
			"bad_header", "header X-Github-Delivery is not valid UTF-8 at byte 1"},
		{"dedup header", "hooks", `{}`, http.Header{"Content-Type": {"application/json"}, "X-Delivery": {"d" + notUTF8}},
			"bad_header", "dedup id"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, out := b.post(tt.source, []byte(tt.body), tt.header)
			require.Equal(t, http.StatusBadRequest, code, out)
			var e struct {
				Error struct{ Code, Message string }
			}
			require.NoError(t, json.Unmarshal([]byte(out), &e), out)
			require.Equal(t, tt.code, e.Error.Code, out)
			require.Contains(t, e.Error.Message, tt.msg)
		})
	}
	require.Empty(t, b.sourceEvents("open"))
	require.Empty(t, b.sourceEvents("hooks"))

	// Bytes that are not text are encoded, so they are kept.
	code, out := b.post("open", []byte(notUTF8), http.Header{"Content-Type": {"application/octet-stream"}})
	require.Equal(t, http.StatusOK, code, out)
	evs := b.sourceEvents("open")
	require.Len(t, evs, 1)
	require.JSONEq(t, `{"body_base64":"//4="}`, string(evs[0].Data))
	status, raw := b.rawGet("/v1/events")
	require.Equal(t, http.StatusOK, status)
	require.True(t, utf8.Valid(raw), "%q", raw)
}
