package signature

import (
	"crypto/ed25519"
	"encoding/base64"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	standardwebhooks "github.com/standard-webhooks/standard-webhooks/libraries/go"
	"github.com/stretchr/testify/require"
)

type standardBundle struct {
	now       time.Time
	body      []byte
	private   ed25519.PrivateKey
	public    string // whpk_
	private2  ed25519.PrivateKey
	public2   string
	libSigned http.Header // signed by the official library with specSecret
}

func setupStandard(t *testing.T) standardBundle {
	t.Helper()
	b := standardBundle{now: time.Unix(specTimestamp, 0), body: []byte(specBody)}
	var priv string
	var err error
	priv, b.public, err = GenerateKeyPair()
	require.NoError(t, err)
	b.private, err = DecodePrivateKey(priv)
	require.NoError(t, err)
	priv, b.public2, err = GenerateKeyPair()
	require.NoError(t, err)
	b.private2, err = DecodePrivateKey(priv)
	require.NoError(t, err)

	wh, err := standardwebhooks.NewWebhook(specSecret)
	require.NoError(t, err)
	sig, err := wh.Sign(specMsgID, b.now, b.body)
	require.NoError(t, err)
	require.Equal(t, specSignature, sig)
	b.libSigned = hdr(
		standardwebhooks.HeaderWebhookID, specMsgID,
		standardwebhooks.HeaderWebhookTimestamp, strconv.Itoa(specTimestamp),
		standardwebhooks.HeaderWebhookSignature, sig,
	)
	return b
}

// v1aHeaders signs with each key for v1a, as a sender would.
func v1aHeaders(msgID string, ts time.Time, body []byte, keys ...ed25519.PrivateKey) http.Header {
	sigs := make([]string, len(keys))
	for i, k := range keys {
		sigs[i] = SignV1a(k, msgID, ts, body)
	}
	return hdr(HeaderID, msgID, HeaderTimestamp, strconv.FormatInt(ts.Unix(), 10), HeaderSignature, strings.Join(sigs, " "))
}

func TestSchemeStandardWebhooks(t *testing.T) {
	t.Parallel()
	b := setupStandard(t)
	otherSecret := "whsec_" + base64.StdEncoding.EncodeToString([]byte("a second, rotated signing key"))
	with := func(h http.Header, kv ...string) http.Header {
		h = h.Clone()
		for i := 0; i+1 < len(kv); i += 2 {
			if kv[i+1] == "" {
				h.Del(kv[i])
			} else {
				h.Set(kv[i], kv[i+1])
			}
		}
		return h
	}
	v1a := v1aHeaders(specMsgID, b.now, b.body, b.private)
	both := with(v1a, HeaderSignature, specSignature+" "+v1a.Get(HeaderSignature))
	svix := hdr(HeaderSvixID, specMsgID, HeaderSvixTimestamp, strconv.Itoa(specTimestamp), HeaderSvixSignature, specSignature)
	req := func(h http.Header) Request { return Request{Header: h, Body: b.body} }

	runVerifyCases(t, Scheme{Kind: KindStandardWebhooks, Secrets: []string{specSecret}}, b.now, []verifyCase{
		{name: "v1 signed by the official library", req: req(b.libSigned)},
		{name: "v1 svix headers", req: req(svix)},
		{name: "v1 at the edge of a custom tolerance", req: req(b.libSigned), now: b.now.Add(time.Minute),
			scheme: func(s *Scheme) { s.Tolerance = Duration{time.Minute} }},
		{name: "v1a", secrets: []string{b.public}, req: req(v1a)},
		{name: "v1a second of two keys", secrets: []string{b.public2, b.public}, req: req(v1a)},
		{name: "v1a sender signing with two keys", secrets: []string{b.public2},
			req: req(v1aHeaders(specMsgID, b.now, b.body, b.private, b.private2))},
		{name: "v1 and v1a, public key configured", secrets: []string{b.public}, req: req(both)},
		{name: "v1 and v1a, secret configured", secrets: []string{specSecret}, req: req(both)},
		{name: "secret and public key, v1a sent", secrets: []string{specSecret, b.public}, req: req(v1a)},
		{name: "v1 second of two secrets", secrets: []string{otherSecret, specSecret}, req: req(b.libSigned)},

		{name: "wrong secret", secrets: []string{otherSecret}, req: req(b.libSigned), wantErr: ErrNoMatch},
		{name: "rotated-out public key", secrets: []string{b.public2}, req: req(v1a), wantErr: ErrNoMatch},
		{name: "v1 signature, only a public key", secrets: []string{b.public}, req: req(b.libSigned), wantErr: ErrNoMatch},
		{name: "v1a signature, only a secret", req: req(v1a), wantErr: ErrNoMatch},
		{name: "tampered body", req: Request{Header: b.libSigned, Body: []byte(`{"test": 2432232315}`)}, wantErr: ErrNoMatch},
		{name: "v1a tampered body", secrets: []string{b.public}, req: Request{Header: v1a, Body: []byte(`{"test": 1}`)}, wantErr: ErrNoMatch},
		{name: "v1a tampered id", secrets: []string{b.public}, req: req(with(v1a, HeaderID, "msg_other")), wantErr: ErrNoMatch},
		{name: "stale timestamp", req: req(b.libSigned), now: b.now.Add(DefaultTolerance + time.Second), wantErr: ErrTimestamp},
		{name: "future timestamp", req: req(b.libSigned), now: b.now.Add(-DefaultTolerance - time.Second), wantErr: ErrTimestamp},
		{name: "v1a stale timestamp", secrets: []string{b.public}, req: req(v1a), now: b.now.Add(time.Hour), wantErr: ErrTimestamp},
		{name: "past a custom tolerance", req: req(b.libSigned), now: b.now.Add(time.Minute + time.Second),
			scheme: func(s *Scheme) { s.Tolerance = Duration{time.Minute} }, wantErr: ErrTimestamp},
		{name: "timestamp not a number", req: req(with(b.libSigned, HeaderTimestamp, "2021-02-25T15:02:10Z")), wantErr: ErrTimestamp},
		{name: "missing signature header", req: req(with(b.libSigned, HeaderSignature, "")), wantErr: ErrMissingHeaders},
		{name: "missing id header", secrets: []string{b.public}, req: req(with(v1a, HeaderID, "")), wantErr: ErrMissingHeaders},
		{name: "no headers", req: req(http.Header{}), wantErr: ErrMissingHeaders},
		{name: "malformed signatures", secrets: []string{specSecret, b.public}, req: req(with(b.libSigned, HeaderSignature, "v1a,!!! v1a, v1a,AAAA v1 nocomma ,,,")), wantErr: ErrNoMatch},
		{name: "v1a signature under the v1 tag", secrets: []string{b.public},
			req: req(with(v1a, HeaderSignature, strings.Replace(v1a.Get(HeaderSignature), "v1a,", "v1,", 1))), wantErr: ErrNoMatch},
		{name: "invalid configured secret fails closed", secrets: []string{"whsk_AAAA"}, req: req(b.libSigned), wantErr: ErrVerification},
	})
}

func TestSignV1aContent(t *testing.T) {
	t.Parallel()
	b := setupStandard(t)
	sig := SignV1a(b.private, specMsgID, b.now, b.body)
	version, encoded, ok := strings.Cut(sig, ",")
	require.True(t, ok)
	require.Equal(t, "v1a", version)
	raw, err := base64.StdEncoding.DecodeString(encoded)
	require.NoError(t, err)

	// The spec's signed content, built independently: id.timestamp.body.
	content := []byte(specMsgID + "." + strconv.Itoa(specTimestamp) + "." + specBody)
	pub, err := DecodePublicKey(b.public)
	require.NoError(t, err)
	require.True(t, ed25519.Verify(pub, content, raw))
	require.False(t, ed25519.Verify(pub, append(content, ' '), raw))
}

func TestKeyPairEncoding(t *testing.T) {
	t.Parallel()
	private, public, err := GenerateKeyPair()
	require.NoError(t, err)
	require.True(t, strings.HasPrefix(private, "whsk_"))
	require.True(t, strings.HasPrefix(public, "whpk_"))

	priv, err := DecodePrivateKey(private)
	require.NoError(t, err)
	require.Len(t, priv, ed25519.PrivateKeySize)
	pub, err := DecodePublicKey(public)
	require.NoError(t, err)
	require.Equal(t, priv.Public(), pub)

	// A bare 32-byte seed decodes to the same key.
	seed := PrivateKeyPrefix + base64.StdEncoding.EncodeToString(priv.Seed())
	fromSeed, err := DecodePrivateKey(seed)
	require.NoError(t, err)
	require.Equal(t, priv, fromSeed)

	other, _, err := GenerateKeyPair()
	require.NoError(t, err)
	otherKey, err := DecodePrivateKey(other)
	require.NoError(t, err)
	mismatched := PrivateKeyPrefix + base64.StdEncoding.EncodeToString(append(priv.Seed(), otherKey.Public().(ed25519.PublicKey)...))

	cases := []struct {
		name    string
		decode  func(string) error
		in      string
		wantErr string
	}{
		{name: "private without prefix", decode: decodePriv, in: strings.TrimPrefix(private, "whsk_"), wantErr: `want "whsk_"`},
		{name: "private given a public key", decode: decodePriv, in: public, wantErr: `want "whsk_"`},
		{name: "private not base64", decode: decodePriv, in: "whsk_!!", wantErr: "standard base64"},
		{name: "private wrong size", decode: decodePriv, in: "whsk_AAAA", wantErr: "want 32 or 64 bytes, got 3"},
		{name: "private halves mismatched", decode: decodePriv, in: mismatched, wantErr: "public half does not belong to the seed"},
		{name: "public without prefix", decode: decodePub, in: strings.TrimPrefix(public, "whpk_"), wantErr: `want "whpk_"`},
		{name: "public not base64", decode: decodePub, in: "whpk_!!", wantErr: "standard base64"},
		{name: "public wrong size", decode: decodePub, in: "whpk_" + base64.StdEncoding.EncodeToString(priv), wantErr: "want 32 bytes, got 64"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			require.ErrorContains(t, c.decode(c.in), c.wantErr)
		})
	}
}

func decodePriv(s string) error { _, err := DecodePrivateKey(s); return err }
func decodePub(s string) error  { _, err := DecodePublicKey(s); return err }

func FuzzSchemeStandardWebhooks(f *testing.F) {
	f.Add("msg_1", "1614265330", specSignature, []byte(specBody), int64(specTimestamp), []byte("seed"))
	f.Add("", "", "", []byte{}, int64(0), []byte{})
	f.Add("id", "-9223372036854775808", "v1a, v1a,,, ,v1a v1,AAAA", []byte("x"), int64(9223372036854775807), []byte{0})
	f.Add("id", "99999999999999999999", "v1a,"+strings.Repeat("A", 88), []byte("x"), int64(-1), []byte("k"))
	f.Fuzz(func(t *testing.T, msgID, ts, sig string, body []byte, nowUnix int64, seed []byte) {
		seed32 := make([]byte, ed25519.SeedSize)
		copy(seed32, seed)
		priv := ed25519.NewKeyFromSeed(seed32)
		public := PublicKeyPrefix + base64.StdEncoding.EncodeToString(priv.Public().(ed25519.PublicKey))
		s := Scheme{Kind: KindStandardWebhooks, Secrets: []string{specSecret, public}}
		now := time.Unix(nowUnix, 0)

		for _, h := range []http.Header{
			hdr(HeaderID, msgID, HeaderTimestamp, ts, HeaderSignature, sig),
			hdr(HeaderSvixID, msgID, HeaderSvixTimestamp, ts, HeaderSvixSignature, sig),
		} {
			err := s.Verify(Request{Header: h, Body: body}, now)
			if err != nil {
				require.ErrorIs(t, err, ErrVerification)
			}
		}

		// What the key signs verifies; with another body it does not.
		if msgID == "" || strings.ContainsAny(msgID, "\r\n") {
			return
		}
		signed := v1aHeaders(msgID, now, body, priv)
		require.NoError(t, s.Verify(Request{Header: signed, Body: body}, now))
		err := s.Verify(Request{Header: signed, Body: append(body, '!')}, now)
		require.ErrorIs(t, err, ErrNoMatch)
	})
}
