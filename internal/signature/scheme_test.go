package signature

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/goccy/go-yaml"
	"github.com/stretchr/testify/require"
)

// verifyCase is one row of a Verify table: a request against a scheme.
type verifyCase struct {
	name    string
	secrets []string // replaces the table's secrets when not nil
	scheme  func(s *Scheme)
	req     Request
	now     time.Time // the table's now when zero
	wantErr error     // nil means verified
}

// runVerifyCases runs cases against base at now. A rejection must wrap
// ErrVerification and wantErr, and its message must not leak a secret.
func runVerifyCases(t *testing.T, base Scheme, now time.Time, cases []verifyCase) {
	t.Helper()
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			s := base
			if c.secrets != nil {
				s.Secrets = c.secrets
			}
			if c.scheme != nil {
				c.scheme(&s)
			}
			at := now
			if !c.now.IsZero() {
				at = c.now
			}
			err := s.Verify(c.req, at)
			if c.wantErr == nil {
				require.NoError(t, err)
				return
			}
			require.ErrorIs(t, err, ErrVerification)
			require.ErrorIs(t, err, c.wantErr)
			require.True(t, strings.HasPrefix(err.Error(), "verify "+s.Kind+" webhook: "), err.Error())
			for _, secret := range s.Secrets {
				require.NotContains(t, err.Error(), secret, "the reason must not quote a secret")
			}
		})
	}
}

// hdr builds a header from name, value pairs; a repeated name adds a value.
func hdr(kv ...string) http.Header {
	h := http.Header{}
	for i := 0; i+1 < len(kv); i += 2 {
		h.Add(kv[i], kv[i+1])
	}
	return h
}

func TestVerifyKindNoneAndUnknown(t *testing.T) {
	t.Parallel()
	req := Request{Header: http.Header{}, Body: []byte("anything")}
	now := time.Unix(1700000000, 0)

	require.NoError(t, Scheme{Kind: KindNone}.Verify(req, now))
	require.NoError(t, Scheme{Kind: KindNone}.Verify(Request{}, time.Time{}))

	for _, kind := range []string{"", "GitHub", "hmac-sha256"} {
		err := Scheme{Kind: kind, Secrets: []string{"s"}}.Verify(req, now)
		require.ErrorIs(t, err, ErrVerification, "kind %q", kind)
		require.ErrorContains(t, err, "unknown verification kind")
	}
}

func TestVerifyZeroRequest(t *testing.T) {
	t.Parallel()
	// A request with no header map, query or body is rejected, not a panic.
	schemes := []Scheme{
		{Kind: KindStandardWebhooks, Secrets: []string{specSecret}},
		{Kind: KindGitHub, Secrets: []string{"s"}},
		{Kind: KindStripe, Secrets: []string{"s"}},
		{Kind: KindShopify, Secrets: []string{"s"}},
		{Kind: KindSlack, Secrets: []string{"s"}},
		{Kind: KindHMAC, Secrets: []string{"s"}, Header: "X-Sig"},
		{Kind: KindBasic, Secrets: []string{"u:p"}},
		{Kind: KindAPIKey, Secrets: []string{"k"}},
		{Kind: KindAPIKey, Secrets: []string{"k"}, QueryParam: "key"},
	}
	for _, s := range schemes {
		require.NoError(t, s.Validate())
		err := s.Verify(Request{}, time.Unix(1700000000, 0))
		require.ErrorIs(t, err, ErrMissingHeaders, s.Kind)
		require.ErrorIs(t, err, ErrVerification, s.Kind)
	}
}

func TestValidate(t *testing.T) {
	t.Parallel()
	_, public, err := GenerateKeyPair()
	require.NoError(t, err)
	private, _, err := GenerateKeyPair()
	require.NoError(t, err)

	cases := []struct {
		name    string
		scheme  Scheme
		wantErr []string // each must appear; none means valid
	}{
		{name: "standard webhooks secret", scheme: Scheme{Kind: KindStandardWebhooks, Secrets: []string{specSecret}}},
		{name: "standard webhooks public key and secret", scheme: Scheme{Kind: KindStandardWebhooks, Secrets: []string{public, specSecret}, Tolerance: Duration{time.Minute}}},
		{name: "github", scheme: Scheme{Kind: KindGitHub, Secrets: []string{"It's a Secret to Everybody"}}},
		{name: "stripe with tolerance", scheme: Scheme{Kind: KindStripe, Secrets: []string{"whsec_abc"}, Tolerance: Duration{10 * time.Minute}}},
		{name: "shopify", scheme: Scheme{Kind: KindShopify, Secrets: []string{"a", "b"}}},
		{name: "slack", scheme: Scheme{Kind: KindSlack, Secrets: []string{"8f742231b10e8888abcd99yyyzzz85a5"}}},
		{name: "hmac minimal", scheme: Scheme{Kind: KindHMAC, Secrets: []string{"s"}, Header: "X-Signature"}},
		{name: "hmac full", scheme: Scheme{
			Kind: KindHMAC, Secrets: []string{"s"}, Algorithm: "sha512", Header: "X-Signature", Prefix: "sha512=",
			Encoding: "base64", SignedContent: "{timestamp}.{header:X-Request-Id}.{body}", TimestampHeader: "X-Timestamp",
			Tolerance: Duration{time.Minute},
		}},
		{name: "basic", scheme: Scheme{Kind: KindBasic, Secrets: []string{"user:pa:ss"}}},
		{name: "api key default header", scheme: Scheme{Kind: KindAPIKey, Secrets: []string{"k"}}},
		{name: "api key header with prefix", scheme: Scheme{Kind: KindAPIKey, Secrets: []string{"k"}, Header: "Authorization", Prefix: "Bearer "}},
		{name: "api key query", scheme: Scheme{Kind: KindAPIKey, Secrets: []string{"k"}, QueryParam: "key"}},
		{name: "none", scheme: Scheme{Kind: KindNone}},

		{name: "kind missing", scheme: Scheme{Secrets: []string{"s"}}, wantErr: []string{"verification.kind: required, one of standard-webhooks, github"}},
		{name: "kind unknown", scheme: Scheme{Kind: "gitlab", Secrets: []string{"s"}}, wantErr: []string{`verification.kind: "gitlab" is not one of`}},
		{name: "no secrets", scheme: Scheme{Kind: KindGitHub}, wantErr: []string{"verification.secrets: at least one secret is required for kind github"}},
		{name: "empty secret", scheme: Scheme{Kind: KindShopify, Secrets: []string{"a", ""}}, wantErr: []string{"verification.secrets[1]: must not be empty"}},
		{name: "secret with whitespace", scheme: Scheme{Kind: KindSlack, Secrets: []string{"secret\n"}}, wantErr: []string{"verification.secrets[0]: has leading or trailing whitespace"}},
		{name: "none with secrets", scheme: Scheme{Kind: KindNone, Secrets: []string{"s"}}, wantErr: []string{"verification.secrets: must be empty for kind none"}},
		{name: "standard webhooks bad base64", scheme: Scheme{Kind: KindStandardWebhooks, Secrets: []string{"whsec_not base64!"}}, wantErr: []string{`verification.secrets[0]: not a valid "whsec_" secret`}},
		{name: "standard webhooks empty whsec", scheme: Scheme{Kind: KindStandardWebhooks, Secrets: []string{"whsec_"}}, wantErr: []string{`verification.secrets[0]: not a valid "whsec_" secret`}},
		{name: "standard webhooks short public key", scheme: Scheme{Kind: KindStandardWebhooks, Secrets: []string{"whpk_AAAA"}}, wantErr: []string{`verification.secrets[0]: not a valid "whpk_" public key`}},
		{name: "standard webhooks private key", scheme: Scheme{Kind: KindStandardWebhooks, Secrets: []string{private}}, wantErr: []string{`verification.secrets[0]: is a "whsk_" private key; configure its "whpk_" public key instead`}},
		{name: "standard webhooks no prefix", scheme: Scheme{Kind: KindStandardWebhooks, Secrets: []string{"MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"}}, wantErr: []string{`verification.secrets[0]: must start with "whsec_" (HMAC secret) or "whpk_" (ed25519 public key)`}},
		{name: "basic without colon", scheme: Scheme{Kind: KindBasic, Secrets: []string{"user"}}, wantErr: []string{`verification.secrets[0]: must be "user:password"`}},
		{name: "basic empty password", scheme: Scheme{Kind: KindBasic, Secrets: []string{"user:"}}, wantErr: []string{`verification.secrets[0]: must be "user:password"`}},
		{name: "negative tolerance", scheme: Scheme{Kind: KindStripe, Secrets: []string{"s"}, Tolerance: Duration{-time.Second}}, wantErr: []string{"verification.tolerance: must not be negative"}},
		{name: "tolerance on untimed kind", scheme: Scheme{Kind: KindGitHub, Secrets: []string{"s"}, Tolerance: Duration{time.Minute}}, wantErr: []string{"verification.tolerance: applies only to kind standard-webhooks, stripe, slack or hmac"}},
		{name: "tolerance on hmac without timestamp", scheme: Scheme{Kind: KindHMAC, Secrets: []string{"s"}, Header: "X-Sig", Tolerance: Duration{time.Minute}}, wantErr: []string{"verification.tolerance: has no effect without timestamp_header"}},
		{name: "algorithm on github", scheme: Scheme{Kind: KindGitHub, Secrets: []string{"s"}, Algorithm: "sha256"}, wantErr: []string{"verification.algorithm: applies only to kind hmac"}},
		{name: "query param on hmac", scheme: Scheme{Kind: KindHMAC, Secrets: []string{"s"}, Header: "X-Sig", QueryParam: "sig"}, wantErr: []string{"verification.query_param: applies only to kind api-key"}},
		{name: "header on basic", scheme: Scheme{Kind: KindBasic, Secrets: []string{"u:p"}, Header: "Authorization"}, wantErr: []string{"verification.header: applies only to kind hmac or api-key"}},
		{name: "hmac bad algorithm", scheme: Scheme{Kind: KindHMAC, Secrets: []string{"s"}, Header: "X-Sig", Algorithm: "md5"}, wantErr: []string{"verification.algorithm: must be sha1, sha256 or sha512"}},
		{name: "hmac algorithm is case-sensitive", scheme: Scheme{Kind: KindHMAC, Secrets: []string{"s"}, Header: "X-Sig", Algorithm: "SHA256"}, wantErr: []string{"verification.algorithm: must be sha1, sha256 or sha512"}},
		{name: "hmac header missing", scheme: Scheme{Kind: KindHMAC, Secrets: []string{"s"}}, wantErr: []string{"verification.header: required for kind hmac"}},
		{name: "hmac header invalid", scheme: Scheme{Kind: KindHMAC, Secrets: []string{"s"}, Header: "X Sig:"}, wantErr: []string{`verification.header: "X Sig:" is not a valid header name`}},
		{name: "hmac prefix with comma", scheme: Scheme{Kind: KindHMAC, Secrets: []string{"s"}, Header: "X-Sig", Prefix: "v1,"}, wantErr: []string{"verification.prefix: must not contain commas or spaces"}},
		{name: "hmac bad encoding", scheme: Scheme{Kind: KindHMAC, Secrets: []string{"s"}, Header: "X-Sig", Encoding: "base32"}, wantErr: []string{"verification.encoding: must be hex or base64"}},
		{name: "hmac template without body", scheme: Scheme{Kind: KindHMAC, Secrets: []string{"s"}, Header: "X-Sig", SignedContent: "{header:X-Id}"}, wantErr: []string{"verification.signed_content: must include {body}"}},
		{name: "hmac template unknown placeholder", scheme: Scheme{Kind: KindHMAC, Secrets: []string{"s"}, Header: "X-Sig", SignedContent: "{ts}.{body}"}, wantErr: []string{"verification.signed_content: unknown placeholder {ts}"}},
		{name: "hmac template unclosed", scheme: Scheme{Kind: KindHMAC, Secrets: []string{"s"}, Header: "X-Sig", SignedContent: "{body"}, wantErr: []string{`verification.signed_content: unclosed "{body"`}},
		{name: "hmac template bad header", scheme: Scheme{Kind: KindHMAC, Secrets: []string{"s"}, Header: "X-Sig", SignedContent: "{header:}{body}"}, wantErr: []string{"verification.signed_content: {header:}"}},
		{name: "hmac timestamp without header", scheme: Scheme{Kind: KindHMAC, Secrets: []string{"s"}, Header: "X-Sig", SignedContent: "{timestamp}.{body}"}, wantErr: []string{"verification.signed_content: {timestamp} needs timestamp_header"}},
		{name: "hmac timestamp header unsigned", scheme: Scheme{Kind: KindHMAC, Secrets: []string{"s"}, Header: "X-Sig", TimestampHeader: "X-Ts"}, wantErr: []string{"verification.timestamp_header: needs {timestamp} in signed_content"}},
		{name: "api key prefix without header", scheme: Scheme{Kind: KindAPIKey, Secrets: []string{"k"}, QueryParam: "key", Prefix: "Bearer "}, wantErr: []string{"verification.prefix: applies to the header only"}},
		{name: "every problem is reported", scheme: Scheme{Kind: KindHMAC, Algorithm: "md5", Encoding: "raw"}, wantErr: []string{
			"verification.secrets: at least one secret is required for kind hmac",
			"verification.algorithm: must be sha1, sha256 or sha512",
			"verification.header: required for kind hmac",
			"verification.encoding: must be hex or base64",
		}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			err := c.scheme.Validate()
			if len(c.wantErr) == 0 {
				require.NoError(t, err)
				return
			}
			require.Error(t, err)
			for _, want := range c.wantErr {
				require.ErrorContains(t, err, want)
			}
			for _, secret := range c.scheme.Secrets {
				if len(secret) > 8 {
					require.NotContains(t, err.Error(), secret, "the message must not quote a secret")
				}
			}
		})
	}
}

func TestDedupID(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name string
		kind string
		req  Request
		want string
	}{
		{name: "standard webhooks", kind: KindStandardWebhooks, req: Request{Header: hdr("webhook-id", "msg_1", "svix-id", "msg_svix")}, want: "msg_1"},
		{name: "standard webhooks svix", kind: KindStandardWebhooks, req: Request{Header: hdr("svix-id", "msg_svix")}, want: "msg_svix"},
		{name: "standard webhooks none", kind: KindStandardWebhooks, req: Request{Header: http.Header{}}},
		{name: "github", kind: KindGitHub, req: Request{Header: hdr("X-GitHub-Delivery", "72d3162e-cc78-11e3-81ab-4c9367dc0958")}, want: "72d3162e-cc78-11e3-81ab-4c9367dc0958"},
		{name: "stripe", kind: KindStripe, req: Request{Body: []byte(`{"id":"evt_1NG8Du2eZvKYlo2CUI79vXWy","object":"event","data":{"object":{"id":"pi_1"}}}`)}, want: "evt_1NG8Du2eZvKYlo2CUI79vXWy"},
		{name: "stripe key is case-sensitive", kind: KindStripe, req: Request{Body: []byte(`{"ID":"evt_1"}`)}},
		{name: "stripe id not a string", kind: KindStripe, req: Request{Body: []byte(`{"id":42}`)}},
		{name: "stripe not json", kind: KindStripe, req: Request{Body: []byte(`id=evt_1`)}},
		{name: "stripe array", kind: KindStripe, req: Request{Body: []byte(`[{"id":"evt_1"}]`)}},
		{name: "shopify webhook id", kind: KindShopify, req: Request{Header: hdr("X-Shopify-Webhook-Id", "b54557e4", "X-Shopify-Event-Id", "98880550")}, want: "b54557e4"},
		{name: "shopify event id", kind: KindShopify, req: Request{Header: hdr("X-Shopify-Event-Id", "98880550")}, want: "98880550"},
		{name: "slack event", kind: KindSlack, req: Request{Body: []byte(`{"type":"event_callback","event_id":"Ev08MFMKH6","event":{"type":"app_mention"}}`)}, want: "Ev08MFMKH6"},
		{name: "slack form body", kind: KindSlack, req: Request{Body: []byte(`token=x&event_id=Ev1`)}},
		{name: "hmac", kind: KindHMAC, req: Request{Header: hdr("webhook-id", "msg_1", "X-GitHub-Delivery", "d"), Body: []byte(`{"id":"x"}`)}},
		{name: "basic", kind: KindBasic, req: Request{Header: hdr("webhook-id", "msg_1"), Body: []byte(`{"id":"x"}`)}},
		{name: "api key", kind: KindAPIKey, req: Request{Header: hdr("webhook-id", "msg_1"), Body: []byte(`{"id":"x"}`)}},
		{name: "none", kind: KindNone, req: Request{Header: hdr("webhook-id", "msg_1"), Body: []byte(`{"id":"x"}`)}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			if c.req.Header == nil {
				c.req.Header = http.Header{}
			}
			require.Equal(t, c.want, Scheme{Kind: c.kind}.DedupID(c.req))
		})
	}
}

func TestVerifyErrorReason(t *testing.T) {
	t.Parallel()
	s := Scheme{Kind: KindAPIKey, Secrets: []string{"key-one", "key-two"}, QueryParam: "key"}
	err := s.Verify(Request{Header: http.Header{}, Query: url.Values{"key": {"guess"}}}, time.Time{})
	require.EqualError(t, err, "verify api-key webhook: the key in query parameter key matches no configured key (tried 2)")
	require.ErrorIs(t, err, ErrVerification)
	require.ErrorIs(t, err, ErrNoMatch)
	require.NotErrorIs(t, err, ErrMalformed)
}

func TestDurationJSON(t *testing.T) {
	t.Parallel()
	cases := []struct {
		in      string
		want    time.Duration
		wantErr string
	}{
		{in: `"5m"`, want: 5 * time.Minute},
		{in: `"1h30m"`, want: 90 * time.Minute},
		{in: `"0s"`, want: 0},
		{in: `null`, want: 0},
		{in: `300`, wantErr: `want a duration string such as "5m", got 300`},
		{in: `"5 minutes"`, wantErr: `want a duration string such as "5m"`},
		{in: `"300"`, wantErr: "missing unit"},
	}
	for _, c := range cases {
		t.Run(c.in, func(t *testing.T) {
			t.Parallel()
			var d Duration
			err := json.Unmarshal([]byte(c.in), &d)
			if c.wantErr != "" {
				require.ErrorContains(t, err, c.wantErr)
				return
			}
			require.NoError(t, err)
			require.Equal(t, c.want, d.Duration)
		})
	}

	out, err := json.Marshal(Duration{90 * time.Second})
	require.NoError(t, err)
	require.JSONEq(t, `"1m30s"`, string(out))
}

func TestDurationYAML(t *testing.T) {
	t.Parallel()
	type doc struct {
		Tolerance Duration `yaml:"tolerance"`
	}
	var d doc
	require.NoError(t, yaml.UnmarshalWithOptions([]byte("tolerance: 90s\n"), &d, yaml.Strict()))
	require.Equal(t, 90*time.Second, d.Tolerance.Duration)

	out, err := yaml.Marshal(doc{Tolerance: Duration{10 * time.Minute}})
	require.NoError(t, err)
	require.Equal(t, "tolerance: 10m0s\n", string(out))

	require.ErrorContains(t, yaml.Unmarshal([]byte("tolerance: ten minutes\n"), &d), `want a duration string such as "5m"`)
	require.ErrorContains(t, yaml.Unmarshal([]byte("tolerance: [1]\n"), &d), "cannot unmarshal")
}

func TestSchemeEncoding(t *testing.T) {
	t.Parallel()
	s := Scheme{
		Kind: KindHMAC, Secrets: []string{"s1", "s2"}, Tolerance: Duration{2 * time.Minute}, Algorithm: "sha512",
		Header: "X-Sig", Prefix: "v1=", Encoding: "base64", SignedContent: "{timestamp}.{body}",
		TimestampHeader: "X-Ts",
	}
	wantJSON := `{"kind":"hmac","secrets":["s1","s2"],"tolerance":"2m0s","algorithm":"sha512","header":"X-Sig",
		"prefix":"v1=","encoding":"base64","signed_content":"{timestamp}.{body}","timestamp_header":"X-Ts"}`

	out, err := json.Marshal(s)
	require.NoError(t, err)
	require.JSONEq(t, wantJSON, string(out))
	var fromJSON Scheme
	require.NoError(t, json.Unmarshal(out, &fromJSON))
	require.Equal(t, s, fromJSON)

	// The configuration file's form, read strictly as internal/config does.
	const written = `kind: hmac
secrets: [s1, s2]
tolerance: 2m
algorithm: sha512
header: X-Sig
prefix: v1=
encoding: base64
signed_content: "{timestamp}.{body}"
timestamp_header: X-Ts
`
	var fromYAML Scheme
	require.NoError(t, yaml.UnmarshalWithOptions([]byte(written), &fromYAML, yaml.Strict()))
	require.Equal(t, s, fromYAML)
	require.NoError(t, fromYAML.Validate())
	out, err = yaml.Marshal(s)
	require.NoError(t, err)
	var roundTrip Scheme
	require.NoError(t, yaml.Unmarshal(out, &roundTrip))
	require.Equal(t, s, roundTrip)

	// Unset fields are left out, the zero tolerance included.
	out, err = json.Marshal(Scheme{Kind: KindGitHub, Secrets: []string{"s"}})
	require.NoError(t, err)
	require.JSONEq(t, `{"kind":"github","secrets":["s"]}`, string(out))
	out, err = yaml.Marshal(Scheme{Kind: KindNone})
	require.NoError(t, err)
	require.Equal(t, "kind: none\n", string(out))
}
