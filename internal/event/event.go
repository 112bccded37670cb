// Package event defines the event of Hookline's log, its ids and how event
// types are matched by subscriptions.
package event

import (
	"crypto/rand"
	"encoding/json"
	"fmt"
	"regexp"
	"strings"
	"sync"
	"time"

	"github.com/oklog/ulid/v2"
)

// Event is one entry of the durable event log.
type Event struct {
	ID             string
	TenantID       string
	Type           string
	Source         string
	Data           json.RawMessage
	OccurredAt     time.Time
	IdempotencyKey string
	CreatedAt      time.Time
	// Raw is the body as received, for events from /in/{source}.
	Raw []byte
	// Headers are the request headers kept with a received event.
	Headers map[string]string
	// RequestHeaders are the headers of the request a received event came
	// in, as sent, to forward it again: all but hop-by-hop ones and
	// credentials (see ingest), bounded. Never shown with the event.
	RequestHeaders map[string]string
	// Traceparent is the W3C trace context the event was published in
	// ("00-{trace id}-{span id}-{flags}"), or "": its attempts continue
	// that trace.
	Traceparent string
}

// Id prefixes, so an id tells what it names.
const (
	PrefixEvent    = "evt"
	PrefixEndpoint = "ep"
	PrefixDelivery = "dlv"
	PrefixAttempt  = "atm"
	PrefixTenant   = "ten"
	PrefixAPIKey   = "key"
	PrefixSource   = "src"
	PrefixSub      = "sub"
	PrefixReject   = "rej"
	PrefixPortal   = "ps"
	PrefixQueue    = "q"
)

var (
	entropyMu sync.Mutex
	entropy   = ulid.Monotonic(rand.Reader, 0)
	lastMS    uint64
)

// NewID returns a time-sortable id such as evt_01JD… made of prefix and a
// ULID for time t. Within this process ids sort in creation order, always:
// a t earlier than the last id's millisecond takes that millisecond, so
// the monotonic entropy is never reset by ids made concurrently for other
// times. Ordered delivery relies on this: task ids are accept order.
func NewID(prefix string, t time.Time) string {
	entropyMu.Lock()
	ms := max(ulid.Timestamp(t), lastMS)
	lastMS = ms
	id := ulid.MustNew(ms, entropy)
	entropyMu.Unlock()
	return prefix + "_" + strings.ToLower(id.String())
}

// FirstID is the lowest id NewID can make with prefix for a time at or
// after t: ids compare as text, so id >= FirstID(prefix, t) selects what
// was made from t on.
func FirstID(prefix string, t time.Time) string {
	var id ulid.ULID
	_ = id.SetTime(ulid.Timestamp(t)) // errors only past the year 10889
	return prefix + "_" + strings.ToLower(id.String())
}

// ValidID reports whether id is one NewID makes with prefix: the prefix,
// '_' and a ULID in lower case. Lists page by comparing ids as text, so a
// cursor that is not such an id would silently give a wrong page.
func ValidID(prefix, id string) bool {
	rest, ok := strings.CutPrefix(id, prefix+"_")
	if !ok || len(rest) != ulid.EncodedSize || strings.ToLower(rest) != rest {
		return false
	}
	_, err := ulid.ParseStrict(rest)
	return err == nil
}

var typeName = regexp.MustCompile(`^[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+)*$`)

// MaxTypeLength bounds the length of an event type name.
const MaxTypeLength = 200

// ValidateType reports whether name is a valid event type: dot-separated
// segments of letters, digits, '_' and '-'.
func ValidateType(name string) error {
	if name == "" {
		return fmt.Errorf("event type is empty")
	}
	if len(name) > MaxTypeLength {
		return fmt.Errorf("event type is longer than %d characters", MaxTypeLength)
	}
	if !typeName.MatchString(name) {
		return fmt.Errorf("event type %q must be dot-separated segments of letters, digits, '_' or '-'", name)
	}
	return nil
}

// ValidatePattern reports whether p is a valid subscription pattern: an
// event type whose segments may be "*" (one segment) or whose last segment
// may be "**" (any number of segments), or "*" alone for every type.
func ValidatePattern(p string) error {
	if p == "*" || p == "**" {
		return nil
	}
	segs := strings.Split(p, ".")
	for i, s := range segs {
		if s == "*" || (s == "**" && i == len(segs)-1) {
			continue
		}
		if err := ValidateType(s); err != nil {
			return fmt.Errorf("pattern %q: segment %q is not a name, '*' or a final '**'", p, s)
		}
	}
	return nil
}

// Match reports whether event type typ matches pattern: "order.created"
// matches itself, "order.*" matches one more segment, "order.**" any number
// of further segments, and "*" alone matches everything.
func Match(pattern, typ string) bool {
	if pattern == "*" || pattern == "**" || pattern == typ {
		return true
	}
	ps := strings.Split(pattern, ".")
	ts := strings.Split(typ, ".")
	for i, p := range ps {
		if p == "**" && i == len(ps)-1 {
			return len(ts) > i
		}
		if i >= len(ts) || (p != "*" && p != ts[i]) {
			return false
		}
	}
	return len(ps) == len(ts)
}

// MatchAny reports whether typ matches any of patterns. An empty list
// matches every type.
func MatchAny(patterns []string, typ string) bool {
	if len(patterns) == 0 {
		return true
	}
	for _, p := range patterns {
		if Match(p, typ) {
			return true
		}
	}
	return false
}

// Covers reports whether every event type sub matches also matches
// pattern (both valid patterns): "order.*" covers "order.created" and
// "order.*" but not "order.**" or "*", and "*" covers everything.
func Covers(pattern, sub string) bool {
	if pattern == "*" || pattern == "**" {
		return true
	}
	if sub == "*" || sub == "**" {
		return false
	}
	ps, ss := strings.Split(pattern, "."), strings.Split(sub, ".")
	for i, p := range ps {
		if p == "**" && i == len(ps)-1 {
			// Any further segments: sub's types have more than i.
			return len(ss) > i
		}
		if i >= len(ss) || ss[i] == "**" {
			// sub's types are shorter, or go on for any number of
			// segments where pattern's do not.
			return false
		}
		if p != "*" && p != ss[i] {
			return false
		}
	}
	return len(ps) == len(ss)
}
