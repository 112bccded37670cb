package api

import (
	"bytes"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/hookline/hookline/wire"
)

// TestDecodeBody: one object and nothing but white space after it; what
// is decoded does not share the reused body buffer.
func TestDecodeBody(t *testing.T) {
	t.Parallel()
	post := func(body string) *http.Request {
		r := httptest.NewRequest(http.MethodPost, "/v1/events", strings.NewReader(body))
		r.Header.Set("Content-Type", "application/json")
		return r
	}
	for _, tt := range []struct {
		name, body, msg string
	}{
		{name: "object", body: `{"type":"a.b","data":{"n":1}}`},
		{name: "white space after", body: "{\"type\":\"a.b\",\"data\":{}} \t\r\n"},
		{name: "second object", body: `{"type":"a.b","data":{}} {}`, msg: "there is more after it"},
		{name: "garbage after", body: `{"type":"a.b","data":{}}x`, msg: "there is more after it"},
		{name: "unknown field", body: `{"type":"a.b","data":{},"x":1}`, msg: `malformed JSON: json: unknown field "x"`},
		{name: "cut short", body: `{"type":"a.b","data":{`, msg: "malformed JSON: unexpected end of body"},
	} {
		var in wire.EventCreate
		err := decode(post(tt.body), &in)
		if tt.msg == "" {
			require.NoError(t, err, tt.name)
			continue
		}
		var ae *apiError
		require.ErrorAs(t, err, &ae, tt.name)
		require.Equal(t, http.StatusBadRequest, ae.status, tt.name)
		require.Contains(t, ae.message, tt.msg, tt.name)
	}

	var first wire.EventCreate
	require.NoError(t, decode(post(`{"type":"a.b","data":{"n":"first"}}`), &first))
	for range 10 {
		var next wire.EventCreate
		require.NoError(t, decode(post(`{"type":"c.d","data":{"n":"later"}}`), &next))
	}
	require.Equal(t, "a.b", first.Type)
	require.JSONEq(t, `{"n":"first"}`, string(first.Data))

	// The body limit holds while the body is read into the buffer.
	w := httptest.NewRecorder()
	r := post(`{"type":"a.b","data":{"note":"` + strings.Repeat("x", 100) + `"}}`)
	r.Body = http.MaxBytesReader(w, r.Body, 64)
	var mbe *http.MaxBytesError
	require.True(t, errors.As(decode(r, &first), &mbe))
	require.EqualValues(t, 64, mbe.Limit)
}

// TestCompactJSON: compactJSON answers as json.Compact does, and keeps
// data that is compact already.
func TestCompactJSON(t *testing.T) {
	t.Parallel()
	for _, in := range []string{
		`{"a":1}`,
		`{"a": 1}`,
		"{\"a\":\n1}",
		`{"a":"with space and \" quote"}`,
		`{"a":"\\"}`,
		`{"a":"\\" , "b":2}`,
		`{"a":[1, 2]}`,
		`{"a":1`,
		`{"a":"tab	inside"}`,
	} {
		checkCompact(t, []byte(in))
	}
	kept := []byte(`{"a":"b c","d":[1,2]}`)
	got, err := compactJSON(kept, true)
	require.NoError(t, err)
	require.Same(t, &kept[0], &got[0], "compact data is kept as it is")
}

func FuzzCompactJSON(f *testing.F) {
	for _, s := range []string{`{"a":1}`, `{"a": "b\" c"}`, `[1, {"x":"\\"}]`, `{"a":"\u00e9"}`, `{`} {
		f.Add([]byte(s))
	}
	f.Fuzz(checkCompact)
}

func checkCompact(t *testing.T, in []byte) {
	var want bytes.Buffer
	wantErr := json.Compact(&want, in)
	got, err := compactJSON(in, false)
	if wantErr != nil {
		require.EqualError(t, err, wantErr.Error(), "%q", in)
		return
	}
	require.NoError(t, err, "%q", in)
	require.Equal(t, want.String(), string(got), "%q", in)
	// Valid JSON, as the decoder hands it over, is taken at its word.
	got, err = compactJSON(in, true)
	require.NoError(t, err, "%q", in)
	require.Equal(t, want.String(), string(got), "%q", in)
}

// BenchmarkCompactJSON: event data of 1 KiB as a client's json.Marshal
// writes it, checked (PrepareEvent) or taken as decoded (POST /v1/events).
func BenchmarkCompactJSON(b *testing.B) {
	data := []byte(`{"id":"ord_1","amount":4200,"note":"` + strings.Repeat("x", 900) + `","items":[{"sku":"a b","n":1}]}`)
	for _, valid := range []bool{false, true} {
		b.Run(map[bool]string{false: "checked", true: "decoded"}[valid], func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := compactJSON(data, valid); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
