package ingest

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"net/http"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/hookline/hookline/internal/delivery/format"
)

// CloudEvent holds the context attributes Hookline maps onto the event, as
// sent in CloudEvents 1.0 binary or structured mode over HTTP.
type CloudEvent struct {
	ID          string
	Source      string
	Type        string
	Subject     string
	SpecVersion string
	// DataContentType is the datacontenttype attribute in structured mode
	// and the Content-Type header in binary mode.
	DataContentType string
	// Time is zero when the event has no time attribute.
	Time time.Time
	// Extensions holds every other attribute (dataschema included) by its
	// lower-case name, as text: numbers and booleans as their JSON literal.
	// It is nil when there are none.
	Extensions map[string]string
}

// ErrCloudEventsBatch means the request is a batch of CloudEvents, which
// Hookline does not accept; callers answer 415 Unsupported Media Type.
var ErrCloudEventsBatch = errors.New("batched CloudEvents (" + ceBatchJSON + ") are not supported: send one event per request")

// CloudEvents HTTP protocol binding 1.0.
const (
	ceSpecVersion      = "1.0"
	ceMediaPrefix      = "application/cloudevents"
	ceBatchMediaPrefix = "application/cloudevents-batch"
	ceStructuredJSON   = "application/cloudevents+json"
	ceBatchJSON        = "application/cloudevents-batch+json"
	ceHeaderPrefix     = "ce-"
)

// Context attribute names; structured mode also has the data members.
const (
	ceAttrID              = "id"
	ceAttrSource          = "source"
	ceAttrType            = "type"
	ceAttrSubject         = "subject"
	ceAttrSpecVersion     = "specversion"
	ceAttrDataContentType = "datacontenttype"
	ceAttrTime            = "time"
	ceMemberData          = "data"
	ceMemberDataBase64    = "data_base64"
)

// hasBinaryCloudEvent reports whether header has a ce-specversion field,
// the mark of binary mode.
func hasBinaryCloudEvent(header http.Header) bool {
	for key := range header {
		if strings.EqualFold(key, ceHeaderPrefix+ceAttrSpecVersion) {
			return true
		}
	}
	return false
}

// binaryCloudEvent reads the attributes of a binary-mode CloudEvent from
// its ce-* header fields; the body is the data, normalised by contentType.
// Only the first value of a repeated field counts.
func binaryCloudEvent(header http.Header, contentType string, body []byte) (Normalized, error) {
	ce := &CloudEvent{DataContentType: strings.ToValidUTF8(contentType, "\ufffd")}
	for _, key := range slices.Sorted(maps.Keys(header)) {
		values := header[key]
		if len(key) <= len(ceHeaderPrefix) || !strings.EqualFold(key[:len(ceHeaderPrefix)], ceHeaderPrefix) || len(values) == 0 {
			continue
		}
		name := strings.ToValidUTF8(strings.ToLower(key[len(ceHeaderPrefix):]), "\ufffd")
		if err := ce.set(name, ceDecodeHeaderValue(values[0])); err != nil {
			return Normalized{}, err
		}
	}
	if err := ce.validate(); err != nil {
		return Normalized{}, err
	}
	data, err := normalizeBody(contentType, body)
	if err != nil {
		return Normalized{}, err
	}
	return Normalized{Data: data, CloudEvent: ce}, nil
}

// set assigns the attribute name its textual value.
func (ce *CloudEvent) set(name, value string) error {
	switch name {
	case ceAttrID:
		ce.ID = value
	case ceAttrSource:
		ce.Source = value
	case ceAttrType:
		ce.Type = value
	case ceAttrSubject:
		ce.Subject = value
	case ceAttrSpecVersion:
		ce.SpecVersion = value
	case ceAttrTime:
		t, err := time.Parse(time.RFC3339Nano, value)
		if err != nil {
			return fmt.Errorf("CloudEvent time %q is not an RFC 3339 timestamp", value)
		}
		ce.Time = t
	default:
		if ce.Extensions == nil {
			ce.Extensions = map[string]string{}
		}
		ce.Extensions[name] = value
	}
	return nil
}

// validate checks the attributes every CloudEvent must have.
func (ce *CloudEvent) validate() error {
	switch {
	case ce.SpecVersion != ceSpecVersion:
		return fmt.Errorf("CloudEvents specversion %q is not supported: want %s", ce.SpecVersion, ceSpecVersion)
	case ce.ID == "":
		return errors.New("CloudEvent without id")
	case ce.Source == "":
		return errors.New("CloudEvent without source")
	case ce.Type == "":
		return errors.New("CloudEvent without type")
	}
	return nil
}

// ceDecodeHeaderValue undoes the percent-encoding the HTTP binding requires
// for header values (section 3.1.3.2). A '%' not followed by two hex digits
// stays as it is, as does a value that would not decode to UTF-8, since
// some senders do not encode at all; invalid UTF-8 becomes U+FFFD.
func ceDecodeHeaderValue(v string) string {
	if strings.IndexByte(v, '%') < 0 {
		return strings.ToValidUTF8(v, "\ufffd")
	}
	b := make([]byte, 0, len(v))
	for i := 0; i < len(v); i++ {
		if v[i] == '%' && i+2 < len(v) && ceIsHex(v[i+1]) && ceIsHex(v[i+2]) {
			b = append(b, ceUnhex(v[i+1])<<4|ceUnhex(v[i+2]))
			i += 2
			continue
		}
		b = append(b, v[i])
	}
	if !utf8.Valid(b) {
		return strings.ToValidUTF8(v, "\ufffd")
	}
	return string(b)
}

func ceIsHex(c byte) bool {
	return c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F'
}

func ceUnhex(c byte) byte {
	switch {
	case c >= 'a':
		return c - 'a' + 10
	case c >= 'A':
		return c - 'A' + 10
	}
	return c - '0'
}

// structuredCloudEvent reads a CloudEvent in the JSON event format. An
// attribute or data member that is null counts as absent.
func structuredCloudEvent(body []byte) (Normalized, error) {
	if len(body) == 0 {
		return Normalized{}, errors.New("empty CloudEvents envelope")
	}
	envelope, err := normalizeJSON(body)
	if err != nil {
		return Normalized{}, fmt.Errorf("CloudEvents envelope: %w", err)
	}
	var members map[string]json.RawMessage
	if err := json.Unmarshal(envelope, &members); err != nil {
		return Normalized{}, errors.New("CloudEvents envelope is not a JSON object")
	}
	ce := &CloudEvent{}
	var data, dataBase64 json.RawMessage
	for _, name := range slices.Sorted(maps.Keys(members)) {
		raw := members[name]
		if string(raw) == "null" {
			continue
		}
		switch name {
		case ceMemberData:
			data = raw
		case ceMemberDataBase64:
			dataBase64 = raw
		case ceAttrDataContentType:
			if ce.DataContentType, err = ceStringAttr(name, raw); err != nil {
				return Normalized{}, err
			}
		case ceAttrID, ceAttrSource, ceAttrType, ceAttrSubject, ceAttrSpecVersion, ceAttrTime:
			s, err := ceStringAttr(name, raw)
			if err != nil {
				return Normalized{}, err
			}
			if err := ce.set(name, s); err != nil {
				return Normalized{}, err
			}
		default:
			if err := ce.set(name, textOfJSON(raw)); err != nil {
				return Normalized{}, err
			}
		}
	}
	if err := ce.validate(); err != nil {
		return Normalized{}, err
	}
	d, err := structuredData(ce.DataContentType, data, dataBase64)
	if err != nil {
		return Normalized{}, err
	}
	return Normalized{Data: d, CloudEvent: ce}, nil
}

// structuredData returns the event data of a structured CloudEvent. A
// data value is JSON data as it is, unless it is a string and
// datacontenttype is not JSON: then the string, like the bytes of
// data_base64, is normalised per datacontenttype, so that both modes give
// the same data for the same event.
func structuredData(dataContentType string, data, dataBase64 json.RawMessage) (json.RawMessage, error) {
	switch {
	case data != nil && dataBase64 != nil:
		return nil, fmt.Errorf("CloudEvent has both %s and %s", ceMemberData, ceMemberDataBase64)
	case dataBase64 != nil:
		var encoded string
		if err := json.Unmarshal(dataBase64, &encoded); err != nil {
			return nil, fmt.Errorf("CloudEvent %s is not a string", ceMemberDataBase64)
		}
		raw, err := ceDecodeBase64(encoded)
		if err != nil {
			return nil, fmt.Errorf("CloudEvent %s is not base64: %w", ceMemberDataBase64, err)
		}
		d, err := normalizeBody(dataContentType, raw)
		if err != nil {
			return nil, fmt.Errorf("CloudEvent %s: %w", ceMemberDataBase64, err)
		}
		return d, nil
	case data == nil:
		return emptyData(), nil
	}
	var s string
	if dataContentType == "" || data[0] != '"' || json.Unmarshal(data, &s) != nil {
		return data, nil
	}
	if mediaType, ok := parseMediaType(dataContentType); ok && isJSONMediaType(mediaType) {
		// sdk-go, among others, writes data of a JSON type other than
		// application/json and text/json as a string holding the JSON text,
		// where the spec wants the JSON value. An object or array in such a
		// string is taken for that data; a string is kept under the two
		// types every SDK gets right.
		if mediaType != format.ContentTypeJSON && mediaType != textJSON && looksLikeJSONContainer(s) {
			if d, err := normalizeJSON([]byte(s)); err == nil {
				return d, nil
			}
		}
		return data, nil
	}
	d, err := normalizeBody(dataContentType, []byte(s))
	if err != nil {
		return nil, fmt.Errorf("CloudEvent %s: %w", ceMemberData, err)
	}
	return d, nil
}

// ceDecodeBase64 decodes standard base64, padded or not.
func ceDecodeBase64(s string) ([]byte, error) {
	b, err := base64.StdEncoding.DecodeString(s)
	if err != nil {
		if raw, rawErr := base64.RawStdEncoding.DecodeString(s); rawErr == nil {
			return raw, nil
		}
	}
	return b, err
}

func ceStringAttr(name string, raw json.RawMessage) (string, error) {
	var s string
	if err := json.Unmarshal(raw, &s); err != nil {
		return "", fmt.Errorf("CloudEvent attribute %q is not a string", name)
	}
	return s, nil
}

// textOfJSON returns a valid JSON value as text: a string unquoted, anything
// else as its compact JSON.
func textOfJSON(raw json.RawMessage) string {
	var s string
	if len(raw) > 0 && raw[0] == '"' && json.Unmarshal(raw, &s) == nil {
		return s
	}
	return string(raw)
}
