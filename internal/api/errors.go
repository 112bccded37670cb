package api

import (
	"errors"
	"fmt"
	"log/slog"
	"net/http"

	"github.com/hookline/hookline/internal/answer"
	"github.com/hookline/hookline/internal/apply"
	"github.com/hookline/hookline/internal/field"
	"github.com/hookline/hookline/internal/store"
	"github.com/hookline/hookline/wire"
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
	codeCommitUnknown    = "commit_unknown"
	codeStorage          = "insufficient_storage"
)

// Retry-After of the answers to a fault of the database, in seconds: an
// outage is usually short; a full disk waits for someone to make room.
const (
	retryUnavailable = "5"
	retryDiskFull    = "30"
)

// apiError is an error with its HTTP status and code.
type apiError struct {
	status  int
	code    string
	message string
	details map[string]any
	// retryAfter, when set, is sent as the Retry-After header.
	retryAfter string
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

// asValidation sets *ae to the answer to err when err is a validation
// error: an *apiError; a mistake in one resource of a declaration (an
// *apply.Error, see declarationError); an *apply.ConflictError (409
// conflict with its message); or a *field.Error of a domain package (422
// validation_failed naming the field).
func asValidation(err error, ae **apiError) bool {
	var de *apply.Error
	var ce *apply.ConflictError
	var fe *field.Error
	switch {
	case errors.As(err, &de):
		*ae = declarationError(de)
	case errors.As(err, ae):
	case errors.As(err, &ce):
		*ae = errorf(http.StatusConflict, codeConflict, "%s", ce.Msg)
	case errors.As(err, &fe):
		*ae = invalid(fe.Path, "%v", fe.Err)
	default:
		return false
	}
	return true
}

// notFoundError is a resource the request names that the caller's tenant
// does not have. It is a store.ErrNotFound that says what was not found.
type notFoundError struct {
	kind, id string
}

func (e *notFoundError) Error() string { return e.kind + " " + e.id + " not found" }

func (e *notFoundError) Is(target error) bool { return target == store.ErrNotFound }

// notFound names the resource a store.ErrNotFound was about, by its kind
// ("endpoint", "notify rule") and the id or name the request gave; other
// errors, and one already named, pass unchanged.
func notFound(err error, kind, id string) error {
	var nf *notFoundError
	if !errors.Is(err, store.ErrNotFound) || errors.As(err, &nf) {
		return err
	}
	return &notFoundError{kind: kind, id: id}
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
	var nf *notFoundError
	switch {
	case asValidation(err, &ae):
	case errors.As(err, &mbe):
		ae = errorf(http.StatusRequestEntityTooLarge, codeTooLarge, "request body is larger than %d bytes", mbe.Limit)
	case errors.As(err, &nf):
		ae = errorf(http.StatusNotFound, codeNotFound, "%s", nf.Error()).with("kind", nf.kind).with("id", nf.id)
	case errors.Is(err, store.ErrNotFound):
		// A handler that did not say what it looked for (notFound).
		ae = errorf(http.StatusNotFound, codeNotFound, "not found")
	case errors.Is(err, store.ErrConflict):
		ae = errorf(http.StatusConflict, codeConflict, "already exists")
	case store.Fault(err) != nil:
		log.WarnContext(r.Context(), "request failed: database fault", "method", r.Method, "path", r.URL.Path, "error", err)
		ae = faultError(store.Fault(err))
	default:
		log.ErrorContext(r.Context(), "request failed", "method", r.Method, "path", r.URL.Path, "error", err)
		ae = errorf(http.StatusInternalServerError, codeInternal, "internal error")
	}
	if ae.retryAfter != "" {
		w.Header().Set("Retry-After", ae.retryAfter)
	}
	answer.JSON(w, ae.status, map[string]any{"error": wire.Error{Code: ae.code, Message: ae.message, Details: ae.details}})
}

// faultError is the answer to a fault of the database (store.Fault). For
// a publish, 503 and 507 mean nothing was committed; 504 that the commit
// was sent and never answered, so it may have been.
func faultError(fault error) *apiError {
	var ae *apiError
	switch fault {
	case store.ErrCommitUnknown:
		ae = errorf(http.StatusGatewayTimeout, codeCommitUnknown, "the database did not answer the commit in time: "+
			"it may or may not have taken effect; retry with the same Idempotency-Key, which never makes a second event")
		ae.retryAfter = retryUnavailable
	case store.ErrDiskFull:
		ae = errorf(http.StatusInsufficientStorage, codeStorage, "the database has no room to write: nothing was stored; retry later")
		ae.retryAfter = retryDiskFull
	default:
		ae = errorf(http.StatusServiceUnavailable, codeUnavailable, "the database is unavailable or did not answer in time: retry later")
		ae.retryAfter = retryUnavailable
	}
	return ae
}
