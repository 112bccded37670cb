// Package clip shortens text for error messages, logs and stored
// previews without splitting a UTF-8 sequence.
package clip

import "unicode/utf8"

// Cut returns s cut to at most n bytes, at the start of a rune.
func Cut(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}

// To returns s cut as Cut does, with "…" after it when it was cut.
func To(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return Cut(s, n) + "…"
}
