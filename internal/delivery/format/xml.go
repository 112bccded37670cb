package format

import (
	"bytes"
	"encoding/json"
	"encoding/xml"
	"fmt"
	"strings"
)

// Element and attribute names of the XML mapping; see the package doc.
const (
	xmlRoot       = "webhook"
	xmlType       = "type"
	xmlTimestamp  = "timestamp"
	xmlData       = "data"
	xmlItem       = "item"
	xmlEntry      = "entry"
	attrType      = "type"
	attrEncoding  = "encoding"
	attrKey       = "key"
	attrKeyJSON   = "key-json"
	encodingJSON  = "json"
	typeString    = "string"
	typeNumber    = "number"
	typeBoolean   = "boolean"
	typeNull      = "null"
	typeObject    = "object"
	typeArray     = "array"
	xmlNamePrefix = "xml"
)

type xmlAttr struct{ name, value string }

// xmlWriter writes the XML mapping of the JSON values read from dec, which
// uses UseNumber so numbers keep their literal text.
type xmlWriter struct {
	buf bytes.Buffer
	dec *json.Decoder
}

func encodeXML(typ, ts string, data []byte) ([]byte, error) {
	w := &xmlWriter{dec: json.NewDecoder(bytes.NewReader(data))}
	w.dec.UseNumber()
	w.buf.Grow(2*len(data) + 80)
	w.buf.WriteString("<" + xmlRoot + ">")
	w.writeString(xmlType, nil, typ)
	w.writeString(xmlTimestamp, nil, ts)
	tok, err := w.dec.Token()
	if err != nil {
		return nil, fmt.Errorf("xml data: %w", err)
	}
	if err := w.writeValue(xmlData, nil, tok); err != nil {
		return nil, fmt.Errorf("xml data: %w", err)
	}
	w.buf.WriteString("</" + xmlRoot + ">")
	return w.buf.Bytes(), nil
}

// writeValue writes the value starting with tok as element name. Recursion
// is bounded: data was checked against MaxDepth before.
func (w *xmlWriter) writeValue(name string, attrs []xmlAttr, tok json.Token) error {
	switch v := tok.(type) {
	case json.Delim:
		if v == '{' {
			return w.writeContainer(name, append(attrs, xmlAttr{attrType, typeObject}), '}', w.writeMember)
		}
		return w.writeContainer(name, append(attrs, xmlAttr{attrType, typeArray}), ']', w.writeItem)
	case string:
		w.writeString(name, attrs, v)
	case json.Number:
		w.writeElement(name, append(attrs, xmlAttr{attrType, typeNumber}), string(v))
	case bool:
		text := "false"
		if v {
			text = "true"
		}
		w.writeElement(name, append(attrs, xmlAttr{attrType, typeBoolean}), text)
	case nil:
		w.writeElement(name, append(attrs, xmlAttr{attrType, typeNull}), "")
	default:
		return fmt.Errorf("unexpected json token %v", tok)
	}
	return nil
}

// writeContainer writes an object or array whose opening delimiter has been
// read, calling child for each member or element until end.
func (w *xmlWriter) writeContainer(name string, attrs []xmlAttr, end json.Delim, child func() error) error {
	if !w.dec.More() {
		w.writeElement(name, attrs, "")
	} else {
		w.openTag(name, attrs)
		w.buf.WriteByte('>')
		for w.dec.More() {
			if err := child(); err != nil {
				return err
			}
		}
		w.closeTag(name)
	}
	tok, err := w.dec.Token()
	if err != nil {
		return err
	}
	if tok != end {
		return fmt.Errorf("want %v, got %v", end, tok)
	}
	return nil
}

func (w *xmlWriter) writeMember() error {
	tok, err := w.dec.Token()
	if err != nil {
		return err
	}
	key, ok := tok.(string)
	if !ok {
		return fmt.Errorf("want object key, got %v", tok)
	}
	value, err := w.dec.Token()
	if err != nil {
		return err
	}
	switch {
	case isPlainName(key):
		return w.writeValue(key, nil, value)
	case isXMLText(key):
		return w.writeValue(xmlEntry, []xmlAttr{{attrKey, key}}, value)
	default:
		return w.writeValue(xmlEntry, []xmlAttr{{attrKeyJSON, string(appendString(nil, key))}}, value)
	}
}

func (w *xmlWriter) writeItem() error {
	tok, err := w.dec.Token()
	if err != nil {
		return err
	}
	return w.writeValue(xmlItem, nil, tok)
}

// writeString writes a string element, as a JSON literal when XML cannot
// carry its characters.
func (w *xmlWriter) writeString(name string, attrs []xmlAttr, s string) {
	if isXMLText(s) {
		w.writeElement(name, attrs, s)
		return
	}
	attrs = append(attrs, xmlAttr{attrType, typeString}, xmlAttr{attrEncoding, encodingJSON})
	w.writeElement(name, attrs, string(appendString(nil, s)))
}

// writeElement writes <name attrs>text</name>, or <name attrs/> for empty
// text. text and attribute values must be XML text.
func (w *xmlWriter) writeElement(name string, attrs []xmlAttr, text string) {
	w.openTag(name, attrs)
	if text == "" {
		w.buf.WriteString("/>")
		return
	}
	w.buf.WriteByte('>')
	w.escape(text)
	w.closeTag(name)
}

func (w *xmlWriter) openTag(name string, attrs []xmlAttr) {
	w.buf.WriteByte('<')
	w.buf.WriteString(name)
	for _, a := range attrs {
		w.buf.WriteByte(' ')
		w.buf.WriteString(a.name)
		w.buf.WriteString(`="`)
		w.escape(a.value)
		w.buf.WriteByte('"')
	}
}

// escape writes s with XML's special characters and white space other than
// the space escaped, so that neither text nor attribute values are changed by
// an XML parser's normalisation.
func (w *xmlWriter) escape(s string) {
	// Writes to a bytes.Buffer do not fail.
	_ = xml.EscapeText(&w.buf, []byte(s))
}

func (w *xmlWriter) closeTag(name string) {
	w.buf.WriteString("</")
	w.buf.WriteString(name)
	w.buf.WriteByte('>')
}

// isPlainName reports whether key can be an element name as it is: a
// conservative subset of XML names that no XML tool treats specially.
func isPlainName(key string) bool {
	if key == "" || key == xmlEntry || strings.HasPrefix(strings.ToLower(key), xmlNamePrefix) {
		return false
	}
	for i := 0; i < len(key); i++ {
		c := key[i]
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c == '_':
		case i > 0 && (c >= '0' && c <= '9' || c == '-' || c == '.'):
		default:
			return false
		}
	}
	return true
}
