package render

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"
)

func compile(t *testing.T, s Spec, opts ...Option) *Template {
	t.Helper()
	if s.Name == "" {
		s.Name = "welcome"
	}
	tmpl, err := Compile(s, opts...)
	if err != nil {
		t.Fatalf("compile: %v", err)
	}
	return tmpl
}

func render(t *testing.T, tmpl *Template, locale string, vars map[string]any) Rendered {
	t.Helper()
	out, err := tmpl.Render(context.Background(), locale, nil, vars)
	if err != nil {
		t.Fatalf("render: %v", err)
	}
	return out
}

func TestCompileErrors(t *testing.T) {
	t.Parallel()
	base := func(f func(*Spec)) Spec {
		s := Spec{Name: "welcome", Subject: "Hi", Text: "Hello"}
		f(&s)
		return s
	}
	tests := []struct {
		name string
		spec Spec
		want string
	}{
		{"no subject", base(func(s *Spec) { s.Subject = " " }), "subject: a template needs a subject"},
		{"no body", base(func(s *Spec) { s.Text = "" }), "text, html: a template needs a text or an html part"},
		{"subject syntax", base(func(s *Spec) { s.Subject = "Hi {{.name" }), "subject: template: welcome:1: unclosed action"},
		{"text unknown function", base(func(s *Spec) { s.Text = "a\n{{shout .name}}" }), `text: template: welcome:2: function "shout" not defined`},
		{"locale html line 3", base(func(s *Spec) {
			s.Locales = map[string]Localized{"fr": {HTML: "<p>\n{{if .x}}\n{{end}\n</p>"}}
		}), "locales.fr.html: template: welcome:3: bad character U+007D '}'"},
		{"locale subject", base(func(s *Spec) {
			s.Locales = map[string]Localized{"fr-CA": {Subject: "{{end}}"}}
		}), "locales.fr-CA.subject: template: welcome:1: unexpected {{end}}"},
		{"html ends in a tag", base(func(s *Spec) { s.HTML = `<a href="{{.url}}` }), "html: html/template:welcome: ends in a non-text context"},
		{"source too large", base(func(s *Spec) { s.Text = strings.Repeat("x", MaxSource+1) }), "text: source is larger than 64 KiB"},
		{"bad locale tag", base(func(s *Spec) { s.Locales = map[string]Localized{"french!": {Text: "x"}} }), `locales: "french!" is not a locale tag`},
		{"same locale twice", base(func(s *Spec) {
			s.Locales = map[string]Localized{"fr_CA": {Text: "x"}, "fr-ca": {Text: "y"}}
		}), `locales: "fr-ca" and "fr_CA" are the same locale`},
		{"bad default locale", base(func(s *Spec) { s.DefaultLocale = "?" }), `default_locale: "?" is not a locale tag`},
		{"recursion", base(func(s *Spec) {
			s.Text = `{{define "a"}}{{template "b" .}}{{end}}{{define "b"}}{{template "a" .}}{{end}}{{template "a" .}}`
		}), `text: template "a" calls itself (a → b → a); recursion is not allowed`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := Compile(tt.spec)
			if err == nil {
				t.Fatalf("Compile: no error, want %q", tt.want)
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("Compile error\n got: %v\nwant: …%s…", err, tt.want)
			}
		})
	}
}

func TestCompileAcceptsTheLimit(t *testing.T) {
	t.Parallel()
	if _, err := Compile(Spec{Subject: "x", Text: strings.Repeat("x", MaxSource)}); err != nil {
		t.Fatalf("a source of exactly %d bytes: %v", MaxSource, err)
	}
	if _, err := Compile(Spec{Subject: "x", HTML: "<p>x</p>"}); err != nil {
		t.Fatalf("html without text: %v", err)
	}
}

func TestSpecJSON(t *testing.T) {
	t.Parallel()
	var s Spec
	raw := `{"name":"w","subject":"S","text":"T","html":"H","locales":{"fr":{"subject":"FS","html":"FH"}},"default_locale":"de","strict":true}`
	if err := json.Unmarshal([]byte(raw), &s); err != nil {
		t.Fatal(err)
	}
	want := Spec{Name: "w", Subject: "S", Text: "T", HTML: "H", Locales: map[string]Localized{"fr": {Subject: "FS", HTML: "FH"}}, DefaultLocale: "de", Strict: true}
	if fmt.Sprint(s) != fmt.Sprint(want) {
		t.Errorf("decoded %+v, want %+v", s, want)
	}
}

func TestLocaleFallback(t *testing.T) {
	t.Parallel()
	spec := Spec{
		Subject: "Hello", Text: "text en", HTML: "<p>html en</p>",
		Locales: map[string]Localized{
			"fr":    {Subject: "Bonjour", Text: "texte fr"},
			"fr-CA": {Subject: "Allô"},
			"de":    {HTML: "<p>html de</p>"},
			"zh":    {Subject: "你好"},
		},
	}
	tests := []struct {
		spec   func(*Spec)
		locale string
		want   Rendered
	}{
		{nil, "fr-CA", Rendered{"fr-CA", "Allô", "text en", "<p>html en</p>"}}, // a missing part is the base one
		{nil, "fr_ca", Rendered{"fr-CA", "Allô", "text en", "<p>html en</p>"}},
		{nil, "FR-ca", Rendered{"fr-CA", "Allô", "text en", "<p>html en</p>"}},
		{nil, "fr", Rendered{"fr", "Bonjour", "texte fr", "<p>html en</p>"}},
		{nil, "fr-BE", Rendered{"fr", "Bonjour", "texte fr", "<p>html en</p>"}},
		{nil, "de-AT", Rendered{"de", "Hello", "text en", "<p>html de</p>"}},
		{nil, "zh-Hant-TW", Rendered{"zh", "你好", "text en", "<p>html en</p>"}},
		{nil, "ja", Rendered{"en", "Hello", "text en", "<p>html en</p>"}},
		{nil, "", Rendered{"en", "Hello", "text en", "<p>html en</p>"}},
		{func(s *Spec) { s.DefaultLocale = "fr" }, "ja", Rendered{"fr", "Bonjour", "texte fr", "<p>html en</p>"}},
		{func(s *Spec) { s.DefaultLocale = "fr-FR" }, "ja", Rendered{"fr", "Bonjour", "texte fr", "<p>html en</p>"}},
		{func(s *Spec) { s.DefaultLocale = "it" }, "ja", Rendered{"it", "Hello", "text en", "<p>html en</p>"}},
	}
	for _, tt := range tests {
		t.Run(tt.locale, func(t *testing.T) {
			t.Parallel()
			s := spec
			if tt.spec != nil {
				tt.spec(&s)
			}
			if got := render(t, compile(t, s), tt.locale, nil); got != tt.want {
				t.Errorf("Render(%q)\n got %+v\nwant %+v", tt.locale, got, tt.want)
			}
		})
	}
}

func TestEscaping(t *testing.T) {
	t.Parallel()
	tmpl := compile(t, Spec{
		Subject: "For {{.name}}",
		Text:    "Hi {{.name}}",
		HTML:    `<p title="{{.name}}">Hi {{.name}}</p><a href="{{.url}}">x</a><a href="/u?n={{.name}}">y</a>`,
	})
	name := `<script>alert("x")</script>`
	got := render(t, tmpl, "en", map[string]any{"name": name, "url": "javascript:alert(1)"})
	want := Rendered{
		Locale:  "en",
		Subject: "For " + name,
		Text:    "Hi " + name,
		HTML: `<p title="&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;">Hi &lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;</p>` +
			`<a href="#ZgotmplZ">x</a><a href="/u?n=%3cscript%3ealert%28%22x%22%29%3c%2fscript%3e">y</a>`,
	}
	if got != want {
		t.Errorf("got  %+v\nwant %+v", got, want)
	}
}

func TestMissingKeys(t *testing.T) {
	t.Parallel()
	vars := map[string]any{"user": map[string]any{"email": "a@example.com", "nick": nil}}
	tests := []struct {
		name   string
		strict bool
		part   string // text or html
		src    string
		want   string // output, or error with strict
	}{
		{"text missing key is empty", false, "text", "[{{.user.name}}]", "[]"},
		{"text missing parent is empty", false, "text", "[{{.account.plan.name}}]", "[]"},
		{"text null is empty", false, "text", "[{{.user.nick}}]", "[]"},
		{"text missing key through printf", false, "text", `[{{printf "%s" .user.email}}]`, "[a@example.com]"},
		{"html missing key is empty", false, "html", "<p>[{{.user.name}}]</p>", "<p>[]</p>"},
		{"html null is empty", false, "html", "<p>[{{.user.nick}}]</p>", "<p>[]</p>"},
		{"default fills a missing key", false, "text", `{{default "there" .user.name}}`, "there"},
		{"strict text names the key", true, "text", "Hi {{.user.name}}", `text: template: welcome:1:10: executing "welcome" at <.user.name>: map has no entry for key "name"`},
		{"strict html names the key", true, "html", "<p>{{.account}}</p>", `html: template: welcome:1:5: executing "welcome" at <.account>: map has no entry for key "account"`},
		{"strict index is not an error", true, "text", `{{default "there" (index .user "name")}}`, "there"},
		{"strict null is empty", true, "text", "[{{.user.nick}}]", "[]"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s := Spec{Name: "welcome", Subject: "S", Strict: tt.strict}
			if tt.part == "text" {
				s.Text = tt.src
			} else {
				s.HTML = tt.src
			}
			out, err := compile(t, s).Render(context.Background(), "en", nil, vars)
			if strings.Contains(tt.want, "executing") {
				if err == nil || err.Error() != tt.want {
					t.Fatalf("error\n got: %v\nwant: %s", err, tt.want)
				}
				if out != (Rendered{}) {
					t.Errorf("output on error: %+v", out)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got := out.Text + out.HTML; got != tt.want {
				t.Errorf("got %q, want %q", got, tt.want)
			}
		})
	}
}

func TestSubjectIsOneLine(t *testing.T) {
	t.Parallel()
	tmpl := compile(t, Spec{Subject: "\n  {{.a}}\r\n{{.b}}  \n", Text: "{{.a}}\n{{.b}}"})
	got := render(t, tmpl, "en", map[string]any{"a": "One", "b": "two\r\nBcc: x@example.com"})
	if got.Subject != "One two Bcc: x@example.com" {
		t.Errorf("subject %q", got.Subject)
	}
	if got.Text != "One\ntwo\r\nBcc: x@example.com" {
		t.Errorf("text %q: only the subject is one line", got.Text)
	}
}

func TestLimits(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		spec    Spec
		opts    []Option
		wantErr error
		want    string
	}{
		{"text output too large", Spec{Subject: "S", Text: "{{range 3000}}" + strings.Repeat("x", 100) + "{{end}}"}, nil,
			ErrTooLarge, "text: output is larger than 256 KiB"},
		{"html output too large", Spec{Subject: "S", HTML: "<p>{{range 3000}}<b>{{.}}</b>" + strings.Repeat("x", 100) + "{{end}}</p>"}, nil,
			ErrTooLarge, "html: output is larger than 256 KiB"},
		{"subject too large by option", Spec{Subject: "{{range 11}}x{{end}}", Text: "t"}, []Option{WithMaxOutput(10)},
			ErrTooLarge, "subject: output is larger than 10 bytes"},
		{"a doubling variable", Spec{Subject: "S", Text: `{{$s := "xx"}}{{range 64}}{{$s = printf "%s%s" $s $s}}{{end}}`}, nil,
			ErrTooLarge, "output is larger than 256 KiB"},
		{"a doubling variable by print", Spec{Subject: "S", Text: `{{$s := "xx"}}{{range 64}}{{$s = print $s $s}}{{end}}`}, nil,
			ErrTooLarge, "output is larger than 256 KiB"},
		{"a growing escape", Spec{Subject: "S", HTML: `{{$s := "\\"}}{{range 64}}{{$s = js $s}}{{end}}`}, nil,
			ErrTooLarge, "output is larger than 256 KiB"},
		{"a doubling html escape", Spec{Subject: "S", HTML: `{{$s := "<>"}}{{range 64}}{{$s = html $s $s}}{{end}}`}, nil,
			ErrTooLarge, "output is larger than 256 KiB"},
		{"a wide printf", Spec{Subject: "S", Text: `{{$s := printf "%1000000d%1000000d" 1 2}}`}, nil,
			ErrTooLarge, "output is larger than 256 KiB"},
		{"slow range over ints", Spec{Subject: "S", Text: "{{range $i := 100000000}}{{end}}"}, []Option{WithTimeout(50 * time.Millisecond)},
			ErrTimeout, "template took longer than 50ms"},
		{"slow nested ranges in html", Spec{Subject: "S", HTML: "{{range 100000}}{{range 100000}}{{end}}{{end}}"}, []Option{WithTimeout(50 * time.Millisecond)},
			ErrTimeout, "template took longer than 50ms"},
		{"slow calls", Spec{Subject: "S", Text: `{{define "a"}}{{range 1000}}{{end}}{{end}}{{range 1000000}}{{template "a"}}{{end}}`}, []Option{WithTimeout(50 * time.Millisecond)},
			ErrTimeout, "template took longer than 50ms"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			tmpl := compile(t, tt.spec, tt.opts...)
			out, err := tmpl.Render(context.Background(), "en", nil, nil)
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("error %v, want %v", err, tt.wantErr)
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %q, want …%s…", err, tt.want)
			}
			if out != (Rendered{}) {
				t.Errorf("partial output on error: %.100q", out)
			}
		})
	}
}

func TestDefaultTimeoutMessage(t *testing.T) {
	t.Parallel()
	tmpl := compile(t, Spec{Subject: "S", Text: "{{range $i := 1000000000}}{{end}}"})
	_, err := tmpl.Render(context.Background(), "en", nil, nil)
	if err == nil || err.Error() != "template took longer than 1s" {
		t.Fatalf("error %v, want template took longer than 1s", err)
	}
}

func TestTimeoutThenRenderAgain(t *testing.T) {
	t.Parallel()
	// The stopped render gives its clone back to the pool; the next
	// renders, fast or slow, behave the same.
	tmpl := compile(t, Spec{Subject: "S", Text: "{{if .slow}}{{range 1000000000}}{{end}}{{end}}done"}, WithTimeout(20*time.Millisecond))
	for i := range 5 {
		if _, err := tmpl.Render(context.Background(), "en", nil, map[string]any{"slow": true}); !errors.Is(err, ErrTimeout) {
			t.Fatalf("slow render %d: %v", i, err)
		}
		if got := render(t, tmpl, "en", nil); got.Text != "done" {
			t.Fatalf("fast render %d: %q", i, got.Text)
		}
	}
}

func TestRenderContext(t *testing.T) {
	t.Parallel()
	tmpl := compile(t, Spec{Subject: "S", Text: "{{range $i := 1000000000}}{{end}}"})

	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := tmpl.Render(ctx, "en", nil, nil); !errors.Is(err, context.Canceled) {
		t.Errorf("canceled context: %v", err)
	}

	ctx, cancel = context.WithTimeout(context.Background(), 30*time.Millisecond)
	defer cancel()
	if _, err := tmpl.Render(ctx, "en", nil, nil); !errors.Is(err, context.DeadlineExceeded) || errors.Is(err, ErrTimeout) {
		t.Errorf("caller's deadline: %v, want the context's error", err)
	}
}

func TestConcurrentRenders(t *testing.T) {
	t.Parallel()
	tmpl := compile(t, Spec{
		Subject: "{{.n}}", Text: `{{number .amount 2}} {{date "15:04" .at}}`, HTML: `<p>{{currency .amount "EUR"}}</p>`,
		Locales: map[string]Localized{"fr": {Subject: "fr {{.n}}"}, "de": {Text: `de {{number .amount 2}} {{date "15:04" .at}}`}},
	})
	ny, err := time.LoadLocation("America/New_York")
	if err != nil {
		t.Fatal(err)
	}
	paris, err := time.LoadLocation("Europe/Paris")
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		locale string
		tz     *time.Location
		want   Rendered
	}{
		{"en", ny, Rendered{"en", "%d", "1,234.50 07:00", "<p>€1,234.50</p>"}},
		{"fr", paris, Rendered{"fr", "fr %d", "1\u202f234,50 13:00", "<p>1\u202f234,50\u00a0€</p>"}},
		{"de", time.UTC, Rendered{"de", "%d", "de 1.234,50 12:00", "<p>1.234,50\u00a0€</p>"}},
	}
	var wg sync.WaitGroup
	errs := make(chan error, 300)
	for i := range 300 {
		wg.Go(func() {
			c := cases[i%len(cases)]
			out, err := tmpl.Render(context.Background(), c.locale, c.tz, map[string]any{"n": i, "amount": 1234.5, "at": "2026-01-15T12:00:00Z"})
			want := c.want
			want.Subject = fmt.Sprintf(want.Subject, i)
			if err != nil || out != want {
				errs <- fmt.Errorf("render %d: %+v, %v; want %+v", i, out, err, want)
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

// FuzzRender checks that no template source, however odd, panics the
// engine (the tree rewriting above all) or yields output past the limits.
func FuzzRender(f *testing.F) {
	for _, s := range []string{
		`{{range .xs}}{{.}}{{else}}none{{end}}`,
		`{{define "a"}}{{.}}{{end}}{{range $i, $x := .xs}}{{template "a" $x}}{{break}}{{end}}`,
		`{{with .m}}{{.k}}{{else with .xs}}{{len .}}{{end}}`,
		`{{$x := 1}}{{$x = 2}}{{$x}}{{block "b" .}}{{.m}}{{end}}`,
		`<a href="{{.m.k}}" title='{{.xs}}'>{{printf "%v" .}}</a>`,
		`{{range 3}}{{continue}}{{end}}{{if and .m (not .xs)}}x{{end}}`,
	} {
		f.Add(s, false)
		f.Add(s, true)
	}
	vars := map[string]any{"xs": []any{1, "two", nil}, "m": map[string]any{"k": "v"}}
	f.Fuzz(func(t *testing.T, src string, html bool) {
		s := Spec{Subject: "S", Text: src}
		if html {
			s = Spec{Subject: "S", HTML: src}
		}
		tmpl, err := Compile(s, WithTimeout(50*time.Millisecond), WithMaxOutput(4096))
		if err != nil {
			return
		}
		out, err := tmpl.Render(context.Background(), "en", nil, vars)
		if err != nil {
			if strings.HasPrefix(err.Error(), "render: panic:") {
				t.Fatal(err)
			}
			if out != (Rendered{}) {
				t.Fatalf("output with an error: %v", err)
			}
			return
		}
		if len(out.Text) > 4096 || len(out.HTML) > 4096 {
			t.Fatalf("output past the limit: %d, %d bytes", len(out.Text), len(out.HTML))
		}
	})
}

// TestStoppedRenderEnds checks what Render relies on after a timeout:
// once its deadline passes, the execution left in the background ends at
// its next loop iteration or template call.
func TestStoppedRenderEnds(t *testing.T) {
	t.Parallel()
	tests := map[string]Spec{
		"range":        {Subject: "S", Text: "{{range 1000000000}}{{end}}"},
		"nested html":  {Subject: "S", HTML: "<p>{{range 100000}}{{range 100000}}{{end}}{{end}}</p>"},
		"range else":   {Subject: "S", Text: "{{range .none}}{{else}}{{range 1000000000}}{{end}}{{end}}"},
		"in a define":  {Subject: "S", Text: `{{define "a"}}{{range 1000000000}}{{end}}{{end}}{{if true}}{{template "a"}}{{end}}`},
		"with subject": {Subject: "{{range 1000000000}}{{end}}", Text: "x"},
	}
	for name, spec := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			tmpl := compile(t, spec)
			stop := make(chan struct{})
			done := make(chan error, 1)
			go func() {
				_, err := tmpl.base.exec(stop, time.UTC, nil)
				done <- err
			}()
			time.AfterFunc(10*time.Millisecond, func() { close(stop) })
			select {
			case err := <-done:
				if !errors.Is(err, errStopped) {
					t.Fatalf("exec: %v, want it stopped", err)
				}
			case <-time.After(10 * time.Second):
				t.Fatal("the execution did not stop")
			}
		})
	}
}

func BenchmarkRender(b *testing.B) {
	tmpl, err := Compile(Spec{
		Subject: "Order {{.data.order}} shipped",
		Text:    `Hi {{.recipient.name}}, {{range .data.items}}{{.name}} {{currency .price "EUR"}}{{end}} {{date "long" .data.at}}`,
		HTML:    `<p>Hi {{.recipient.name}},</p><ul>{{range .data.items}}<li>{{.name}} {{currency .price "EUR"}}</li>{{end}}</ul><a href="{{.data.url}}">Track</a>`,
	})
	if err != nil {
		b.Fatal(err)
	}
	vars := map[string]any{
		"recipient": map[string]any{"name": "Lou"},
		"data": map[string]any{"order": "A-1", "at": "2026-03-08T23:30:00Z", "url": "https://example.com/o/A-1",
			"items": []any{map[string]any{"name": "Mug", "price": 12.5}, map[string]any{"name": "Tea", "price": 4}}},
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := tmpl.Render(context.Background(), "fr", time.UTC, vars); err != nil {
			b.Fatal(err)
		}
	}
}
