package ingest

import (
	"encoding/json"
	"fmt"
	"strings"

	"github.com/hookline/hookline/internal/field"
)

// Source kinds: where a source's events come from. A source's kind is not
// a signature kind: a postgres source takes no requests, so nothing of it
// is verified.
const (
	// KindHTTP sources receive requests at /in/{name}, verified by the
	// source's signature.Scheme.
	KindHTTP = "http"
	// KindPostgres sources capture the row changes of PostgreSQL tables
	// (Rules.Postgres) from the database at their DSN.
	KindPostgres = "postgres"
)

// storedPostgres is how a postgres source's DSN is stored: in the
// verification column, as {"kind": "postgres", "secrets": [dsn]}, where the
// store seals it at rest like any source secret, and where sources written
// before the source kinds keep it.
type storedPostgres struct {
	Kind    string   `json:"kind"`
	Secrets []string `json:"secrets"`
}

// PostgresVerification is the stored verification of a postgres source
// whose database is at dsn.
func PostgresVerification(dsn string) []byte {
	// A struct of strings: Marshal cannot fail.
	b, _ := json.Marshal(storedPostgres{Kind: KindPostgres, Secrets: []string{dsn}})
	return b
}

// StoredDSN returns the DSN of a stored postgres source's verification, or
// "" when verification is not a postgres source's.
func StoredDSN(verification []byte) string {
	var sp storedPostgres
	if json.Unmarshal(verification, &sp) != nil || sp.Kind != KindPostgres || len(sp.Secrets) != 1 {
		return ""
	}
	return sp.Secrets[0]
}

// isPostgres reports whether a stored verification is a postgres
// source's.
func isPostgres(verification []byte) bool {
	var k struct {
		Kind string `json:"kind"`
	}
	return json.Unmarshal(verification, &k) == nil && k.Kind == KindPostgres
}

// parsePostgres decodes the stored verification of a postgres source into
// its DSN, refusing what such a source does not take.
func parsePostgres(verification []byte) (string, error) {
	var sp storedPostgres
	dec := json.NewDecoder(strings.NewReader(string(verification)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&sp); err != nil {
		return "", field.Wrap("verification", fmt.Errorf("a postgres source takes only its DSN: %w", err))
	}
	switch {
	case len(sp.Secrets) != 1:
		return "", field.Errorf("verification.secrets", "kind postgres takes exactly one: the database's DSN")
	case sp.Secrets[0] == "":
		return "", field.Errorf("verification.secrets[0]", "must not be empty")
	case strings.TrimSpace(sp.Secrets[0]) != sp.Secrets[0]:
		return "", field.Errorf("verification.secrets[0]", "has leading or trailing whitespace")
	}
	return sp.Secrets[0], nil
}
