package format

import (
	"fmt"
	"unicode/utf8"
)

// UTF8Error is text that is not valid UTF-8, which JSON requires and which
// strict JSON parsers and webhook verifiers refuse.
type UTF8Error struct {
	// Offset is the 1-based position of the first byte that is not part
	// of a valid UTF-8 sequence, as encoding/json counts syntax errors.
	Offset int
}

func (e *UTF8Error) Error() string {
	return fmt.Sprintf("not valid UTF-8 at byte %d", e.Offset)
}

// CheckUTF8 returns a *UTF8Error when b is not valid UTF-8.
func CheckUTF8(b []byte) error {
	if utf8.Valid(b) {
		return nil
	}
	for i := 0; i < len(b); {
		r, size := utf8.DecodeRune(b[i:])
		if r == utf8.RuneError && size == 1 {
			return &UTF8Error{Offset: i + 1}
		}
		i += size
	}
	return nil // unreachable: utf8.Valid and DecodeRune agree
}

// CheckUTF8String is CheckUTF8 for a string.
func CheckUTF8String(s string) error {
	if utf8.ValidString(s) {
		return nil
	}
	return CheckUTF8([]byte(s))
}
