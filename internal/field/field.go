// Package field names the field of a spec or a request that a mistake is
// in, so that the API can answer 422 with details.field without reading it
// back out of an error's text.
package field

import (
	"errors"
	"fmt"
	"strings"
)

// Error is a mistake in the field at Path: a dotted path with indexes
// ("steps[2].http.url"), relative to what was checked.
type Error struct {
	Path string
	Err  error
}

func (e *Error) Error() string { return e.Path + ": " + e.Err.Error() }

func (e *Error) Unwrap() error { return e.Err }

// Errorf returns an *Error at path.
func Errorf(path, format string, args ...any) error {
	return &Error{Path: path, Err: fmt.Errorf(format, args...)}
}

// Wrap puts err at path: an *Error inside err has its path joined under
// path ("postgres" and "dsn" make "postgres.dsn"); any other error becomes
// an *Error at path. Wrap(path, nil) is nil.
func Wrap(path string, err error) error {
	if err == nil {
		return nil
	}
	var fe *Error
	if errors.As(err, &fe) {
		return &Error{Path: Join(path, fe.Path), Err: fe.Err}
	}
	return &Error{Path: path, Err: err}
}

// Join joins a field path under parent: "a" and "b" make "a.b", "a" and
// "[0]" make "a[0]"; an empty side is left out.
func Join(parent, child string) string {
	switch {
	case parent == "":
		return child
	case child == "":
		return parent
	case strings.HasPrefix(child, "["):
		return parent + child
	}
	return parent + "." + child
}

// Of returns the path of the first *Error in err, and whether there is one.
func Of(err error) (string, bool) {
	var fe *Error
	if errors.As(err, &fe) {
		return fe.Path, true
	}
	return "", false
}
