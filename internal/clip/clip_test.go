package clip_test

import (
	"testing"

	"github.com/hookline/hookline/internal/clip"
	"github.com/hookline/hookline/internal/testkit"
)

// text is a string and the bytes to keep of it.
type text struct {
	s string
	n int
}

func TestCut(t *testing.T) {
	t.Parallel()
	testkit.Table(t, func(in text) (string, error) { return clip.Cut(in.s, in.n), nil }, []testkit.Case[text, string]{
		{In: text{"abc", 3}, Want: "abc"},
		{In: text{"abcd", 3}, Want: "abc"},
		{Name: "not inside a rune", In: text{"aé", 2}, Want: "a"},
		{In: text{"é", 0}, Want: ""},
	})
}

func TestTo(t *testing.T) {
	t.Parallel()
	testkit.Table(t, func(in text) (string, error) { return clip.To(in.s, in.n), nil }, []testkit.Case[text, string]{
		{In: text{"abc", 3}, Want: "abc"},
		{In: text{"abcd", 3}, Want: "abc…"},
		{Name: "not inside a rune", In: text{"a€b", 3}, Want: "a…"},
		{In: text{"aé", 2}, Want: "a…"},
		{In: text{"éé", 3}, Want: "é…"},
		{In: text{"€", 1}, Want: "…"},
	})
}
