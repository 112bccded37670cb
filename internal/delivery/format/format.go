package format

import (
	"encoding/json"
	"errors"
	"fmt"
	"mime"
	"strings"
	"time"
)

// Payload is the Standard Webhooks body: the event type, when it happened
// and its data.
type Payload struct {
	Type      string
	Timestamp time.Time
	Data      json.RawMessage
}

// The body formats an endpoint may choose.
const (
	JSON = "json"
	Form = "form"
	XML  = "xml"
)

// Content types written by Encode.
const (
	ContentTypeJSON = "application/json"
	ContentTypeForm = "application/x-www-form-urlencoded"
	ContentTypeXML  = "application/xml"
)

// MaxDepth is the deepest nesting of objects and arrays accepted in data.
const MaxDepth = 64

// timestampLayout is RFC 3339 with exactly three fraction digits; Encode
// formats in UTC, so it always ends in "Z".
const timestampLayout = "2006-01-02T15:04:05.000Z07:00"

var (
	// ErrUnsupported means the format or content type is none this package
	// handles.
	ErrUnsupported = errors.New("unsupported webhook body format")
	// ErrTooDeep means objects and arrays nest deeper than MaxDepth.
	ErrTooDeep = fmt.Errorf("json nested deeper than %d levels", MaxDepth)
)

// Valid reports whether format is JSON, Form or XML.
func Valid(format string) bool {
	switch format {
	case JSON, Form, XML:
		return true
	}
	return false
}

// Encode returns p as a body in format and the body's Content-Type. p.Type
// must not be empty and p.Data must be JSON; the timestamp is written in UTC
// and truncated to milliseconds.
func Encode(format string, p Payload) (body []byte, contentType string, err error) {
	return Append(nil, format, p)
}

// Append is Encode appending the body to dst; on error dst is returned
// as it was.
func Append(dst []byte, format string, p Payload) (body []byte, contentType string, err error) {
	if !Valid(format) {
		return dst, "", fmt.Errorf("encode payload: format %q: %w", format, ErrUnsupported)
	}
	if p.Type == "" {
		return dst, "", errors.New("encode payload: empty type")
	}
	if err := checkTimestamp(p.Timestamp); err != nil {
		return dst, "", fmt.Errorf("encode payload: %w", err)
	}
	if format == JSON {
		// The data is compacted straight into the body.
		body, err := appendJSON(dst, p)
		if err != nil {
			return dst, "", fmt.Errorf("encode payload: %w", err)
		}
		return body, ContentTypeJSON, nil
	}
	ts := string(appendTimestamp(nil, p.Timestamp))
	data, err := normaliseData(p.Data)
	if err != nil {
		return dst, "", fmt.Errorf("encode payload: %w", err)
	}
	if format == Form {
		return append(dst, encodeForm(p.Type, ts, data)...), ContentTypeForm, nil
	}
	body, err = encodeXML(p.Type, ts, data)
	if err != nil {
		return dst, "", fmt.Errorf("encode payload: %w", err)
	}
	return append(dst, body...), ContentTypeXML, nil
}

// Decode parses a body of contentType, as written by Encode, back into a
// Payload whose Data is compact JSON.
func Decode(contentType string, body []byte) (Payload, error) {
	format, err := FormatOf(contentType)
	if err != nil {
		return Payload{}, fmt.Errorf("decode payload: %w", err)
	}
	var p Payload
	switch format {
	case JSON:
		p, err = decodeJSON(body)
	case Form:
		p, err = decodeForm(body)
	default:
		p, err = decodeXML(body)
	}
	if err != nil {
		return Payload{}, fmt.Errorf("decode %s payload: %w", format, err)
	}
	return p, nil
}

// FormatOf returns the format of a Content-Type: JSON for application/json
// and */*+json, Form for application/x-www-form-urlencoded, XML for
// application/xml, text/xml and */*+xml. Parameters such as charset are
// ignored; anything else wraps ErrUnsupported.
func FormatOf(contentType string) (string, error) {
	mediaType, _, err := mime.ParseMediaType(contentType)
	if err != nil {
		return "", fmt.Errorf("content type %q: %w", contentType, errors.Join(ErrUnsupported, err))
	}
	switch {
	case mediaType == ContentTypeJSON || strings.HasSuffix(mediaType, "+json"):
		return JSON, nil
	case mediaType == ContentTypeForm:
		return Form, nil
	case mediaType == ContentTypeXML || mediaType == "text/xml" || strings.HasSuffix(mediaType, "+xml"):
		return XML, nil
	}
	return "", fmt.Errorf("content type %q: %w", contentType, ErrUnsupported)
}

// checkTimestamp refuses a time whose year RFC 3339 cannot write.
func checkTimestamp(t time.Time) error {
	if y := t.UTC().Year(); y < 0 || y > 9999 {
		return fmt.Errorf("timestamp year %d outside [0,9999]", y)
	}
	return nil
}

// appendTimestamp appends t as the payload's timestamp, in UTC; t must
// pass checkTimestamp.
func appendTimestamp(dst []byte, t time.Time) []byte {
	return t.UTC().AppendFormat(dst, timestampLayout)
}

func parseTimestamp(s string) (time.Time, error) {
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return time.Time{}, fmt.Errorf("timestamp %q is not RFC 3339: %w", s, err)
	}
	return t.UTC(), nil
}
