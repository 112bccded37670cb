package api

import (
	"encoding/json"
	"errors"
	"io"
	"mime"
	"net/http"
	"strconv"

	"github.com/hookline/hookline/internal/store"
)

// decode reads r's JSON body into v, rejecting unknown fields, trailing
// data and anything over the body limit (set by the limitBody middleware).
func decode(r *http.Request, v any) error {
	if ct := r.Header.Get("Content-Type"); ct != "" {
		mt, _, err := mime.ParseMediaType(ct)
		if err != nil || (mt != "application/json" && mt != "text/json") {
			return errorf(http.StatusUnsupportedMediaType, codeUnsupportedMedia, "Content-Type must be application/json, got %q", ct)
		}
	}
	dec := json.NewDecoder(r.Body)
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return jsonError(err)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return errorf(http.StatusBadRequest, codeInvalidJSON, "request body must hold a single JSON object")
	}
	return nil
}

// decodeOptional is decode for bodies that may be empty.
func decodeOptional(r *http.Request, v any) error {
	if r.ContentLength == 0 {
		return nil
	}
	return decode(r, v)
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

// page reads limit and cursor query parameters.
func page(r *http.Request) (store.Page, error) {
	p := store.Page{Cursor: r.URL.Query().Get("cursor")}
	if v := r.URL.Query().Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > maxPageLimit {
			return p, errorf(http.StatusBadRequest, codeBadRequest, "limit must be an integer from 1 to %d", maxPageLimit)
		}
		p.Limit = n
	}
	if len(p.Cursor) > 100 {
		return p, errorf(http.StatusBadRequest, codeBadRequest, "cursor is not valid")
	}
	return p, nil
}

const (
	defaultPageLimit = 100
	maxPageLimit     = 1000
)

// pageOf returns one page of items with the cursor of the next one.
func pageOf[T any](items []T, p store.Page, id func(T) string) map[string]any {
	limit := p.Limit
	if limit == 0 {
		limit = defaultPageLimit
	}
	if items == nil {
		items = []T{}
	}
	out := map[string]any{"data": items}
	if len(items) == limit {
		out["next_cursor"] = id(items[len(items)-1])
	}
	return out
}

func fieldErr(field string, err error) error {
	return invalid(field, "%v", err)
}
