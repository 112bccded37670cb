// Package portal is the customer portal's domain: the limits of a portal
// session, the scope of event types it may see, and its tokens.
//
// A platform's backend makes a session with POST /v1/portal/sessions and
// hands its one-time link to its customer's browser. Opening the link
// (internal/web) trades it for a session token carried in the portal's
// paths. Only the SHA-256 of either token is stored.
package portal

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"strings"
	"time"
	"unicode"

	"github.com/hookline/hookline/internal/event"
	"github.com/hookline/hookline/internal/field"
)

// Limits of a portal session.
const (
	// DefaultTTL is how long a session lasts when its maker does not say.
	DefaultTTL = time.Hour
	// MinTTL and MaxTTL bound what its maker may ask.
	MinTTL = time.Minute
	MaxTTL = 24 * time.Hour
	// MaxLabel bounds the label, in bytes.
	MaxLabel = 100
	// MaxEventTypes bounds the patterns of a scope.
	MaxEventTypes = 100
)

// LinkPath is the path of a one-time link under the dashboard's prefix,
// before its token.
const LinkPath = "/portal/open/"

// Scope is the event types a portal session may see: patterns as
// endpoints take them ("order.*", "invoice.paid"); none for every event
// type of the tenant.
type Scope []string

// All reports whether the scope is every event type.
func (sc Scope) All() bool { return len(sc) == 0 }

// Type reports whether an event type is in the scope.
func (sc Scope) Type(typ string) bool { return event.MatchAny(sc, typ) }

// Pattern reports whether every event type a pattern matches is in the
// scope.
func (sc Scope) Pattern(p string) bool {
	if sc.All() {
		return true
	}
	for _, s := range sc {
		if event.Covers(s, p) {
			return true
		}
	}
	return false
}

// Patterns reports whether every event type an endpoint with these event
// types receives is in the scope. No patterns is every type: only in a
// scope of every type.
func (sc Scope) Patterns(ps []string) bool {
	if sc.All() {
		return true
	}
	if len(ps) == 0 {
		return false
	}
	for _, p := range ps {
		if !sc.Pattern(p) {
			return false
		}
	}
	return true
}

// tokenBytes is the entropy of a token.
const tokenBytes = 32

// NewToken returns a random token (32 bytes, base64url without padding:
// 43 characters) and its hash.
func NewToken() (string, []byte) {
	b := make([]byte, tokenBytes)
	_, _ = rand.Read(b) // crypto/rand.Read never fails (Go 1.24+)
	token := base64.RawURLEncoding.EncodeToString(b)
	return token, Hash(token)
}

// Hash is a token's hash as stored: SHA-256.
func Hash(token string) []byte {
	h := sha256.Sum256([]byte(token))
	return h[:]
}

// ValidToken reports whether token has the shape NewToken gives, so a
// path segment that cannot be a token is refused before any lookup.
func ValidToken(token string) bool {
	if len(token) != base64.RawURLEncoding.EncodedLen(tokenBytes) {
		return false
	}
	_, err := base64.RawURLEncoding.DecodeString(token)
	return err == nil
}

// Check validates what a session's maker asks for — the scope's
// patterns, the lifetime in seconds (0: DefaultTTL) and a label — and
// returns the lifetime and the label trimmed. Its errors are
// *field.Error naming the request's field.
func Check(eventTypes []string, expiresIn int, label string) (time.Duration, string, error) {
	ttl := DefaultTTL
	if expiresIn != 0 {
		ttl = time.Duration(expiresIn) * time.Second
		if ttl < MinTTL || ttl > MaxTTL {
			return 0, "", field.Errorf("expires_in", "must be from %d to %d seconds, got %d", int(MinTTL.Seconds()), int(MaxTTL.Seconds()), expiresIn)
		}
	}
	label = strings.TrimSpace(label)
	if len(label) > MaxLabel {
		return 0, "", field.Errorf("label", "must be at most %d bytes", MaxLabel)
	}
	if strings.ContainsFunc(label, unicode.IsControl) {
		return 0, "", field.Errorf("label", "must not hold control characters")
	}
	if len(eventTypes) > MaxEventTypes {
		return 0, "", field.Errorf("event_types", "at most %d patterns", MaxEventTypes)
	}
	for _, p := range eventTypes {
		if err := event.ValidatePattern(p); err != nil {
			return 0, "", field.Wrap("event_types", err)
		}
	}
	return ttl, label, nil
}
