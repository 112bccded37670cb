package ingest

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"mime"
	"net/http"
	"net/url"
	"strings"
	"unicode/utf8"

	"github.com/hookline/hookline/internal/delivery/format"
)

// Normalized is an incoming body turned into JSON event data.
type Normalized struct {
	// Data is always valid, compact UTF-8 JSON nested no deeper than
	// format.MaxDepth.
	Data json.RawMessage
	// CloudEvent is set when the request is a CloudEvent, in binary or
	// structured mode.
	CloudEvent *CloudEvent
}

// ErrBadBody means a body cannot be turned into JSON event data. Errors
// wrapping it carry the reason, e.g. "malformed JSON at byte 12"; callers
// answer 400.
var ErrBadBody = errors.New("bad webhook body")

// Members of the objects that wrap bodies that are not JSON themselves.
const (
	textMember   = "text"
	base64Member = "body_base64"
)

// formPayloadField is the single form field in which GitHub and Slack send
// a JSON document form-encoded.
const formPayloadField = "payload"

// utf8BOM is skipped before JSON: some senders write one, JSON forbids it.
const utf8BOM = "\ufeff"

// emptyData returns the data of an empty body, a new slice each time since
// callers own the Data they get.
func emptyData() json.RawMessage { return json.RawMessage(`{}`) }

// Normalize converts a webhook request body to JSON according to its
// Content-Type header:
//
//   - application/json, */*+json and text/json: validated and compacted;
//     any JSON value is allowed.
//   - application/x-www-form-urlencoded: an object as format.FormToJSON makes
//     it, except that a form whose only field is "payload", given once and
//     holding a JSON object or array (as GitHub and Slack send), gives that
//     JSON.
//   - application/xml, text/xml and */*+xml: format.XMLToJSON.
//   - other text/* types: {"text": body}; the body must be UTF-8.
//   - anything else: {"body_base64": base64 of the body}.
//   - no Content-Type, or one that does not parse: sniffed, see below.
//
// An empty body gives {} whatever its type. A body without a type is JSON if
// it parses as JSON, else a form if it looks like an encoded form (only the
// characters form encoders leave unescaped, and at least one key=value
// pair), else text if it is UTF-8, else binary.
//
// A CloudEvent (see CloudEvent) sets Normalized.CloudEvent: in structured
// mode (application/cloudevents+json) Data is the event's data, in binary
// mode (a ce-specversion header) the body normalised as above. Batch mode
// (application/cloudevents-batch+json) fails with ErrCloudEventsBatch.
//
// Other failures wrap ErrBadBody with the reason. Callers limit the body's
// size before calling Normalize.
func Normalize(header http.Header, body []byte) (Normalized, error) {
	n, err := normalizeRequest(header, body)
	if err != nil && !errors.Is(err, ErrCloudEventsBatch) {
		return Normalized{}, fmt.Errorf("%w: %w", ErrBadBody, err)
	}
	return n, err
}

func normalizeRequest(header http.Header, body []byte) (Normalized, error) {
	contentType := header.Get("Content-Type")
	mediaType, _ := parseMediaType(contentType)
	switch {
	case strings.HasPrefix(mediaType, ceBatchMediaPrefix):
		return Normalized{}, ErrCloudEventsBatch
	case strings.HasPrefix(mediaType, ceMediaPrefix):
		if mediaType != ceStructuredJSON {
			return Normalized{}, fmt.Errorf("CloudEvents format %q is not supported: send %s or binary mode", mediaType, ceStructuredJSON)
		}
		return structuredCloudEvent(body)
	case hasBinaryCloudEvent(header):
		return binaryCloudEvent(header, contentType, body)
	}
	data, err := normalizeBody(contentType, body)
	if err != nil {
		return Normalized{}, err
	}
	return Normalized{Data: data}, nil
}

// parseMediaType returns the lower-case media type of a Content-Type and
// whether there was one. Malformed parameters are ignored: the media type
// alone decides how a body is read.
func parseMediaType(contentType string) (string, bool) {
	mediaType, _, err := mime.ParseMediaType(contentType)
	if err != nil && !errors.Is(err, mime.ErrInvalidMediaParameter) {
		return "", false
	}
	return mediaType, true
}

// normalizeBody converts body per contentType as Normalize describes, with
// no regard to CloudEvents: a CloudEvents type is merely JSON here.
func normalizeBody(contentType string, body []byte) (json.RawMessage, error) {
	if len(body) == 0 {
		return emptyData(), nil
	}
	mediaType, ok := parseMediaType(contentType)
	if !ok {
		return sniff(body)
	}
	if isJSONMediaType(mediaType) {
		return normalizeJSON(body)
	}
	switch f, _ := format.FormatOf(mediaType); f {
	case format.Form:
		return normalizeForm(body)
	case format.XML:
		return normalizeXML(body)
	}
	if strings.HasPrefix(mediaType, "text/") {
		return wrapText(body)
	}
	return wrapBinary(body), nil
}

// textJSON is an old media type for JSON, still sent by some SDKs.
const textJSON = "text/json"

// isJSONMediaType reports whether a media type, as parseMediaType returns
// it, is JSON: application/json, */*+json or text/json.
func isJSONMediaType(mediaType string) bool {
	if mediaType == textJSON {
		return true
	}
	f, err := format.FormatOf(mediaType)
	return err == nil && f == format.JSON
}

// looksLikeJSONContainer reports whether s, but for white space, starts
// like a JSON object or array.
func looksLikeJSONContainer(s string) bool {
	s = strings.TrimLeft(s, " \t\r\n")
	return strings.HasPrefix(s, "{") || strings.HasPrefix(s, "[")
}

// sniff guesses the format of a body sent without a usable Content-Type.
func sniff(body []byte) (json.RawMessage, error) {
	if json.Valid(bytes.TrimPrefix(body, []byte(utf8BOM))) {
		return normalizeJSON(body)
	}
	if looksLikeForm(body) {
		return normalizeForm(body)
	}
	if utf8.Valid(body) {
		return wrapText(body)
	}
	return wrapBinary(body), nil
}

// looksLikeForm reports whether body reads as a form encoder's output: only
// unreserved characters, percent escapes, '+' for spaces, the separators
// '&' and '=', and the punctuation some encoders leave as it is ("[]" in
// keys, ":/?@" in values), with at least one key=value pair. Prose with an
// equals sign has spaces and so is not a form.
func looksLikeForm(body []byte) bool {
	for _, c := range body {
		if !isFormByte(c) {
			return false
		}
	}
	if _, err := url.ParseQuery(string(body)); err != nil {
		return false
	}
	for pair := range strings.SplitSeq(string(body), "&") {
		if k, _, found := strings.Cut(pair, "="); found && k != "" {
			return true
		}
	}
	return false
}

func isFormByte(c byte) bool {
	switch {
	case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9':
		return true
	}
	return strings.IndexByte("-._~%+&=*!'(),:/?@[]$", c) >= 0
}

// normalizeJSON validates body as one UTF-8 JSON value nested no deeper
// than format.MaxDepth and returns it compacted into a new slice.
func normalizeJSON(body []byte) (json.RawMessage, error) {
	body = bytes.TrimPrefix(body, []byte(utf8BOM))
	if !json.Valid(body) {
		return nil, jsonSyntaxError(body)
	}
	// encoding/json accepts invalid UTF-8 in strings; JSON does not, nor
	// do strict clients and webhook verifiers that get the data later.
	if err := format.CheckUTF8(body); err != nil {
		return nil, fmt.Errorf("JSON is %w", err)
	}
	var buf bytes.Buffer
	buf.Grow(len(body))
	if err := json.Compact(&buf, body); err != nil {
		return nil, fmt.Errorf("malformed JSON: %w", err)
	}
	if format.Depth(buf.Bytes()) > format.MaxDepth {
		return nil, fmt.Errorf("JSON nested deeper than %d levels", format.MaxDepth)
	}
	return buf.Bytes(), nil
}

// jsonSyntaxError describes why body, which json.Valid rejected, is not
// JSON, with the 1-based position of the offending byte.
func jsonSyntaxError(body []byte) error {
	var raw json.RawMessage
	err := json.Unmarshal(body, &raw)
	if se, ok := errors.AsType[*json.SyntaxError](err); ok {
		return fmt.Errorf("malformed JSON at byte %d: %s", se.Offset, se.Error())
	}
	return fmt.Errorf("malformed JSON: %w", err)
}

// normalizeForm converts a form, unwrapping a lone JSON "payload" field.
func normalizeForm(body []byte) (json.RawMessage, error) {
	values, err := url.ParseQuery(string(body))
	if err != nil {
		return nil, fmt.Errorf("malformed form: %w", err)
	}
	if payload := values[formPayloadField]; len(values) == 1 && len(payload) == 1 {
		// A payload that is not good JSON stays a plain form field.
		if looksLikeJSONContainer(payload[0]) {
			if data, err := normalizeJSON([]byte(payload[0])); err == nil {
				return data, nil
			}
		}
	}
	data, err := format.FormToJSON(body)
	if err != nil {
		return nil, fmt.Errorf("malformed form: %w", err)
	}
	return data, nil
}

func normalizeXML(body []byte) (json.RawMessage, error) {
	data, err := format.XMLToJSON(body)
	switch {
	case errors.Is(err, format.ErrTooDeep):
		return nil, fmt.Errorf("XML nested deeper than %d levels", format.MaxDepth)
	case err != nil:
		// XMLToJSON prefixes its reason with its own name; the reason is
		// what the sender needs.
		if inner := errors.Unwrap(err); inner != nil {
			err = inner
		}
		return nil, fmt.Errorf("malformed XML: %w", err)
	}
	return data, nil
}

// wrapText returns {"text": body}.
func wrapText(body []byte) (json.RawMessage, error) {
	if err := format.CheckUTF8(body); err != nil {
		return nil, fmt.Errorf("text is %w", err)
	}
	return wrapString(textMember, string(body)), nil
}

// wrapBinary returns {"body_base64": standard base64 of body}.
func wrapBinary(body []byte) json.RawMessage {
	return wrapString(base64Member, base64.StdEncoding.EncodeToString(body))
}

// wrapString returns the compact JSON object {key: value}; value must be
// valid UTF-8.
func wrapString(key, value string) json.RawMessage {
	var buf bytes.Buffer
	buf.Grow(len(key) + len(value) + 8)
	enc := json.NewEncoder(&buf)
	// Keep <, > and & as they are: the data is not embedded in HTML.
	enc.SetEscapeHTML(false)
	// Encoding a map of strings does not fail.
	_ = enc.Encode(map[string]string{key: value})
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n"))
}
