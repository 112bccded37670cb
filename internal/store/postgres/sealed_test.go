package postgres_test

import (
	"context"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"

	"github.com/hookline/hookline/internal/store"
)

// TestSecretsSealedAtRest reads the stored columns directly: endpoint
// secrets, source verification and collection secrets never appear in
// plain text.
func TestSecretsSealedAtRest(t *testing.T) {
	t.Parallel()
	sch := schema(t)
	s := openIn(t, sch)
	ctx := context.Background()
	const secret = "whsec_dGhpcyBpcyBhIHZlcnkgc2VjcmV0IGtleQ=="
	require.NoError(t, s.CreateTenant(ctx, store.Tenant{ID: "ten_1", Name: "a", CreatedAt: base}))
	require.NoError(t, s.CreateEndpoint(ctx, store.Endpoint{ID: "ep_1", TenantID: "ten_1", URL: "https://x",
		Secrets: []store.Secret{{Key: secret}}, CreatedAt: base, UpdatedAt: base}))
	require.NoError(t, s.CreateSource(ctx, store.Source{ID: "src_1", TenantID: "ten_1", Name: "gh",
		Verification: []byte(`{"kind":"github","secrets":["` + secret + `"]}`), CreatedAt: base, UpdatedAt: base}))
	require.NoError(t, s.CreateCollection(ctx, store.Collection{TenantID: "ten_1", Name: "c", Spec: []byte(`{}`),
		Secret: []byte(`{"headers":{"Authorization":"` + secret + `"}}`), CreatedAt: base, UpdatedAt: base}))
	ep, err := s.GetEndpoint(ctx, "ten_1", "ep_1")
	require.NoError(t, err)
	require.Equal(t, secret, ep.Secrets[0].Key, "the driver opens what it sealed")

	cfg, err := pgx.ParseConfig(dsn(t))
	require.NoError(t, err)
	cfg.RuntimeParams["search_path"] = sch
	conn, err := pgx.ConnectConfig(ctx, cfg)
	require.NoError(t, err)
	t.Cleanup(func() { conn.Close(context.Background()) })
	var secrets, verification, collSecret []byte
	require.NoError(t, conn.QueryRow(ctx, `SELECT secrets FROM endpoints WHERE id = 'ep_1'`).Scan(&secrets))
	require.NoError(t, conn.QueryRow(ctx, `SELECT verification FROM sources WHERE id = 'src_1'`).Scan(&verification))
	require.NoError(t, conn.QueryRow(ctx, `SELECT secret FROM collections WHERE name = 'c'`).Scan(&collSecret))
	for name, raw := range map[string][]byte{"endpoints.secrets": secrets, "sources.verification": verification,
		"collections.secret": collSecret} {
		require.NotEmpty(t, raw, name)
		require.NotContains(t, string(raw), secret, name)
		require.NotContains(t, string(raw), "dGhpcyBpcyBhIHZlcnkgc2VjcmV0IGtleQ", name)
	}
}
