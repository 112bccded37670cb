package apply

import (
	"errors"
	"fmt"

	"github.com/hookline/hookline/internal/field"
	"github.com/hookline/hookline/internal/store"
	"github.com/hookline/hookline/internal/workflow"
)

// Error is a mistake in one resource of a declaration. Apply returns it
// before anything is written.
type Error struct {
	// Resource is the resource's place in the declaration: its key and
	// index, such as "sources[1]".
	Resource string
	// Name is the resource's name (a recipient's id).
	Name string
	// Err is the mistake: a *field.Error naming the field at fault, a
	// *ConflictError, or a workflow's compile errors (workflow.Errors).
	Err error
}

// Error is "sources[1] (stripe): verification.kind: …".
func (e *Error) Error() string { return fmt.Sprintf("%s (%s): %s", e.Resource, e.Name, Message(e.Err)) }

func (e *Error) Unwrap() error { return e.Err }

// Field returns the path of the field at fault within the resource
// ("verification.kind"), or "" when the mistake is not about one field.
func (e *Error) Field() string {
	if list := workflow.Errors(e.Err); len(list) > 0 {
		return list[0].Path
	}
	path, _ := field.Of(e.Err)
	return path
}

// Message is the text of a mistake in a resource: a workflow's first
// compile error, followed by how many more there are; otherwise the
// error's text.
func Message(err error) string {
	list := workflow.Errors(err)
	switch len(list) {
	case 0:
		return err.Error()
	case 1:
		return list[0].Error()
	}
	return fmt.Sprintf("%s (and %d more)", list[0].Error(), len(list)-1)
}

// ConflictError is a resource that cannot be saved because of another
// one: a source name another tenant has, a version saved concurrently.
// It is a store.ErrConflict.
type ConflictError struct {
	Msg string
}

func (e *ConflictError) Error() string { return e.Msg }

// Is makes a ConflictError a store.ErrConflict.
func (e *ConflictError) Is(target error) bool { return target == store.ErrConflict }

func conflictf(format string, args ...any) error {
	return &ConflictError{Msg: fmt.Sprintf(format, args...)}
}

// mistake tells a mistake in what was declared (which Apply puts at its
// resource, as an *Error) from a failure to read or write the store.
func mistake(err error) bool {
	var fe *field.Error
	var ce *ConflictError
	return errors.As(err, &fe) || errors.As(err, &ce) || len(workflow.Errors(err)) > 0
}

// inResource puts a mistake err at its resource; other errors pass
// unchanged.
func inResource(resource, name string, err error) error {
	if err == nil || !mistake(err) {
		return err
	}
	return &Error{Resource: resource, Name: name, Err: err}
}
