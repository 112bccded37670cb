package format

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"unicode/utf8"
)

var errEmptyData = errors.New("empty data")

// normaliseData returns data compacted into a new slice after checking that
// it is one JSON value nested no deeper than MaxDepth.
func normaliseData(data []byte) ([]byte, error) {
	if len(bytes.TrimSpace(data)) == 0 {
		return nil, errEmptyData
	}
	var buf bytes.Buffer
	if err := json.Compact(&buf, data); err != nil {
		return nil, fmt.Errorf("data is not JSON: %w", err)
	}
	if err := checkDepth(buf.Bytes()); err != nil {
		return nil, fmt.Errorf("data: %w", err)
	}
	return buf.Bytes(), nil
}

// checkDepth returns ErrTooDeep when valid JSON text nests objects and
// arrays deeper than MaxDepth.
func checkDepth(valid []byte) error {
	if Depth(valid) > MaxDepth {
		return ErrTooDeep
	}
	return nil
}

// Depth returns the deepest nesting of objects and arrays in valid JSON
// text, without decoding it. Strings, most of a webhook's bytes, are
// skipped quote to quote (bytes.IndexByte) rather than byte by byte.
func Depth(valid []byte) int {
	depth, deepest := 0, 0
	for i := 0; i < len(valid); i++ {
		switch valid[i] {
		case '"':
			end, ok := stringEnd(valid, i)
			if !ok {
				return deepest
			}
			i = end
		case '{', '[':
			depth++
			deepest = max(deepest, depth)
		case '}', ']':
			depth--
		}
	}
	return deepest
}

// stringEnd returns the index of the quote that ends the string opened by
// the quote at open: the next one not escaped, that is not after an odd
// run of backslashes. ok is false when the string does not end.
func stringEnd(b []byte, open int) (end int, ok bool) {
	for i := open + 1; ; i++ {
		j := bytes.IndexByte(b[i:], '"')
		if j < 0 {
			return 0, false
		}
		i += j
		k := i - 1
		for k > open && b[k] == '\\' {
			k--
		}
		if (i-1-k)%2 == 0 {
			return i, true
		}
	}
}

const hexDigits = "0123456789abcdef"

// appendString appends s as a JSON string literal. Besides what JSON
// requires it escapes every character XML 1.0 cannot carry, so the literal
// can stand in XML text; invalid UTF-8 becomes U+FFFD, as encoding/json does.
func appendString(dst []byte, s string) []byte {
	dst = append(dst, '"')
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			switch {
			case c == '"' || c == '\\':
				dst = append(dst, '\\', c)
			case c == '\n':
				dst = append(dst, '\\', 'n')
			case c == '\r':
				dst = append(dst, '\\', 'r')
			case c == '\t':
				dst = append(dst, '\\', 't')
			case c < 0x20:
				dst = appendEscapedRune(dst, rune(c))
			default:
				dst = append(dst, c)
			}
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size == 1:
			dst = append(dst, `\ufffd`...)
		case !isXMLChar(r):
			dst = appendEscapedRune(dst, r)
		default:
			dst = append(dst, s[i:i+size]...)
		}
		i += size
	}
	return append(dst, '"')
}

// appendEscapedRune appends \uXXXX for a rune of the Basic Multilingual
// Plane, the only plane holding characters XML cannot carry.
func appendEscapedRune(dst []byte, r rune) []byte {
	return append(dst, '\\', 'u', hexDigits[r>>12&0xf], hexDigits[r>>8&0xf], hexDigits[r>>4&0xf], hexDigits[r&0xf])
}

// isXMLChar reports whether r is a Char of XML 1.0.
func isXMLChar(r rune) bool {
	return r == 0x09 || r == 0x0a || r == 0x0d ||
		r >= 0x20 && r <= 0xd7ff ||
		r >= 0xe000 && r <= 0xfffd ||
		r >= 0x10000 && r <= utf8.MaxRune
}

// isXMLText reports whether s is valid UTF-8 made only of XML characters.
func isXMLText(s string) bool {
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 || !isXMLChar(r) {
			return false
		}
		i += size
	}
	return true
}
