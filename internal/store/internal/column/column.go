// Package column is what both SQL drivers do to store values in columns
// that does not depend on the dialect: sealing secrets (and the plain
// columns rows written before sealing still fill) and the JSON columns of
// an endpoint. The SQL stays in each driver.
package column

import (
	"encoding/json"
	"fmt"
	"time"

	"github.com/hookline/hookline/internal/redact"
	"github.com/hookline/hookline/internal/secretbox"
	"github.com/hookline/hookline/internal/store"
)

// SealedPlaceholder is what the plain columns endpoints.headers and
// notify_rules.spec hold once their value is sealed in sealed_headers and
// sealed_spec.
const SealedPlaceholder = "{}"

// Legacy are the plain columns that rows written before those columns
// were sealed still fill, with their table's key and the sealed columns
// that replace them. Only rows whose plain value contains Contains (all
// when empty) may hold a secret; Split says what of the value is sealed
// and what the plain column keeps.
var Legacy = []struct {
	Table, Key, Plain, Sealed string
	Contains                  string
	Split                     func(plain string) (keep, secret string, ok bool)
}{
	{"endpoints", "id", "headers", "sealed_headers", "", whole},
	{"notify_rules", "name", "spec", "sealed_spec", "", whole},
	// An endpoint URL with user information: its credential is sealed,
	// the URL as shown stays.
	{"endpoints", "id", "url", "sealed_url_secret", "@", urlSecret},
}

// whole seals the whole value and leaves SealedPlaceholder.
func whole(plain string) (string, string, bool) { return SealedPlaceholder, plain, true }

// urlSecret seals the credential of a URL (redact.SplitURL); a URL
// without one is left as it is.
func urlSecret(plain string) (string, string, bool) {
	shown, secret := redact.SplitURL(plain)
	return shown, secret, secret != ""
}

// Open returns what a sealed column holds, or plain when the column is
// NULL: a row written before the value was sealed, or an optional secret
// never set.
func Open(box *secretbox.Box, sealed, plain []byte) ([]byte, error) {
	if sealed == nil {
		return plain, nil
	}
	return box.Open(sealed)
}

// SealOptional seals an optional secret; an empty one is stored as NULL
// and reads back nil.
func SealOptional(box *secretbox.Box, secret []byte) []byte {
	if len(secret) == 0 {
		return nil
	}
	return box.Seal(secret)
}

// SealJSON seals the JSON of v, a value of plain maps and slices.
func SealJSON(box *secretbox.Box, v any) []byte {
	return box.Seal(marshal(v))
}

// marshal is the JSON of v, a value of plain maps and slices.
func marshal(v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		panic(fmt.Sprintf("column: marshal %T: %v", v, err)) // only plain maps and slices reach here
	}
	return b
}

// EndpointJSON is the JSON of an endpoint's event types (never null) and
// of its retry schedule in milliseconds.
func EndpointJSON(ep store.Endpoint) (types, schedule []byte) {
	ms := make([]int64, 0, len(ep.RetrySchedule))
	for _, d := range ep.RetrySchedule {
		ms = append(ms, d.Milliseconds())
	}
	if ep.EventTypes == nil {
		ep.EventTypes = []string{}
	}
	return marshal(ep.EventTypes), marshal(ms)
}

// SealHeaders seals an endpoint's custom headers (never null): they are
// the user's and may be credentials. The plain headers column keeps
// SealedPlaceholder.
func SealHeaders(box *secretbox.Box, h map[string]string) []byte {
	if h == nil {
		h = map[string]string{}
	}
	return SealJSON(box, h)
}

// EndpointURL is what an endpoint's url and sealed_url_secret columns
// hold: its URL as shown (redact.SplitURL, the credential replaced by
// redact.Marker) and its credential sealed, NULL when it has none. A URL
// given whole (URLSecret empty) is split here, so no credential reaches
// the plain column.
func EndpointURL(box *secretbox.Box, ep store.Endpoint) (shown string, sealed []byte) {
	shown, secret := redact.SplitURL(redact.JoinURL(ep.URL, ep.URLSecret))
	return shown, SealOptional(box, []byte(secret))
}

// Endpoint is the columns of an endpoint that hold JSON or sealed values,
// as scanned.
type Endpoint struct {
	Types, Headers, Schedule []byte // JSON; Headers is the plain column
	TimeoutMS                int64
	Secrets, SealedHeaders   []byte // sealed; SealedHeaders NULL on rows not yet sealed
	// SealedURLSecret is the credential of the URL; NULL when it has
	// none, and on rows written before it was sealed and not yet sealed
	// by sealLegacy, whose url column holds the URL whole.
	SealedURLSecret []byte
}

// Decode fills ep's event types, headers, timeout, retry schedule and
// secrets from its columns.
func (c Endpoint) Decode(box *secretbox.Box, ep *store.Endpoint) error {
	ep.Timeout = time.Duration(c.TimeoutMS) * time.Millisecond
	if c.SealedURLSecret == nil {
		ep.URL, ep.URLSecret = redact.SplitURL(ep.URL)
	} else {
		secret, err := box.Open(c.SealedURLSecret)
		if err != nil {
			return fmt.Errorf("decrypt url of endpoint %s: %w", ep.ID, err)
		}
		ep.URLSecret = string(secret)
	}
	headers, err := Open(box, c.SealedHeaders, c.Headers)
	if err != nil {
		return fmt.Errorf("decrypt headers of endpoint %s: %w", ep.ID, err)
	}
	var scheduleMS []int64
	for _, u := range []struct {
		b []byte
		v any
	}{{c.Types, &ep.EventTypes}, {headers, &ep.Headers}, {c.Schedule, &scheduleMS}} {
		if err := json.Unmarshal(u.b, u.v); err != nil {
			return fmt.Errorf("decode endpoint %s: %w", ep.ID, err)
		}
	}
	for _, d := range scheduleMS {
		ep.RetrySchedule = append(ep.RetrySchedule, time.Duration(d)*time.Millisecond)
	}
	plain, err := box.Open(c.Secrets)
	if err != nil {
		return fmt.Errorf("decrypt secrets of endpoint %s: %w", ep.ID, err)
	}
	if err := json.Unmarshal(plain, &ep.Secrets); err != nil {
		return fmt.Errorf("decode secrets of endpoint %s: %w", ep.ID, err)
	}
	return nil
}

// Attempt is the columns of an attempt that are not plain values, as
// scanned.
type Attempt struct {
	DurationUS                      int64
	RequestHeaders, ResponseHeaders []byte // JSON
	Detail                          string // JSON; empty for none
}

// Decode fills a's duration, headers and detail from its columns.
func (c Attempt) Decode(a *store.Attempt) error {
	a.Duration = time.Duration(c.DurationUS) * time.Microsecond
	if c.Detail != "" {
		a.Detail = json.RawMessage(c.Detail)
	}
	for _, h := range []struct {
		b []byte
		v *map[string]string
	}{{c.RequestHeaders, &a.RequestHeaders}, {c.ResponseHeaders, &a.ResponseHeaders}} {
		if err := json.Unmarshal(h.b, h.v); err != nil {
			return fmt.Errorf("decode attempt headers: %w", err)
		}
	}
	return nil
}
