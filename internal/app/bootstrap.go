package app

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/hookline/hookline/internal/api"
	"github.com/hookline/hookline/internal/event"
	"github.com/hookline/hookline/internal/store"
)

// bootstrap creates the default tenant and its admin key on an empty store,
// and registers apiKey (HOOKLINE_API_KEY) as an admin key when it is new.
func bootstrap(ctx context.Context, st store.Store, apiKey string, now time.Time, out io.Writer) error {
	n, err := st.CountTenants(ctx)
	if err != nil {
		return fmt.Errorf("bootstrap: %w", err)
	}
	if n == 0 {
		t := store.Tenant{ID: event.NewID(event.PrefixTenant, now), Name: DefaultTenant, CreatedAt: now}
		err := st.CreateTenant(ctx, t)
		switch {
		case errors.Is(err, store.ErrConflict):
			// Another node of the cluster bootstrapped first.
			n = 1
		case err != nil:
			return fmt.Errorf("bootstrap: create default tenant: %w", err)
		}
		if apiKey == "" && n == 0 {
			key := api.GenerateKey()
			if err := st.CreateAPIKey(ctx, api.NewAPIKey(t.ID, "admin", key, true, now)); err != nil {
				return fmt.Errorf("bootstrap: create admin key: %w", err)
			}
			fmt.Fprintf(out, "Created tenant %q with an admin API key. It is shown only this once:\n\n    %s\n\n"+
				"Use it as 'Authorization: Bearer <key>' or export HOOKLINE_API_KEY=<key> for the CLI.\n", DefaultTenant, key)
		}
	}
	if apiKey == "" {
		return nil
	}
	_, err = st.APIKeyByHash(ctx, api.HashKey(apiKey))
	if err == nil {
		return nil
	}
	if !errors.Is(err, store.ErrNotFound) {
		return fmt.Errorf("bootstrap: %w", err)
	}
	t, err := st.TenantByName(ctx, DefaultTenant)
	if err != nil {
		return fmt.Errorf("bootstrap: find the %s tenant for HOOKLINE_API_KEY: %w", DefaultTenant, err)
	}
	if err := st.CreateAPIKey(ctx, api.NewAPIKey(t.ID, "HOOKLINE_API_KEY", apiKey, true, now)); err != nil {
		return fmt.Errorf("bootstrap: register HOOKLINE_API_KEY: %w", err)
	}
	return nil
}
