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

// accounts is what bootstrap and issueAdminKey read and write.
type accounts interface {
	store.Tenants
	store.APIKeys
}

// bootstrap creates the default tenant on an empty store and registers
// apiKey (HOOKLINE_API_KEY) as an admin key when it is new. It reports
// whether the one-time admin key may still be due, which issueAdminKey
// settles once the server listens: not when apiKey is set, nor when
// another node of the cluster created the tenant at this very moment (that
// node prints the key).
func bootstrap(ctx context.Context, st accounts, apiKey string, now time.Time) (keyDue bool, err error) {
	n, err := st.CountTenants(ctx)
	if err != nil {
		return false, fmt.Errorf("bootstrap: %w", err)
	}
	keyDue = apiKey == ""
	if n == 0 {
		t := store.Tenant{ID: event.NewID(event.PrefixTenant, now), Name: DefaultTenant, CreatedAt: now}
		err := st.CreateTenant(ctx, t)
		switch {
		case errors.Is(err, store.ErrConflict):
			keyDue = false
		case err != nil:
			return false, fmt.Errorf("bootstrap: create default tenant: %w", err)
		}
	}
	if apiKey == "" {
		return keyDue, nil
	}
	_, err = st.APIKeyByHash(ctx, api.HashKey(apiKey))
	if err == nil {
		return false, nil
	}
	if !errors.Is(err, store.ErrNotFound) {
		return false, fmt.Errorf("bootstrap: %w", err)
	}
	t, err := st.TenantByName(ctx, DefaultTenant)
	if err != nil {
		return false, fmt.Errorf("bootstrap: find the %s tenant for HOOKLINE_API_KEY: %w", DefaultTenant, err)
	}
	if err := st.CreateAPIKey(ctx, api.NewAPIKey(t.ID, "HOOKLINE_API_KEY", apiKey, true, now)); err != nil {
		return false, fmt.Errorf("bootstrap: register HOOKLINE_API_KEY: %w", err)
	}
	return false, nil
}

// issueAdminKey creates an admin key of the default tenant and prints it to
// out, once: only while the tenant has no key at all. It runs after the
// listener is bound, so a first start that fails before (the port in use,
// a mistake in the config file) prints nothing and leaves the key to the
// next start. A tenant that ever had a key keeps at least one: a key cannot
// delete itself.
func issueAdminKey(ctx context.Context, st accounts, now time.Time, out io.Writer) error {
	t, err := st.TenantByName(ctx, DefaultTenant)
	if errors.Is(err, store.ErrNotFound) {
		return nil // renamed or never made here: nothing to bootstrap
	}
	if err != nil {
		return fmt.Errorf("bootstrap: %w", err)
	}
	keys, err := st.ListAPIKeys(ctx, t.ID)
	if err != nil {
		return fmt.Errorf("bootstrap: %w", err)
	}
	if len(keys) > 0 {
		return nil
	}
	key := api.GenerateKey()
	if err := st.CreateAPIKey(ctx, api.NewAPIKey(t.ID, "admin", key, true, now)); err != nil {
		return fmt.Errorf("bootstrap: create admin key: %w", err)
	}
	fmt.Fprintf(out, "Created tenant %q with an admin API key. It is shown only this once:\n\n    %s\n\n"+
		"Use it as 'Authorization: Bearer <key>' or export HOOKLINE_API_KEY=<key> for the CLI.\n", DefaultTenant, key)
	return nil
}
