package ingest

import (
	"context"
	"encoding/base64"
	"encoding/xml"
	"errors"
	"io"
	"maps"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	cloudevents "github.com/cloudevents/sdk-go/v2"
	cehttp "github.com/cloudevents/sdk-go/v2/protocol/http"
)

// capturedRequest is what an httptest receiver saw of one request.
type capturedRequest struct {
	header http.Header
	body   []byte
}

// cloudEventsBundle sends CloudEvents with the SDK's HTTP client to a
// receiver that hands back each request it gets.
type cloudEventsBundle struct {
	client   cloudevents.Client
	requests chan capturedRequest
}

func setupCloudEvents(t *testing.T) *cloudEventsBundle {
	t.Helper()
	b := &cloudEventsBundle{requests: make(chan capturedRequest, 1)}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(r.Body)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		b.requests <- capturedRequest{header: r.Header.Clone(), body: body}
		w.WriteHeader(http.StatusAccepted)
	}))
	t.Cleanup(srv.Close)
	client, err := cloudevents.NewClientHTTP(cloudevents.WithTarget(srv.URL))
	if err != nil {
		t.Fatalf("new CloudEvents client: %v", err)
	}
	b.client = client
	return b
}

// send sends e, in structured mode when structured is set, and returns the
// request as the receiver saw it.
func (b *cloudEventsBundle) send(t *testing.T, e cloudevents.Event, structured bool) capturedRequest {
	t.Helper()
	ctx := t.Context()
	if structured {
		ctx = cloudevents.WithEncodingStructured(ctx)
	} else {
		ctx = cloudevents.WithEncodingBinary(ctx)
	}
	if result := b.client.Send(ctx, e); !cloudevents.IsACK(result) {
		t.Fatalf("send CloudEvent: %v", result)
	}
	// The receiver answered before Send returned, so the request is queued.
	select {
	case req := <-b.requests:
		return req
	default:
		t.Fatal("receiver got no request")
		return capturedRequest{}
	}
}

type ceOrder struct {
	XMLName xml.Name `xml:"order"`
	ID      string   `xml:"id"`
}

func TestNormalizeCloudEventsSDK(t *testing.T) {
	t.Parallel()
	when := time.Date(2025, 3, 4, 5, 6, 7, 123456789, time.UTC)
	tests := []struct {
		name            string
		contentType     string
		data            any
		wantData        string
		wantContentType string
	}{
		{"json", "application/json", map[string]any{"order": map[string]any{"id": "ord_1", "total": 4200}}, `{"order":{"id":"ord_1","total":4200}}`, "application/json"},
		{"json charset", "application/json; charset=utf-8", []int{1, 2}, `[1,2]`, "application/json; charset=utf-8"},
		{"vendor json", "application/vnd.acme+json", map[string]bool{"ok": true}, `{"ok":true}`, "application/vnd.acme+json"},
		{"text", "text/plain", "hello <world>", `{"text":"hello <world>"}`, "text/plain"},
		{"xml", "application/xml", ceOrder{ID: "42"}, `{"order":{"id":"42"}}`, "application/xml"},
		{"form bytes", "application/x-www-form-urlencoded", []byte("b=2&a=1"), `{"a":"1","b":"2"}`, "application/x-www-form-urlencoded"},
		{"binary bytes", "application/octet-stream", []byte{0, 1, 0xff}, `{"body_base64":"AAH/"}`, "application/octet-stream"},
		{"json bytes", "application/json", []byte(`{"raw": true}`), `{"raw":true}`, "application/json"},
		{"no data", "", nil, `{}`, ""},
	}
	for _, tt := range tests {
		for _, structured := range []bool{false, true} {
			mode := "binary"
			if structured {
				mode = "structured"
			}
			t.Run(tt.name+"/"+mode, func(t *testing.T) {
				t.Parallel()
				b := setupCloudEvents(t)
				e := cloudevents.NewEvent()
				e.SetID("evt-1")
				e.SetSource("https://shop.example/orders")
				e.SetType("com.example.order.created")
				e.SetSubject("orders/42 café 50%")
				e.SetTime(when)
				e.SetExtension("tenant", "acme")
				e.SetExtension("priority", 5)
				e.SetExtension("urgent", true)
				if tt.data != nil {
					if err := e.SetData(tt.contentType, tt.data); err != nil {
						t.Fatalf("SetData: %v", err)
					}
				}
				req := b.send(t, e, structured)
				if _, ok := req.header["Ce-Specversion"]; ok == structured {
					t.Fatalf("request is not in %s mode: header %v", mode, req.header)
				}

				got, err := Normalize(req.header, req.body)
				if err != nil {
					t.Fatalf("Normalize: %v\nheader: %v\nbody: %s", err, req.header, req.body)
				}
				if string(got.Data) != tt.wantData {
					t.Errorf("Data = %s, want %s (body %s)", got.Data, tt.wantData, req.body)
				}
				checkNormalizedData(t, got.Data)
				ce := got.CloudEvent
				if ce == nil {
					t.Fatal("CloudEvent = nil")
				}
				want := CloudEvent{
					ID:              "evt-1",
					Source:          "https://shop.example/orders",
					Type:            "com.example.order.created",
					Subject:         "orders/42 café 50%",
					SpecVersion:     "1.0",
					DataContentType: tt.wantContentType,
					Extensions:      map[string]string{"tenant": "acme", "priority": "5", "urgent": "true"},
				}
				if !ce.Time.Equal(when) {
					t.Errorf("Time = %v, want %v", ce.Time, when)
				}
				gotNoTime := *ce
				gotNoTime.Time = time.Time{}
				if !equalCloudEvents(gotNoTime, want) {
					t.Errorf("CloudEvent = %+v\nwant %+v", gotNoTime, want)
				}
			})
		}
	}
}

func equalCloudEvents(a, b CloudEvent) bool {
	return a.ID == b.ID && a.Source == b.Source && a.Type == b.Type && a.Subject == b.Subject &&
		a.SpecVersion == b.SpecVersion && a.DataContentType == b.DataContentType &&
		a.Time.Equal(b.Time) && maps.Equal(a.Extensions, b.Extensions)
}

func TestNormalizeCloudEventsBatch(t *testing.T) {
	t.Parallel()
	events := make([]cloudevents.Event, 2)
	for i := range events {
		events[i] = cloudevents.NewEvent()
		events[i].SetID(string(rune('a' + i)))
		events[i].SetSource("/batch")
		events[i].SetType("com.example.batched")
	}
	req, err := cehttp.NewHTTPRequestFromEvents(context.Background(), "http://receiver.invalid/", events)
	if err != nil {
		t.Fatalf("build batch request: %v", err)
	}
	body, err := io.ReadAll(req.Body)
	if err != nil {
		t.Fatal(err)
	}
	got, err := Normalize(req.Header, body)
	if !errors.Is(err, ErrCloudEventsBatch) {
		t.Fatalf("err = %v, want ErrCloudEventsBatch", err)
	}
	if errors.Is(err, ErrBadBody) {
		t.Errorf("err = %v is ErrBadBody too; callers answer 415, not 400", err)
	}
	if !strings.Contains(err.Error(), "one event per request") {
		t.Errorf("err = %q does not tell the sender what to do", err)
	}
	if got.Data != nil || got.CloudEvent != nil {
		t.Errorf("Normalize returned %+v with an error", got)
	}
}

func TestNormalizeCloudEvents(t *testing.T) {
	t.Parallel()
	when := time.Date(2025, 1, 2, 3, 4, 5, 0, time.FixedZone("", 3600))
	binary := func(extra ...string) http.Header {
		h := http.Header{
			"Ce-Specversion": {"1.0"},
			"Ce-Id":          {"1"},
			"Ce-Source":      {"/s"},
			"Ce-Type":        {"t"},
		}
		for i := 0; i+1 < len(extra); i += 2 {
			h[http.CanonicalHeaderKey(extra[i])] = []string{extra[i+1]}
		}
		return h
	}
	structured := http.Header{"Content-Type": {"application/cloudevents+json; charset=utf-8"}}
	base := CloudEvent{ID: "1", Source: "/s", Type: "t", SpecVersion: "1.0"}
	with := func(change func(*CloudEvent)) CloudEvent {
		ce := base
		change(&ce)
		return ce
	}
	tests := []struct {
		name     string
		header   http.Header
		body     string
		wantData string
		want     CloudEvent
	}{
		{"binary minimal", binary(), "", `{}`, base},
		{"binary lower-case keys", http.Header{"ce-specversion": {"1.0"}, "ce-id": {"1"}, "ce-source": {"/s"}, "ce-type": {"t"}}, "", `{}`, base},
		{"binary json body", binary("Content-Type", "application/json"), `{"a": 1}`, `{"a":1}`, with(func(ce *CloudEvent) { ce.DataContentType = "application/json" })},
		{"binary sniffed body", binary(), `{"a": 1}`, `{"a":1}`, base},
		{"binary time", binary("Ce-Time", "2025-01-02T03:04:05+01:00"), "", `{}`, with(func(ce *CloudEvent) { ce.Time = when })},
		{"binary percent-encoded", binary("Ce-Subject", "caf%C3%A9%20%25", "Ce-Note", "100%"), "", `{}`, with(func(ce *CloudEvent) {
			ce.Subject = "café %"
			ce.Extensions = map[string]string{"note": "100%"}
		})},
		{"binary percent-encoding not utf8 kept", binary("Ce-Subject", "%FF%FE"), "", `{}`, with(func(ce *CloudEvent) { ce.Subject = "%FF%FE" })},
		{"binary raw bytes not utf8", binary("Ce-Subject", "a\xffb"), "", `{}`, with(func(ce *CloudEvent) { ce.Subject = "a\ufffdb" })},
		{"binary dataschema is an extension", binary("Ce-Dataschema", "https://schema.example/v1"), "", `{}`, with(func(ce *CloudEvent) {
			ce.Extensions = map[string]string{"dataschema": "https://schema.example/v1"}
		})},
		{"binary first value counts", http.Header{"Ce-Specversion": {"1.0"}, "Ce-Id": {"1", "2"}, "Ce-Source": {"/s"}, "Ce-Type": {"t"}}, "", `{}`, base},
		{
			"structured", structured,
			`{"specversion":"1.0","id":"1","source":"/s","type":"t","subject":"sub","time":"2025-01-02T03:04:05+01:00","datacontenttype":"application/json","data":{"a": [1, 2]}}`,
			`{"a":[1,2]}`,
			with(func(ce *CloudEvent) { ce.Subject, ce.Time, ce.DataContentType = "sub", when, "application/json" }),
		},
		{"structured ignores ce headers", http.Header{"Content-Type": {"application/cloudevents+json"}, "Ce-Id": {"header"}}, `{"specversion":"1.0","id":"1","source":"/s","type":"t"}`, `{}`, base},
		{"structured data without type is json", structured, `{"specversion":"1.0","id":"1","source":"/s","type":"t","data":"<a/>"}`, `"<a/>"`, base},
		{
			"structured json string data stays a string", structured,
			`{"specversion":"1.0","id":"1","source":"/s","type":"t","datacontenttype":"application/json","data":"{\"a\":1}"}`,
			`"{\"a\":1}"`, with(func(ce *CloudEvent) { ce.DataContentType = "application/json" }),
		},
		{
			"structured vendor json as a string", structured,
			`{"specversion":"1.0","id":"1","source":"/s","type":"t","datacontenttype":"application/vnd.x+json","data":" {\"a\": 1}"}`,
			`{"a":1}`, with(func(ce *CloudEvent) { ce.DataContentType = "application/vnd.x+json" }),
		},
		{
			"structured vendor json plain string", structured,
			`{"specversion":"1.0","id":"1","source":"/s","type":"t","datacontenttype":"application/vnd.x+json","data":"{not json"}`,
			`"{not json"`, with(func(ce *CloudEvent) { ce.DataContentType = "application/vnd.x+json" }),
		},
		{"structured scalar data", structured, `{"specversion":"1.0","id":"1","source":"/s","type":"t","data":4200}`, `4200`, base},
		{"structured null data", structured, `{"specversion":"1.0","id":"1","source":"/s","type":"t","data":null,"subject":null}`, `{}`, base},
		{
			"structured xml string data", structured,
			`{"specversion":"1.0","id":"1","source":"/s","type":"t","datacontenttype":"text/xml","data":"<a>1</a>"}`,
			`{"a":"1"}`, with(func(ce *CloudEvent) { ce.DataContentType = "text/xml" }),
		},
		{
			"structured data_base64 json", structured,
			`{"specversion":"1.0","id":"1","source":"/s","type":"t","datacontenttype":"application/json","data_base64":"` + base64.StdEncoding.EncodeToString([]byte(`{"b": true}`)) + `"}`,
			`{"b":true}`, with(func(ce *CloudEvent) { ce.DataContentType = "application/json" }),
		},
		{
			"structured data_base64 unpadded", structured,
			`{"specversion":"1.0","id":"1","source":"/s","type":"t","datacontenttype":"text/plain","data_base64":"aGk"}`,
			`{"text":"hi"}`, with(func(ce *CloudEvent) { ce.DataContentType = "text/plain" }),
		},
		{
			"structured data_base64 sniffed", structured,
			`{"specversion":"1.0","id":"1","source":"/s","type":"t","data_base64":"` + base64.StdEncoding.EncodeToString([]byte("x=1")) + `"}`,
			`{"x":"1"}`, base,
		},
		{
			"structured extensions", structured,
			`{"specversion":"1.0","id":"1","source":"/s","type":"t","n":1.50,"b":false,"s":"x","o":{"k": [1]},"gone":null}`,
			`{}`, with(func(ce *CloudEvent) {
				ce.Extensions = map[string]string{"n": "1.50", "b": "false", "s": "x", "o": `{"k":[1]}`}
			}),
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := Normalize(tt.header, []byte(tt.body))
			if err != nil {
				t.Fatalf("Normalize: %v", err)
			}
			if string(got.Data) != tt.wantData {
				t.Errorf("Data = %s, want %s", got.Data, tt.wantData)
			}
			checkNormalizedData(t, got.Data)
			if got.CloudEvent == nil {
				t.Fatal("CloudEvent = nil")
			}
			if !equalCloudEvents(*got.CloudEvent, tt.want) {
				t.Errorf("CloudEvent = %+v\nwant %+v", *got.CloudEvent, tt.want)
			}
		})
	}
}

func TestNormalizeCloudEventsErrors(t *testing.T) {
	t.Parallel()
	structured := http.Header{"Content-Type": {"application/cloudevents+json"}}
	binary := func(drop string, extra ...string) http.Header {
		h := http.Header{
			"Ce-Specversion": {"1.0"},
			"Ce-Id":          {"1"},
			"Ce-Source":      {"/s"},
			"Ce-Type":        {"t"},
		}
		delete(h, drop)
		for i := 0; i+1 < len(extra); i += 2 {
			h.Set(extra[i], extra[i+1])
		}
		return h
	}
	const attrs = `"specversion":"1.0","id":"1","source":"/s","type":"t"`
	tests := []struct {
		name   string
		header http.Header
		body   string
		want   string
	}{
		{"binary without id", binary("Ce-Id"), "", "bad webhook body: CloudEvent without id"},
		{"binary without source", binary("Ce-Source"), "", "bad webhook body: CloudEvent without source"},
		{"binary without type", binary("Ce-Type"), "", "bad webhook body: CloudEvent without type"},
		{"binary old specversion", binary("", "Ce-Specversion", "0.3"), "", `bad webhook body: CloudEvents specversion "0.3" is not supported: want 1.0`},
		{"binary bad time", binary("", "Ce-Time", "yesterday"), "", `bad webhook body: CloudEvent time "yesterday" is not an RFC 3339 timestamp`},
		{"binary bad body", binary("", "Content-Type", "application/json"), "{", "bad webhook body: malformed JSON at byte 1: unexpected end of JSON input"},
		{"structured empty", structured, "", "bad webhook body: empty CloudEvents envelope"},
		{"structured malformed", structured, `{"id":`, "bad webhook body: CloudEvents envelope: malformed JSON at byte 6: unexpected end of JSON input"},
		{"structured not an object", structured, `[{` + attrs + `}]`, "bad webhook body: CloudEvents envelope is not a JSON object"},
		{"structured without type", structured, `{"specversion":"1.0","id":"1","source":"/s"}`, "bad webhook body: CloudEvent without type"},
		{"structured without specversion", structured, `{"id":"1","source":"/s","type":"t"}`, `bad webhook body: CloudEvents specversion "" is not supported: want 1.0`},
		{"structured id not a string", structured, `{"specversion":"1.0","id":1,"source":"/s","type":"t"}`, `bad webhook body: CloudEvent attribute "id" is not a string`},
		{"structured content type not a string", structured, `{` + attrs + `,"datacontenttype":7}`, `bad webhook body: CloudEvent attribute "datacontenttype" is not a string`},
		{"structured bad time", structured, `{` + attrs + `,"time":"2025-13-01T00:00:00Z"}`, `bad webhook body: CloudEvent time "2025-13-01T00:00:00Z" is not an RFC 3339 timestamp`},
		{"structured both data members", structured, `{` + attrs + `,"data":{},"data_base64":"e30="}`, "bad webhook body: CloudEvent has both data and data_base64"},
		{"structured data_base64 not a string", structured, `{` + attrs + `,"data_base64":12}`, "bad webhook body: CloudEvent data_base64 is not a string"},
		{"structured data_base64 not base64", structured, `{` + attrs + `,"data_base64":"***"}`, "bad webhook body: CloudEvent data_base64 is not base64: …"},
		{"structured data_base64 bad json", structured, `{` + attrs + `,"datacontenttype":"application/json","data_base64":"eyJh"}`, "bad webhook body: CloudEvent data_base64: malformed JSON at byte 3: unexpected end of JSON input"},
		{"structured xml data malformed", structured, `{` + attrs + `,"datacontenttype":"application/xml","data":"<a>"}`, "bad webhook body: CloudEvent data: malformed XML: …"},
		{"structured too deep", structured, `{` + attrs + `,"data":` + strings.Repeat("[", 64) + strings.Repeat("]", 64) + `}`, "bad webhook body: CloudEvents envelope: JSON nested deeper than 64 levels"},
		{"unsupported event format", http.Header{"Content-Type": {"application/cloudevents+avro"}}, "\x00", `bad webhook body: CloudEvents format "application/cloudevents+avro" is not supported: send application/cloudevents+json or binary mode`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := Normalize(tt.header, []byte(tt.body))
			checkBadBody(t, got, err, tt.want)
		})
	}
}

func TestNormalizeCloudEventsBatchContentTypes(t *testing.T) {
	t.Parallel()
	for _, contentType := range []string{
		"application/cloudevents-batch+json",
		"application/cloudevents-batch+json; charset=utf-8",
		"Application/CloudEvents-Batch+JSON",
	} {
		t.Run(contentType, func(t *testing.T) {
			t.Parallel()
			_, err := Normalize(http.Header{"Content-Type": {contentType}}, []byte(`[]`))
			if !errors.Is(err, ErrCloudEventsBatch) {
				t.Errorf("err = %v, want ErrCloudEventsBatch", err)
			}
		})
	}
}
