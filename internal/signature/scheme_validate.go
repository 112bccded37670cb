package signature

import (
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/hookline/hookline/internal/field"
)

// Validate checks the scheme once, when it is configured, so that Verify
// meets no surprises. Every problem is reported, each naming its field
// ("verification.algorithm: must be sha1, sha256 or sha512"); messages never
// quote secrets.
func (s Scheme) Validate() error {
	if !slices.Contains(kinds, s.Kind) {
		if s.Kind == "" {
			return field.Errorf("verification.kind", "required, one of %s", strings.Join(kinds, ", "))
		}
		return field.Errorf("verification.kind", "%q is not one of %s", shown(s.Kind), strings.Join(kinds, ", "))
	}
	var errs []error
	add := func(at, format string, args ...any) {
		errs = append(errs, field.Errorf("verification."+at, format, args...))
	}

	s.validateSecrets(add)
	s.validateApplicable(add)
	if s.Tolerance.Duration < 0 {
		add("tolerance", "must not be negative")
	}

	switch s.Kind {
	case KindHMAC:
		s.validateHMAC(add)
	case KindAPIKey:
		if s.Header != "" && !validHeaderName(s.Header) {
			add("header", "%q is not a valid header name", shown(s.Header))
		}
		if s.Prefix != "" && s.Header == "" && s.QueryParam != "" {
			add("prefix", "applies to the header only; set header too")
		}
	}
	return errors.Join(errs...)
}

// validateSecrets checks the number and the form of the secrets.
func (s Scheme) validateSecrets(add func(at, format string, args ...any)) {
	if s.Kind == KindNone {
		if len(s.Secrets) > 0 {
			add("secrets", "must be empty for kind none")
		}
		return
	}
	if len(s.Secrets) == 0 {
		add("secrets", "at least one secret is required for kind %s", s.Kind)
		return
	}
	for i, secret := range s.Secrets {
		at := fmt.Sprintf("secrets[%d]", i)
		if secret == "" {
			add(at, "must not be empty")
			continue
		}
		if strings.TrimSpace(secret) != secret {
			add(at, "has leading or trailing whitespace")
			continue
		}
		switch s.Kind {
		case KindStandardWebhooks:
			if _, _, err := decodeStandardSecret(secret); err != nil {
				add(at, "%v", err)
			}
		case KindBasic:
			user, password, ok := strings.Cut(secret, ":")
			if !ok || user == "" || password == "" {
				add(at, `must be "user:password"`)
			}
		}
	}
}

// validateApplicable rejects fields the kind does not use, which would
// otherwise suggest a protection that is not there.
func (s Scheme) validateApplicable(add func(at, format string, args ...any)) {
	only := func(at, value string, allowed ...string) {
		if value != "" && !slices.Contains(allowed, s.Kind) {
			add(at, "applies only to kind %s", strings.Join(allowed, " or "))
		}
	}
	only("algorithm", s.Algorithm, KindHMAC)
	only("encoding", s.Encoding, KindHMAC)
	only("signed_content", s.SignedContent, KindHMAC)
	only("timestamp_header", s.TimestampHeader, KindHMAC)
	only("header", s.Header, KindHMAC, KindAPIKey)
	only("prefix", s.Prefix, KindHMAC, KindAPIKey)
	only("query_param", s.QueryParam, KindAPIKey)
	if s.Tolerance.Duration != 0 {
		switch s.Kind {
		case KindStandardWebhooks, KindStripe, KindSlack:
		case KindHMAC:
			if s.TimestampHeader == "" {
				add("tolerance", "has no effect without timestamp_header")
			}
		default:
			add("tolerance", "applies only to kind %s, %s, %s or %s", KindStandardWebhooks, KindStripe, KindSlack, KindHMAC)
		}
	}
}

// validateHMAC checks the fields of kind hmac.
func (s Scheme) validateHMAC(add func(at, format string, args ...any)) {
	if _, ok := hmacAlgorithms[s.Algorithm]; !ok {
		add("algorithm", "must be sha1, sha256 or sha512")
	}
	switch {
	case s.Header == "":
		add("header", "required for kind hmac: the header carrying the signature")
	case !validHeaderName(s.Header):
		add("header", "%q is not a valid header name", shown(s.Header))
	}
	if strings.ContainsAny(s.Prefix, ", \t") {
		add("prefix", "must not contain commas or spaces, which separate signatures")
	}
	if s.Encoding != "" && s.Encoding != encodingHex && s.Encoding != encodingBase64 {
		add("encoding", "must be hex or base64")
	}
	if s.TimestampHeader != "" && !validHeaderName(s.TimestampHeader) {
		add("timestamp_header", "%q is not a valid header name", shown(s.TimestampHeader))
	}
	segs, err := parseSignedContent(s.SignedContent)
	if err != nil {
		add("signed_content", "%v", err)
		return
	}
	var body, ts bool
	for _, seg := range segs {
		body = body || seg.kind == segmentBody
		ts = ts || seg.kind == segmentTimestamp
	}
	if !body {
		add("signed_content", "must include {body}, or the body would go unverified")
	}
	switch {
	case ts && s.TimestampHeader == "":
		add("signed_content", "{timestamp} needs timestamp_header")
	case !ts && s.TimestampHeader != "":
		add("timestamp_header", "needs {timestamp} in signed_content, or the timestamp would go unsigned")
	}
}

// validHeaderName reports whether name is an HTTP field name (RFC 9110
// token).
func validHeaderName(name string) bool {
	if name == "" {
		return false
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		switch {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9':
		case strings.IndexByte("!#$%&'*+-.^_`|~", c) >= 0:
		default:
			return false
		}
	}
	return true
}
