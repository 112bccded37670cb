package web

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestJSONView(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name, in string
		has      []string
		hasNot   []string
	}{
		{
			name: "object", in: `{"b": "x<y", "a": [1, 2.50, true, null], "e": {}, "n": {"k": -1e3}}`,
			has: []string{
				// Keys in the document's order, each kind of value in its class.
				`<span class="j-key">&#34;b&#34;</span><span class="j-p">: </span><span class="j-str">&#34;x&lt;y&#34;</span><span class="j-p">,</span>`,
				`<span class="j-num">2.50</span>`, `<span class="j-bool">true</span>`, `<span class="j-null">null</span>`,
				`<span class="j-p">{},</span>`, `<span class="j-p">],</span></details>`,
				`<span class="j-num">-1e3</span>`,
				`<details open><summary><span class="j-p">[</span><span class="j-fold"> … ], <span class="j-count">4 items</span>`,
				`<span class="j-count">4 keys</span>`,
				`<details class="raw"><summary>Raw</summary>`,
				`data-copy="{&#34;b&#34;: &#34;x&lt;y&#34;`,
			},
			hasNot: []string{"<y", "style="},
		},
		{name: "string escapes", in: `"a\"b\u00e9\n"`, has: []string{`<span class="j-str">&#34;a\&#34;bé\n&#34;</span>`}},
		{name: "not JSON", in: `<html>oops</html>`, has: []string{`<pre class="json" tabindex="0">&lt;html&gt;oops&lt;/html&gt;</pre>`}, hasNot: []string{"<details"}},
		{name: "too deep", in: strings.Repeat("[", 65) + strings.Repeat("]", 65), has: []string{`<pre class="json"`}, hasNot: []string{"<details"}},
		{name: "deep enough", in: strings.Repeat("[", 64) + "1" + strings.Repeat("]", 64), has: []string{`<details`}},
		{name: "too large", in: `"` + strings.Repeat("x", maxViewBytes) + `"`, has: []string{`<pre class="json"`}, hasNot: []string{"<details", "data-copy"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := string(jsonView([]byte(tc.in)))
			for _, h := range tc.has {
				require.Contains(t, got, h)
			}
			for _, h := range tc.hasNot {
				require.NotContains(t, got, h)
			}
		})
	}
}

// A large document opens its first two levels only; a small one opens all.
func TestJSONViewFolds(t *testing.T) {
	t.Parallel()
	small := string(jsonView([]byte(`{"a": {"b": {"c": {"d": 1}}}}`)))
	require.Equal(t, 4, strings.Count(small, "<details open>"))
	large := `{"a": {"b": {"c": {"d": "` + strings.Repeat("x", openBelow) + `"}}}}`
	got := string(jsonView([]byte(large)))
	require.Equal(t, 2, strings.Count(got, "<details open>"))
	require.Equal(t, 2, strings.Count(got, "<details><summary>"))
}
