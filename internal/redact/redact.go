package redact

import (
	"bytes"
	"net/http"
	"slices"
	"strings"
	"unicode/utf8"
)

// Marker replaces every hidden value.
const Marker = "redacted"

// credentialParts are parts of header names that carry credentials:
// Authorization, Proxy-Authorization, X-Auth-Token, Cookie, Set-Cookie,
// X-Api-Key, Api-Key, X-Gitlab-Token, X-Session-Id, X-Client-Secret …
// Matching by part over-redacts a few harmless headers (Idempotency-Key,
// WWW-Authenticate); that costs a little debugging, never a secret.
var credentialParts = []string{"auth", "cookie", "key", "token", "secret", "password", "passwd", "session", "credential"}

// signatureParts are parts of header names that carry signatures:
// webhook-signature, X-Hub-Signature-256, Stripe-Signature,
// X-Slack-Signature, X-Shopify-Hmac-Sha256.
var signatureParts = []string{"signature", "hmac"}

// Credential reports whether a header named name may carry a credential.
func Credential(name string) bool { return hasPart(name, credentialParts) }

// Signature reports whether a header named name carries a signature.
func Signature(name string) bool { return hasPart(name, signatureParts) }

// hasPart reports whether name contains one of parts, which are lower
// case, ignoring case. It runs for every header of every attempt: an
// ASCII name of up to 64 bytes, as header names are, is lowered on the
// stack rather than into a new string.
func hasPart(name string, parts []string) bool {
	var buf [64]byte
	if len(name) > len(buf) || !isASCII(name) {
		n := strings.ToLower(name)
		for _, p := range parts {
			if strings.Contains(n, p) {
				return true
			}
		}
		return false
	}
	lower := buf[:len(name)]
	for i := range len(name) {
		c := name[i]
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		lower[i] = c
	}
	for _, p := range parts {
		if bytes.Contains(lower, []byte(p)) {
			return true
		}
	}
	return false
}

func isASCII(s string) bool {
	for i := range len(s) {
		if s[i] >= utf8.RuneSelf {
			return false
		}
	}
	return true
}

// Sent returns a copy of h, the headers of a request Hookline sent or of
// the answer to it, with the values of credentials, signatures and of the
// headers named in configured (set by the user, who may put a credential
// in any of them; compared case-insensitively) replaced by Marker.
func Sent(h map[string]string, configured ...string) map[string]string {
	return replace(h, func(name string) bool { return hideSent(name, configured) })
}

// SentHeader is Sent of h with each header's values joined by ", ", as
// one map: the headers of a request Hookline sent or of the answer to it,
// as the attempt log keeps them.
func SentHeader(h http.Header, configured ...string) map[string]string {
	out := make(map[string]string, len(h))
	for k, vs := range h {
		v := Marker
		if !hideSent(k, configured) {
			v = strings.Join(vs, ", ")
		}
		out[k] = v
	}
	return out
}

func hideSent(name string, configured []string) bool {
	return Credential(name) || Signature(name) || named(name, configured)
}

// Received returns a copy of h, the headers of a request Hookline
// received, with the values of credentials and of the headers named in
// also (such as a source's API-key header) replaced by Marker. Signatures
// are kept.
func Received(h map[string]string, also ...string) map[string]string {
	return replace(h, func(name string) bool { return Credential(name) || named(name, also) })
}

// Values returns a copy of h with every value replaced by Marker: how
// headers a user configured are shown, names only.
func Values(h map[string]string) map[string]string {
	return replace(h, func(string) bool { return true })
}

// Keep returns in with every value sent as Marker (as Values showed it)
// replaced by the value stored for that header, so that reading a
// resource, editing it and writing it back keeps its credentials. The
// names sent as Marker that stored lacks are returned as missing; their
// value in the result is Marker.
func Keep(in, stored map[string]string) (out map[string]string, missing []string) {
	if in == nil {
		return nil, nil
	}
	out = make(map[string]string, len(in))
	for k, v := range in {
		if v != Marker {
			out[k] = v
			continue
		}
		if sv, ok := lookup(stored, k); ok {
			out[k] = sv
			continue
		}
		out[k] = v
		missing = append(missing, k)
	}
	slices.Sort(missing)
	return out, missing
}

// lookup finds name in h case-insensitively, the exact spelling first.
func lookup(h map[string]string, name string) (string, bool) {
	if v, ok := h[name]; ok {
		return v, true
	}
	for k, v := range h {
		if strings.EqualFold(k, name) {
			return v, true
		}
	}
	return "", false
}

func named(name string, names []string) bool {
	for _, n := range names {
		if strings.EqualFold(name, n) {
			return true
		}
	}
	return false
}

func replace(h map[string]string, hide func(name string) bool) map[string]string {
	if h == nil {
		return nil
	}
	out := make(map[string]string, len(h))
	for k, v := range h {
		if hide(k) {
			v = Marker
		}
		out[k] = v
	}
	return out
}
