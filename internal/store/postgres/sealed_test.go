package postgres_test

import (
	"context"
	"testing"

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
	require.NoError(t, s.CreateEndpoint(ctx, store.Endpoint{ID: "ep_2", TenantID: "ten_1", URL: "https://x",
		Headers: map[string]string{"Authorization": "Bearer " + secret}, Secrets: []store.Secret{{Key: "whsec_AAAA"}},
		CreatedAt: base, UpdatedAt: base}))
	require.NoError(t, s.CreateEndpoint(ctx, store.Endpoint{ID: "ep_3", TenantID: "ten_1", URL: "nats://" + secret + "@nats/orders",
		Secrets: []store.Secret{{Key: "whsec_AAAA"}}, CreatedAt: base, UpdatedAt: base}))
	rule := `{"name":"r","lookups":[{"name":"l","url":"https://x","headers":{"Authorization":"Bearer ` + secret + `"}}]}`
	require.NoError(t, s.CreateNotifyRule(ctx, store.NotifyRule{TenantID: "ten_1", Name: "r", Spec: []byte(rule),
		CreatedAt: base, UpdatedAt: base}))
	ep, err := s.GetEndpoint(ctx, "ten_1", "ep_1")
	require.NoError(t, err)
	require.Equal(t, secret, ep.Secrets[0].Key, "the driver opens what it sealed")
	ep, err = s.GetEndpoint(ctx, "ten_1", "ep_2")
	require.NoError(t, err)
	require.Equal(t, "Bearer "+secret, ep.Headers["Authorization"])
	ep, err = s.GetEndpoint(ctx, "ten_1", "ep_3")
	require.NoError(t, err)
	require.Equal(t, "nats://redacted@nats/orders", ep.URL)
	require.Equal(t, secret, ep.URLSecret, "the driver opens what it sealed")
	r, err := s.GetNotifyRule(ctx, "ten_1", "r")
	require.NoError(t, err)
	require.JSONEq(t, rule, string(r.Spec))

	conn := rawConn(t, sch)
	var secrets, verification, collSecret, headers, spec, epURL []byte
	require.NoError(t, conn.QueryRow(ctx, `SELECT url || encode(sealed_url_secret, 'escape') FROM endpoints WHERE id = 'ep_3'`).Scan(&epURL))
	require.NoError(t, conn.QueryRow(ctx, `SELECT secrets FROM endpoints WHERE id = 'ep_1'`).Scan(&secrets))
	require.NoError(t, conn.QueryRow(ctx, `SELECT verification FROM sources WHERE id = 'src_1'`).Scan(&verification))
	require.NoError(t, conn.QueryRow(ctx, `SELECT secret FROM collections WHERE name = 'c'`).Scan(&collSecret))
	require.NoError(t, conn.QueryRow(ctx, `SELECT headers::text || encode(sealed_headers, 'escape') FROM endpoints
		WHERE id = 'ep_2'`).Scan(&headers))
	require.NoError(t, conn.QueryRow(ctx, `SELECT spec::text || encode(sealed_spec, 'escape') FROM notify_rules
		WHERE name = 'r'`).Scan(&spec))
	for name, raw := range map[string][]byte{"endpoints.secrets": secrets, "sources.verification": verification,
		"collections.secret": collSecret, "endpoints.headers": headers, "notify_rules.spec": spec, "endpoints.url": epURL} {
		require.NotEmpty(t, raw, name)
		require.NotContains(t, string(raw), secret, name)
		require.NotContains(t, string(raw), "dGhpcyBpcyBhIHZlcnkgc2VjcmV0IGtleQ", name)
	}
}

// TestLegacyPlainHeadersSealed: rows written before endpoint headers,
// notify rules and URL credentials were sealed still read, and migrating
// seals them.
func TestLegacyPlainHeadersSealed(t *testing.T) {
	t.Parallel()
	sch := schema(t)
	s := openIn(t, sch)
	ctx := context.Background()
	require.NoError(t, s.CreateTenant(ctx, store.Tenant{ID: "ten_1", Name: "a", CreatedAt: base}))
	require.NoError(t, s.CreateEndpoint(ctx, store.Endpoint{ID: "ep_1", TenantID: "ten_1", URL: "https://x",
		Secrets: []store.Secret{{Key: "whsec_AAAA"}}, CreatedAt: base, UpdatedAt: base}))
	require.NoError(t, s.CreateNotifyRule(ctx, store.NotifyRule{TenantID: "ten_1", Name: "r", Spec: []byte(`{}`),
		CreatedAt: base, UpdatedAt: base}))

	// Turn both rows into what an earlier version wrote.
	const headers = `{"Authorization": "Bearer legacy-s3cr3t"}`
	const rule = `{"name":"r","lookups":[{"name":"l","url":"https://x","headers":{"X-Key":"legacy-k3y"}}]}`
	conn := rawConn(t, sch)
	_, err := conn.Exec(ctx, `UPDATE endpoints SET headers = $1, sealed_headers = NULL, url = $2, sealed_url_secret = NULL`,
		headers, "https://hook:legacy-pa55@x")
	require.NoError(t, err)
	_, err = conn.Exec(ctx, `UPDATE notify_rules SET spec = $1, sealed_spec = NULL`, rule)
	require.NoError(t, err)

	ep, err := s.GetEndpoint(ctx, "ten_1", "ep_1")
	require.NoError(t, err)
	require.Equal(t, map[string]string{"Authorization": "Bearer legacy-s3cr3t"}, ep.Headers, "plain rows still read")
	require.NoError(t, s.Migrate(ctx))
	var plain string
	require.NoError(t, conn.QueryRow(ctx, `SELECT e.headers::text || r.spec::text FROM endpoints e, notify_rules r`).Scan(&plain))
	require.Equal(t, "{}{}", plain, "migrating seals them")
	require.NoError(t, conn.QueryRow(ctx, `SELECT url FROM endpoints`).Scan(&plain))
	require.Equal(t, "https://hook:redacted@x", plain, "and the URL credential")
	ep, err = s.GetEndpoint(ctx, "ten_1", "ep_1")
	require.NoError(t, err)
	require.Equal(t, map[string]string{"Authorization": "Bearer legacy-s3cr3t"}, ep.Headers)
	require.Equal(t, "legacy-pa55", ep.URLSecret)
	r, err := s.GetNotifyRule(ctx, "ten_1", "r")
	require.NoError(t, err)
	require.JSONEq(t, rule, string(r.Spec))
}
