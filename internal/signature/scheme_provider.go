package signature

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"strings"
	"time"
)

// Headers of the providers' webhooks.
const (
	// headerGitHubSignature is "sha256=<hex HMAC-SHA256(body)>". GitHub's
	// older X-Hub-Signature (SHA-1) is not accepted.
	headerGitHubSignature = "X-Hub-Signature-256"
	headerGitHubDelivery  = "X-GitHub-Delivery"
	// headerStripeSignature is "t=<unix>,v1=<hex HMAC-SHA256(t "." body)>",
	// with one v1 per secret while a secret is being rolled.
	headerStripeSignature = "Stripe-Signature"
	// headerShopifyHMAC is the standard base64 of HMAC-SHA256(body).
	headerShopifyHMAC      = "X-Shopify-Hmac-Sha256"
	headerShopifyWebhookID = "X-Shopify-Webhook-Id"
	headerShopifyEventID   = "X-Shopify-Event-Id"
	// headerSlackSignature is "v0=<hex HMAC-SHA256("v0:" ts ":" body)>".
	headerSlackSignature = "X-Slack-Signature"
	headerSlackTimestamp = "X-Slack-Request-Timestamp"
)

// verifyGitHub checks X-Hub-Signature-256
// (https://docs.github.com/en/webhooks/using-webhooks/validating-webhook-deliveries).
func (s Scheme) verifyGitHub(r Request) error {
	const kind = KindGitHub
	v := r.Header.Get(headerGitHubSignature)
	if v == "" {
		return fail(kind, ErrMissingHeaders, "missing header %s", headerGitHubSignature)
	}
	sig, err := hexSHA256(kind, headerGitHubSignature, v, "sha256=")
	if err != nil {
		return err
	}
	if !matchHMAC(sha256.New, s.Secrets, [][]byte{sig}, r.Body) {
		return fail(kind, ErrNoMatch, "%s matches no configured secret (tried %d)", headerGitHubSignature, len(s.Secrets))
	}
	return nil
}

// verifyStripe checks Stripe-Signature
// (https://docs.stripe.com/webhooks#verify-manually): any v1 signature may
// match, other schemes are ignored, as stripe-go does.
func (s Scheme) verifyStripe(r Request, now time.Time) error {
	const kind = KindStripe
	v := r.Header.Get(headerStripeSignature)
	if v == "" {
		return fail(kind, ErrMissingHeaders, "missing header %s", headerStripeSignature)
	}
	var rawTS string
	var sigs [][]byte
	for item := range strings.SplitSeq(v, ",") {
		key, value, ok := strings.Cut(strings.TrimSpace(item), "=")
		if !ok {
			return fail(kind, ErrMalformed, "%s item %q is not key=value", headerStripeSignature, shown(item))
		}
		switch key {
		case "t":
			if rawTS != "" {
				return fail(kind, ErrMalformed, "%s has more than one t=", headerStripeSignature)
			}
			if value == "" {
				return fail(kind, ErrMalformed, "%s has an empty t=", headerStripeSignature)
			}
			rawTS = value
		case "v1":
			// Like stripe-go, skip a v1 that is not hex: another may match.
			if sig, err := hex.DecodeString(value); err == nil && len(sig) == sha256.Size {
				sigs = append(sigs, sig)
			}
		}
	}
	if rawTS == "" {
		return fail(kind, ErrMalformed, "%s has no t= timestamp", headerStripeSignature)
	}
	if _, err := checkTimestamp(kind, headerStripeSignature+" t", rawTS, now, s.tolerance()); err != nil {
		return err
	}
	if len(sigs) == 0 {
		return fail(kind, ErrMalformed, "%s has no v1= signature of %d hex digits", headerStripeSignature, 2*sha256.Size)
	}
	if !matchHMAC(sha256.New, s.Secrets, sigs, []byte(rawTS), []byte{'.'}, r.Body) {
		return fail(kind, ErrNoMatch, "no v1 signature in %s matches a configured secret (%d signatures, %d secrets)",
			headerStripeSignature, len(sigs), len(s.Secrets))
	}
	return nil
}

// verifyShopify checks X-Shopify-Hmac-Sha256
// (https://shopify.dev/docs/apps/build/webhooks/subscribe/https).
func (s Scheme) verifyShopify(r Request) error {
	const kind = KindShopify
	v := r.Header.Get(headerShopifyHMAC)
	if v == "" {
		return fail(kind, ErrMissingHeaders, "missing header %s", headerShopifyHMAC)
	}
	sig, err := base64.StdEncoding.DecodeString(v)
	if err != nil || len(sig) != sha256.Size {
		return fail(kind, ErrMalformed, "%s is not the base64 of %d bytes", headerShopifyHMAC, sha256.Size)
	}
	if !matchHMAC(sha256.New, s.Secrets, [][]byte{sig}, r.Body) {
		return fail(kind, ErrNoMatch, "%s matches no configured secret (tried %d)", headerShopifyHMAC, len(s.Secrets))
	}
	return nil
}

// verifySlack checks X-Slack-Signature and X-Slack-Request-Timestamp
// (https://api.slack.com/authentication/verifying-requests-from-slack).
func (s Scheme) verifySlack(r Request, now time.Time) error {
	const kind = KindSlack
	v, rawTS := r.Header.Get(headerSlackSignature), r.Header.Get(headerSlackTimestamp)
	switch {
	case v == "" && rawTS == "":
		return fail(kind, ErrMissingHeaders, "missing header %s, %s", headerSlackSignature, headerSlackTimestamp)
	case v == "":
		return fail(kind, ErrMissingHeaders, "missing header %s", headerSlackSignature)
	case rawTS == "":
		return fail(kind, ErrMissingHeaders, "missing header %s", headerSlackTimestamp)
	}
	if _, err := checkTimestamp(kind, headerSlackTimestamp, rawTS, now, s.tolerance()); err != nil {
		return err
	}
	sig, err := hexSHA256(kind, headerSlackSignature, v, "v0=")
	if err != nil {
		return err
	}
	if !matchHMAC(sha256.New, s.Secrets, [][]byte{sig}, []byte("v0:"+rawTS+":"), r.Body) {
		return fail(kind, ErrNoMatch, "%s matches no configured secret (tried %d)", headerSlackSignature, len(s.Secrets))
	}
	return nil
}

// hexSHA256 is the HMAC-SHA256 that v, the value of header, gives as
// prefix followed by hex digits; else an ErrMalformed failure of kind.
func hexSHA256(kind, header, v, prefix string) ([]byte, error) {
	encoded, ok := strings.CutPrefix(v, prefix)
	if !ok {
		return nil, fail(kind, ErrMalformed, `%s %q does not start with "%s"`, header, shown(v), prefix)
	}
	sig, err := hex.DecodeString(encoded)
	if err != nil || len(sig) != sha256.Size {
		return nil, fail(kind, ErrMalformed, "%s is not %s followed by %d hex digits", header, prefix, 2*sha256.Size)
	}
	return sig, nil
}
