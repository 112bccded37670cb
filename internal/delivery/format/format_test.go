package format

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"strconv"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/hookline/hookline/internal/testkit"
	"github.com/stretchr/testify/require"
)

var testTime = time.Date(2024, 3, 9, 16, 5, 7, 123_456_789, time.FixedZone("CET", 3600))

// roundTripData are JSON documents every format must carry unchanged.
var roundTripData = []string{
	`{"id":"ord_1","total":12.50,"paid":true,"note":null,"tags":["a","b"]}`,
	`{}`,
	`[]`,
	`"just a string"`,
	`""`,
	`0`,
	`-1.5e+10`,
	`1E400`,
	`123456789012345678901234567890`,
	`true`,
	`null`,
	`[[],[[]],{},[{}],[1,[2,[3]]]]`,
	`{"1abc":1,"a b":2,"":3,"entry":4,"item":5,"xmlns":6,"XMLfoo":7,"ns:x":8,"é":9,"-x":10,".x":11,"a-b.c_d":12}`,
	`{"dup":1,"dup":2,"z":0,"a":0}`,
	`{"s":"unicode: héllo, 世界, 🎉, \u2028"}`,
	`{"s":"<tag attr=\"x\">&amp;</tag> ]]> ' \" \\"}`,
	`{"s":"  leading and trailing  ","t":"\t\n\r\n\r"}`,
	`{"ctl":"\u0000\u0001\u001f\ufffe\uffff","\u0007key":"\u0007","k\ufffe":[]}`,
	`{"a":{"b":{"c":{"d":[{"e":"deep"}]}}}}`,
	`[null,true,false,0,"",[],{}]`,
}

func TestRoundTrip(t *testing.T) {
	t.Parallel()
	for _, format := range []string{JSON, Form, XML} {
		for _, data := range roundTripData {
			t.Run(format+"/"+data, func(t *testing.T) {
				t.Parallel()
				in := Payload{Type: "order.created", Timestamp: testTime, Data: json.RawMessage(data)}
				body, contentType, err := Encode(format, in)
				require.NoError(t, err)
				got, err := Decode(contentType, body)
				require.NoError(t, err, "body: %s", body)
				require.Equal(t, "order.created", got.Type)
				require.Equal(t, testTime.Truncate(time.Millisecond).UTC(), got.Timestamp)
				require.Equal(t, jsonTokens(t, []byte(data)), jsonTokens(t, got.Data), "body: %s", body)
				if format != XML {
					// JSON and form keep the data's bytes.
					var compact bytes.Buffer
					require.NoError(t, json.Compact(&compact, []byte(data)))
					require.Equal(t, compact.String(), string(got.Data))
				}
			})
		}
	}
}

func TestEncodeExact(t *testing.T) {
	t.Parallel()
	p := Payload{
		Type:      "order.created",
		Timestamp: testTime,
		Data:      json.RawMessage("{\n  \"z\": 1.0,\n  \"a\": [true, null, \"x<y\"],\n  \"a b\": {},\n  \"1x\": []\n}"),
	}
	cases := []struct {
		format, contentType, body string
	}{
		{JSON, "application/json", `{"type":"order.created","timestamp":"2024-03-09T15:05:07.123Z","data":{"z":1.0,"a":[true,null,"x<y"],"a b":{},"1x":[]}}`},
		{Form, "application/x-www-form-urlencoded", `data=%7B%22z%22%3A1.0%2C%22a%22%3A%5Btrue%2Cnull%2C%22x%3Cy%22%5D%2C%22a+b%22%3A%7B%7D%2C%221x%22%3A%5B%5D%7D&timestamp=2024-03-09T15%3A05%3A07.123Z&type=order.created`},
		{XML, "application/xml", `<webhook><type>order.created</type><timestamp>2024-03-09T15:05:07.123Z</timestamp>` +
			`<data type="object"><z type="number">1.0</z><a type="array"><item type="boolean">true</item><item type="null"/><item>x&lt;y</item></a>` +
			`<entry key="a b" type="object"/><entry key="1x" type="array"/></data></webhook>`},
	}
	for _, c := range cases {
		t.Run(c.format, func(t *testing.T) {
			t.Parallel()
			body, contentType, err := Encode(c.format, p)
			require.NoError(t, err)
			require.Equal(t, c.contentType, contentType)
			require.Equal(t, c.body, string(body))
			for _, dst := range [][]byte{[]byte("kept:"), append(make([]byte, 0, 1024), "kept:"...)} {
				body, _, err = Append(dst, c.format, p)
				require.NoError(t, err)
				require.Equal(t, "kept:"+c.body, string(body))
			}
		})
	}
}

func TestEncodeXMLEscapes(t *testing.T) {
	t.Parallel()
	p := Payload{Type: "t", Timestamp: testTime, Data: json.RawMessage(`{"\u0001k":"a\u0000b","nl":"a\nb"}`)}
	body, _, err := Encode(XML, p)
	require.NoError(t, err)
	require.Contains(t, string(body), `<entry key-json="&#34;\u0001k&#34;" type="string" encoding="json">&#34;a\u0000b&#34;</entry>`)
	require.Contains(t, string(body), `<nl>a&#xA;b</nl>`)
}

func TestEncodeErrors(t *testing.T) {
	t.Parallel()
	valid := Payload{Type: "t", Timestamp: testTime, Data: json.RawMessage(`{}`)}
	cases := []struct {
		name    string
		format  string
		mutate  func(*Payload)
		wantErr string
		wantIs  error
	}{
		{name: "unknown format", format: "yaml", wantIs: ErrUnsupported},
		{name: "empty type", mutate: func(p *Payload) { p.Type = "" }, wantErr: "empty type"},
		{name: "no data", mutate: func(p *Payload) { p.Data = nil }, wantErr: "empty data"},
		{name: "invalid data", mutate: func(p *Payload) { p.Data = json.RawMessage(`{"a":}`) }, wantErr: "not JSON"},
		{name: "two values", mutate: func(p *Payload) { p.Data = json.RawMessage(`{} {}`) }, wantErr: "not JSON"},
		{name: "too deep", mutate: func(p *Payload) { p.Data = nested(MaxDepth + 1) }, wantIs: ErrTooDeep},
		{name: "year beyond 9999", mutate: func(p *Payload) { p.Timestamp = time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC) }, wantErr: "year"},
	}
	for _, c := range cases {
		for _, format := range []string{JSON, Form, XML} {
			if c.format != "" {
				format = c.format
			}
			t.Run(c.name+"/"+format, func(t *testing.T) {
				t.Parallel()
				p := valid
				if c.mutate != nil {
					c.mutate(&p)
				}
				_, _, err := Encode(format, p)
				require.Error(t, err)
				if c.wantIs != nil {
					require.ErrorIs(t, err, c.wantIs)
				}
				require.ErrorContains(t, err, c.wantErr)
				dst, _, appendErr := Append([]byte("kept"), format, p)
				require.Equal(t, err, appendErr)
				require.Equal(t, "kept", string(dst))
			})
		}
	}
}

func TestMaxDepth(t *testing.T) {
	t.Parallel()
	for _, format := range []string{JSON, Form, XML} {
		t.Run(format, func(t *testing.T) {
			t.Parallel()
			in := Payload{Type: "t", Timestamp: testTime, Data: nested(MaxDepth)}
			body, contentType, err := Encode(format, in)
			require.NoError(t, err)
			got, err := Decode(contentType, body)
			require.NoError(t, err)
			require.Equal(t, string(in.Data), string(got.Data))
		})
	}

	tooDeep := map[string]string{
		"application/json":                  `{"type":"t","timestamp":"2024-03-09T15:05:07.123Z","data":` + string(nested(MaxDepth+1)) + `}`,
		"application/x-www-form-urlencoded": "type=t&timestamp=2024-03-09T15:05:07.123Z&data=" + string(nested(MaxDepth+1)),
		// Empty arrays nested one level too deep: the element depth stays
		// within the limit, the JSON does not.
		"application/xml": `<webhook><type>t</type><timestamp>2024-03-09T15:05:07.123Z</timestamp><data type="array">` +
			strings.Repeat(`<item type="array">`, MaxDepth-1) + `<item type="array"/>` + strings.Repeat(`</item>`, MaxDepth-1) + `</data></webhook>`,
		// A chain of elements far deeper than the limit stops the recursion.
		"text/xml": `<webhook><type>t</type><timestamp>2024-03-09T15:05:07.123Z</timestamp><data>` +
			strings.Repeat(`<a>`, 100_000) + strings.Repeat(`</a>`, 100_000) + `</data></webhook>`,
	}
	for contentType, body := range tooDeep {
		t.Run("refuse "+contentType, func(t *testing.T) {
			t.Parallel()
			_, err := Decode(contentType, []byte(body))
			require.ErrorIs(t, err, ErrTooDeep)
		})
	}
}

func TestDecodeErrors(t *testing.T) {
	t.Parallel()
	const ts = "2024-03-09T15:05:07.123Z"
	cases := []struct {
		name, contentType, body, wantErr string
	}{
		{"unsupported content type", "text/plain", `{}`, "unsupported"},
		{"bad content type", "application/", `{}`, "unsupported"},
		{"json syntax", "application/json", `{"type":`, "unexpected end"},
		{"json missing type", "application/json", `{"timestamp":"` + ts + `","data":{}}`, "missing type"},
		{"json missing timestamp", "application/json", `{"type":"t","data":{}}`, "missing timestamp"},
		{"json missing data", "application/json", `{"type":"t","timestamp":"` + ts + `"}`, "missing data"},
		{"json bad timestamp", "application/json", `{"type":"t","timestamp":"yesterday","data":{}}`, "RFC 3339"},
		{"form bad escape", "application/x-www-form-urlencoded", `type=%zz`, "invalid URL escape"},
		{"form missing data", "application/x-www-form-urlencoded", `type=t&timestamp=` + ts, "missing data"},
		{"form twice", "application/x-www-form-urlencoded", `type=t&type=u&timestamp=` + ts + `&data=1`, "type given 2 times"},
		{"form data not json", "application/x-www-form-urlencoded", `type=t&timestamp=` + ts + `&data=%7B`, "not JSON"},
		{"xml syntax", "application/xml", `<webhook><type>t</type>`, "unexpected EOF"},
		{"xml empty", "application/xml", ``, "no root element"},
		{"xml wrong root", "application/xml", `<hook/>`, "want <webhook>"},
		{"xml two roots", "application/xml", `<webhook><type>t</type><timestamp>` + ts + `</timestamp><data/></webhook><webhook/>`, "after the root"},
		{"xml unknown child", "application/xml", `<webhook><extra/></webhook>`, "unexpected element <extra>"},
		{"xml missing data", "application/xml", `<webhook><type>t</type><timestamp>` + ts + `</timestamp></webhook>`, "missing data"},
		{"xml data twice", "application/xml", `<webhook><type>t</type><timestamp>` + ts + `</timestamp><data/><data/></webhook>`, "given twice"},
		{"xml type not string", "application/xml", `<webhook><type type="number">1</type></webhook>`, "not a string"},
		{"xml bad number", "application/xml", `<webhook><data type="number">1.</data></webhook>`, "not a JSON number"},
		{"xml bad boolean", "application/xml", `<webhook><data type="boolean">yes</data></webhook>`, "not a boolean"},
		{"xml null with text", "application/xml", `<webhook><data type="null">x</data></webhook>`, "null with text"},
		{"xml text in object", "application/xml", `<webhook><data type="object">x</data></webhook>`, "text in an object"},
		{"xml non-item in array", "application/xml", `<webhook><data type="array"><x/></data></webhook>`, "in an array"},
		{"xml entry without key", "application/xml", `<webhook><data type="object"><entry/></data></webhook>`, "without a key"},
		{"xml bad key-json", "application/xml", `<webhook><data type="object"><entry key-json="x"/></data></webhook>`, "not a JSON string literal"},
		{"xml bad encoded string", "application/xml", `<webhook><data type="string" encoding="json">x</data></webhook>`, "not a JSON string literal"},
		{"xml unknown encoding", "application/xml", `<webhook><data type="string" encoding="base64">eA==</data></webhook>`, "unknown encoding"},
		{"xml stray attribute", "application/xml", `<webhook><data type="number" unit="kg">1</data></webhook>`, "unexpected attribute"},
		{"xml child in scalar", "application/xml", `<webhook><data type="number"><x/></data></webhook>`, "unexpected child"},
		{"xml external entity", "application/xml", `<!DOCTYPE d [<!ENTITY x SYSTEM "file:///etc/passwd">]><webhook><data>&x;</data></webhook>`, "invalid character entity"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			_, err := Decode(c.contentType, []byte(c.body))
			require.ErrorContains(t, err, c.wantErr)
		})
	}
}

// depthByteByByte is Depth as it was first written, one byte at a time:
// the reference FuzzDepth holds Depth to, on any input.
func depthByteByByte(b []byte) int {
	depth, deepest := 0, 0
	inString, escaped := false, false
	for _, c := range b {
		switch {
		case escaped:
			escaped = false
		case inString:
			switch c {
			case '\\':
				escaped = true
			case '"':
				inString = false
			}
		case c == '"':
			inString = true
		case c == '{' || c == '[':
			depth++
			deepest = max(deepest, depth)
		case c == '}' || c == ']':
			depth--
		}
	}
	return deepest
}

func FuzzDepth(f *testing.F) {
	for _, data := range roundTripData {
		f.Add([]byte(data))
	}
	for _, s := range []string{`"\\"[`, `"\\\"[`, `"[`, `["\\\\\"]"]`, `[{"a":"\\"},["\"["]]`, `"`, `\"[`, `[[]]"[[[`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		if got, want := Depth(b), depthByteByByte(b); got != want {
			t.Fatalf("Depth(%q) = %d, want %d", b, got, want)
		}
	})
}

func TestFormatOf(t *testing.T) {
	t.Parallel()
	cases := map[string]string{
		"application/json":                           JSON,
		"application/json; charset=utf-8":            JSON,
		"application/cloudevents+json":               JSON,
		"Application/X-WWW-Form-Urlencoded":          Form,
		"application/xml":                            XML,
		"text/xml; charset=UTF-8":                    XML,
		"application/atom+xml":                       XML,
		"text/plain":                                 "",
		"":                                           "",
		"multipart/form-data; boundary=xyz":          "",
		"application/x-www-form-urlencoded; x=\"y\"": Form,
	}
	for contentType, want := range cases {
		got, err := FormatOf(contentType)
		if want == "" {
			require.ErrorIs(t, err, ErrUnsupported, contentType)
			continue
		}
		require.NoError(t, err, contentType)
		require.Equal(t, want, got, contentType)
	}
	require.True(t, Valid(JSON))
	require.True(t, Valid(Form))
	require.True(t, Valid(XML))
	require.False(t, Valid("JSON"))
	require.False(t, Valid(""))
}

func TestFormToJSON(t *testing.T) {
	t.Parallel()
	cases := []struct{ in, want, wantErr string }{
		{in: "", want: `{}`},
		{in: "b=2&a=1", want: `{"a":"1","b":"2"}`},
		{in: "tag=x&tag=y&tag=z", want: `{"tag":["x","y","z"]}`},
		{in: "user%5Bname%5D=Ann+Lee&empty=", want: `{"empty":"","user[name]":"Ann Lee"}`},
		{in: "q=%22quoted%22%0A%E2%9C%93", want: `{"q":"\"quoted\"\n✓"}`},
		{in: "bad=%z", wantErr: "invalid URL escape"},
	}
	for _, c := range cases {
		got, err := FormToJSON([]byte(c.in))
		if c.wantErr != "" {
			require.ErrorContains(t, err, c.wantErr)
			continue
		}
		require.NoError(t, err)
		require.JSONEq(t, c.want, string(got))
		require.Equal(t, c.want, string(got), "keys sorted, compact")
	}
}

func TestXMLToJSON(t *testing.T) {
	t.Parallel()
	testkit.Table(t, func(in string) (string, error) {
		out, err := XMLToJSON([]byte(in))
		return string(out), err
	}, []testkit.Case[string, string]{
		{Name: "text only", In: `<note>hi</note>`, Want: `{"note":"hi"}`},
		{Name: "empty", In: `<note/>`, Want: `{"note":""}`},
		{
			Name: "foreign document",
			In: `<?xml version="1.0" encoding="UTF-8"?>
<!-- an order -->
<order xmlns="urn:shop" id="42" xmlns:x="urn:x">
  <customer>Ann</customer>
  <line sku="A1"><qty>2</qty></line>
  <line sku="B2"><qty>1</qty></line>
  <x:note>mixed <b>bold</b> text</x:note>
</order>`,
			Want: `{"order":{"@id":"42","customer":"Ann","line":[{"@sku":"A1","qty":"2"},{"@sku":"B2","qty":"1"}],"note":{"b":"bold","#text":"mixed  text"}}}`,
		},
		{Name: "foreign type attribute", In: `<phone type="mobile">123</phone>`, Want: `{"phone":{"@type":"mobile","#text":"123"}}`},
		{Name: "cdata", In: `<a><![CDATA[<not a tag>]]></a>`, Want: `{"a":"<not a tag>"}`},
		{
			Name: "hookline mapping",
			In:   `<webhook><type>t</type><timestamp>2024-03-09T15:05:07.123Z</timestamp><data type="object"><n type="number">1.50</n><entry key="a b" type="array"><item/></entry></data></webhook>`,
			Want: `{"webhook":{"type":"t","timestamp":"2024-03-09T15:05:07.123Z","data":{"n":1.50,"a b":[""]}}}`,
		},
		{Name: "not xml", In: `{"a":1}`, Err: "text before the root"},
		{Name: "unclosed", In: `<a><b></a>`, Err: "element <b> closed by </a>"},
		{Name: "too deep", In: strings.Repeat("<a>", MaxDepth+1) + strings.Repeat("</a>", MaxDepth+1), Err: ErrTooDeep.Error()},
	})
}

func TestIsJSONNumber(t *testing.T) {
	t.Parallel()
	for _, s := range []string{"0", "-0", "1", "10", "1.5", "-1.5e10", "1E+2", "1e-2", "0.0"} {
		require.True(t, isJSONNumber(s), s)
	}
	for _, s := range []string{"", "-", "01", "1.", ".5", "+1", "1e", "1e+", "0x1", "NaN", "Infinity", "1 ", "--1"} {
		require.False(t, isJSONNumber(s), s)
	}
}

func FuzzXMLRoundTrip(f *testing.F) {
	for _, data := range roundTripData {
		f.Add([]byte(data))
	}
	f.Add([]byte(`{"a":[1,{"b":[null,"\ud800"]}],"\ud83d\ude00":"x"}`))
	f.Add([]byte("\"\xff\xfe invalid utf-8\""))
	f.Fuzz(func(t *testing.T, data []byte) {
		if !json.Valid(data) {
			return
		}
		in := Payload{Type: "fuzz.event", Timestamp: testTime, Data: data}
		body, contentType, err := Encode(XML, in)
		if errors.Is(err, ErrTooDeep) {
			return
		}
		require.NoError(t, err)
		got, err := Decode(contentType, body)
		require.NoError(t, err, "body: %s", body)
		require.Equal(t, jsonTokens(t, data), jsonTokens(t, got.Data), "body: %s", body)

		// The generic converter reads the same mapping.
		generic, err := XMLToJSON(body)
		if errors.Is(err, ErrTooDeep) {
			return // its wrapping objects add two levels
		}
		require.NoError(t, err)
		var env struct {
			Webhook struct {
				Data json.RawMessage `json:"data"`
			} `json:"webhook"`
		}
		require.NoError(t, json.Unmarshal(generic, &env))
		require.Equal(t, jsonTokens(t, data), jsonTokens(t, env.Webhook.Data))
	})
}

func FuzzDecode(f *testing.F) {
	for _, format := range []string{JSON, Form, XML} {
		for _, data := range roundTripData[:4] {
			body, contentType, err := Encode(format, Payload{Type: "t", Timestamp: testTime, Data: json.RawMessage(data)})
			require.NoError(f, err)
			f.Add(contentType, body)
		}
	}
	f.Add("application/xml", []byte(`<webhook><data type="object"><entry key-json="&#34;\u0001&#34;" type="string" encoding="json">"\u0000"</entry></data></webhook>`))
	f.Add("text/xml", []byte(`<a x="1"><b/><b>t</b>text</a>`))
	f.Fuzz(func(t *testing.T, contentType string, body []byte) {
		p, err := Decode(contentType, body)
		if err == nil {
			require.True(t, json.Valid(p.Data), "data %q", p.Data)
			require.NoError(t, checkDepth(p.Data))
			require.NotEmpty(t, p.Type)
		}
		if out, err := XMLToJSON(body); err == nil {
			require.True(t, json.Valid(out), "xml to json %q", out)
		}
		if out, err := FormToJSON(body); err == nil {
			require.True(t, json.Valid(out), "form to json %q", out)
		}
	})
}

// jsonTokens returns the token stream of one JSON value, numbers as their
// literal text, so that two texts compare equal when they hold the same value
// with the same member order.
func jsonTokens(t testing.TB, data []byte) []json.Token {
	t.Helper()
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	var tokens []json.Token
	for {
		tok, err := dec.Token()
		if errors.Is(err, io.EOF) {
			return tokens
		}
		require.NoError(t, err)
		tokens = append(tokens, tok)
	}
}

// nested returns depth arrays nested in each other around a number.
func nested(depth int) json.RawMessage {
	return json.RawMessage(strings.Repeat("[", depth) + "1" + strings.Repeat("]", depth))
}

func TestCheckUTF8(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in     string
		offset int // 0: valid
	}{
		{"", 0},
		{`{"x":"é€😀"}`, 0},
		{"\xff", 1},
		{`{"x":"` + "\xff\xfe" + `"}`, 7},
		{"é\xc3", 3},                // truncated sequence at the end
		{"a\xed\xa0\x80b", 2},       // an encoded surrogate
		{"ab\xc0\xafc", 3},          // an overlong encoding of '/'
		{"\xf4\x90\x80\x80", 1},     // above U+10FFFF
		{"€\x80", 4},                // a lone continuation byte
		{"😀😀\xf0\x9f\x98", 9},       // truncated 4-byte sequence
		{"ok\uFFFDstill ok", 0},     // U+FFFD itself is valid
		{"\x00\x7f", 0},             // ASCII controls are UTF-8
		{"a" + "\xe2\x82" + "z", 2}, // sequence cut short by ASCII
	}
	for _, tt := range tests {
		err := CheckUTF8([]byte(tt.in))
		require.Equal(t, err, CheckUTF8String(tt.in), "%q", tt.in)
		if tt.offset == 0 {
			require.NoError(t, err, "%q", tt.in)
			continue
		}
		var ue *UTF8Error
		require.True(t, errors.As(err, &ue), "%q: %v", tt.in, err)
		require.Equal(t, tt.offset, ue.Offset, "%q", tt.in)
		require.EqualError(t, err, "not valid UTF-8 at byte "+strconv.Itoa(tt.offset))
	}
}

func FuzzCheckUTF8(f *testing.F) {
	f.Add([]byte(`{"x":"\xff"}`))
	f.Add([]byte("é€😀"))
	f.Fuzz(func(t *testing.T, b []byte) {
		err := CheckUTF8(b)
		if utf8.Valid(b) {
			require.NoError(t, err)
			return
		}
		var ue *UTF8Error
		require.True(t, errors.As(err, &ue))
		i := ue.Offset - 1
		require.True(t, utf8.Valid(b[:i]), "everything before the offset is valid")
		r, size := utf8.DecodeRune(b[i:])
		require.True(t, r == utf8.RuneError && size == 1, "the offset is a bad byte")
	})
}
