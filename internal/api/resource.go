package api

import (
	"context"
	"errors"
	"net/http"

	"github.com/hookline/hookline/internal/answer"
	"github.com/hookline/hookline/internal/store"
	"github.com/hookline/hookline/wire"
)

// The helpers below are the steps that the routes of every kind of
// resource share: read one by the path, list them (in pages or all at
// once), delete one, and answer a conflict on its name. Each route keeps
// what is its own (validation, what it invalidates) and calls these for
// the rest.

// getOne answers GET of one resource of the tenant: get finds it by the
// path value key, show gives its wire form; a store.ErrNotFound is a 404
// naming kind and the path value.
func getOne[T, W any](w http.ResponseWriter, r *http.Request, a *auth, kind, key string,
	get func(ctx context.Context, tenantID, id string) (T, error), show func(T) W) error {
	v, err := byPath(r, a, kind, key, get)
	if err != nil {
		return err
	}
	answer.JSON(w, http.StatusOK, show(v))
	return nil
}

// byPath is the tenant's resource that the path value key names, read by
// get; a store.ErrNotFound is a 404 naming kind and the path value.
func byPath[T any](r *http.Request, a *auth, kind, key string, get func(ctx context.Context, tenantID, id string) (T, error)) (T, error) {
	v, err := get(r.Context(), a.tenantID, r.PathValue(key))
	return v, notFound(err, kind, r.PathValue(key))
}

// listPage answers a paged list route: the page the query asks for
// (page), read by list and each item shown by show; id gives the next
// cursor from the last item.
func listPage[T, W any](w http.ResponseWriter, r *http.Request, a *auth,
	list func(ctx context.Context, tenantID string, p store.Page) ([]T, error), show func(T) W, id func(W) string) error {
	return listQuery(w, r, a, func(p store.Page) (store.Page, error) { return p, nil }, list, show, id)
}

// listQuery is listPage for a list whose store query holds more than the
// page: query makes it from the page, with the request's filters, or
// refuses them; list reads it.
func listQuery[Q, T, W any](w http.ResponseWriter, r *http.Request, a *auth, query func(store.Page) (Q, error),
	list func(ctx context.Context, tenantID string, q Q) ([]T, error), show func(T) W, id func(W) string) error {
	p, err := page(r)
	if err != nil {
		return err
	}
	q, err := query(p)
	if err != nil {
		return err
	}
	items, err := list(r.Context(), a.tenantID, q)
	if err != nil {
		return err
	}
	answer.JSON(w, http.StatusOK, pageOf(shown(items, show), p, id))
	return nil
}

// listAll answers a list route that is not paged: every item list reads,
// each shown by show, as one page with no next cursor.
func listAll[T, W any](w http.ResponseWriter, r *http.Request, a *auth,
	list func(ctx context.Context, tenantID string) ([]T, error), show func(T) W) error {
	items, err := list(r.Context(), a.tenantID)
	if err != nil {
		return err
	}
	answer.JSON(w, http.StatusOK, wire.Page[W]{Data: shown(items, show)})
	return nil
}

// shown is items each in its wire form; never nil, so that an empty list
// is [] in JSON.
func shown[T, W any](items []T, show func(T) W) []W {
	out := make([]W, len(items))
	for i, v := range items {
		out[i] = show(v)
	}
	return out
}

// deleteOne answers DELETE of one resource of the tenant: del removes it
// by the path value key (a store.ErrNotFound is a 404 naming kind), then
// the tenant's cached configuration is dropped when invalidate is set.
func (s *Server) deleteOne(w http.ResponseWriter, r *http.Request, a *auth, kind, key string,
	del func(ctx context.Context, tenantID, id string) error, invalidate bool) error {
	if err := del(r.Context(), a.tenantID, r.PathValue(key)); err != nil {
		return notFound(err, kind, r.PathValue(key))
	}
	if invalidate {
		s.cfg.Invalidate(a.tenantID)
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// knownStatus is nil when status is empty or one of known, else a 400
// that lists the statuses (want).
func knownStatus(status string, known map[string]bool, want string) error {
	if status != "" && !known[status] {
		return errorf(http.StatusBadRequest, codeBadRequest, "status must be %s", want)
	}
	return nil
}

// nameTaken answers a store.ErrConflict from creating or renaming a
// resource of kind ("source", "notify rule") as a 409 that names name;
// other errors pass unchanged.
func nameTaken(err error, kind, name string) error {
	if errors.Is(err, store.ErrConflict) {
		return errorf(http.StatusConflict, codeConflict, "a %s named %q already exists", kind, name)
	}
	return err
}
