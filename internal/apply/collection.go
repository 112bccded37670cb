package apply

import (
	"context"
	"errors"
	"time"

	"github.com/hookline/hookline/internal/collection"
	"github.com/hookline/hookline/internal/store"
	"github.com/hookline/hookline/wire"
)

// planCollection compares a declared collection with the stored one of
// its name; a change replaces its spec. It returns the compiled spec, for
// the subscriptions that name the collection.
func (a *Applier) planCollection(ctx context.Context, tenantID string, decl wire.CollectionSpec, now time.Time) (step, *collection.Spec, error) {
	st := a.cfg.Store
	s := step{change: wire.Change{Kind: "collection", Name: decl.Name}}
	want, spec, err := Collection(tenantID, decl, now)
	if err != nil {
		return s, nil, err
	}
	cur, err := st.GetCollection(ctx, tenantID, decl.Name)
	switch {
	case errors.Is(err, store.ErrNotFound):
		s.change.Action = Created
		s.write = func(ctx context.Context) error { return st.CreateCollection(ctx, want) }
	case err != nil:
		return s, nil, err
	case jsonEqual(cur.Spec, want.Spec) && jsonEqual(cur.Secret, want.Secret):
		s.change.Action = Unchanged
	default:
		want.CreatedAt = cur.CreatedAt
		s.change.Action = Updated
		s.write = func(ctx context.Context) error { return st.UpdateCollection(ctx, want) }
	}
	return s, spec, nil
}
