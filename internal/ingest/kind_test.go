package ingest

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/hookline/hookline/internal/field"
	"github.com/hookline/hookline/internal/signature"
	"github.com/hookline/hookline/internal/store"
)

// TestSourceKind parses stored sources: a postgres source is a kind of
// its own, with its DSN and no signature scheme (signature knows no
// postgres kind), stored as sources were before the kinds; an HTTP source
// has its scheme; mistakes in a postgres source's stored form name their
// field.
func TestSourceKind(t *testing.T) {
	t.Parallel()
	const dsn = "postgres://app:secret@db:5432/shop"
	rules := []byte(`{"postgres":{"tables":["customers"]}}`)

	require.JSONEq(t, `{"kind":"postgres","secrets":["`+dsn+`"]}`, string(PostgresVerification(dsn)), "the stored form is unchanged")
	pg, err := Parse(store.Source{Name: "shopdb", TenantID: "ten_1", Verification: PostgresVerification(dsn), Config: rules})
	require.NoError(t, err)
	require.Equal(t, KindPostgres, pg.Kind)
	require.Equal(t, dsn, pg.DSN)
	require.Zero(t, pg.Scheme)
	cfg, ok := pg.Capture()
	require.True(t, ok)
	require.Equal(t, dsn, cfg.DSN)
	require.Equal(t, []string{"customers"}, cfg.Tables)
	require.Equal(t, dsn, StoredDSN(PostgresVerification(dsn)))

	gh, err := Parse(store.Source{Name: "gh", Verification: []byte(`{"kind":"github","secrets":["s3cret"]}`)})
	require.NoError(t, err)
	require.Equal(t, KindHTTP, gh.Kind)
	require.Equal(t, signature.KindGitHub, gh.Scheme.Kind)
	_, ok = gh.Capture()
	require.False(t, ok)
	require.Empty(t, StoredDSN(gh.Verification))

	require.Error(t, signature.Scheme{Kind: KindPostgres, Secrets: []string{dsn}}.Validate(), "postgres is not a signature kind")

	for _, tc := range []struct {
		name, verification, config, field string
	}{
		{"two DSNs", `{"kind":"postgres","secrets":["a","b"]}`, string(rules), "verification.secrets"},
		{"no DSN", `{"kind":"postgres"}`, string(rules), "verification.secrets"},
		{"empty DSN", `{"kind":"postgres","secrets":[""]}`, string(rules), "verification.secrets[0]"},
		{"spaced DSN", `{"kind":"postgres","secrets":[" ` + dsn + `"]}`, string(rules), "verification.secrets[0]"},
		{"a signature field", `{"kind":"postgres","secrets":["` + dsn + `"],"header":"X-Sig"}`, string(rules), "verification"},
		{"no tables", string(PostgresVerification(dsn)), `{}`, "postgres"},
		{"tables on an HTTP source", `{"kind":"none"}`, string(rules), "postgres"},
	} {
		_, err := Parse(store.Source{Name: "s", Verification: []byte(tc.verification), Config: []byte(tc.config)})
		require.Error(t, err, tc.name)
		var fe *field.Error
		require.ErrorAs(t, err, &fe, tc.name)
		require.Equal(t, tc.field, fe.Path, "%s: %v", tc.name, err)
	}
}
