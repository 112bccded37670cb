package ingest

import (
	"bytes"
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/hookline/hookline/internal/delivery/format"
)

func TestNormalize(t *testing.T) {
	t.Parallel()
	githubPayload := `{"action": "opened", "number": 1, "pull_request": {"title": "Fix <b> & co"}}`
	slackInteractive := `{"type":"block_actions","user":{"id":"U123"},"actions":[{"value":"approve"}]}`
	tests := []struct {
		name        string
		contentType string // "" sends no Content-Type at all
		body        string
		want        string
	}{
		{"json object compacted", "application/json", "{\n  \"a\": 1,\n  \"b\": [true, null]\n}\n", `{"a":1,"b":[true,null]}`},
		{"json keeps member order", "application/json", `{"z":1,"a":2}`, `{"z":1,"a":2}`},
		{"json charset", "application/json; charset=utf-8", `{"a": "é"}`, `{"a":"é"}`},
		{"json upper case type", "Application/JSON; Charset=UTF-8", `[1, 2]`, `[1,2]`},
		{"json malformed parameter", "application/json; charset", `{"a":1}`, `{"a":1}`},
		{"json suffix", "application/vnd.github+json", `{"zen": "Keep it logically awesome."}`, `{"zen":"Keep it logically awesome."}`},
		{"legacy text json", "text/json", `{"a": 1}`, `{"a":1}`},
		{"json string", "application/json", ` "hi" `, `"hi"`},
		{"json number keeps text", "application/json", `1e3`, `1e3`},
		{"json null", "application/json", `null`, `null`},
		{"json html not escaped", "application/json", `{"a": "<b>&</b>"}`, `{"a":"<b>&</b>"}`},
		{"json byte order mark", "application/json", "\ufeff{\"a\": 1}", `{"a":1}`},
		{"json nested to the limit", "application/json", strings.Repeat("[", format.MaxDepth) + strings.Repeat("]", format.MaxDepth), strings.Repeat("[", format.MaxDepth) + strings.Repeat("]", format.MaxDepth)},
		{"form", "application/x-www-form-urlencoded", "b=2&a=1&a=x+y", `{"a":["1","x y"],"b":"2"}`},
		{"form charset", "application/x-www-form-urlencoded; charset=UTF-8", "name=caf%C3%A9", `{"name":"café"}`},
		{
			"github form payload", "application/x-www-form-urlencoded",
			"payload=" + url.QueryEscape(githubPayload),
			`{"action":"opened","number":1,"pull_request":{"title":"Fix <b> & co"}}`,
		},
		{
			"slack interactive payload", "application/x-www-form-urlencoded",
			url.Values{"payload": {slackInteractive}}.Encode(),
			slackInteractive,
		},
		{
			"slack slash command", "application/x-www-form-urlencoded",
			"token=gIkuvaNzQIHg97ATvDxqgjtO&team_id=T0001&command=%2Fweather&text=94070&response_url=https%3A%2F%2Fhooks.slack.com%2Fcommands%2F1234",
			`{"command":"/weather","response_url":"https://hooks.slack.com/commands/1234","team_id":"T0001","text":"94070","token":"gIkuvaNzQIHg97ATvDxqgjtO"}`,
		},
		{"form payload not json", "application/x-www-form-urlencoded", "payload=hello", `{"payload":"hello"}`},
		{"form payload scalar json", "application/x-www-form-urlencoded", "payload=123", `{"payload":"123"}`},
		{"form payload malformed json", "application/x-www-form-urlencoded", "payload=%7B%22a%22", `{"payload":"{\"a\""}`},
		{"form payload given twice", "application/x-www-form-urlencoded", "payload=%7B%7D&payload=%7B%7D", `{"payload":["{}","{}"]}`},
		{"form payload beside other fields", "application/x-www-form-urlencoded", "payload=%7B%22a%22%3A1%7D&x=1", `{"payload":"{\"a\":1}","x":"1"}`},
		{"xml", "application/xml", `<order id="7"><item>a</item><item>b</item><total>12.5</total></order>`, `{"order":{"@id":"7","item":["a","b"],"total":"12.5"}}`},
		{"text xml charset", "text/xml; charset=utf-8", `<?xml version="1.0"?><ping>ok</ping>`, `{"ping":"ok"}`},
		{"xml suffix", "application/atom+xml", `<feed><title>t</title></feed>`, `{"feed":{"title":"t"}}`},
		{"text", "text/plain", "line 1\nline \"2\" <b>", `{"text":"line 1\nline \"2\" <b>"}`},
		{"text charset", "text/plain; charset=utf-8", "héllo", `{"text":"héllo"}`},
		{"text csv", "text/csv", "a,b\n1,2\n", `{"text":"a,b\n1,2\n"}`},
		{"binary", "application/octet-stream", "\x00\x01\xff", `{"body_base64":"AAH/"}`},
		{"binary image", "image/png", "\x89PNG", `{"body_base64":"iVBORw=="}`},
		{"binary even if utf8", "application/pdf", "%PDF-1.7", `{"body_base64":"JVBERi0xLjc="}`},
		{"empty json", "application/json", "", `{}`},
		{"empty xml", "application/xml", "", `{}`},
		{"empty untyped", "", "", `{}`},
		{"sniff json object", "", `{"a": [1, 2]}`, `{"a":[1,2]}`},
		{"sniff json scalar", "", `true`, `true`},
		{"sniff form", "", "a=1&b=x%20y&c=", `{"a":"1","b":"x y","c":""}`},
		{"sniff form brackets", "", "data[order]=12&tags[]=x", `{"data[order]":"12","tags[]":"x"}`},
		{"sniff form payload", "", "payload=" + url.QueryEscape(`{"a":1}`), `{"a":1}`},
		{"sniff text", "", "hello world", `{"text":"hello world"}`},
		{"sniff prose with equals", "", "a = b", `{"text":"a = b"}`},
		{"sniff key without value", "", "token", `{"text":"token"}`},
		{"sniff empty key", "", "=1", `{"text":"=1"}`},
		{"sniff bad escape", "", "a=%zz", `{"text":"a=%zz"}`},
		{"sniff xml is text", "", "<a>1</a>", `{"text":"<a>1</a>"}`},
		{"sniff binary", "", "\x00\xfe\xff", `{"body_base64":"AP7/"}`},
		{"unparsable type sniffed", "///", `{"a":1}`, `{"a":1}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := normalizeAs(tt.contentType, tt.body)
			if err != nil {
				t.Fatalf("Normalize: %v", err)
			}
			if string(got.Data) != tt.want {
				t.Errorf("Data = %s, want %s", got.Data, tt.want)
			}
			if got.CloudEvent != nil {
				t.Errorf("CloudEvent = %+v, want nil", got.CloudEvent)
			}
			checkNormalizedData(t, got.Data)
		})
	}
}

func TestNormalizeErrors(t *testing.T) {
	t.Parallel()
	deepXML := strings.Repeat("<a>", format.MaxDepth+1) + "x" + strings.Repeat("</a>", format.MaxDepth+1)
	tests := []struct {
		name        string
		contentType string
		body        string
		want        string // the whole message, or a prefix of it ending in "…"
	}{
		{"malformed json", "application/json", `{"a":}`, "bad webhook body: malformed JSON at byte 6: invalid character '}' looking for beginning of value"},
		{"truncated json", "application/json", `{"a":1`, "bad webhook body: malformed JSON at byte 6: unexpected end of JSON input"},
		{"two json values", "application/json", `{} {}`, "bad webhook body: malformed JSON at byte 4: invalid character '{' after top-level value"},
		{"blank json", "application/json", "  ", "bad webhook body: malformed JSON at byte 2: unexpected end of JSON input"},
		{"json not utf8", "application/json", "{\"a\":\"\xff\"}", "bad webhook body: JSON is not valid UTF-8 at byte 7"},
		{"sniffed json not utf8", "", "{\"a\":[\"\xfe\xff\"]}", "bad webhook body: JSON is not valid UTF-8 at byte 8"},
		{"vendor json not utf8", "application/vnd.api+json; charset=utf-8", "[\"\xc3\"]", "bad webhook body: JSON is not valid UTF-8 at byte 3"},
		{"cloudevent not utf8", "application/cloudevents+json", "{\"specversion\":\"1.0\",\"id\":\"1\",\"source\":\"s\",\"type\":\"t\",\"data\":{\"a\":\"\xff\"}}",
			"bad webhook body: CloudEvents envelope: JSON is not valid UTF-8 at byte 68"},
		{"json too deep", "application/json", strings.Repeat("[", format.MaxDepth+1) + strings.Repeat("]", format.MaxDepth+1), "bad webhook body: JSON nested deeper than 64 levels"},
		{"malformed xml", "application/xml", "<a><b></a>", "bad webhook body: malformed XML: …"},
		{"xml not one root", "text/xml", "<a/><b/>", "bad webhook body: malformed XML: content after the root element"},
		{"xml too deep", "application/xml", deepXML, "bad webhook body: XML nested deeper than 64 levels"},
		{"text not utf8", "text/plain", "ab\xffc", "bad webhook body: text is not valid UTF-8 at byte 3"},
		{"form bad escape", "application/x-www-form-urlencoded", "a=%zz", `bad webhook body: malformed form: invalid URL escape "%zz"`},
		{"form semicolon", "application/x-www-form-urlencoded", "a=1;b=2", "bad webhook body: malformed form: invalid semicolon separator in query"},
		{"sniffed json too deep", "", strings.Repeat("[", format.MaxDepth+1) + strings.Repeat("]", format.MaxDepth+1), "bad webhook body: JSON nested deeper than 64 levels"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := normalizeAs(tt.contentType, tt.body)
			checkBadBody(t, got, err, tt.want)
		})
	}
}

// normalizeAs normalises body sent with contentType (none when empty).
func normalizeAs(contentType, body string) (Normalized, error) {
	header := http.Header{}
	if contentType != "" {
		header.Set("Content-Type", contentType)
	}
	return Normalize(header, []byte(body))
}

// checkBadBody checks that Normalize failed with ErrBadBody and the message
// want, or a message starting with want's text before a trailing "…".
func checkBadBody(t *testing.T, got Normalized, err error, want string) {
	t.Helper()
	if !errors.Is(err, ErrBadBody) {
		t.Fatalf("err = %v, want ErrBadBody", err)
	}
	if errors.Is(err, ErrCloudEventsBatch) {
		t.Errorf("err = %v is ErrCloudEventsBatch too", err)
	}
	if prefix, ok := strings.CutSuffix(want, "…"); ok {
		if !strings.HasPrefix(err.Error(), prefix) {
			t.Errorf("err = %q, want prefix %q", err, prefix)
		}
	} else if err.Error() != want {
		t.Errorf("err = %q, want %q", err, want)
	}
	if got.Data != nil || got.CloudEvent != nil {
		t.Errorf("Normalize returned %+v with an error", got)
	}
}

// checkNormalizedData checks the promises Normalized.Data makes: valid,
// compact UTF-8 JSON nested no deeper than format.MaxDepth.
func checkNormalizedData(t *testing.T, data json.RawMessage) {
	t.Helper()
	if !json.Valid(data) || !utf8.Valid(data) {
		t.Fatalf("Data %q is not valid UTF-8 JSON", data)
	}
	var buf bytes.Buffer
	if err := json.Compact(&buf, data); err != nil || !bytes.Equal(buf.Bytes(), data) {
		t.Errorf("Data %s is not compact (compacted: %s, %v)", data, buf.Bytes(), err)
	}
	if d := format.Depth(data); d > format.MaxDepth {
		t.Errorf("Data nests %d levels, more than %d", d, format.MaxDepth)
	}
}

// TestNormalizeOwnsData checks that callers may change the Data they get
// without changing the input or later results.
func TestNormalizeOwnsData(t *testing.T) {
	t.Parallel()
	body := []byte(`{"a":1}`)
	header := http.Header{"Content-Type": {"application/json"}}
	got, err := Normalize(header, body)
	if err != nil {
		t.Fatal(err)
	}
	got.Data[1] = 'X'
	if string(body) != `{"a":1}` {
		t.Errorf("body changed to %s", body)
	}
	empty, err := Normalize(http.Header{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	empty.Data[0] = 'X'
	if again, _ := Normalize(http.Header{}, nil); string(again.Data) != `{}` {
		t.Errorf("empty body gives %s after a caller changed an earlier result", again.Data)
	}
}

func FuzzNormalize(f *testing.F) {
	seeds := []struct {
		contentType, ceTime, ceExt string
		body                       string
	}{
		{"application/json", "", "", `{"a":[1,2,{"b":null}]}`},
		{"application/json; charset=utf-8", "", "", "\ufeff[1e3, \"x\"]"},
		{"application/x-www-form-urlencoded", "", "", "a=1&a=2&b=%20"},
		{"application/x-www-form-urlencoded", "", "", "payload=%7B%22a%22%3A1%7D"},
		{"application/xml", "", "", `<a x="1"><b>2</b><b type="number">3</b></a>`},
		{"text/plain", "", "", "hello"},
		{"image/png", "", "", "\x89PNG\r\n"},
		{"", "", "", "a=b"},
		{"", "", "", "\xff\xfe"},
		{"application/cloudevents+json", "", "", `{"specversion":"1.0","id":"1","source":"/s","type":"t","data":{"a":1}}`},
		{"application/cloudevents+json", "", "", `{"specversion":"1.0","id":"1","source":"/s","type":"t","datacontenttype":"text/xml","data_base64":"PGEvPg=="}`},
		{"application/cloudevents-batch+json", "", "", `[]`},
		{"text/plain", "2025-01-02T03:04:05Z", "caf%C3%A9", "hi"},
		{"application/json", "yesterday", "%", "{}"},
		{"\xcb", "2025-01-02T03:04:05Z", "x", "0"},
	}
	for _, s := range seeds {
		f.Add(s.contentType, s.ceTime, s.ceExt, []byte(s.body))
	}
	f.Fuzz(func(t *testing.T, contentType, ceTime, ceExt string, body []byte) {
		header := http.Header{}
		if contentType != "" {
			header.Set("Content-Type", contentType)
		}
		if ceTime != "" || ceExt != "" {
			header.Set("Ce-Specversion", "1.0")
			header.Set("Ce-Id", "1")
			header.Set("Ce-Source", "/fuzz")
			header.Set("Ce-Type", "fuzz")
			header.Set("Ce-Time", ceTime)
			header.Set("Ce-Ext", ceExt)
		}
		got, err := Normalize(header, body)
		if err != nil {
			if errors.Is(err, ErrBadBody) == errors.Is(err, ErrCloudEventsBatch) {
				t.Fatalf("err = %v, want exactly one of ErrBadBody and ErrCloudEventsBatch", err)
			}
			return
		}
		checkNormalizedData(t, got.Data)
		if ce := got.CloudEvent; ce != nil {
			for _, s := range []string{ce.ID, ce.Source, ce.Type, ce.Subject, ce.SpecVersion, ce.DataContentType} {
				if !utf8.ValidString(s) {
					t.Errorf("CloudEvent attribute %q is not UTF-8", s)
				}
			}
			for k, v := range ce.Extensions {
				if !utf8.ValidString(k) || !utf8.ValidString(v) {
					t.Errorf("CloudEvent extension %q=%q is not UTF-8", k, v)
				}
			}
		}
	})
}
