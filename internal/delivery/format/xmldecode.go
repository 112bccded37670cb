package format

import (
	"bytes"
	"encoding/json"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"strings"
)

// xmlReader turns XML, in the mapping of the package doc or any other, back
// into JSON text.
type xmlReader struct {
	dec *xml.Decoder
}

func newXMLReader(body []byte) *xmlReader {
	// Strict mode with no Entity map: only XML's five predefined entities and
	// character references are expanded, so no external entity is fetched.
	return &xmlReader{dec: xml.NewDecoder(bytes.NewReader(body))}
}

// next returns the next start element, end element or character data (as a
// copy), skipping comments, processing instructions and directives.
func (r *xmlReader) next() (xml.Token, error) {
	for {
		tok, err := r.dec.Token()
		if err != nil {
			return nil, err
		}
		switch t := tok.(type) {
		case xml.StartElement, xml.EndElement:
			return t, nil
		case xml.CharData:
			return t.Copy(), nil
		}
	}
}

// root returns the document's root element.
func (r *xmlReader) root() (xml.StartElement, error) {
	for {
		tok, err := r.next()
		if errors.Is(err, io.EOF) {
			return xml.StartElement{}, errors.New("no root element")
		}
		if err != nil {
			return xml.StartElement{}, err
		}
		switch t := tok.(type) {
		case xml.StartElement:
			return t, nil
		case xml.CharData:
			if !isBlank(t) {
				return xml.StartElement{}, errors.New("text before the root element")
			}
		}
	}
}

// end checks that nothing but white space and comments follows the root.
func (r *xmlReader) end() error {
	for {
		tok, err := r.next()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return err
		}
		if t, ok := tok.(xml.CharData); !ok || !isBlank(t) {
			return errors.New("content after the root element")
		}
	}
}

func decodeXML(body []byte) (Payload, error) {
	r := newXMLReader(body)
	root, err := r.root()
	if err != nil {
		return Payload{}, err
	}
	if root.Name.Space != "" || root.Name.Local != xmlRoot {
		return Payload{}, fmt.Errorf("root element is <%s>, want <%s>", root.Name.Local, xmlRoot)
	}
	var (
		typ, ts *string
		data    []byte
	)
	for done := false; !done; {
		tok, err := r.next()
		if err != nil {
			return Payload{}, err
		}
		switch t := tok.(type) {
		case xml.EndElement:
			done = true
		case xml.CharData:
			if !isBlank(t) {
				return Payload{}, fmt.Errorf("text in <%s>", xmlRoot)
			}
		case xml.StartElement:
			if t.Name.Space != "" {
				return Payload{}, fmt.Errorf("unexpected element <%s:%s>", t.Name.Space, t.Name.Local)
			}
			switch t.Name.Local {
			case xmlType, xmlTimestamp:
				target := &typ
				if t.Name.Local == xmlTimestamp {
					target = &ts
				}
				if *target != nil {
					return Payload{}, fmt.Errorf("<%s> given twice", t.Name.Local)
				}
				s, err := r.stringValue(t)
				if err != nil {
					return Payload{}, fmt.Errorf("<%s>: %w", t.Name.Local, err)
				}
				*target = &s
			case xmlData:
				if data != nil {
					return Payload{}, fmt.Errorf("<%s> given twice", xmlData)
				}
				if data, err = r.value(nil, t, 0, false); err != nil {
					return Payload{}, fmt.Errorf("<%s>: %w", xmlData, err)
				}
			default:
				return Payload{}, fmt.Errorf("unexpected element <%s>", t.Name.Local)
			}
		}
	}
	if err := r.end(); err != nil {
		return Payload{}, err
	}
	switch {
	case typ == nil || *typ == "":
		return Payload{}, errors.New("missing type")
	case ts == nil:
		return Payload{}, errors.New("missing timestamp")
	case data == nil:
		return Payload{}, errors.New("missing data")
	}
	t, err := parseTimestamp(*ts)
	if err != nil {
		return Payload{}, err
	}
	if err := checkDepth(data); err != nil {
		return Payload{}, fmt.Errorf("data: %w", err)
	}
	return Payload{Type: *typ, Timestamp: t, Data: data}, nil
}

// XMLToJSON converts any XML document to JSON as the package doc describes:
// {"root": value}, where elements in the mapping Encode writes give back
// exactly the JSON they were written from.
func XMLToJSON(body []byte) ([]byte, error) {
	r := newXMLReader(body)
	root, err := r.root()
	if err != nil {
		return nil, fmt.Errorf("xml to json: %w", err)
	}
	out := append(appendString([]byte{'{'}, root.Name.Local), ':')
	// The wrapping object is the first level of nesting.
	if out, err = r.value(out, root, 1, false); err != nil {
		return nil, fmt.Errorf("xml to json: %w", err)
	}
	if err := r.end(); err != nil {
		return nil, fmt.Errorf("xml to json: %w", err)
	}
	out = append(out, '}')
	if err := checkDepth(out); err != nil {
		return nil, fmt.Errorf("xml to json: %w", err)
	}
	return out, nil
}

// stringValue reads the element start as a value that must be a string.
func (r *xmlReader) stringValue(start xml.StartElement) (string, error) {
	raw, err := r.value(nil, start, 0, false)
	if err != nil {
		return "", err
	}
	var s string
	if err := json.Unmarshal(raw, &s); err != nil {
		return "", errors.New("not a string")
	}
	return s, nil
}

// elementAttrs sorts an element's attributes into those of the mapping and
// the others; namespace declarations are dropped.
type elementAttrs struct {
	typ      string // a known type, or ""
	encoding string // only with typ == typeString
	other    []xml.Attr
}

func classifyAttrs(attrs []xml.Attr, entry bool) elementAttrs {
	var a elementAttrs
	var encoding *xml.Attr
	for i, at := range attrs {
		switch {
		case at.Name.Space == "xmlns" || at.Name.Space == "" && at.Name.Local == "xmlns":
		case at.Name.Space != "":
			a.other = append(a.other, at)
		case at.Name.Local == attrType && isKnownType(at.Value) && a.typ == "":
			a.typ = at.Value
		case at.Name.Local == attrEncoding && encoding == nil:
			encoding = &attrs[i]
		case entry && (at.Name.Local == attrKey || at.Name.Local == attrKeyJSON):
		default:
			a.other = append(a.other, at)
		}
	}
	if encoding != nil {
		if a.typ == typeString {
			a.encoding = encoding.Value
		} else {
			a.other = append(a.other, *encoding)
		}
	}
	return a
}

func isKnownType(t string) bool {
	switch t {
	case typeString, typeNumber, typeBoolean, typeNull, typeObject, typeArray:
		return true
	}
	return false
}

// value appends the JSON of the element start to dst, reading up to and
// including its end element. depth counts the elements around start; entry
// says start is an <entry> of a typed object, whose key attributes name the
// member rather than belong to the value.
func (r *xmlReader) value(dst []byte, start xml.StartElement, depth int, entry bool) ([]byte, error) {
	// Every element below the limit sits in an object or array of its own,
	// so this bounds the recursion; checkDepth on the result is exact.
	if depth > MaxDepth {
		return nil, ErrTooDeep
	}
	a := classifyAttrs(start.Attr, entry)
	if a.typ == "" {
		return r.untyped(dst, start, a.other, depth)
	}
	if len(a.other) > 0 {
		return nil, fmt.Errorf("<%s type=%q>: unexpected attribute %q", start.Name.Local, a.typ, a.other[0].Name.Local)
	}
	switch a.typ {
	case typeObject:
		return r.object(dst, depth)
	case typeArray:
		return r.array(dst, depth)
	}
	text, err := r.text(start)
	if err != nil {
		return nil, err
	}
	switch a.typ {
	case typeString:
		switch a.encoding {
		case "":
			return appendString(dst, text), nil
		case encodingJSON:
			var s string
			if !strings.HasPrefix(text, `"`) || json.Unmarshal([]byte(text), &s) != nil {
				return nil, fmt.Errorf("<%s>: not a JSON string literal", start.Name.Local)
			}
			return appendString(dst, s), nil
		default:
			return nil, fmt.Errorf("<%s>: unknown encoding %q", start.Name.Local, a.encoding)
		}
	case typeNumber:
		if n := trimBlank(text); isJSONNumber(n) {
			return append(dst, n...), nil
		}
		return nil, fmt.Errorf("<%s>: %q is not a JSON number", start.Name.Local, text)
	case typeBoolean:
		if b := trimBlank(text); b == "true" || b == "false" {
			return append(dst, b...), nil
		}
		return nil, fmt.Errorf("<%s>: %q is not a boolean", start.Name.Local, text)
	default: // typeNull
		if trimBlank(text) == "" {
			return append(dst, "null"...), nil
		}
		return nil, fmt.Errorf("<%s>: null with text %q", start.Name.Local, text)
	}
}

// text reads the character data of a scalar element up to its end.
func (r *xmlReader) text(start xml.StartElement) (string, error) {
	var text []byte
	for {
		tok, err := r.next()
		if err != nil {
			return "", err
		}
		switch t := tok.(type) {
		case xml.CharData:
			text = append(text, t...)
		case xml.StartElement:
			return "", fmt.Errorf("<%s>: unexpected child <%s>", start.Name.Local, t.Name.Local)
		case xml.EndElement:
			return string(text), nil
		}
	}
}

func (r *xmlReader) object(dst []byte, depth int) ([]byte, error) {
	return r.members(dst, '{', '}', "object", func(dst []byte, t xml.StartElement) ([]byte, error) {
		key, entry, err := memberKey(t)
		if err != nil {
			return nil, err
		}
		return r.value(append(appendString(dst, key), ':'), t, depth+1, entry)
	})
}

// members reads the children of a container (what: object or array) up to
// its end, into dst between open and close, comma separated; member
// appends each child. Text between children must be blank.
func (r *xmlReader) members(dst []byte, open, close byte, what string, member func(dst []byte, t xml.StartElement) ([]byte, error)) ([]byte, error) {
	dst = append(dst, open)
	for n := 0; ; {
		tok, err := r.next()
		if err != nil {
			return nil, err
		}
		switch t := tok.(type) {
		case xml.EndElement:
			return append(dst, close), nil
		case xml.CharData:
			if !isBlank(t) {
				return nil, errors.New("text in an " + what)
			}
		case xml.StartElement:
			if n > 0 {
				dst = append(dst, ',')
			}
			n++
			if dst, err = member(dst, t); err != nil {
				return nil, err
			}
		}
	}
}

// memberKey returns the object key an element stands for, and whether it
// is an <entry> whose key is in an attribute.
func memberKey(el xml.StartElement) (key string, entry bool, err error) {
	if el.Name.Space != "" {
		return "", false, fmt.Errorf("unexpected element <%s:%s> in an object", el.Name.Space, el.Name.Local)
	}
	if el.Name.Local != xmlEntry {
		return el.Name.Local, false, nil
	}
	for _, at := range el.Attr {
		if at.Name.Space != "" {
			continue
		}
		switch at.Name.Local {
		case attrKeyJSON:
			if !strings.HasPrefix(at.Value, `"`) || json.Unmarshal([]byte(at.Value), &key) != nil {
				return "", false, fmt.Errorf("<%s %s=%q>: not a JSON string literal", xmlEntry, attrKeyJSON, at.Value)
			}
			return key, true, nil
		case attrKey:
			return at.Value, true, nil
		}
	}
	return "", false, fmt.Errorf("<%s> without a %s attribute", xmlEntry, attrKey)
}

func (r *xmlReader) array(dst []byte, depth int) ([]byte, error) {
	return r.members(dst, '[', ']', "array", func(dst []byte, t xml.StartElement) ([]byte, error) {
		if t.Name.Space != "" || t.Name.Local != xmlItem {
			return nil, fmt.Errorf("unexpected element <%s> in an array", t.Name.Local)
		}
		return r.value(dst, t, depth+1, false)
	})
}

// untyped reads an element without a type attribute: a string when it has
// only text, otherwise an object of its attributes, children and text.
func (r *xmlReader) untyped(dst []byte, start xml.StartElement, attrs []xml.Attr, depth int) ([]byte, error) {
	var (
		text     []byte
		names    []string
		children = map[string][][]byte{}
	)
	for done := false; !done; {
		tok, err := r.next()
		if err != nil {
			return nil, err
		}
		switch t := tok.(type) {
		case xml.CharData:
			text = append(text, t...)
		case xml.StartElement:
			child, err := r.value(nil, t, depth+1, false)
			if err != nil {
				return nil, err
			}
			name := t.Name.Local
			if _, seen := children[name]; !seen {
				names = append(names, name)
			}
			children[name] = append(children[name], child)
		case xml.EndElement:
			done = true
		}
	}
	if len(attrs) == 0 && len(names) == 0 {
		return appendString(dst, string(text)), nil
	}
	dst = append(dst, '{')
	n := 0
	member := func(key string) {
		if n > 0 {
			dst = append(dst, ',')
		}
		n++
		dst = append(appendString(dst, key), ':')
	}
	for _, at := range attrs {
		member("@" + at.Name.Local)
		dst = appendString(dst, at.Value)
	}
	for _, name := range names {
		member(name)
		values := children[name]
		if len(values) == 1 {
			dst = append(dst, values[0]...)
			continue
		}
		dst = append(dst, '[')
		for i, v := range values {
			if i > 0 {
				dst = append(dst, ',')
			}
			dst = append(dst, v...)
		}
		dst = append(dst, ']')
	}
	if t := trimBlank(string(text)); t != "" {
		member("#text")
		dst = appendString(dst, t)
	}
	return append(dst, '}'), nil
}

// xmlSpace is XML's white space.
const xmlSpace = " \t\r\n"

func isBlank(b []byte) bool { return len(bytes.Trim(b, xmlSpace)) == 0 }

func trimBlank(s string) string { return strings.Trim(s, xmlSpace) }

// isJSONNumber reports whether s is a number in JSON's grammar:
// -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?
func isJSONNumber(s string) bool {
	i := 0
	digits := func() int {
		start := i
		for i < len(s) && s[i] >= '0' && s[i] <= '9' {
			i++
		}
		return i - start
	}
	if i < len(s) && s[i] == '-' {
		i++
	}
	switch {
	case i < len(s) && s[i] == '0':
		i++
	case digits() == 0:
		return false
	}
	if i < len(s) && s[i] == '.' {
		i++
		if digits() == 0 {
			return false
		}
	}
	if i < len(s) && (s[i] == 'e' || s[i] == 'E') {
		i++
		if i < len(s) && (s[i] == '+' || s[i] == '-') {
			i++
		}
		if digits() == 0 {
			return false
		}
	}
	return i == len(s)
}
