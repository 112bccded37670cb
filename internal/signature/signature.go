// Package signature signs outgoing webhooks the Standard Webhooks way
// (https://www.standardwebhooks.com) and verifies incoming ones with the
// scheme of their provider (Scheme: Standard Webhooks v1 and v1a, GitHub,
// Stripe, Shopify, Slack, generic HMAC, Basic auth, API key).
//
// The Standard Webhooks signed content is msgID + "." + unix seconds + "." + body, the MAC is
// HMAC-SHA256 in standard base64, and a header value holds one "v1,<mac>"
// per key, separated by spaces, so a secret can be rotated without a window
// in which receivers reject deliveries.
package signature

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"hash"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"
)

// SecretPrefix starts every secret Hookline hands out.
const SecretPrefix = "whsec_"

// DefaultTolerance is how far a webhook's timestamp may be from the
// receiver's clock, either way, before Verify rejects it as a replay.
const DefaultTolerance = 5 * time.Minute

// secretBytes is the size of a generated key: 192 bits, as the spec suggests
// (between 24 and 64 bytes).
const secretBytes = 24

// Version is the signature scheme tag in front of each signature.
const Version = "v1"

// Header names of Standard Webhooks.
const (
	HeaderID        = "webhook-id"
	HeaderTimestamp = "webhook-timestamp"
	HeaderSignature = "webhook-signature"
)

// Header names used by Svix, which Standard Webhooks grew out of; Verify
// falls back to them when the webhook-* headers are absent.
const (
	HeaderSvixID        = "svix-id"
	HeaderSvixTimestamp = "svix-timestamp"
	HeaderSvixSignature = "svix-signature"
)

var (
	// ErrMissingHeaders means the id, timestamp or signature header is absent
	// or empty.
	ErrMissingHeaders = errors.New("missing webhook signature headers")
	// ErrTimestamp means the timestamp header is not unix seconds or lies
	// outside the tolerance.
	ErrTimestamp = errors.New("webhook timestamp invalid or outside tolerance")
	// ErrNoMatch means no signature in the header matches any key.
	ErrNoMatch = errors.New("no matching webhook signature")
)

// GenerateSecret returns a new secret: SecretPrefix followed by the standard
// base64 of 24 random bytes.
func GenerateSecret() (string, error) {
	key := make([]byte, secretBytes)
	if _, err := rand.Read(key); err != nil {
		return "", fmt.Errorf("generate secret: %w", err)
	}
	return SecretPrefix + base64.StdEncoding.EncodeToString(key), nil
}

// DecodeSecret returns the key bytes of s, which is SecretPrefix followed by
// standard base64, or the bare base64.
func DecodeSecret(s string) ([]byte, error) {
	key, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(s, SecretPrefix))
	if err != nil {
		return nil, fmt.Errorf("decode secret: want %q followed by standard base64: %w", SecretPrefix, err)
	}
	if len(key) == 0 {
		return nil, fmt.Errorf("decode secret: empty key")
	}
	return key, nil
}

// Sign returns "v1,<base64 mac>" for key over msgID, ts (in unix seconds)
// and body.
func Sign(key []byte, msgID string, ts time.Time, body []byte) string {
	return SignAll([][]byte{key}, msgID, ts, body)
}

// SignAll returns a webhook-signature header value with one signature per
// key, space-separated, in the order of keys.
func SignAll(keys [][]byte, msgID string, ts time.Time, body []byte) string {
	return string(AppendSignAll(make([]byte, 0, len(keys)*signatureLen), keys, msgID, ts, body))
}

// signatureLen is the length of one signature and the space before the
// next: "v1," and the base64 of a SHA-256 MAC.
const signatureLen = len(Version) + 1 + 44 + 1

// AppendSignAll appends SignAll's header value to dst, which also serves
// as scratch space for the signed content's prefix.
func AppendSignAll(dst []byte, keys [][]byte, msgID string, ts time.Time, body []byte) []byte {
	for i, key := range keys {
		dst = appendSignature(dst, i, hmac.New(sha256.New, key), msgID, ts, body)
	}
	return dst
}

// Key is a decoded signing key that keeps its MAC states for the next
// message, so that signing again sets up no key; safe for concurrent use.
type Key struct {
	raw  []byte
	macs sync.Pool // of hash.Hash, keyed with raw
}

// NewKey returns a Key of raw, a decoded secret (DecodeSecret).
func NewKey(raw []byte) *Key { return &Key{raw: raw} }

// AppendSignKeys is AppendSignAll with Keys.
func AppendSignKeys(dst []byte, keys []*Key, msgID string, ts time.Time, body []byte) []byte {
	for i, k := range keys {
		m, ok := k.macs.Get().(hash.Hash)
		if ok {
			m.Reset()
		} else {
			m = hmac.New(sha256.New, k.raw)
		}
		dst = appendSignature(dst, i, m, msgID, ts, body)
		k.macs.Put(m)
	}
	return dst
}

// appendSignature appends the i-th signature of a header value, made with
// m, a fresh HMAC-SHA256 of the key.
func appendSignature(dst []byte, i int, m hash.Hash, msgID string, ts time.Time, body []byte) []byte {
	if i > 0 {
		dst = append(dst, ' ')
	}
	dst = append(dst, Version...)
	dst = append(dst, ',')
	var sum [sha256.Size]byte
	return base64.StdEncoding.AppendEncode(dst, appendMAC(sum[:0], dst, m, msgID, ts.Unix(), body))
}

// HeaderKeys are the canonical forms (http.CanonicalHeaderKey) of
// HeaderID, HeaderTimestamp and HeaderSignature, the keys Headers sets.
const (
	HeaderKeyID        = "Webhook-Id"
	HeaderKeyTimestamp = "Webhook-Timestamp"
	HeaderKeySignature = "Webhook-Signature"
)

// Headers returns the webhook-id, webhook-timestamp and webhook-signature
// headers for a message signed with every key.
func Headers(keys [][]byte, msgID string, ts time.Time, body []byte) http.Header {
	h := make(http.Header, 3)
	h[HeaderKeyID] = []string{msgID}
	h[HeaderKeyTimestamp] = []string{strconv.FormatInt(ts.Unix(), 10)}
	h[HeaderKeySignature] = []string{SignAll(keys, msgID, ts, body)}
	return h
}

// Verify checks the signature headers of h against body: at least one "v1"
// signature must match one of keys, and unless tolerance <= 0 the timestamp
// must lie within tolerance of now. The svix-* headers are read when the
// webhook-* ones are absent. The error wraps ErrMissingHeaders, ErrTimestamp
// or ErrNoMatch.
func Verify(keys [][]byte, h http.Header, body []byte, now time.Time, tolerance time.Duration) error {
	msgID, rawTS, sigHeader := h.Get(HeaderID), h.Get(HeaderTimestamp), h.Get(HeaderSignature)
	if msgID == "" && rawTS == "" && sigHeader == "" {
		msgID, rawTS, sigHeader = h.Get(HeaderSvixID), h.Get(HeaderSvixTimestamp), h.Get(HeaderSvixSignature)
	}
	if msgID == "" || rawTS == "" || sigHeader == "" {
		return fmt.Errorf("verify webhook: %w", ErrMissingHeaders)
	}
	ts, err := strconv.ParseInt(rawTS, 10, 64)
	if err != nil {
		return fmt.Errorf("verify webhook: timestamp %q is not unix seconds: %w", rawTS, ErrTimestamp)
	}
	if tolerance > 0 {
		if skew := now.Sub(time.Unix(ts, 0)).Abs(); skew > tolerance {
			return fmt.Errorf("verify webhook: timestamp %d is %s from now, more than %s: %w", ts, skew, tolerance, ErrTimestamp)
		}
	}
	macs := make([][]byte, len(keys))
	for i, key := range keys {
		macs[i] = mac(key, msgID, ts, body)
	}
	for _, sig := range strings.Fields(sigHeader) {
		version, encoded, ok := strings.Cut(sig, ",")
		if !ok || version != Version {
			continue
		}
		got, err := base64.StdEncoding.DecodeString(encoded)
		if err != nil {
			continue
		}
		for _, want := range macs {
			if hmac.Equal(got, want) {
				return nil
			}
		}
	}
	return fmt.Errorf("verify webhook: %w", ErrNoMatch)
}

// mac is HMAC-SHA256 with key over msgID "." ts "." body.
func mac(key []byte, msgID string, ts int64, body []byte) []byte {
	return appendMAC(nil, nil, hmac.New(sha256.New, key), msgID, ts, body)
}

// appendMAC appends to dst the MAC m, a fresh HMAC-SHA256, gives the
// signed content. Its prefix, msgID "." ts ".", is written in scratch's
// spare capacity (scratch's contents are kept), so that it takes one
// write and no allocation when there is room.
func appendMAC(dst, scratch []byte, m hash.Hash, msgID string, ts int64, body []byte) []byte {
	prefix := append(scratch[len(scratch):], msgID...)
	prefix = append(prefix, '.')
	prefix = strconv.AppendInt(prefix, ts, 10)
	prefix = append(prefix, '.')
	m.Write(prefix)
	m.Write(body)
	return m.Sum(dst)
}
