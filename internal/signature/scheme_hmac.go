package signature

import (
	"cmp"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"strings"
	"time"
	"unicode"
)

// hmacAlgorithms are the hashes of kind hmac by name; "" is the default.
var hmacAlgorithms = map[string]func() hash.Hash{
	"":       sha256.New,
	"sha1":   sha1.New,
	"sha256": sha256.New,
	"sha512": sha512.New,
}

// Signature encodings of kind hmac.
const (
	encodingHex    = "hex"
	encodingBase64 = "base64"
)

// defaultSignedContent signs the body alone.
const defaultSignedContent = "{body}"

type segmentKind int

const (
	segmentLiteral segmentKind = iota
	segmentBody
	segmentTimestamp
	segmentHeader
)

// segment is a piece of a parsed SignedContent template: literal text, the
// body, the timestamp, or the value of the header named text.
type segment struct {
	kind segmentKind
	text string
}

// parseSignedContent splits a SignedContent template ("" means "{body}")
// into segments. Placeholders are {body}, {timestamp} and {header:Name};
// any other "{" is an error, so a typo cannot silently become literal text.
func parseSignedContent(tmpl string) ([]segment, error) {
	if tmpl == "" {
		tmpl = defaultSignedContent
	}
	var segs []segment
	for rest := tmpl; rest != ""; {
		open := strings.IndexByte(rest, '{')
		if open < 0 {
			segs = append(segs, segment{kind: segmentLiteral, text: rest})
			break
		}
		if open > 0 {
			segs = append(segs, segment{kind: segmentLiteral, text: rest[:open]})
		}
		end := strings.IndexByte(rest[open:], '}')
		if end < 0 {
			return nil, fmt.Errorf("unclosed %q", shown(rest[open:]))
		}
		name := rest[open+1 : open+end]
		switch {
		case name == "body":
			segs = append(segs, segment{kind: segmentBody})
		case name == "timestamp":
			segs = append(segs, segment{kind: segmentTimestamp})
		case strings.HasPrefix(name, "header:"):
			h := strings.TrimPrefix(name, "header:")
			if !validHeaderName(h) {
				return nil, fmt.Errorf("{header:%s}: %q is not a valid header name", shown(h), shown(h))
			}
			segs = append(segs, segment{kind: segmentHeader, text: h})
		default:
			return nil, fmt.Errorf("unknown placeholder {%s}: want {body}, {timestamp} or {header:Name}", shown(name))
		}
		rest = rest[open+end+1:]
	}
	return segs, nil
}

// verifyHMAC checks kind hmac: Header holds one or more signatures
// (separated by commas or spaces, or in repeated headers), each with Prefix,
// of SignedContent under Algorithm and one of the secrets.
func (s Scheme) verifyHMAC(r Request, now time.Time) error {
	const kind = KindHMAC
	newHash, ok := hmacAlgorithms[s.Algorithm]
	if !ok {
		return fail(kind, nil, "verification.algorithm %q is not sha1, sha256 or sha512", shown(s.Algorithm))
	}
	segs, err := parseSignedContent(s.SignedContent)
	if err != nil {
		return fail(kind, nil, "verification.signed_content: %v", err)
	}
	if s.Header == "" {
		return fail(kind, nil, "verification.header is not set")
	}
	values := r.Header.Values(s.Header)
	if len(values) == 0 || (len(values) == 1 && values[0] == "") {
		return fail(kind, ErrMissingHeaders, "missing header %s", s.Header)
	}

	var rawTS string
	if s.TimestampHeader != "" {
		rawTS = r.Header.Get(s.TimestampHeader)
		if rawTS == "" {
			return fail(kind, ErrMissingHeaders, "missing header %s", s.TimestampHeader)
		}
		if _, err := checkTimestamp(kind, s.TimestampHeader, rawTS, now, s.tolerance()); err != nil {
			return err
		}
	}

	parts := make([][]byte, 0, len(segs))
	for _, seg := range segs {
		switch seg.kind {
		case segmentLiteral:
			parts = append(parts, []byte(seg.text))
		case segmentBody:
			parts = append(parts, r.Body)
		case segmentTimestamp:
			if s.TimestampHeader == "" {
				return fail(kind, nil, "verification.signed_content uses {timestamp} without timestamp_header")
			}
			parts = append(parts, []byte(rawTS))
		case segmentHeader:
			v := r.Header.Get(seg.text)
			if v == "" {
				return fail(kind, ErrMissingHeaders, "missing header %s, part of the signed content", seg.text)
			}
			parts = append(parts, []byte(v))
		}
	}

	size := newHash().Size()
	var sigs [][]byte
	for _, v := range values {
		for _, tok := range strings.FieldsFunc(v, isSignatureSeparator) {
			if sig, err := s.decodeHMACSignature(tok); err == nil && len(sig) == size {
				sigs = append(sigs, sig)
			}
		}
	}
	if len(sigs) == 0 {
		return fail(kind, ErrMalformed, "%s holds no %s signature of %d bytes%s",
			s.Header, cmp.Or(s.Encoding, encodingHex), size, prefixNote(s.Prefix))
	}
	if !matchHMAC(newHash, s.Secrets, sigs, parts...) {
		return fail(kind, ErrNoMatch, "no signature in %s matches a configured secret (%d signatures, %d secrets)",
			s.Header, len(sigs), len(s.Secrets))
	}
	return nil
}

// decodeHMACSignature strips Prefix from tok and decodes the rest.
func (s Scheme) decodeHMACSignature(tok string) ([]byte, error) {
	if s.Prefix != "" {
		if len(tok) < len(s.Prefix) || !strings.EqualFold(tok[:len(s.Prefix)], s.Prefix) {
			return nil, errors.New("missing prefix")
		}
		tok = tok[len(s.Prefix):]
	}
	if s.Encoding == encodingBase64 {
		return decodeAnyBase64(tok)
	}
	return hex.DecodeString(tok)
}

// decodeAnyBase64 accepts both alphabets, padded or not: providers differ,
// and leniency in decoding costs nothing when the bytes must match.
func decodeAnyBase64(s string) ([]byte, error) {
	var err error
	for _, enc := range []*base64.Encoding{
		base64.StdEncoding, base64.RawStdEncoding, base64.URLEncoding, base64.RawURLEncoding,
	} {
		var b []byte
		if b, err = enc.DecodeString(s); err == nil {
			return b, nil
		}
	}
	return nil, err
}

// isSignatureSeparator separates several signatures in one header value.
func isSignatureSeparator(r rune) bool {
	return r == ',' || unicode.IsSpace(r)
}

func prefixNote(prefix string) string {
	if prefix == "" {
		return ""
	}
	return fmt.Sprintf(" after %q", prefix)
}
