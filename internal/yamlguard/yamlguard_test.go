package yamlguard

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"

	"github.com/goccy/go-yaml/lexer"
	"github.com/goccy/go-yaml/parser"
	"github.com/stretchr/testify/require"
)

// laughs is a "billion laughs" document of n levels of ten aliases each.
func laughs(n int) string {
	var b strings.Builder
	b.WriteString("a0: &a0 \"lol\"\n")
	for i := 1; i <= n; i++ {
		b.WriteString("a" + itoa(i) + ": &a" + itoa(i) + " [")
		for j := range 10 {
			if j > 0 {
				b.WriteString(", ")
			}
			b.WriteString("*a" + itoa(i-1))
		}
		b.WriteString("]\n")
	}
	return b.String()
}

func itoa(i int) string { return strconv.Itoa(i) }

func tokenDepthOf(doc []byte, max int) error { return tokenDepth(lexer.Tokenize(string(doc)), max) }

// indented nests n block mappings by indentation.
func indented(n int) string {
	var b strings.Builder
	for i := range n {
		b.WriteString(strings.Repeat(" ", i) + "k:\n")
	}
	return b.String()
}

func TestCheckRefuses(t *testing.T) {
	t.Parallel()
	deep := []struct{ name, doc string }{
		{"flow sequences", "steps: " + strings.Repeat("[", 100000) + strings.Repeat("]", 100000)},
		{"flow mappings", strings.Repeat("{a: ", 5000) + "1" + strings.Repeat("}", 5000)},
		{"entries on one line", strings.Repeat("- ", 5000) + "x"},
		{"indentation", indented(200)},
		{"keys on one line", strings.Repeat("a: ", 200) + "x"},
		{"flow after a quote", `a: "x"` + strings.Repeat("[", 500)},
		{"flow after an alias", "a: &x 1\nb: *x " + strings.Repeat("[", 500)},
		{"anchors in a row", "a: " + strings.Repeat("&a ", 500) + "x"},
		{"tags in a row", "a: " + strings.Repeat("!t ", 500) + "x"},
		{"complex keys", strings.Repeat("? ", 500) + "x"},
		{"unclosed flow", strings.Repeat("[", 70)},
		{"deep alias", "a: &a " + strings.Repeat("[", 40) + strings.Repeat("]", 40) + "\nb: " + strings.Repeat("[", 40) + "*a" + strings.Repeat("]", 40)},
	}
	for _, tc := range deep {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			err := Check([]byte(tc.doc), Limits{})
			var ge *Error
			require.ErrorAs(t, err, &ge)
			require.False(t, ge.TooLarge)
			require.Contains(t, ge.Error(), "nests deeper than 64 levels")
			require.Positive(t, ge.Line)
		})
	}
	large := []struct{ name, doc string }{
		{"6 levels of aliases", laughs(6)},
		{"9 levels of aliases", laughs(9)},
		{"merge keys", "a: &a {x: 1, y: 2, z: 3}\n" + mergeBomb(30)},
		{"too long", strings.Repeat("a", DefaultMaxBytes+1)},
		{"too many tokens", "a: [" + strings.Repeat("x, ", DefaultMaxTokens) + "x]"},
		{"many aliases", "a: &a [" + strings.Repeat("x,", 10) + "x]\nb: [" + strings.Repeat("*a, ", 300000) + "*a]\n"},
	}
	for _, tc := range large {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			err := Check([]byte(tc.doc), Limits{})
			var ge *Error
			require.ErrorAs(t, err, &ge)
			require.True(t, ge.TooLarge, "%v", err)
		})
	}
}

// mergeBomb builds n mappings, each merging the one before twice.
func mergeBomb(n int) string {
	var b strings.Builder
	prev := "a"
	for i := range n {
		name := "m" + itoa(i)
		b.WriteString(name + ": &" + name + "\n  <<: [*" + prev + ", *" + prev + "]\n  " + name + ": " + strings.Repeat("x", 40) + "\n")
		prev = name
	}
	b.WriteString("last: [" + strings.Repeat("*"+prev+", ", 50) + "1]\n")
	return b.String()
}

func TestCheckRefusesInvalidUTF8(t *testing.T) {
	t.Parallel()
	err := Check([]byte("a: 1\nb: \"x\xff\"\n"), Limits{})
	var ge *Error
	require.ErrorAs(t, err, &ge)
	require.Equal(t, "document is not valid UTF-8 at byte 11 (line 2, column 6)", ge.Error())
}

func TestCheckAccepts(t *testing.T) {
	t.Parallel()
	docs := map[string]string{
		"anchors used a few times":   "defaults: &d {retries: 3, timeout: 5s}\na: *d\nb: *d\nc: {<<: *d, retries: 5}\n",
		"block scalar with brackets": "body: |\n  " + strings.Repeat("[", 200) + "\n  {{ .x }}\nnext: 1\n",
		"entry block scalar":         "- |\n  " + strings.Repeat("{", 200) + "\n- >-\n    " + strings.Repeat("[", 200) + "\n",
		"quoted brackets":            `a: "` + strings.Repeat("[", 200) + `"` + "\nb: '" + strings.Repeat("{", 200) + "''x'\n",
		"plain scalar with brackets": "a: see [the docs\nb: " + strings.Repeat("x[", 100) + "\n",
		"comments":                   "a: 1 # " + strings.Repeat("[", 200) + "\n# " + strings.Repeat("- ", 200) + "\n",
		"nested 30 deep":             strings.Repeat("[", 30) + strings.Repeat("]", 30),
		"indented 40 deep":           indented(40),
		"json":                       `{"a": [1, 2, {"b": "c[[["}], "d": null}`,
		"multi-line quoted":          "a: \"one\n  [[[[ two\"\nb: 2\n",
		"documents":                  "a: 1\n---\nb: " + strings.Repeat("[", 30) + strings.Repeat("]", 30) + "\n",
	}
	for name, doc := range docs {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			require.NoError(t, Check([]byte(doc), Limits{}))
		})
	}
}

// TestCheckAcceptsExamples makes sure the shipped YAML files pass.
func TestCheckAcceptsExamples(t *testing.T) {
	t.Parallel()
	var files []string
	for _, pat := range []string{"../../examples/*/*.yaml", "../../examples/*/*/*.yaml", "../../examples/*/*.yml"} {
		m, err := filepath.Glob(pat)
		require.NoError(t, err)
		files = append(files, m...)
	}
	require.NotEmpty(t, files)
	for _, f := range files {
		raw, err := os.ReadFile(f)
		require.NoError(t, err)
		require.NoError(t, Check(raw, Limits{}), f)
	}
}

// TestCheckCost holds the bar: a refused bomb of 1 MiB costs at
// most tens of MiB. It counts bytes allocated, not time.
func TestCheckCost(t *testing.T) {
	bombs := map[string][]byte{
		"brackets": []byte("steps: " + strings.Repeat("[", 1<<19) + strings.Repeat("]", 1<<19-8)),
		"entries":  []byte(strings.Repeat("- ", 1<<19)),
		"braces":   []byte(strings.Repeat("{a: ", 1<<18)),
		"aliases":  []byte("a: &a [" + strings.Repeat("x,", 10) + "x]\nb: [" + strings.Repeat("*a, ", 250000) + "*a]\n"),
		"flat":     []byte("a: [" + strings.Repeat("xy, ", 250000) + "x]"),
	}
	for name, b := range bombs {
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		err := Check(b, Limits{})
		runtime.ReadMemStats(&after)
		require.Error(t, err, name)
		require.Less(t, after.TotalAlloc-before.TotalAlloc, uint64(1<<20), "%s allocated %d bytes", name, after.TotalAlloc-before.TotalAlloc)
	}
}

func TestUnmarshal(t *testing.T) {
	t.Parallel()
	var v struct {
		Name string `yaml:"name"`
	}
	require.NoError(t, Unmarshal([]byte("name: x\n"), &v, Limits{}))
	require.Equal(t, "x", v.Name)
	err := Unmarshal([]byte("name: x\nother: 1\n"), &v, Limits{})
	require.Error(t, err)
	var ge *Error
	require.False(t, errors.As(err, &ge), "an unknown key is the decoder's error")
	require.ErrorAs(t, Unmarshal([]byte(laughs(9)), &v, Limits{}), &ge)
}

// FuzzCheck holds that a document Check lets through decodes into a value
// whose size and depth stay within the limits (up to the constant factor
// between YAML and JSON), so no decoder or later walk can blow up.
func FuzzCheck(f *testing.F) {
	for _, s := range []string{
		laughs(3), mergeBomb(3), indented(5), "a: &a [1, 2]\nb: [*a, *a]\n", "- - - x\n", "{a: [b, {c: d}]}",
		"k: |\n  [[[\n", "a: \"x\n  [[\"\n", "? a\n: b\n", "a: !t &x 1\nb: *x\n",
	} {
		f.Add([]byte(s))
	}
	lim := Limits{MaxDepth: 12, MaxBytes: 4096}
	f.Fuzz(func(t *testing.T, doc []byte) {
		if Check(doc, lim) != nil {
			return
		}
		var v any
		if Unmarshal(doc, &v, lim) != nil {
			return
		}
		out, err := json.Marshal(v)
		if err != nil {
			return
		}
		if len(out) > 16*int(lim.MaxBytes)+1024 {
			t.Fatalf("%d-byte document passed Check but decodes to %d bytes of JSON", len(doc), len(out))
		}
		if d := jsonDepth(v); d > lim.MaxDepth+1 {
			t.Fatalf("document passed Check but decodes %d levels deep", d)
		}
	})
}

// FuzzScanDepth holds that the byte scan never finds a valid document
// shallower than the parser does: where it passes, the tokens pass too.
func FuzzScanDepth(f *testing.F) {
	for _, s := range []string{
		indented(5), "- - - x\n", "{a: [b, {c: d}]}", "k: |\n  [[[\n", "a: \"x\n  [[\"\n", "a: 'it''s' [[\n",
		"- |\n [[\n  [[\n", "a: b: c: d\n", "!! !\n!! ! ! ", "&a x\n&b y\n", "a: x #[[\n", "*a [[", "a:\n- [[\n",
	} {
		f.Add([]byte(s))
	}
	const max = 4
	f.Fuzz(func(t *testing.T, doc []byte) {
		if scanDepth(doc, max, 0) != nil {
			return
		}
		if _, err := parser.ParseBytes(doc, 0); err != nil {
			// Where the tokenizer reads garbage its own way, tokenDepth
			// is the guard.
			return
		}
		if err := tokenDepthOf(doc, max); err != nil {
			t.Fatalf("byte scan passed %q, tokens: %v", doc, err)
		}
	})
}

func jsonDepth(v any) int {
	switch v := v.(type) {
	case map[string]any:
		d := 0
		for _, x := range v {
			d = max(d, jsonDepth(x))
		}
		return d + 1
	case []any:
		d := 0
		for _, x := range v {
			d = max(d, jsonDepth(x))
		}
		return d + 1
	}
	return 0
}

// BenchmarkCheck measures what Check costs on a real workflow and on the
// bombs it refuses (docs/benchmarks.md).
func BenchmarkCheck(b *testing.B) {
	workflow, err := os.ReadFile("../../examples/workflows/form-to-crm/lead-to-crm.yaml")
	if err != nil {
		b.Fatal(err)
	}
	docs := map[string][]byte{
		"workflow":      workflow,
		"brackets_1MiB": []byte("steps: " + strings.Repeat("[", 1<<19) + strings.Repeat("]", 1<<19-8)),
		"laughs_9":      []byte(laughs(9)),
		"aliases_1MiB":  []byte("a: &a [" + strings.Repeat("x,", 10) + "x]\nb: [" + strings.Repeat("*a, ", 250000) + "*a]\n"),
		"tokens_32k_ok": []byte("a: [" + strings.Repeat("xy, ", 16000) + "x]"),
	}
	for name, doc := range docs {
		b.Run(name, func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(len(doc)))
			for b.Loop() {
				_ = Check(doc, Limits{})
			}
		})
	}
}
