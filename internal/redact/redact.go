package redact

import (
	"slices"
	"strings"
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

func hasPart(name string, parts []string) bool {
	n := strings.ToLower(name)
	for _, p := range parts {
		if strings.Contains(n, p) {
			return true
		}
	}
	return false
}

// Sent returns a copy of h, the headers of a request Hookline sent or of
// the answer to it, with the values of credentials, signatures and of the
// headers named in configured (set by the user, who may put a credential
// in any of them; compared case-insensitively) replaced by Marker.
func Sent(h map[string]string, configured ...string) map[string]string {
	return replace(h, func(name string) bool {
		return Credential(name) || Signature(name) || named(name, configured)
	})
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
