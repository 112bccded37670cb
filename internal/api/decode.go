package api

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"mime"
	"net/http"
	"sync"

	"github.com/hookline/hookline/internal/delivery/format"
)

// decode reads r's JSON body into v. It is the one place the API reads a
// JSON body: the body must be UTF-8 and one JSON object, with no unknown
// fields, nothing after it, and no larger than the body limit (set by
// authenticate).
func decode(r *http.Request, v any) error {
	return decodeBody(r, v, false)
}

// decodeOptional is decode for routes whose body may be absent: an empty
// body leaves v as it is. Anything else must be a JSON object, as for
// decode; `null` is not "no body".
func decodeOptional(r *http.Request, v any) error {
	return decodeBody(r, v, true)
}

// namedByPath checks the name or id a PUT body gives its resource, *key,
// against the path value named field, which fills it in when the body has
// none: a replace cannot rename. note ends the refusal's message.
func namedByPath(r *http.Request, field string, key *string, note string) error {
	want := r.PathValue(field)
	if *key == "" {
		*key = want
	}
	if *key != want {
		return invalid(field, "is %q but the URL names %q%s", *key, want, note)
	}
	return nil
}

func decodeBody(r *http.Request, v any, optional bool) error {
	// The body is bounded by MaxBytesReader, and encoding/json buffers a
	// whole value anyway: reading it first lets it be checked before any
	// of it is decoded. Nothing decoded into v refers to it (strings and
	// json.RawMessage are copies), so its buffer is reused.
	buf := bodyBuffers.Get().(*[]byte)
	defer putBodyBuffer(buf)
	body, err := readBody(r.Body, (*buf)[:0])
	*buf = body
	if err != nil {
		return jsonError(err)
	}
	if optional && len(body) == 0 {
		// Whatever its type: `curl -d ''` sends a form type.
		return nil
	}
	if ct := r.Header.Get("Content-Type"); ct != "" && ct != "application/json" {
		mt, _, err := mime.ParseMediaType(ct)
		if err != nil || (mt != "application/json" && mt != "text/json") {
			return errorf(http.StatusUnsupportedMediaType, codeUnsupportedMedia, "Content-Type must be application/json, got %q", ct)
		}
	}
	if err := checkBody(body); err != nil {
		return err
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return jsonError(err)
	}
	// What follows the object may only be white space (what Token
	// would skip before io.EOF), read from body rather than through the
	// decoder, which would grow its buffer to look.
	if len(bytes.TrimLeft(body[dec.InputOffset():], " \t\r\n")) > 0 {
		return errorf(http.StatusBadRequest, codeInvalidJSON, "request body must hold a single JSON object; there is more after it")
	}
	return nil
}

// maxPooledBody is the largest body buffer kept for reuse: an event's
// body is a few KiB, a batch's up to BatchMaxBody.
const maxPooledBody = 64 << 10

// bodyBuffers are the buffers decodeBody reads bodies into.
var bodyBuffers = sync.Pool{New: func() any { b := make([]byte, 0, 4<<10); return &b }}

func putBodyBuffer(b *[]byte) {
	if cap(*b) > maxPooledBody {
		return
	}
	*b = (*b)[:0]
	bodyBuffers.Put(b)
}

// readBody appends all of r to buf, as io.ReadAll does into a new slice.
func readBody(r io.Reader, buf []byte) ([]byte, error) {
	for {
		if len(buf) == cap(buf) {
			buf = append(buf, 0)[:len(buf)]
		}
		n, err := r.Read(buf[len(buf):cap(buf)])
		buf = buf[:len(buf)+n]
		if err == io.EOF {
			return buf, nil
		}
		if err != nil {
			return buf, err
		}
	}
}

// checkBody refuses what encoding/json would let through: invalid UTF-8,
// which it replaces by U+FFFD in strings and keeps as it is in a
// json.RawMessage (event data), and a body that is not an object, which
// decoding into a struct takes for an empty one when it is null.
func checkBody(body []byte) error {
	if err := format.CheckUTF8(body); err != nil {
		return errorf(http.StatusBadRequest, codeInvalidJSON, "request body is %v", err)
	}
	trimmed := bytes.TrimLeft(body, " \t\r\n")
	if len(trimmed) == 0 {
		return errorf(http.StatusBadRequest, codeInvalidJSON, "request body is empty; a JSON object is required")
	}
	if kind := jsonKind(trimmed); kind != "object" && kind != "" {
		return errorf(http.StatusBadRequest, codeInvalidJSON, "request body must be a JSON object, not %s", kind)
	}
	// Anything else that is not an object is malformed; the decoder says
	// where.
	return nil
}

// jsonKind names the kind of JSON value text starts with, for messages,
// or is "" when text starts like no JSON value.
func jsonKind(text []byte) string {
	switch c := text[0]; {
	case c == '{':
		return "object"
	case c == '[':
		return "an array"
	case c == '"':
		return "a string"
	case c == 'n' && bytes.HasPrefix(text, []byte("null")):
		return "null"
	case c == 't' && bytes.HasPrefix(text, []byte("true")), c == 'f' && bytes.HasPrefix(text, []byte("false")):
		return "a boolean"
	case c == '-' || c >= '0' && c <= '9':
		return "a number"
	}
	return ""
}

func jsonError(err error) error {
	var mbe *http.MaxBytesError
	var syn *json.SyntaxError
	var typ *json.UnmarshalTypeError
	switch {
	case errors.As(err, &mbe):
		return err
	case errors.Is(err, io.EOF):
		return errorf(http.StatusBadRequest, codeInvalidJSON, "request body is empty; a JSON object is required")
	case errors.As(err, &syn):
		return errorf(http.StatusBadRequest, codeInvalidJSON, "malformed JSON at byte %d: %v", syn.Offset, syn)
	case errors.As(err, &typ):
		field := typ.Field
		if field == "" {
			field = "body"
		}
		return errorf(http.StatusBadRequest, codeInvalidJSON, "%s: expected %s, got JSON %s", field, typ.Type, typ.Value).with("field", field)
	case errors.Is(err, io.ErrUnexpectedEOF):
		return errorf(http.StatusBadRequest, codeInvalidJSON, "malformed JSON: unexpected end of body")
	default:
		return errorf(http.StatusBadRequest, codeInvalidJSON, "malformed JSON: %v", err)
	}
}

func fieldErr(field string, err error) error {
	return invalid(field, "%v", err)
}
