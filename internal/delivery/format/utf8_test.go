package format_test

import (
	"errors"
	"strconv"
	"testing"
	"unicode/utf8"

	"github.com/stretchr/testify/require"

	"github.com/hookline/hookline/internal/delivery/format"
)

func TestCheckUTF8(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in     string
		offset int // 0: valid
	}{
		{"", 0},
		{`{"x":"é€😀"}`, 0},
		{"\xff", 1},
		{`{"x":"` + "\xff\xfe" + `"}`, 7},
		{"é\xc3", 3},                // truncated sequence at the end
		{"a\xed\xa0\x80b", 2},       // an encoded surrogate
		{"ab\xc0\xafc", 3},          // an overlong encoding of '/'
		{"\xf4\x90\x80\x80", 1},     // above U+10FFFF
		{"€\x80", 4},                // a lone continuation byte
		{"😀😀\xf0\x9f\x98", 9},       // truncated 4-byte sequence
		{"ok\uFFFDstill ok", 0},     // U+FFFD itself is valid
		{"\x00\x7f", 0},             // ASCII controls are UTF-8
		{"a" + "\xe2\x82" + "z", 2}, // sequence cut short by ASCII
	}
	for _, tt := range tests {
		err := format.CheckUTF8([]byte(tt.in))
		require.Equal(t, err, format.CheckUTF8String(tt.in), "%q", tt.in)
		if tt.offset == 0 {
			require.NoError(t, err, "%q", tt.in)
			continue
		}
		var ue *format.UTF8Error
		require.True(t, errors.As(err, &ue), "%q: %v", tt.in, err)
		require.Equal(t, tt.offset, ue.Offset, "%q", tt.in)
		require.EqualError(t, err, "not valid UTF-8 at byte "+strconv.Itoa(tt.offset))
	}
}

func FuzzCheckUTF8(f *testing.F) {
	f.Add([]byte(`{"x":"\xff"}`))
	f.Add([]byte("é€😀"))
	f.Fuzz(func(t *testing.T, b []byte) {
		err := format.CheckUTF8(b)
		if utf8.Valid(b) {
			require.NoError(t, err)
			return
		}
		var ue *format.UTF8Error
		require.True(t, errors.As(err, &ue))
		i := ue.Offset - 1
		require.True(t, utf8.Valid(b[:i]), "everything before the offset is valid")
		r, size := utf8.DecodeRune(b[i:])
		require.True(t, r == utf8.RuneError && size == 1, "the offset is a bad byte")
	})
}
