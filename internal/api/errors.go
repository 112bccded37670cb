package api

import (
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"

	"github.com/hookline/hookline/client"
	"github.com/hookline/hookline/internal/store"
)

// Error codes of the API; stable, documented in docs/api.md.
const (
	codeBadRequest       = "bad_request"
	codeInvalidJSON      = "invalid_json"
	codeUnauthorized     = "unauthorized"
	codeForbidden        = "forbidden"
	codeNotFound         = "not_found"
	codeMethodNotAllowed = "method_not_allowed"
	codeConflict         = "conflict"
	codeTooLarge         = "payload_too_large"
	codeUnsupportedMedia = "unsupported_media_type"
	codeValidation       = "validation_failed"
	codeSchema           = "schema_violation"
	codeInternal         = "internal_error"
	codeUnavailable      = "unavailable"
)

// apiError is an error with its HTTP status and code.
type apiError struct {
	status  int
	code    string
	message string
	details map[string]any
}

func (e *apiError) Error() string { return e.message }

func errorf(status int, code, format string, args ...any) *apiError {
	return &apiError{status: status, code: code, message: fmt.Sprintf(format, args...)}
}

// invalid is a 422 naming the field at fault.
func invalid(field, format string, args ...any) *apiError {
	e := errorf(http.StatusUnprocessableEntity, codeValidation, "%s: %s", field, fmt.Sprintf(format, args...))
	e.details = map[string]any{"field": field}
	return e
}

func (e *apiError) with(k string, v any) *apiError {
	if e.details == nil {
		e.details = map[string]any{}
	}
	e.details[k] = v
	return e
}

// writeError is the one place errors become HTTP answers.
func writeError(w http.ResponseWriter, r *http.Request, log *slog.Logger, err error) {
	var ae *apiError
	var mbe *http.MaxBytesError
	switch {
	case errors.As(err, &ae):
	case errors.As(err, &mbe):
		ae = errorf(http.StatusRequestEntityTooLarge, codeTooLarge, "request body is larger than %d bytes", mbe.Limit)
	case errors.Is(err, store.ErrNotFound):
		ae = errorf(http.StatusNotFound, codeNotFound, "not found")
	case errors.Is(err, store.ErrConflict):
		ae = errorf(http.StatusConflict, codeConflict, "already exists")
	default:
		log.ErrorContext(r.Context(), "request failed", "method", r.Method, "path", r.URL.Path, "error", err)
		ae = errorf(http.StatusInternalServerError, codeInternal, "internal error")
	}
	writeJSON(w, ae.status, map[string]any{"error": client.Error{Code: ae.code, Message: ae.message, Details: ae.details}})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	_ = enc.Encode(v)
}
