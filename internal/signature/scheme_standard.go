package signature

import (
	"bytes"
	"crypto/ed25519"
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// Key prefixes of Standard Webhooks' asymmetric signatures.
const (
	// PrivateKeyPrefix starts a serialized ed25519 private key: "whsk_"
	// followed by the standard base64 of the 64-byte key (seed, then public
	// key).
	PrivateKeyPrefix = "whsk_"
	// PublicKeyPrefix starts a serialized ed25519 public key: "whpk_"
	// followed by the standard base64 of the 32-byte key.
	PublicKeyPrefix = "whpk_"
)

// VersionAsymmetric is the tag in front of an ed25519 signature.
const VersionAsymmetric = "v1a"

// GenerateKeyPair returns a new ed25519 key pair for Standard Webhooks'
// asymmetric signatures: the private key ("whsk_…") signs, the public key
// ("whpk_…") is handed to receivers.
func GenerateKeyPair() (private, public string, err error) {
	pub, priv, err := ed25519.GenerateKey(nil)
	if err != nil {
		return "", "", fmt.Errorf("generate key pair: %w", err)
	}
	return PrivateKeyPrefix + base64.StdEncoding.EncodeToString(priv),
		PublicKeyPrefix + base64.StdEncoding.EncodeToString(pub), nil
}

// DecodePrivateKey returns the key of s, PrivateKeyPrefix followed by the
// standard base64 of a 64-byte ed25519 private key or of its 32-byte seed.
func DecodePrivateKey(s string) (ed25519.PrivateKey, error) {
	raw, err := decodeKey(s, PrivateKeyPrefix, "private")
	if err != nil {
		return nil, err
	}
	switch len(raw) {
	case ed25519.SeedSize:
		return ed25519.NewKeyFromSeed(raw), nil
	case ed25519.PrivateKeySize:
		key := ed25519.NewKeyFromSeed(raw[:ed25519.SeedSize])
		if !bytes.Equal(key[ed25519.SeedSize:], raw[ed25519.SeedSize:]) {
			return nil, errors.New("decode private key: public half does not belong to the seed")
		}
		return key, nil
	}
	return nil, fmt.Errorf("decode private key: want %d or %d bytes, got %d", ed25519.SeedSize, ed25519.PrivateKeySize, len(raw))
}

// decodeKey returns the bytes of s, prefix followed by standard base64;
// its errors name the kind of key (private, public).
func decodeKey(s, prefix, kind string) ([]byte, error) {
	rest, ok := strings.CutPrefix(s, prefix)
	if !ok {
		return nil, fmt.Errorf("decode %s key: want %q followed by standard base64", kind, prefix)
	}
	raw, err := base64.StdEncoding.DecodeString(rest)
	if err != nil {
		return nil, fmt.Errorf("decode %s key: want %q followed by standard base64: %w", kind, prefix, err)
	}
	return raw, nil
}

// DecodePublicKey returns the key of s, PublicKeyPrefix followed by the
// standard base64 of a 32-byte ed25519 public key.
func DecodePublicKey(s string) (ed25519.PublicKey, error) {
	raw, err := decodeKey(s, PublicKeyPrefix, "public")
	if err != nil {
		return nil, err
	}
	if len(raw) != ed25519.PublicKeySize {
		return nil, fmt.Errorf("decode public key: want %d bytes, got %d", ed25519.PublicKeySize, len(raw))
	}
	return ed25519.PublicKey(raw), nil
}

// SignV1a returns "v1a,<base64 signature>": the ed25519 signature with key
// over msgID "." ts (unix seconds) "." body. Like ed25519.Sign, it panics
// when key is not ed25519.PrivateKeySize bytes long; DecodePrivateKey
// returns keys of the right size.
func SignV1a(key ed25519.PrivateKey, msgID string, ts time.Time, body []byte) string {
	sig := ed25519.Sign(key, standardContent(msgID, ts.Unix(), body))
	return VersionAsymmetric + "," + base64.StdEncoding.EncodeToString(sig)
}

// standardContent is the signed content of Standard Webhooks.
func standardContent(msgID string, ts int64, body []byte) []byte {
	b := make([]byte, 0, len(msgID)+22+len(body))
	b = append(b, msgID...)
	b = append(b, '.')
	b = strconv.AppendInt(b, ts, 10)
	b = append(b, '.')
	return append(b, body...)
}

// decodeStandardSecret decodes a "whsec_" secret into an HMAC key or a
// "whpk_" one into a public key. Its errors never quote the secret.
func decodeStandardSecret(secret string) (hmacKey []byte, public ed25519.PublicKey, err error) {
	switch {
	case strings.HasPrefix(secret, SecretPrefix):
		key, err := DecodeSecret(secret)
		if err != nil {
			return nil, nil, fmt.Errorf("not a valid %q secret: want standard base64 of a non-empty key", SecretPrefix)
		}
		return key, nil, nil
	case strings.HasPrefix(secret, PublicKeyPrefix):
		pub, err := DecodePublicKey(secret)
		if err != nil {
			return nil, nil, fmt.Errorf("not a valid %q public key: want standard base64 of %d bytes", PublicKeyPrefix, ed25519.PublicKeySize)
		}
		return nil, pub, nil
	case strings.HasPrefix(secret, PrivateKeyPrefix):
		return nil, nil, fmt.Errorf("is a %q private key; configure its %q public key instead", PrivateKeyPrefix, PublicKeyPrefix)
	}
	return nil, nil, fmt.Errorf("must start with %q (HMAC secret) or %q (ed25519 public key)", SecretPrefix, PublicKeyPrefix)
}

// standardHeaders returns the id, timestamp and signature headers, and the
// prefix of their names ("webhook-" or "svix-"), reading svix-* when all
// webhook-* headers are absent, as Verify does.
func standardHeaders(h http.Header) (msgID, rawTS, sigs, prefix string) {
	msgID, rawTS, sigs = h.Get(HeaderID), h.Get(HeaderTimestamp), h.Get(HeaderSignature)
	if msgID == "" && rawTS == "" && sigs == "" {
		return h.Get(HeaderSvixID), h.Get(HeaderSvixTimestamp), h.Get(HeaderSvixSignature), "svix-"
	}
	return msgID, rawTS, sigs, "webhook-"
}

// verifyStandardWebhooks checks v1 signatures with the "whsec_" secrets,
// through Verify, and v1a signatures with the "whpk_" public keys.
func (s Scheme) verifyStandardWebhooks(r Request, now time.Time) error {
	const kind = KindStandardWebhooks
	var keys [][]byte
	var publics []ed25519.PublicKey
	for i, secret := range s.Secrets {
		key, pub, err := decodeStandardSecret(secret)
		if err != nil {
			return fail(kind, nil, "verification.secrets[%d] %v", i, err)
		}
		if key != nil {
			keys = append(keys, key)
		} else {
			publics = append(publics, pub)
		}
	}

	msgID, rawTS, sigs, prefix := standardHeaders(r.Header)
	var missing []string
	for _, h := range []struct{ name, value string }{
		{"id", msgID}, {"timestamp", rawTS}, {"signature", sigs},
	} {
		if h.value == "" {
			missing = append(missing, prefix+h.name)
		}
	}
	if len(missing) > 0 {
		return fail(kind, ErrMissingHeaders, "missing header %s", strings.Join(missing, ", "))
	}
	ts, err := checkTimestamp(kind, prefix+"timestamp", rawTS, now, s.tolerance())
	if err != nil {
		return err
	}

	if len(keys) > 0 {
		err := Verify(keys, r.Header, r.Body, now, s.tolerance())
		if err == nil {
			return nil
		}
		if !errors.Is(err, ErrNoMatch) {
			// Unreachable while the checks above mirror Verify's; keep its cause.
			return fail(kind, err, "%v", err)
		}
	}

	var v1, v1a int
	var content []byte
	for _, sig := range strings.Fields(sigs) {
		version, encoded, _ := strings.Cut(sig, ",")
		switch version {
		case Version:
			v1++
			continue
		case VersionAsymmetric:
			v1a++
		default:
			continue
		}
		raw, err := base64.StdEncoding.DecodeString(encoded)
		if err != nil || len(raw) != ed25519.SignatureSize {
			continue
		}
		if content == nil {
			content = standardContent(msgID, ts, r.Body)
		}
		for _, pub := range publics {
			if ed25519.Verify(pub, content, raw) {
				return nil
			}
		}
	}
	return fail(kind, ErrNoMatch, "no signature in %ssignature matches a configured key (%d v1 for %d whsec_ secrets, %d v1a for %d whpk_ keys)",
		prefix, v1, len(keys), v1a, len(publics))
}
