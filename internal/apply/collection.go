package apply

import (
	"context"
	"time"

	"github.com/hookline/hookline/internal/collection"
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
	act, err := action(err, jsonEqual(cur.Spec, want.Spec) && jsonEqual(cur.Secret, want.Secret))
	if err != nil {
		return s, nil, err
	}
	if act == Updated {
		want.CreatedAt = cur.CreatedAt
	}
	s.decide(act, func(ctx context.Context) error { return st.CreateCollection(ctx, want) },
		func(ctx context.Context) error { return st.UpdateCollection(ctx, want) })
	return s, spec, nil
}
