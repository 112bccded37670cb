package render

import (
	"fmt"
	"html"
	"net/url"
	"strings"
)

// TrackLinks rewrites the href of every <a> element whose URL is http or
// https to rewrite(url), leaving mailto:, tel:, #anchors, relative URLs
// and everything else as it is, byte for byte. rewrite gets the URL
// unescaped (&amp; read as &) and its result is escaped back. Comments,
// <script>, <style> and the like are skipped, as a browser would.
//
// The scan follows the HTML tokenizer closely enough for mail (start and
// end tags, attributes quoted or not, comments, raw text) without
// building a tree. Its only error is a tag left open at the end of the
// document, which html/template output never has.
func TrackLinks(doc string, rewrite func(url string) string) (string, error) {
	var b strings.Builder
	last := 0
	err := scanTags(doc, func(t tag) {
		if t.end || t.name != "a" {
			return
		}
		a, ok := t.attr("href")
		if !ok || a.valStart < 0 {
			return
		}
		u, ok := trackable(html.UnescapeString(a.val))
		if !ok {
			return
		}
		b.WriteString(doc[last:a.valStart])
		b.WriteString(`"` + html.EscapeString(rewrite(u)) + `"`)
		last = a.valEnd
	})
	if err != nil {
		return "", err
	}
	if last == 0 {
		return doc, nil
	}
	b.WriteString(doc[last:])
	return b.String(), nil
}

// trackable returns the URL a browser would follow if it is an absolute
// http or https one.
func trackable(raw string) (string, bool) {
	// Browsers strip leading and trailing spaces and controls and drop
	// tabs and newlines anywhere.
	s := strings.TrimFunc(raw, func(r rune) bool { return r <= ' ' })
	s = strings.NewReplacer("\t", "", "\n", "", "\r", "").Replace(s)
	u, err := url.Parse(s)
	if err != nil || u.Host == "" {
		return "", false
	}
	switch strings.ToLower(u.Scheme) {
	case "http", "https":
		return s, true
	}
	return "", false
}

// AddPixel adds an open-tracking image (1×1, empty alt) before the
// document's last </body>, or at its end when it has none.
func AddPixel(doc, src string) string {
	img := `<img src="` + html.EscapeString(src) + `" width="1" height="1" alt="">`
	at := -1
	_ = scanTags(doc, func(t tag) { // on an error, the tags up to it
		if t.end && t.name == "body" {
			at = t.start
		}
	})
	if at < 0 {
		return doc + img
	}
	return doc[:at] + img + doc[at:]
}

// tag is a start or end tag found by scanTags.
type tag struct {
	name  string // lowercase
	end   bool
	start int // offset of its "<"
	attrs []attr
}

// attr is an attribute of a tag. valStart:valEnd spans its value in the
// document, quotes included; valStart is -1 when it has none.
type attr struct {
	name             string // lowercase
	val              string // raw: entities not decoded
	valStart, valEnd int
}

// attr returns the first attribute called name, as browsers ignore the
// repeats.
func (t tag) attr(name string) (attr, bool) {
	for _, a := range t.attrs {
		if a.name == name {
			return a, true
		}
	}
	return attr{}, false
}

// rawText are the elements whose content is not markup: no tags in
// there until their end tag.
var rawText = map[string]bool{
	"script": true, "style": true, "textarea": true, "title": true,
	"xmp": true, "iframe": true, "noembed": true, "noframes": true,
}

// scanTags calls fn with each tag of doc outside comments and raw text,
// in order.
func scanTags(doc string, fn func(tag)) error {
	i := 0
	for {
		j := strings.IndexByte(doc[i:], '<')
		if j < 0 {
			return nil
		}
		i += j
		rest := doc[i:]
		switch {
		case strings.HasPrefix(rest, "<!--"):
			end := commentEnd(rest[4:])
			if end < 0 {
				return nil // a comment to the end
			}
			i += 4 + end
		case strings.HasPrefix(rest, "<!"), strings.HasPrefix(rest, "<?"),
			strings.HasPrefix(rest, "</") && len(rest) > 2 && !isLetter(rest[2]):
			// Doctype, bogus comment, "</>" or "</ …>": to the next ">".
			k := strings.IndexByte(rest, '>')
			if k < 0 {
				return nil
			}
			i += k + 1
		case len(rest) > 1 && isLetter(rest[1]),
			len(rest) > 2 && rest[1] == '/' && isLetter(rest[2]):
			t, n, err := parseTag(doc, i)
			if err != nil {
				return err
			}
			fn(t)
			i = n
			if !t.end && t.name == "plaintext" {
				return nil
			}
			if !t.end && rawText[t.name] {
				k := rawTextEnd(doc, i, t.name)
				if k < 0 {
					return nil
				}
				i = k
			}
		default:
			i++ // a "<" in text
		}
	}
}

// commentEnd returns the length of a comment's body and end ("-->",
// "--!>", or at once for "<!-->" and "<!--->"), -1 if it has no end.
func commentEnd(body string) int {
	switch {
	case strings.HasPrefix(body, ">"):
		return 1
	case strings.HasPrefix(body, "->"):
		return 2
	}
	end := -1
	if k := strings.Index(body, "-->"); k >= 0 {
		end = k + 3
	}
	if k := strings.Index(body, "--!>"); k >= 0 && (end < 0 || k+4 < end) {
		end = k + 4
	}
	return end
}

// rawTextEnd returns the offset of the end tag of raw text element name
// from i on, -1 if it has none.
func rawTextEnd(doc string, i int, name string) int {
	for {
		j := strings.Index(doc[i:], "</")
		if j < 0 {
			return -1
		}
		i += j
		rest := doc[i+2:]
		if len(rest) >= len(name) && asciiEqualFold(rest[:len(name)], name) &&
			(len(rest) == len(name) || isTagEnd(rest[len(name)])) {
			return i
		}
		i += 2
	}
}

// parseTag reads the tag at doc[i] ("<a …>" or "</a …>") and returns it
// and the offset after it.
func parseTag(doc string, i int) (tag, int, error) {
	t := tag{start: i}
	p := i + 1
	if doc[p] == '/' {
		t.end = true
		p++
	}
	q := p
	for q < len(doc) && !isSpace(doc[q]) && doc[q] != '/' && doc[q] != '>' {
		q++
	}
	t.name = asciiLower(doc[p:q])
	p = q
	unclosed := func() error {
		return fmt.Errorf("html: tag %q at byte %d is not closed", doc[i:q], i)
	}
	for {
		for p < len(doc) && (isSpace(doc[p]) || doc[p] == '/') {
			p++
		}
		if p == len(doc) {
			return t, p, unclosed()
		}
		if doc[p] == '>' {
			return t, p + 1, nil
		}
		// An attribute name may start with "=", then runs to a space,
		// "/", ">" or "=".
		q := p + 1
		for q < len(doc) && !isSpace(doc[q]) && doc[q] != '/' && doc[q] != '>' && doc[q] != '=' {
			q++
		}
		a := attr{name: asciiLower(doc[p:q]), valStart: -1}
		p = q
		for p < len(doc) && isSpace(doc[p]) {
			p++
		}
		if p < len(doc) && doc[p] == '=' {
			p++
			for p < len(doc) && isSpace(doc[p]) {
				p++
			}
			if p == len(doc) {
				return t, p, unclosed()
			}
			switch c := doc[p]; c {
			case '"', '\'':
				k := strings.IndexByte(doc[p+1:], c)
				if k < 0 {
					return t, len(doc), unclosed()
				}
				a.val, a.valStart, a.valEnd = doc[p+1:p+1+k], p, p+k+2
				p += k + 2
			case '>':
				// "a=>": an empty value, and the tag ends.
			default:
				q := p
				for q < len(doc) && !isSpace(doc[q]) && doc[q] != '>' {
					q++
				}
				a.val, a.valStart, a.valEnd = doc[p:q], p, q
				p = q
			}
		}
		t.attrs = append(t.attrs, a)
	}
}

func isLetter(c byte) bool { return 'a' <= c|0x20 && c|0x20 <= 'z' }

func isSpace(c byte) bool {
	return c == ' ' || c == '\t' || c == '\n' || c == '\f' || c == '\r'
}

func isTagEnd(c byte) bool { return isSpace(c) || c == '/' || c == '>' }

func asciiLower(s string) string {
	for i := 0; i < len(s); i++ {
		if 'A' <= s[i] && s[i] <= 'Z' {
			b := []byte(s)
			for j := i; j < len(b); j++ {
				if 'A' <= b[j] && b[j] <= 'Z' {
					b[j] += 'a' - 'A'
				}
			}
			return string(b)
		}
	}
	return s
}

// asciiEqualFold compares ignoring ASCII case only (strings.EqualFold
// would match the Kelvin sign to "k").
func asciiEqualFold(a, b string) bool {
	return len(a) == len(b) && asciiLower(a) == asciiLower(b)
}
