package render

import (
	"strings"
	"testing"
)

func TestTrackLinks(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		in      string
		want    string
		tracked []string // the URLs rewrite got
	}{
		{"http and https", `<a href="http://a.example/x">a</a> <a href="https://b.example/?q=1">b</a>`,
			`<a href="T0">a</a> <a href="T1">b</a>`, []string{"http://a.example/x", "https://b.example/?q=1"}},
		{"entities decoded and encoded", `<a class="x" href="https://a.example/?a=1&amp;b=2">a</a>`,
			`<a class="x" href="T0">a</a>`, []string{"https://a.example/?a=1&b=2"}},
		{"single quotes and case", `<A HREF='HTTPS://A.example/'>a</A>`, `<A HREF="T0">a</A>`, []string{"HTTPS://A.example/"}},
		{"unquoted", `<a href=https://a.example/x target=_blank>a</a>`, `<a href="T0" target=_blank>a</a>`, []string{"https://a.example/x"}},
		{"spaces around =", "<a\n  href = \"https://a.example/\"\n>a</a>", "<a\n  href = \"T0\"\n>a</a>", []string{"https://a.example/"}},
		{"spaces and tabs in the url", "<a href=\" https://a.exa\tmple/ \">a</a>", `<a href="T0">a</a>`, []string{"https://a.example/"}},
		{"first href wins", `<a href="https://a.example/" href="https://b.example/">a</a>`,
			`<a href="T0" href="https://b.example/">a</a>`, []string{"https://a.example/"}},
		{"left alone", `<a href="mailto:a@example.com">m</a><a href="#top">t</a><a href="/rel">r</a><a href="tel:+1">p</a>` +
			`<a href="//cdn.example/x">s</a><a href="javascript:alert(1)">j</a><a href="#ZgotmplZ">z</a><a name="x">n</a><a href>e</a><a href="">e</a>`,
			"", nil},
		{"not a link", `<link href="https://a.example/s.css"><img src="https://a.example/i.png"><abbr href="https://a.example/">`, "", nil},
		{"data-href is not href", `<a data-href="https://a.example/">a</a>`, "", nil},
		{"comment", `<!-- <a href="https://a.example/"> --><a href="https://b.example/">b</a>`,
			`<!-- <a href="https://a.example/"> --><a href="T0">b</a>`, []string{"https://b.example/"}},
		{"empty comments", `<!--><a href="https://a.example/">a</a><!---><a href="https://b.example/">b</a>`,
			`<!--><a href="T0">a</a><!---><a href="T1">b</a>`, []string{"https://a.example/", "https://b.example/"}},
		{"comment to the end", `<!-- <a href="https://a.example/">`, "", nil},
		{"script and style", `<script>var s = '<a href="https://a.example/">';</script><style>a[href="https://b.example/"]{}</style><a href="https://c.example/">c</a>`,
			`<script>var s = '<a href="https://a.example/">';</script><style>a[href="https://b.example/"]{}</style><a href="T0">c</a>`, []string{"https://c.example/"}},
		{"script end tag case", `<SCRIPT>x</sCrIpT ><a href="https://a.example/">a</a>`, `<SCRIPT>x</sCrIpT ><a href="T0">a</a>`, []string{"https://a.example/"}},
		{"script not a prefix", `<script>"</scripts>"</script><a href="https://a.example/">a</a>`,
			`<script>"</scripts>"</script><a href="T0">a</a>`, []string{"https://a.example/"}},
		{"title is text", `<title><a href="https://a.example/"></title>`, "", nil},
		{"doctype and text", `<!DOCTYPE html><p>1 < 2 and 3 > 2</p><a href="https://a.example/">a</a>`,
			`<!DOCTYPE html><p>1 < 2 and 3 > 2</p><a href="T0">a</a>`, []string{"https://a.example/"}},
		{"> in an attribute", `<a title="a > b" href="https://a.example/">a</a>`, `<a title="a > b" href="T0">a</a>`, []string{"https://a.example/"}},
		{"self closing and slash", `<a/href="https://a.example/"/>`, `<a/href="T0"/>`, []string{"https://a.example/"}},
		{"abbr is not a", `<abbr href="https://a.example/">x</abbr>`, "", nil},
		{"non-ascii around", `<p>héllo 日本</p><a href="https://ü.example/ä">ä</a>`, `<p>héllo 日本</p><a href="T0">ä</a>`, []string{"https://ü.example/ä"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var got []string
			out, err := TrackLinks(tt.in, func(u string) string {
				got = append(got, u)
				return "T" + string(rune('0'+len(got)-1))
			})
			if err != nil {
				t.Fatal(err)
			}
			want := tt.want
			if want == "" {
				want = tt.in
			}
			if out != want {
				t.Errorf("got  %s\nwant %s", out, want)
			}
			if strings.Join(got, " ") != strings.Join(tt.tracked, " ") {
				t.Errorf("rewrite got %q, want %q", got, tt.tracked)
			}
		})
	}
}

func TestTrackLinksEscapesTheNewURL(t *testing.T) {
	t.Parallel()
	out, err := TrackLinks(`<a href="https://a.example/">a</a>`, func(string) string { return `https://t.example/?a=1&b="2"` })
	if err != nil {
		t.Fatal(err)
	}
	if want := `<a href="https://t.example/?a=1&amp;b=&#34;2&#34;">a</a>`; out != want {
		t.Errorf("got %s, want %s", out, want)
	}
}

func TestTrackLinksUnclosedTag(t *testing.T) {
	t.Parallel()
	for _, in := range []string{`<p>x</p><a href="https://a.example/>a`, `<a href=`, `<a href="https://a.example/"`} {
		_, err := TrackLinks(in, func(u string) string { return u })
		if err == nil || !strings.Contains(err.Error(), "is not closed") {
			t.Errorf("TrackLinks(%q): error %v, want a tag that is not closed", in, err)
		}
	}
}

func TestAddPixel(t *testing.T) {
	t.Parallel()
	const img = `<img src="https://t.example/o/x.gif?a=1&amp;b=2" width="1" height="1" alt="">`
	tests := []struct{ in, want string }{
		{`<html><body><p>Hi</p></body></html>`, `<html><body><p>Hi</p>` + img + `</body></html>`},
		{`<BODY>Hi</BODY >`, `<BODY>Hi` + img + `</BODY >`},
		{`<p>Hi</p>`, `<p>Hi</p>` + img},
		{``, img},
		{`<body>Hi<!-- </body> --></body>`, `<body>Hi<!-- </body> -->` + img + `</body>`},
		{`<body><script>"</body>"</script></body>trailing`, `<body><script>"</body>"</script>` + img + `</body>trailing`},
		{`<body>a</body>b</body>`, `<body>a</body>b` + img + `</body>`},
	}
	for _, tt := range tests {
		if got := AddPixel(tt.in, "https://t.example/o/x.gif?a=1&b=2"); got != tt.want {
			t.Errorf("AddPixel(%q)\n got %s\nwant %s", tt.in, got, tt.want)
		}
	}
}

// FuzzTrackLinks checks that the scan never panics, that rewriting every
// link to itself changes nothing, and that it only ever hands over
// http(s) URLs.
func FuzzTrackLinks(f *testing.F) {
	for _, s := range []string{
		`<a href="https://a.example/?a=1&amp;b=2">a</a>`,
		`<!-- x --><script>"</script>"</script><a href=http://x>y</a>`,
		`<a href='#'>`, `<a/href="https://a.example">`, `</a href=">">`, `<!--->`, `<?x>`, `<a =b>`,
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		out, err := TrackLinks(in, func(u string) string {
			if !strings.HasPrefix(strings.ToLower(u), "http") {
				t.Fatalf("rewrite got %q", u)
			}
			return u
		})
		if err != nil {
			return
		}
		// Equal up to how the rewritten values are quoted and escaped:
		// rewriting twice is stable.
		again, err := TrackLinks(out, func(u string) string { return u })
		if err != nil || again != out {
			t.Fatalf("not stable:\n%q\n%q\n%q (%v)", in, out, again, err)
		}
		_ = AddPixel(in, "x")
	})
}
