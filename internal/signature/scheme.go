package signature

import (
	"crypto/hmac"
	"encoding/json"
	"errors"
	"fmt"
	"hash"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/hookline/hookline/internal/clip"
)

// Request is what a verifier sees of an incoming request. Body is the raw
// bytes as received: every provider signs those, not a re-encoding.
type Request struct {
	Header http.Header
	Query  url.Values
	Body   []byte
}

// Scheme kinds: how a source proves that a request comes from its provider.
const (
	KindStandardWebhooks = "standard-webhooks"
	KindGitHub           = "github"
	KindStripe           = "stripe"
	KindShopify          = "shopify"
	KindSlack            = "slack"
	KindHMAC             = "hmac"
	KindBasic            = "basic"
	KindAPIKey           = "api-key"
	KindNone             = "none"
)

// kinds lists every kind, in the order error messages name them.
var kinds = []string{
	KindStandardWebhooks, KindGitHub, KindStripe, KindShopify, KindSlack,
	KindHMAC, KindBasic, KindAPIKey, KindNone,
}

var (
	// ErrVerification is wrapped by every error Scheme.Verify returns.
	ErrVerification = errors.New("verification failed")
	// ErrMalformed means a signature or credential header is present but not
	// in the provider's format.
	ErrMalformed = errors.New("malformed webhook signature header")
)

// Scheme is a source's verification configuration. It is stored as JSON and
// written in YAML under a source's "verification" key; Validate's messages
// name fields by that path.
type Scheme struct {
	// Kind is one of the Kind… constants.
	Kind string `json:"kind,omitempty" yaml:"kind,omitempty"`
	// Secrets holds the keys; any one of them verifies, so a secret is
	// rotated by listing old and new for a while. standard-webhooks:
	// "whsec_…" (HMAC, signatures v1) or "whpk_…" (ed25519 public key,
	// signatures v1a); github, stripe, shopify, slack, hmac: the shared
	// secret as the provider shows it, used as is (Stripe's "whsec_…" is not
	// base64-decoded); basic: "user:password"; api-key: the accepted keys.
	Secrets []string `json:"secrets,omitempty" yaml:"secrets,omitempty"`
	// Tolerance is how far a signed timestamp may be from the receiver's
	// clock, either way (standard-webhooks, stripe, slack, and hmac with
	// TimestampHeader). Zero means DefaultTolerance.
	Tolerance Duration `json:"tolerance,omitzero" yaml:"tolerance,omitempty"`

	// Algorithm is the hash of kind hmac: sha1, sha256 (default) or sha512.
	Algorithm string `json:"algorithm,omitempty" yaml:"algorithm,omitempty"`
	// Header carries the signature (kind hmac, required) or the key (kind
	// api-key; "X-API-Key" when neither Header nor QueryParam is set).
	Header string `json:"header,omitempty" yaml:"header,omitempty"`
	// Prefix is stripped from the header value, such as "sha256=" (hmac) or
	// "Bearer " (api-key); compared case-insensitively and required when set.
	Prefix string `json:"prefix,omitempty" yaml:"prefix,omitempty"`
	// Encoding of the kind hmac signature: hex (default) or base64 (standard
	// or URL alphabet, padded or not).
	Encoding string `json:"encoding,omitempty" yaml:"encoding,omitempty"`
	// SignedContent is the template of the bytes kind hmac signs: "{body}"
	// (default), which it must contain, plus literal text, "{timestamp}" and
	// "{header:Name}", such as "{timestamp}.{body}".
	SignedContent string `json:"signed_content,omitempty" yaml:"signed_content,omitempty"`
	// TimestampHeader holds the unix-seconds timestamp that "{timestamp}"
	// stands for; kind hmac then enforces Tolerance.
	TimestampHeader string `json:"timestamp_header,omitempty" yaml:"timestamp_header,omitempty"`

	// QueryParam is the query parameter carrying the key of kind api-key.
	QueryParam string `json:"query_param,omitempty" yaml:"query_param,omitempty"`
}

// Verify reports whether r comes from the source's provider, checking the
// signature over r.Body and, for timestamped kinds, that the timestamp lies
// within the tolerance of now. It returns nil when verified; otherwise an
// error wrapping ErrVerification, with a reason meant for the operator's log
// (never the secrets), and, where it applies, ErrMissingHeaders,
// ErrMalformed, ErrTimestamp or ErrNoMatch. Kind none always verifies; an
// unknown kind never does.
func (s Scheme) Verify(r Request, now time.Time) error {
	switch s.Kind {
	case KindStandardWebhooks:
		return s.verifyStandardWebhooks(r, now)
	case KindGitHub:
		return s.verifyGitHub(r)
	case KindStripe:
		return s.verifyStripe(r, now)
	case KindShopify:
		return s.verifyShopify(r)
	case KindSlack:
		return s.verifySlack(r, now)
	case KindHMAC:
		return s.verifyHMAC(r, now)
	case KindBasic:
		return s.verifyBasic(r)
	case KindAPIKey:
		return s.verifyAPIKey(r)
	case KindNone:
		return nil
	}
	return fail("", nil, "unknown verification kind %q", shown(s.Kind))
}

// DedupID returns the provider's id of the delivery, the same on every
// retry, or "" when the kind has none (hmac, basic, api-key, none: callers
// use configured paths) or the request lacks it. standard-webhooks:
// webhook-id (or svix-id); github: X-GitHub-Delivery; stripe: the event's
// top-level "id"; shopify: X-Shopify-Webhook-Id (or X-Shopify-Event-Id);
// slack: the Events API's top-level "event_id".
func (s Scheme) DedupID(r Request) string {
	h := r.Header
	switch s.Kind {
	case KindStandardWebhooks:
		if id := h.Get(HeaderID); id != "" {
			return id
		}
		return h.Get(HeaderSvixID)
	case KindGitHub:
		return h.Get(headerGitHubDelivery)
	case KindStripe:
		return jsonStringField(r.Body, "id")
	case KindShopify:
		if id := h.Get(headerShopifyWebhookID); id != "" {
			return id
		}
		return h.Get(headerShopifyEventID)
	case KindSlack:
		return jsonStringField(r.Body, "event_id")
	}
	return ""
}

// tolerance is the allowed clock skew; a non-positive value, which Validate
// rejects, falls back to the default rather than disabling the check.
func (s Scheme) tolerance() time.Duration {
	if s.Tolerance.Duration > 0 {
		return s.Tolerance.Duration
	}
	return DefaultTolerance
}

// verifyError is a failed verification: its message is the reason for the
// log, and it matches ErrVerification and its cause with errors.Is.
type verifyError struct {
	kind   string
	reason string
	cause  error // ErrMissingHeaders, ErrMalformed, ErrTimestamp, ErrNoMatch or nil
}

func (e *verifyError) Error() string {
	if e.kind == "" {
		return "verify webhook: " + e.reason
	}
	return "verify " + e.kind + " webhook: " + e.reason
}

func (e *verifyError) Unwrap() []error {
	if e.cause == nil {
		return []error{ErrVerification}
	}
	return []error{ErrVerification, e.cause}
}

// fail returns a verifyError. Reasons must never include secrets or the
// expected MACs; request values in them go through shown.
func fail(kind string, cause error, format string, args ...any) error {
	return &verifyError{kind: kind, reason: fmt.Sprintf(format, args...), cause: cause}
}

// clipLen bounds the request values quoted in rejection reasons, which
// attackers control.
const clipLen = 64

// shown is s as a rejection reason quotes it: at most clipLen bytes.
func shown(s string) string { return clip.To(s, clipLen) }

// checkTimestamp parses raw, the value of header, as unix seconds and
// checks that it lies within tolerance of now, either way.
func checkTimestamp(kind, header, raw string, now time.Time, tolerance time.Duration) (int64, error) {
	ts, err := strconv.ParseInt(raw, 10, 64)
	if err != nil {
		return 0, fail(kind, ErrTimestamp, "%s %q is not unix seconds", header, shown(raw))
	}
	if skew := now.Sub(time.Unix(ts, 0)).Abs(); skew > tolerance {
		return 0, fail(kind, ErrTimestamp, "%s %d is %s from now, more than the %s tolerance", header, ts, skew, tolerance)
	}
	return ts, nil
}

// hmacSum is the HMAC with newHash and key over the concatenated parts.
func hmacSum(newHash func() hash.Hash, key []byte, parts ...[]byte) []byte {
	m := hmac.New(newHash, key)
	for _, p := range parts {
		m.Write(p)
	}
	return m.Sum(nil)
}

// matchHMAC reports whether one of sigs equals the HMAC of one of secrets
// over parts. Each comparison is constant-time.
func matchHMAC(newHash func() hash.Hash, secrets []string, sigs [][]byte, parts ...[]byte) bool {
	for _, secret := range secrets {
		want := hmacSum(newHash, []byte(secret), parts...)
		for _, sig := range sigs {
			if hmac.Equal(sig, want) {
				return true
			}
		}
	}
	return false
}

// jsonStringField returns the string at the top-level key of a JSON object
// body, or "" when body is not such an object. Keys match exactly, unlike
// encoding/json's case-insensitive struct fields.
func jsonStringField(body []byte, key string) string {
	var obj map[string]json.RawMessage
	if err := json.Unmarshal(body, &obj); err != nil {
		return ""
	}
	var v string
	if err := json.Unmarshal(obj[key], &v); err != nil {
		return ""
	}
	return v
}
