package render

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"
)

func TestHelpers(t *testing.T) {
	t.Parallel()
	beforeDST := "2026-03-08T06:30:00Z" // 01:30 EST in New York
	afterDST := "2026-03-08T07:30:00Z"  // 03:30 EDT: clocks went 2:00 → 3:00
	unix := float64(time.Date(2026, 3, 8, 7, 30, 0, 0, time.UTC).Unix())
	tests := []struct {
		name   string
		locale string // the template's DefaultLocale: the locale rendered
		tz     string
		src    string
		vars   map[string]any
		want   string
	}{
		// date
		{"date layout before DST", "en", "America/New_York", `{{date "2006-01-02 15:04 MST" .t}}`, map[string]any{"t": beforeDST}, "2026-03-08 01:30 EST"},
		{"date layout after DST", "en", "America/New_York", `{{date "2006-01-02 15:04 MST" .t}}`, map[string]any{"t": afterDST}, "2026-03-08 03:30 EDT"},
		{"date time before DST", "en", "America/New_York", `{{date "time" .t}}`, map[string]any{"t": beforeDST}, "1:30 AM"},
		{"date time after DST", "en", "America/New_York", `{{date "time" .t}}`, map[string]any{"t": afterDST}, "3:30 AM"},
		{"date unix seconds", "en", "America/New_York", `{{date "datetime" .t}}`, map[string]any{"t": unix}, "Mar 8, 2026, 3:30 AM"},
		{"date json number", "en", "America/New_York", `{{date "datetime" .t}}`, map[string]any{"t": json.Number("1772955000")}, "Mar 8, 2026, 3:30 AM"},
		{"date time.Time", "en", "Europe/Paris", `{{date "datetime" .t}}`, map[string]any{"t": time.Date(2026, 3, 8, 7, 30, 0, 0, time.UTC)}, "Mar 8, 2026, 8:30 AM"},
		{"date pipe", "en", "UTC", `{{.t | date "short"}}`, map[string]any{"t": afterDST}, "Mar 8, 2026"},
		{"date day before in the zone", "en", "America/New_York", `{{date "short" .t}}`, map[string]any{"t": "2026-03-08T03:00:00Z"}, "Mar 7, 2026"},
		{"date offset input", "en", "UTC", `{{date "datetime" .t}}`, map[string]any{"t": "2026-03-08T09:30:00.5+02:00"}, "Mar 8, 2026, 7:30 AM"},
		{"date only, in the zone", "en", "America/New_York", `{{date "long" .t}}`, map[string]any{"t": "2026-03-08"}, "Sunday, March 8, 2026"},
		{"date no zone, in the zone", "en", "America/New_York", `{{date "2006-01-02T15:04:05Z07:00" .t}}`, map[string]any{"t": "2026-03-08T12:00:00"}, "2026-03-08T12:00:00-04:00"},
		{"date long en", "en", "America/New_York", `{{date "long" .t}}`, map[string]any{"t": afterDST}, "Sunday, March 8, 2026"},
		{"date long fr", "fr", "Europe/Paris", `{{date "long" .t}}`, map[string]any{"t": afterDST}, "dimanche 8 mars 2026"},
		{"date long de", "de", "Europe/Berlin", `{{date "long" .t}}`, map[string]any{"t": afterDST}, "Sonntag, 8. März 2026"},
		{"date long es", "es", "Europe/Madrid", `{{date "long" .t}}`, map[string]any{"t": afterDST}, "domingo, 8 de marzo de 2026"},
		{"date long it", "it", "Europe/Rome", `{{date "long" .t}}`, map[string]any{"t": afterDST}, "domenica 8 marzo 2026"},
		{"date long nl", "nl", "Europe/Amsterdam", `{{date "long" .t}}`, map[string]any{"t": afterDST}, "zondag 8 maart 2026"},
		{"date long pt", "pt", "America/Sao_Paulo", `{{date "long" .t}}`, map[string]any{"t": afterDST}, "domingo, 8 de março de 2026"},
		{"date short fr", "fr", "Europe/Paris", `{{date "short" .t}}`, map[string]any{"t": afterDST}, "08/03/2026"},
		{"date short de", "de", "Europe/Berlin", `{{date "short" .t}}`, map[string]any{"t": afterDST}, "08.03.2026"},
		{"date datetime fr", "fr", "Europe/Paris", `{{date "datetime" .t}}`, map[string]any{"t": afterDST}, "08/03/2026 08:30"},
		{"date time de", "de", "Europe/Berlin", `{{date "time" .t}}`, map[string]any{"t": "2026-03-08T17:05:00Z"}, "18:05"},
		{"date missing is empty", "en", "UTC", `[{{date "short" .nope}}]`, nil, "[]"},
		{"date in UTC without a zone", "en", "", `{{date "15:04 MST" .t}}`, map[string]any{"t": afterDST}, "07:30 UTC"},

		// number
		{"number en", "en", "", `{{number .n}}`, map[string]any{"n": 1234.5}, "1,234.5"},
		{"number en decimals", "en", "", `{{number .n 2}}`, map[string]any{"n": 1234567.891}, "1,234,567.89"},
		{"number en int", "en", "", `{{number .n}}`, map[string]any{"n": 1234}, "1,234"},
		{"number en small", "en", "", `{{number .n}}`, map[string]any{"n": 999}, "999"},
		{"number en negative", "en", "", `{{number .n}}`, map[string]any{"n": -1234.5}, "-1,234.5"},
		{"number at most 3 decimals", "en", "", `{{number .n}}`, map[string]any{"n": 1.0 / 3}, "0.333"},
		{"number float noise", "en", "", `{{number .n}}`, map[string]any{"n": 0.1 + 0.2}, "0.3"},
		{"number rounds half up", "en", "", `{{number .n 2}}`, map[string]any{"n": 1.005}, "1.01"},
		{"number rounds with carry", "en", "", `{{number .n 1}}`, map[string]any{"n": 999.96}, "1,000.0"},
		{"number no negative zero", "en", "", `{{number .n 2}}`, map[string]any{"n": -0.001}, "0.00"},
		{"number string", "en", "", `{{number .n}}`, map[string]any{"n": "1234.50"}, "1,234.5"},
		{"number big json number exact", "en", "", `{{number .n}}`, map[string]any{"n": json.Number("9007199254740993")}, "9,007,199,254,740,993"},
		{"number decimals from json", "en", "", `{{number .n .d}}`, map[string]any{"n": 2, "d": 3.0}, "2.000"},
		{"number missing is empty", "en", "", `[{{number .nope}}]`, nil, "[]"},
		{"number fr", "fr", "", `{{number .n}}`, map[string]any{"n": 1234.5}, "1\u202f234,5"},
		{"number de", "de", "", `{{number .n}}`, map[string]any{"n": 1234.5}, "1.234,5"},
		{"number es four digits", "es", "", `{{number .n}}`, map[string]any{"n": 1234.5}, "1234,5"},
		{"number es five digits", "es", "", `{{number .n}}`, map[string]any{"n": 12345.5}, "12.345,5"},
		{"number it", "it", "", `{{number .n}}`, map[string]any{"n": 1234567}, "1.234.567"},
		{"number nl", "nl", "", `{{number .n 2}}`, map[string]any{"n": 1234.5}, "1.234,50"},
		{"number pt", "pt", "", `{{number .n}}`, map[string]any{"n": 1234.5}, "1.234,5"},
		{"number fr-CA is fr", "fr-CA", "", `{{number .n}}`, map[string]any{"n": 1234.5}, "1\u202f234,5"},
		{"number other language is en", "sv", "", `{{number .n}}`, map[string]any{"n": 1234.5}, "1,234.5"},

		// currency
		{"currency en EUR", "en", "", `{{currency .n "EUR"}}`, map[string]any{"n": 1234.5}, "€1,234.50"},
		{"currency en USD", "en", "", `{{currency .n "USD"}}`, map[string]any{"n": 1234.5}, "$1,234.50"},
		{"currency en GBP negative", "en", "", `{{currency .n "GBP"}}`, map[string]any{"n": -5}, "-£5.00"},
		{"currency en JPY", "en", "", `{{currency .n "JPY"}}`, map[string]any{"n": 1234.5}, "¥1,235"},
		{"currency en other code", "en", "", `{{currency .n "CHF"}}`, map[string]any{"n": 1234.5}, "CHF\u00a01,234.50"},
		{"currency three decimals", "en", "", `{{currency .n "KWD"}}`, map[string]any{"n": 1.2345}, "KWD\u00a01.235"},
		{"currency lowercase code", "en", "", `{{currency .n .code}}`, map[string]any{"n": 3, "code": "eur"}, "€3.00"},
		{"currency fr EUR", "fr", "", `{{currency .n "EUR"}}`, map[string]any{"n": 1234.5}, "1\u202f234,50\u00a0€"},
		{"currency fr USD", "fr", "", `{{currency .n "USD"}}`, map[string]any{"n": 1234.5}, "1\u202f234,50\u00a0$"},
		{"currency fr other code", "fr", "", `{{currency .n "CHF"}}`, map[string]any{"n": -1234.5}, "-1\u202f234,50\u00a0CHF"},
		{"currency de", "de", "", `{{currency .n "EUR"}}`, map[string]any{"n": 1234.5}, "1.234,50\u00a0€"},
		{"currency es", "es", "", `{{currency .n "EUR"}}`, map[string]any{"n": 1234.5}, "1234,50\u00a0€"},
		{"currency it", "it", "", `{{currency .n "EUR"}}`, map[string]any{"n": 1234.5}, "1.234,50\u00a0€"},
		{"currency nl", "nl", "", `{{currency .n "EUR"}}`, map[string]any{"n": 1234.5}, "€\u00a01.234,50"},
		{"currency pt", "pt", "", `{{currency .n "EUR"}}`, map[string]any{"n": 1234.5}, "€\u00a01.234,50"},
		{"currency amount string", "en", "", `{{currency .n "USD"}}`, map[string]any{"n": "19.999"}, "$20.00"},
		{"currency missing is empty", "en", "", `[{{currency .nope "USD"}}]`, nil, "[]"},

		// plural
		{"plural en 0", "en", "", `{{.n}} {{plural .n "item" "items"}}`, map[string]any{"n": 0}, "0 items"},
		{"plural en 1", "en", "", `{{.n}} {{plural .n "item" "items"}}`, map[string]any{"n": 1}, "1 item"},
		{"plural en 1 from json", "en", "", `{{plural .n "item" "items"}}`, map[string]any{"n": 1.0}, "item"},
		{"plural en 3", "en", "", `{{.n}} {{plural .n "item" "items"}}`, map[string]any{"n": 3}, "3 items"},
		{"plural en 1.5", "en", "", `{{plural .n "item" "items"}}`, map[string]any{"n": 1.5}, "items"},
		{"plural en -1", "en", "", `{{plural .n "item" "items"}}`, map[string]any{"n": -1}, "item"},
		{"plural fr 0", "fr", "", `{{plural .n "article" "articles"}}`, map[string]any{"n": 0}, "article"},
		{"plural fr 1.5", "fr", "", `{{plural .n "article" "articles"}}`, map[string]any{"n": 1.5}, "article"},
		{"plural fr 2", "fr", "", `{{plural .n "article" "articles"}}`, map[string]any{"n": 2}, "articles"},
		{"plural de 0", "de", "", `{{plural .n "Artikel" "Artikeln"}}`, map[string]any{"n": 0}, "Artikeln"},
		{"plural of len", "en", "", `{{len .xs}} {{plural (len .xs) "item" "items"}}`, map[string]any{"xs": []any{"a"}}, "1 item"},

		// default
		{"default empty string", "en", "", `Hi {{default "there" .name}}`, map[string]any{"name": ""}, "Hi there"},
		{"default value", "en", "", `Hi {{default "there" .name}}`, map[string]any{"name": "Ann"}, "Hi Ann"},
		{"default missing", "en", "", `Hi {{.name | default "there"}}`, nil, "Hi there"},
		{"default null", "en", "", `Hi {{default "there" .name}}`, map[string]any{"name": nil}, "Hi there"},
		{"default empty list", "en", "", `{{default "none" .xs}}`, map[string]any{"xs": []any{}}, "none"},
		{"default keeps 0", "en", "", `{{default "none" .n}}`, map[string]any{"n": 0}, "0"},
		{"default keeps false", "en", "", `{{default "none" .b}}`, map[string]any{"b": false}, "false"},

		// truncate
		{"truncate", "en", "", `{{truncate 5 .s}}`, map[string]any{"s": "Hello world"}, "Hell…"},
		{"truncate short enough", "en", "", `{{truncate 5 .s}}`, map[string]any{"s": "Hello"}, "Hello"},
		{"truncate runes", "en", "", `{{truncate 4 .s}}`, map[string]any{"s": "日本語のテキスト"}, "日本語…"},
		{"truncate drops the space", "en", "", `{{truncate 7 .s}}`, map[string]any{"s": "héllo wörld"}, "héllo…"},
		{"truncate to 1", "en", "", `{{truncate 1 .s}}`, map[string]any{"s": "Hello"}, "…"},
		{"truncate to 0", "en", "", `[{{truncate 0 .s}}]`, map[string]any{"s": "Hello"}, "[]"},
		{"truncate length from json", "en", "", `{{.s | truncate .n}}`, map[string]any{"s": "Hello world", "n": 5.0}, "Hell…"},
		{"truncate a number", "en", "", `{{truncate 3 .n}}`, map[string]any{"n": 123456}, "12…"},

		// case
		{"upper", "en", "", `{{upper .s}}`, map[string]any{"s": "héllo"}, "HÉLLO"},
		{"lower", "en", "", `{{.s | lower}}`, map[string]any{"s": "HÉLLO"}, "héllo"},
		{"title", "en", "", `{{title .s}}`, map[string]any{"s": "élodie de la tour"}, "Élodie De La Tour"},
		{"title keeps the rest", "en", "", `{{title .s}}`, map[string]any{"s": "mcDonald"}, "McDonald"},
		{"title nl", "nl", "", `{{title .s}}`, map[string]any{"s": "ijsselmeer"}, "IJsselmeer"},
		{"upper missing", "en", "", `[{{upper .nope}}]`, nil, "[]"},

		// json
		{"json", "en", "", `{{json .v}}`, map[string]any{"v": map[string]any{"b": "<x>", "a": []any{1, "two"}}}, `{"a":[1,"two"],"b":"<x>"}`},
		{"json null", "en", "", `{{json .nope}}`, nil, "null"},

		// builtins kept within limits, same output
		{"printf", "en", "", `{{printf "%05.1f|%-4s|%x|%v|%d" 3.14159 "ab" 255 .xs .missing}}`, map[string]any{"xs": []any{1, 2}}, "003.1|ab  |ff|[1 2]|%!d(<nil>)"},
		{"printf missing arg", "en", "", `{{printf "%s %s" "a"}}`, nil, "a %!s(MISSING)"},
		{"print", "en", "", `{{print "a" 1 2 "b" 3}}`, nil, "a1 2b3"},
		{"println", "en", "", `{{println "a" 1}}`, nil, "a 1\n"},
		{"urlquery", "en", "", `{{urlquery "a b&c"}}`, nil, "a+b%26c"},
		{"html builtin", "en", "", `{{html "<a>" 1}}`, nil, "&lt;a&gt;1"},
		{"js builtin", "en", "", `{{js "it's"}}`, nil, `it\'s`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var tz *time.Location
			if tt.tz != "" {
				var err error
				if tz, err = time.LoadLocation(tt.tz); err != nil {
					t.Fatal(err)
				}
			}
			tmpl := compile(t, Spec{Subject: "S", Text: tt.src, DefaultLocale: tt.locale})
			out, err := tmpl.Render(context.Background(), tt.locale, tz, tt.vars)
			if err != nil {
				t.Fatalf("render: %v", err)
			}
			if out.Text != tt.want {
				t.Errorf("got  %q\nwant %q", out.Text, tt.want)
			}
		})
	}
}

func TestHelperErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		src  string
		vars map[string]any
		want string
	}{
		{`{{date "short" .t}}`, map[string]any{"t": "soon"}, `error calling date: "soon" is not a time (want RFC 3339 or unix seconds)`},
		{`{{date "short" .t}}`, map[string]any{"t": true}, `error calling date: true (bool) is not a time`},
		{`{{number .n}}`, map[string]any{"n": "many"}, `error calling number: "many" is not a number`},
		{`{{number .n -1}}`, map[string]any{"n": 1}, `error calling number: decimals must be a whole number from 0 to 20, not -1`},
		{`{{number .n 1.5}}`, map[string]any{"n": 1}, `decimals must be a whole number from 0 to 20, not 1.5`},
		{`{{number .n 1 2}}`, map[string]any{"n": 1}, `want a value and at most one count of decimals, got 3 arguments`},
		{`{{currency .n "EURO"}}`, map[string]any{"n": 1}, `error calling currency: "EURO" is not a currency code`},
		{`{{plural .n "a" "b"}}`, map[string]any{"n": "x"}, `error calling plural: x (string) is not a number`},
		{`{{truncate .n "abc"}}`, map[string]any{"n": "x"}, `error calling truncate: length:`},
		{`{{json .v}}`, map[string]any{"v": func() {}}, `error calling json: json: unsupported type`},
	}
	for _, tt := range tests {
		t.Run(tt.src, func(t *testing.T) {
			t.Parallel()
			out, err := compile(t, Spec{Subject: "S", Text: tt.src}).Render(context.Background(), "en", nil, tt.vars)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("error %v, want …%s…", err, tt.want)
			}
			if !strings.HasPrefix(err.Error(), "text: template: welcome:1:") {
				t.Errorf("error %q does not name the part and position", err)
			}
			if out != (Rendered{}) {
				t.Errorf("output on error: %+v", out)
			}
		})
	}
}

func TestHelpersInHTML(t *testing.T) {
	t.Parallel()
	tmpl := compile(t, Spec{
		Subject:       "S",
		DefaultLocale: "fr",
		HTML: `<p data-v="{{json .v}}">{{currency .n "EUR"}} {{upper .name}} {{truncate 4 .name}}</p>` +
			`<script>var v = {{json .v}};</script>`,
	})
	got := render(t, tmpl, "fr", map[string]any{"n": 1234.5, "name": "<b>ob", "v": map[string]any{"s": "</script>"}})
	want := `<p data-v="{&#34;s&#34;:&#34;\u003c/script\u003e&#34;}">1` + "\u202f" + `234,50` + "\u00a0" + `€ &lt;B&gt;OB &lt;b&gt;…</p>` +
		`<script>var v = {"s":"\u003c/script\u003e"};</script>`
	if got.HTML != want {
		t.Errorf("got  %s\nwant %s", got.HTML, want)
	}
}
