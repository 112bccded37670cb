package signature

import (
	"crypto/hmac"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/base64"
	"encoding/hex"
	"hash"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/hookline/hookline/internal/testkit"
	"github.com/stretchr/testify/require"
)

// Vectors computed independently with openssl over githubBody and
// githubSecret, e.g. `printf %s "$body" | openssl dgst -sha1 -hmac "$secret"`.
const (
	vectorSHA1Hex        = "01dc10d0c83e72ed246219cdd91669667fe2ca59"
	vectorSHA256Base64   = "dXEH6g6yUJ/CESIczphLijdXC211hsIsRvQ3nIsEPhc="
	vectorSHA512Base64   = "Ee01WmF+mBNOhCASp5RMz1nBAlbLGCNXvX46QgE/8Hw3b4wUz1zBkj2iC1HWQlay+4678QCqZ6YTJvYf6oERvA=="
	vectorTimestamped    = "76c83fd0acdf22faed320674fe8e04d528cfe8a17905e720a9611e40677c03b7" // "1700000000." + body
	vectorWithHeaderPart = "bb855d164d2e2bc518ffd02eae4b5d7b065e28c0285bb275bff4b6c72b0a6b5c" // "req_42:1700000000:" + body
)

func TestSchemeHMAC(t *testing.T) {
	t.Parallel()
	now := time.Unix(1700000000, 0)
	ts := "1700000000"
	body := []byte(githubBody)
	sha256Hex := strings.TrimPrefix(githubSignature, "sha256=")
	req := func(kv ...string) Request { return Request{Header: hdr(kv...), Body: body} }
	urlSafe := strings.TrimRight(strings.NewReplacer("+", "-", "/", "_").Replace(vectorSHA512Base64), "=")
	newSig := hmacHex("new secret", githubBody)

	base := Scheme{Kind: KindHMAC, Secrets: []string{githubSecret}, Header: "X-Signature"}
	sha1Prefixed := func(s *Scheme) { s.Algorithm, s.Prefix = "sha1", "sha1=" }
	sha512Base64 := func(s *Scheme) { s.Algorithm, s.Encoding = "sha512", "base64" }
	timestamped := func(s *Scheme) { s.SignedContent, s.TimestampHeader = "{timestamp}.{body}", "X-Timestamp" }
	withHeaderPart := func(s *Scheme) {
		s.SignedContent, s.TimestampHeader = "{header:X-Request-Id}:{timestamp}:{body}", "X-Timestamp"
	}

	runVerifyCases(t, base, now, []verifyCase{
		{name: "default sha256 hex", req: req("X-Signature", sha256Hex)},
		{name: "sha256 base64", scheme: func(s *Scheme) { s.Encoding = "base64" }, req: req("X-Signature", vectorSHA256Base64)},
		{name: "sha1 with prefix", scheme: sha1Prefixed, req: req("X-Signature", "sha1="+vectorSHA1Hex)},
		{name: "prefix matches case-insensitively", scheme: sha1Prefixed, req: req("X-Signature", "SHA1="+vectorSHA1Hex)},
		{name: "sha512 base64", scheme: sha512Base64, req: req("X-Signature", vectorSHA512Base64)},
		{name: "sha512 unpadded url-safe base64", scheme: sha512Base64, req: req("X-Signature", urlSafe)},
		{name: "timestamp in signed content", scheme: timestamped, req: req("X-Signature", vectorTimestamped, "X-Timestamp", ts)},
		{name: "header in signed content", scheme: withHeaderPart, req: req("X-Signature", vectorWithHeaderPart, "X-Timestamp", ts, "X-Request-Id", "req_42")},
		{name: "several signatures in one header", req: req("X-Signature", newSig+", "+sha256Hex)},
		{name: "signatures in repeated headers", req: req("X-Signature", "zz", "X-Signature", sha256Hex)},
		{name: "second of two secrets", secrets: []string{"new secret", githubSecret}, req: req("X-Signature", sha256Hex)},
		{name: "new secret signs", secrets: []string{"new secret", githubSecret}, req: req("X-Signature", newSig)},

		{name: "wrong secret", secrets: []string{"It's a Secret to Everybody!"}, req: req("X-Signature", sha256Hex), wantErr: ErrNoMatch},
		{name: "rotated-out secret", secrets: []string{"new secret"}, req: req("X-Signature", sha256Hex), wantErr: ErrNoMatch},
		{name: "tampered body", req: Request{Header: hdr("X-Signature", sha256Hex), Body: []byte("Hello, World?")}, wantErr: ErrNoMatch},
		{name: "wrong algorithm", scheme: func(s *Scheme) { s.Algorithm = "sha512" }, req: req("X-Signature", hex.EncodeToString(make([]byte, 64))), wantErr: ErrNoMatch},
		{name: "tampered timestamp", scheme: timestamped, req: req("X-Signature", vectorTimestamped, "X-Timestamp", "1700000001"), wantErr: ErrNoMatch},
		{name: "tampered signed header", scheme: withHeaderPart, req: req("X-Signature", vectorWithHeaderPart, "X-Timestamp", ts, "X-Request-Id", "req_43"), wantErr: ErrNoMatch},
		{name: "stale timestamp", scheme: timestamped, req: req("X-Signature", vectorTimestamped, "X-Timestamp", ts), now: now.Add(DefaultTolerance + time.Second), wantErr: ErrTimestamp},
		{name: "future timestamp", scheme: timestamped, req: req("X-Signature", vectorTimestamped, "X-Timestamp", ts), now: now.Add(-DefaultTolerance - time.Second), wantErr: ErrTimestamp},
		{name: "timestamp in milliseconds", scheme: timestamped, req: req("X-Signature", vectorTimestamped, "X-Timestamp", ts+"000"), wantErr: ErrTimestamp},
		{name: "missing signature header", req: req("X-Other", sha256Hex), wantErr: ErrMissingHeaders},
		{name: "empty signature header", req: req("X-Signature", ""), wantErr: ErrMissingHeaders},
		{name: "missing timestamp header", scheme: timestamped, req: req("X-Signature", vectorTimestamped), wantErr: ErrMissingHeaders},
		{name: "missing signed header", scheme: withHeaderPart, req: req("X-Signature", vectorWithHeaderPart, "X-Timestamp", ts), wantErr: ErrMissingHeaders},
		{name: "missing prefix", scheme: sha1Prefixed, req: req("X-Signature", vectorSHA1Hex), wantErr: ErrMalformed},
		{name: "not hex", req: req("X-Signature", "sha256="+sha256Hex), wantErr: ErrMalformed},
		{name: "base64 when hex is configured", req: req("X-Signature", vectorSHA256Base64), wantErr: ErrMalformed},
		{name: "wrong length", req: req("X-Signature", vectorSHA1Hex), wantErr: ErrMalformed},
		{name: "only separators", req: req("X-Signature", " , ,"), wantErr: ErrMalformed},
		{name: "invalid configuration fails closed", scheme: func(s *Scheme) { s.Algorithm = "md5" }, req: req("X-Signature", sha256Hex), wantErr: ErrVerification},
	})
}

func TestParseSignedContent(t *testing.T) {
	t.Parallel()
	testkit.Table(t, parseSignedContent, []testkit.Case[string, []segment]{
		{In: "", Want: []segment{{kind: segmentBody}}},
		{In: "{body}", Want: []segment{{kind: segmentBody}}},
		{In: "v0:{timestamp}:{body}", Want: []segment{
			{kind: segmentLiteral, text: "v0:"}, {kind: segmentTimestamp}, {kind: segmentLiteral, text: ":"}, {kind: segmentBody},
		}},
		{In: "{header:X-Id}{body}}", Want: []segment{
			{kind: segmentHeader, text: "X-Id"}, {kind: segmentBody}, {kind: segmentLiteral, text: "}"},
		}},
		{In: "{Body}", Err: "unknown placeholder {Body}"},
		{In: "{body}{", Err: `unclosed "{"`},
		{In: "{header:X Id}", Err: `"X Id" is not a valid header name`},
	})
}

func FuzzSchemeHMAC(f *testing.F) {
	f.Add("sha256", "sha256=", "hex", "{timestamp}.{body}", "X-Sig", "sha256=abc, def", "1700000000", "req_1", []byte("body"), int64(1700000000))
	f.Add("sha1", "", "base64", "{header:X-Id}{body}", "X-Sig", "====", "", "", []byte{}, int64(0))
	f.Add("sha512", "v1=", "base64", "{body", "", " , ", "-1", "x", []byte("x"), int64(-1))
	f.Add("md5", "", "", "{header:}{body}", "X Sig", "", "99999999999999999999", "", []byte(nil), int64(9223372036854775807))
	f.Fuzz(func(t *testing.T, algorithm, prefix, encoding, content, header, sig, ts, requestID string, body []byte, nowUnix int64) {
		s := Scheme{
			Kind: KindHMAC, Secrets: []string{"secret"}, Algorithm: algorithm, Header: header, Prefix: prefix,
			Encoding: encoding, SignedContent: content,
		}
		if strings.Contains(content, "{timestamp}") {
			s.TimestampHeader = "X-Timestamp"
		}
		now := time.Unix(nowUnix, 0)
		h := hdr("X-Timestamp", ts, "X-Id", requestID)
		if validHeaderName(header) {
			h.Add(header, sig)
		}
		// Whether or not the scheme is valid, Verify must not panic.
		err := s.Verify(Request{Header: h, Body: body}, now)
		if err != nil {
			require.ErrorIs(t, err, ErrVerification)
		}
		if s.Validate() != nil || requestID == "" || !signableForTest(s) {
			return
		}

		// A valid scheme accepts what is signed its way, and nothing else.
		ts = strconv.FormatInt(nowUnix, 10)
		h = hdr("X-Timestamp", ts, "X-Id", requestID)
		h.Set(header, prefix+signHMACForTest(t, s, ts, h, body))
		require.NoError(t, s.Verify(Request{Header: h, Body: body}, now))
		require.ErrorIs(t, s.Verify(Request{Header: h, Body: append(body, '!')}, now), ErrNoMatch)
	})
}

// signHMACForTest signs as a sender configured like s would.
func signHMACForTest(t *testing.T, s Scheme, ts string, h http.Header, body []byte) string {
	t.Helper()
	newHash := map[string]func() hash.Hash{"": sha256.New, "sha1": sha1.New, "sha256": sha256.New, "sha512": sha512.New}[s.Algorithm]
	segs, err := parseSignedContent(s.SignedContent)
	require.NoError(t, err)
	m := hmac.New(newHash, []byte(s.Secrets[0]))
	for _, seg := range segs {
		switch seg.kind {
		case segmentLiteral:
			m.Write([]byte(seg.text))
		case segmentBody:
			m.Write(body)
		case segmentTimestamp:
			m.Write([]byte(ts))
		case segmentHeader:
			m.Write([]byte(h.Get(seg.text)))
		}
	}
	if s.Encoding == "base64" {
		return base64.StdEncoding.EncodeToString(m.Sum(nil))
	}
	return hex.EncodeToString(m.Sum(nil))
}

// signableForTest reports whether the fuzzed scheme signs only headers the
// fuzz test sets (X-Id, X-Timestamp) and keeps its signature elsewhere.
func signableForTest(s Scheme) bool {
	fixed := []string{"X-Id", "X-Timestamp"}
	if slices.Contains(fixed, http.CanonicalHeaderKey(s.Header)) {
		return false
	}
	segs, err := parseSignedContent(s.SignedContent)
	if err != nil {
		return false
	}
	for _, seg := range segs {
		if seg.kind == segmentHeader && !slices.Contains(fixed, http.CanonicalHeaderKey(seg.text)) {
			return false
		}
	}
	return true
}
