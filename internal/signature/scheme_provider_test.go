package signature

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"github.com/stripe/stripe-go/v82/webhook"
)

// GitHub's documented example
// (https://docs.github.com/en/webhooks/using-webhooks/validating-webhook-deliveries).
const (
	githubSecret    = "It's a Secret to Everybody"
	githubBody      = "Hello, World!"
	githubSignature = "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17"
)

// Slack's documented example
// (https://api.slack.com/authentication/verifying-requests-from-slack).
const (
	slackSecret    = "8f742231b10e8888abcd99yyyzzz85a5"
	slackTimestamp = 1531420618
	slackBody      = "token=xyzz0WbapA4vBCDEFasx0q6G&team_id=T1DC2JH3J&team_domain=testteamnow&channel_id=G8PSS9T3V&channel_name=foobar&user_id=U2CERLKJA&user_name=roadrunner&command=%2Fwebhook-collect&text=&response_url=https%3A%2F%2Fhooks.slack.com%2Fcommands%2FT1DC2JH3J%2F397700885554%2F96rGlfmibIGlgcZRskXaIFfN&trigger_id=398738663015.47445629121.803a0bc887a14d10d2c447fce8b6703c"
	slackSignature = "v0=a2114d57b48eac39b9ad189dd8316235a7b4a8d21a10bd27519666489c69b503"
)

// A Shopify vector computed independently with
// `printf %s "$body" | openssl dgst -sha256 -hmac shpss_test_secret -binary | base64`.
const (
	shopifySecret    = "shpss_test_secret"
	shopifyBody      = `{"id":820982911946154508,"email":"jon@example.com"}`
	shopifySignature = "LnwdZPLBbdjkBwPD/lDL1/rYEGby/GHPtL1aAH6Dxjc="
)

func hmacHex(secret, content string) string {
	m := hmac.New(sha256.New, []byte(secret))
	m.Write([]byte(content))
	return hex.EncodeToString(m.Sum(nil))
}

func TestSchemeGitHub(t *testing.T) {
	t.Parallel()
	req := func(sig, body string) Request {
		return Request{Header: hdr("X-Hub-Signature-256", sig, "X-GitHub-Delivery", "d1"), Body: []byte(body)}
	}
	signed := req(githubSignature, githubBody)
	sha1Only := Request{Header: hdr("X-Hub-Signature", "sha1=01dc10d0c83e72ed246219cdd91669667fe2ca59"), Body: []byte(githubBody)}

	runVerifyCases(t, Scheme{Kind: KindGitHub, Secrets: []string{githubSecret}}, time.Time{}, []verifyCase{
		{name: "documented example", req: signed},
		{name: "upper-case hex", req: req("sha256="+strings.ToUpper(strings.TrimPrefix(githubSignature, "sha256=")), githubBody)},
		{name: "second of two secrets", secrets: []string{"the new secret", githubSecret}, req: signed},
		{name: "new secret signs", secrets: []string{"the new secret", githubSecret}, req: req("sha256="+hmacHex("the new secret", githubBody), githubBody)},

		{name: "wrong secret", secrets: []string{"It's a secret to everybody"}, req: signed, wantErr: ErrNoMatch},
		{name: "rotated-out secret", secrets: []string{"the new secret"}, req: signed, wantErr: ErrNoMatch},
		{name: "tampered body", req: req(githubSignature, "Hello, World?"), wantErr: ErrNoMatch},
		{name: "missing header", req: Request{Header: hdr("X-GitHub-Delivery", "d1"), Body: []byte(githubBody)}, wantErr: ErrMissingHeaders},
		{name: "SHA-1 signature only", req: sha1Only, wantErr: ErrMissingHeaders},
		{name: "no sha256= prefix", req: req(strings.TrimPrefix(githubSignature, "sha256="), githubBody), wantErr: ErrMalformed},
		{name: "sha1= prefix", req: req("sha1=01dc10d0c83e72ed246219cdd91669667fe2ca59", githubBody), wantErr: ErrMalformed},
		{name: "not hex", req: req("sha256=zz7107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17", githubBody), wantErr: ErrMalformed},
		{name: "truncated", req: req(githubSignature[:len(githubSignature)-2], githubBody), wantErr: ErrMalformed},
	})
}

func TestSchemeStripe(t *testing.T) {
	t.Parallel()
	const secret = "whsec_test_7c1b2f0d5e8a4c3b9f6e"
	now := time.Unix(1700000000, 0)
	body := []byte(`{"id":"evt_1","object":"event","type":"payment_intent.succeeded"}`)
	// stripe-go builds the header: "t=<unix>,v1=<hex>".
	sign := func(secret string, ts time.Time, body []byte) string {
		return webhook.GenerateTestSignedPayload(&webhook.UnsignedPayload{Payload: body, Secret: secret, Timestamp: ts}).Header
	}
	header := sign(secret, now, body)
	require.NoError(t, webhook.ValidatePayloadWithTolerance(body, header, secret, 1<<62), "stripe-go accepts its own header")
	req := func(h string) Request { return Request{Header: hdr("Stripe-Signature", h), Body: body} }
	newSig := strings.SplitN(sign("whsec_new", now, body), ",", 2)[1]
	oldSig := strings.SplitN(header, ",", 2)[1]
	ts := strconv.FormatInt(now.Unix(), 10)

	runVerifyCases(t, Scheme{Kind: KindStripe, Secrets: []string{secret}}, now, []verifyCase{
		{name: "signed by stripe-go", req: req(header)},
		{name: "two v1 signatures while rolling the secret", req: req("t=" + ts + "," + newSig + "," + oldSig)},
		{name: "second of two secrets", secrets: []string{"whsec_new", secret}, req: req(header)},
		{name: "unknown schemes and a bad v1 are skipped", req: req("t=" + ts + ",v0=abc,v1=nothex," + oldSig + ",x=y")},
		{name: "spaces after commas", req: req("t=" + ts + ", " + oldSig)},
		{name: "within tolerance", req: req(header), now: now.Add(DefaultTolerance)},
		{name: "within a custom tolerance", req: req(header), now: now.Add(time.Hour),
			scheme: func(s *Scheme) { s.Tolerance = Duration{time.Hour} }},

		{name: "wrong secret", secrets: []string{"whsec_other"}, req: req(header), wantErr: ErrNoMatch},
		{name: "rotated-out secret", secrets: []string{"whsec_new"}, req: req(header), wantErr: ErrNoMatch},
		{name: "tampered body", req: Request{Header: hdr("Stripe-Signature", header), Body: []byte(`{"id":"evt_2"}`)}, wantErr: ErrNoMatch},
		{name: "tampered timestamp", req: req("t=" + strconv.FormatInt(now.Unix()+1, 10) + "," + oldSig), wantErr: ErrNoMatch},
		{name: "stale timestamp", req: req(header), now: now.Add(DefaultTolerance + time.Second), wantErr: ErrTimestamp},
		{name: "future timestamp", req: req(header), now: now.Add(-DefaultTolerance - time.Second), wantErr: ErrTimestamp},
		{name: "timestamp not a number", req: req("t=yesterday," + oldSig), wantErr: ErrTimestamp},
		{name: "missing header", req: Request{Header: hdr("Content-Type", "application/json"), Body: body}, wantErr: ErrMissingHeaders},
		{name: "no timestamp", req: req(oldSig), wantErr: ErrMalformed},
		{name: "two timestamps", req: req("t=" + ts + ",t=" + ts + "," + oldSig), wantErr: ErrMalformed},
		{name: "empty timestamp", req: req("t=," + oldSig), wantErr: ErrMalformed},
		{name: "item without =", req: req("t=" + ts + ",v1"), wantErr: ErrMalformed},
		{name: "no v1", req: req("t=" + ts + ",v0=" + strings.TrimPrefix(oldSig, "v1=")), wantErr: ErrMalformed},
	})
}

func TestSchemeShopify(t *testing.T) {
	t.Parallel()
	req := func(sig, body string) Request {
		return Request{Header: hdr("X-Shopify-Hmac-Sha256", sig, "X-Shopify-Topic", "orders/create"), Body: []byte(body)}
	}
	signed := req(shopifySignature, shopifyBody)
	m := hmac.New(sha256.New, []byte("shpss_new"))
	m.Write([]byte(shopifyBody))
	newSig := base64.StdEncoding.EncodeToString(m.Sum(nil))

	runVerifyCases(t, Scheme{Kind: KindShopify, Secrets: []string{shopifySecret}}, time.Time{}, []verifyCase{
		{name: "known vector", req: signed},
		{name: "second of two secrets", secrets: []string{"shpss_new", shopifySecret}, req: signed},
		{name: "new secret signs", secrets: []string{"shpss_new", shopifySecret}, req: req(newSig, shopifyBody)},

		{name: "wrong secret", secrets: []string{"shpss_test_secreT"}, req: signed, wantErr: ErrNoMatch},
		{name: "rotated-out secret", secrets: []string{"shpss_new"}, req: signed, wantErr: ErrNoMatch},
		{name: "tampered body", req: req(shopifySignature, strings.Replace(shopifyBody, "jon", "jan", 1)), wantErr: ErrNoMatch},
		{name: "missing header", req: Request{Header: hdr("X-Shopify-Topic", "orders/create"), Body: []byte(shopifyBody)}, wantErr: ErrMissingHeaders},
		{name: "hex instead of base64", req: req(hmacHex(shopifySecret, shopifyBody), shopifyBody), wantErr: ErrMalformed},
		{name: "not base64", req: req("not base64!", shopifyBody), wantErr: ErrMalformed},
		{name: "truncated", req: req(shopifySignature[:40], shopifyBody), wantErr: ErrMalformed},
	})
}

func TestSchemeSlack(t *testing.T) {
	t.Parallel()
	now := time.Unix(slackTimestamp, 0)
	ts := strconv.Itoa(slackTimestamp)
	req := func(sig, ts, body string) Request {
		return Request{Header: hdr("X-Slack-Signature", sig, "X-Slack-Request-Timestamp", ts), Body: []byte(body)}
	}
	signed := req(slackSignature, ts, slackBody)
	newSig := "v0=" + hmacHex("new-signing-secret", "v0:"+ts+":"+slackBody)

	runVerifyCases(t, Scheme{Kind: KindSlack, Secrets: []string{slackSecret}}, now, []verifyCase{
		{name: "documented example", req: signed},
		{name: "second of two secrets", secrets: []string{"new-signing-secret", slackSecret}, req: signed},
		{name: "new secret signs", secrets: []string{"new-signing-secret", slackSecret}, req: req(newSig, ts, slackBody)},
		{name: "within tolerance", req: signed, now: now.Add(-DefaultTolerance)},

		{name: "wrong secret", secrets: []string{"8f742231b10e8888abcd99yyyzzz85a6"}, req: signed, wantErr: ErrNoMatch},
		{name: "rotated-out secret", secrets: []string{"new-signing-secret"}, req: signed, wantErr: ErrNoMatch},
		{name: "tampered body", req: req(slackSignature, ts, strings.Replace(slackBody, "roadrunner", "coyote", 1)), wantErr: ErrNoMatch},
		{name: "tampered timestamp", req: req(slackSignature, strconv.Itoa(slackTimestamp+1), slackBody), wantErr: ErrNoMatch},
		{name: "stale timestamp", req: signed, now: now.Add(DefaultTolerance + time.Second), wantErr: ErrTimestamp},
		{name: "future timestamp", req: signed, now: now.Add(-DefaultTolerance - time.Second), wantErr: ErrTimestamp},
		{name: "past a custom tolerance", req: signed, now: now.Add(2 * time.Minute),
			scheme: func(s *Scheme) { s.Tolerance = Duration{time.Minute} }, wantErr: ErrTimestamp},
		{name: "timestamp not a number", req: req(slackSignature, "1531420618.5", slackBody), wantErr: ErrTimestamp},
		{name: "missing signature", req: Request{Header: hdr("X-Slack-Request-Timestamp", ts), Body: []byte(slackBody)}, wantErr: ErrMissingHeaders},
		{name: "missing timestamp", req: Request{Header: hdr("X-Slack-Signature", slackSignature), Body: []byte(slackBody)}, wantErr: ErrMissingHeaders},
		{name: "no v0= prefix", req: req(strings.TrimPrefix(slackSignature, "v0="), ts, slackBody), wantErr: ErrMalformed},
		{name: "not hex", req: req("v0=xyz", ts, slackBody), wantErr: ErrMalformed},
	})
}

// providerFuzz checks that a verifier rejects arbitrary headers without
// panicking, and that what sign produces verifies while a changed body
// does not.
func providerFuzz(t *testing.T, s Scheme, now time.Time, arbitrary Request, sign func(secret string, body []byte) Request) {
	t.Helper()
	if err := s.Verify(arbitrary, now); err != nil {
		require.ErrorIs(t, err, ErrVerification)
	}
	_ = s.DedupID(arbitrary)

	signed := sign(s.Secrets[0], arbitrary.Body)
	require.NoError(t, s.Verify(signed, now))
	signed.Body = append(signed.Body, '!')
	require.ErrorIs(t, s.Verify(signed, now), ErrNoMatch)
}

func FuzzSchemeGitHub(f *testing.F) {
	f.Add(githubSecret, githubSignature, []byte(githubBody))
	f.Add("s", "sha256=", []byte{})
	f.Add("s", "sha256=zz", []byte("x"))
	f.Fuzz(func(t *testing.T, secret, sig string, body []byte) {
		if secret == "" {
			return
		}
		s := Scheme{Kind: KindGitHub, Secrets: []string{secret}}
		providerFuzz(t, s, time.Time{}, Request{Header: hdr("X-Hub-Signature-256", sig), Body: body},
			func(secret string, body []byte) Request {
				return Request{Header: hdr("X-Hub-Signature-256", "sha256="+hmacHex(secret, string(body))), Body: body}
			})
	})
}

func FuzzSchemeStripe(f *testing.F) {
	f.Add("whsec_x", "t=1700000000,v1=abc", []byte(`{"id":"evt_1"}`), int64(1700000000))
	f.Add("s", ",,,=,t=,v1=,t", []byte{}, int64(0))
	f.Add("s", "t=-9223372036854775808,v1="+strings.Repeat("0", 64), []byte("x"), int64(9223372036854775807))
	f.Fuzz(func(t *testing.T, secret, header string, body []byte, nowUnix int64) {
		if secret == "" {
			return
		}
		now := time.Unix(nowUnix, 0)
		s := Scheme{Kind: KindStripe, Secrets: []string{secret}}
		providerFuzz(t, s, now, Request{Header: hdr("Stripe-Signature", header), Body: body},
			func(secret string, body []byte) Request {
				p := webhook.GenerateTestSignedPayload(&webhook.UnsignedPayload{Payload: body, Secret: secret, Timestamp: now})
				return Request{Header: hdr("Stripe-Signature", p.Header), Body: body}
			})
	})
}

func FuzzSchemeShopify(f *testing.F) {
	f.Add(shopifySecret, shopifySignature, []byte(shopifyBody))
	f.Add("s", "====", []byte{})
	f.Fuzz(func(t *testing.T, secret, sig string, body []byte) {
		if secret == "" {
			return
		}
		s := Scheme{Kind: KindShopify, Secrets: []string{secret}}
		providerFuzz(t, s, time.Time{}, Request{Header: hdr("X-Shopify-Hmac-Sha256", sig), Body: body},
			func(secret string, body []byte) Request {
				m := hmac.New(sha256.New, []byte(secret))
				m.Write(body)
				return Request{Header: hdr("X-Shopify-Hmac-Sha256", base64.StdEncoding.EncodeToString(m.Sum(nil))), Body: body}
			})
	})
}

func FuzzSchemeSlack(f *testing.F) {
	f.Add(slackSecret, slackSignature, "1531420618", []byte(slackBody), int64(slackTimestamp))
	f.Add("s", "v0=", "", []byte(`{"event_id":"Ev1"}`), int64(0))
	f.Add("s", "v0=zz", "99999999999999999999", []byte("x"), int64(-1))
	f.Fuzz(func(t *testing.T, secret, sig, ts string, body []byte, nowUnix int64) {
		if secret == "" {
			return
		}
		now := time.Unix(nowUnix, 0)
		s := Scheme{Kind: KindSlack, Secrets: []string{secret}}
		providerFuzz(t, s, now, Request{Header: hdr("X-Slack-Signature", sig, "X-Slack-Request-Timestamp", ts), Body: body},
			func(secret string, body []byte) Request {
				ts := strconv.FormatInt(nowUnix, 10)
				return Request{
					Header: hdr("X-Slack-Signature", "v0="+hmacHex(secret, "v0:"+ts+":"+string(body)), "X-Slack-Request-Timestamp", ts),
					Body:   body,
				}
			})
	})
}
