package signature

import (
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"strings"
)

// DefaultAPIKeyHeader carries the key of kind api-key when neither Header
// nor QueryParam is configured.
const DefaultAPIKeyHeader = "X-API-Key"

const headerAuthorization = "Authorization"

// verifyBasic checks HTTP Basic credentials against the "user:password"
// secrets.
func (s Scheme) verifyBasic(r Request) error {
	const kind = KindBasic
	v := r.Header.Get(headerAuthorization)
	if v == "" {
		return fail(kind, ErrMissingHeaders, "missing header %s", headerAuthorization)
	}
	scheme, encoded, ok := strings.Cut(v, " ")
	if !ok || !strings.EqualFold(scheme, "Basic") {
		return fail(kind, ErrMalformed, "%s is not Basic credentials", headerAuthorization)
	}
	raw, err := base64.StdEncoding.DecodeString(strings.TrimSpace(encoded))
	if err != nil {
		return fail(kind, ErrMalformed, "%s Basic credentials are not standard base64", headerAuthorization)
	}
	user, password, ok := strings.Cut(string(raw), ":")
	if !ok {
		return fail(kind, ErrMalformed, `%s Basic credentials are not "user:password"`, headerAuthorization)
	}
	for _, secret := range s.Secrets {
		wantUser, wantPassword, ok := strings.Cut(secret, ":")
		if !ok {
			continue
		}
		// Both halves are always compared, so timing tells nothing about
		// which one was wrong.
		if equalSecret(user, wantUser)&equalSecret(password, wantPassword) == 1 {
			return nil
		}
	}
	return fail(kind, ErrNoMatch, "credentials of user %q match no configured user:password (tried %d)", shown(user), len(s.Secrets))
}

// verifyAPIKey checks a key presented in the configured header (after
// Prefix, when set) or query parameter.
func (s Scheme) verifyAPIKey(r Request) error {
	const kind = KindAPIKey
	header := s.Header
	if header == "" && s.QueryParam == "" {
		header = DefaultAPIKeyHeader
	}
	var presented, where []string
	var unprefixed bool
	if header != "" {
		where = append(where, "header "+header)
		if v := r.Header.Get(header); v != "" {
			if s.Prefix == "" {
				presented = append(presented, v)
			} else if len(v) >= len(s.Prefix) && strings.EqualFold(v[:len(s.Prefix)], s.Prefix) {
				presented = append(presented, v[len(s.Prefix):])
			} else {
				unprefixed = true
			}
		}
	}
	if s.QueryParam != "" {
		where = append(where, "query parameter "+s.QueryParam)
		if v := r.Query.Get(s.QueryParam); v != "" {
			presented = append(presented, v)
		}
	}
	if len(presented) == 0 {
		if unprefixed {
			return fail(kind, ErrMalformed, "header %s does not start with %q", header, s.Prefix)
		}
		return fail(kind, ErrMissingHeaders, "no key in %s", strings.Join(where, " or "))
	}
	for _, key := range presented {
		for _, secret := range s.Secrets {
			if equalSecret(key, secret) == 1 {
				return nil
			}
		}
	}
	return fail(kind, ErrNoMatch, "the key in %s matches no configured key (tried %d)", strings.Join(where, " or "), len(s.Secrets))
}

// equalSecret returns 1 when a equals b and 0 otherwise, in time that
// depends on neither value nor length: it compares SHA-256 digests.
func equalSecret(a, b string) int {
	da, db := sha256.Sum256([]byte(a)), sha256.Sum256([]byte(b))
	return subtle.ConstantTimeCompare(da[:], db[:])
}
