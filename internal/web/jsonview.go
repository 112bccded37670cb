package web

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"html/template"
	"strings"

	"github.com/hookline/hookline/internal/delivery/format"
)

// Limits of the payload viewer, checked before a document is parsed: a
// larger or deeper document is shown as indented text only.
const (
	// maxViewBytes is the largest document drawn as a tree.
	maxViewBytes = 256 << 10
	// maxViewDepth is the deepest nesting drawn as a tree.
	maxViewDepth = 64
	// openBelow is the size under which every level starts unfolded;
	// a larger document shows its first two levels.
	openBelow = 4 << 10
	// maxCopyBytes is the largest document its copy button carries.
	maxCopyBytes = 64 << 10
)

// jsonView renders a JSON document for reading: highlighted by the server
// (spans with classes, no inline style), objects and arrays foldable
// (details and summary, so it works without JavaScript), and the document
// as text under "Raw". Text that is not JSON is shown as it is.
func jsonView(raw any) template.HTML {
	b := docBytes(raw)
	var out strings.Builder
	tree, ok := jsonTree(b)
	if !ok {
		out.WriteString(`<pre class="json" tabindex="0">`)
		template.HTMLEscape(&out, []byte(prettyJSON(b)))
		out.WriteString(`</pre>`)
		return template.HTML(out.String())
	}
	out.WriteString(`<div class="jv">`)
	out.WriteString(`<div class="json" tabindex="0">`)
	out.WriteString(tree)
	out.WriteString(`</div><details class="raw"><summary>Raw</summary>`)
	if len(b) <= maxCopyBytes {
		fmt.Fprintf(&out, `<button type="button" class="copy js-only" data-copy="%s" aria-label="Copy the raw JSON">Copy</button>`,
			template.HTMLEscapeString(string(b)))
	}
	out.WriteString(`<pre tabindex="0">`)
	template.HTMLEscape(&out, b)
	out.WriteString(`</pre></details></div>`)
	return template.HTML(out.String())
}

// docBytes is the document of a template value: bytes or a string.
func docBytes(raw any) []byte {
	switch v := raw.(type) {
	case []byte:
		return v
	case json.RawMessage:
		return v
	case string:
		return []byte(v)
	case template.HTML:
		return []byte(v)
	}
	return nil
}

// jsonTree is the highlighted, foldable HTML of one JSON document, or
// false when b is not one or is over the viewer's limits.
func jsonTree(b []byte) (string, bool) {
	b = bytes.TrimSpace(b)
	if len(b) == 0 || len(b) > maxViewBytes || !json.Valid(b) || format.Depth(b) > maxViewDepth {
		return "", false
	}
	d := json.NewDecoder(bytes.NewReader(b))
	d.UseNumber()
	w := &treeWriter{d: d, out: &strings.Builder{}, small: len(b) < openBelow}
	if err := w.value(0); err != nil {
		return "", false
	}
	return w.out.String(), true
}

// treeWriter writes the tokens of a decoder as HTML.
type treeWriter struct {
	d     *json.Decoder
	out   *strings.Builder
	small bool
}

// value writes the next value, with a comma after it when its container
// has more; depth is its nesting.
func (w *treeWriter) value(depth int) error {
	tok, err := w.d.Token()
	if err != nil {
		return err
	}
	switch t := tok.(type) {
	case json.Delim:
		return w.container(t, depth)
	case string:
		w.span("j-str", quote(t))
	case json.Number:
		w.span("j-num", t.String())
	case bool:
		w.span("j-bool", fmt.Sprint(t))
	case nil:
		w.span("j-null", "null")
	default:
		return fmt.Errorf("json view: unexpected token %v", tok)
	}
	w.punct(w.comma(depth))
	return nil
}

// container writes an object or array whose opening delimiter was read:
// folded, its summary is "{ … } 3 keys".
func (w *treeWriter) container(open json.Delim, depth int) error {
	closing, unit := "}", "key"
	if open == '[' {
		closing, unit = "]", "item"
	}
	if !w.d.More() {
		if _, err := w.d.Token(); err != nil {
			return err
		}
		w.punct(string(open) + closing + w.comma(depth))
		return nil
	}
	outer := w.out
	w.out = &strings.Builder{}
	n := 0
	for w.d.More() {
		w.out.WriteString(`<div class="j-row">`)
		if open == '{' {
			tok, err := w.d.Token()
			if err != nil {
				return err
			}
			key, ok := tok.(string)
			if !ok {
				return errors.New("json view: object key is not a string")
			}
			w.span("j-key", quote(key))
			w.punct(": ")
		}
		if err := w.value(depth + 1); err != nil {
			return err
		}
		w.out.WriteString(`</div>`)
		n++
	}
	if _, err := w.d.Token(); err != nil { // the closing delimiter
		return err
	}
	comma := w.comma(depth)
	inner := w.out.String()
	w.out = outer
	attr := ""
	if w.small || depth < 2 {
		attr = " open"
	}
	fmt.Fprintf(w.out, `<details%s><summary><span class="j-p">%c</span><span class="j-fold"> … %s%s <span class="j-count">%d %s%s</span></span></summary><div class="j-in">%s</div><span class="j-p">%s%s</span></details>`,
		attr, open, closing, comma, n, unit, plural(n), inner, closing, comma)
	return nil
}

// comma is "," after a value of depth when its container has more, read
// once the value's last token is.
func (w *treeWriter) comma(depth int) string {
	if depth > 0 && w.d.More() {
		return ","
	}
	return ""
}

func (w *treeWriter) punct(s string) {
	if s != "" {
		w.span("j-p", s)
	}
}

func (w *treeWriter) span(class, text string) {
	w.out.WriteString(`<span class="` + class + `">`)
	template.HTMLEscape(w.out, []byte(text))
	w.out.WriteString(`</span>`)
}

// quote is s as a JSON string literal, with its escapes.
func quote(s string) string {
	var b strings.Builder
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(s)
	return strings.TrimSuffix(b.String(), "\n")
}

func plural(n int) string {
	if n == 1 {
		return ""
	}
	return "s"
}
