package web

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/hookline/hookline/internal/api"
)

// The dashboard finds keys by the hash the API stores them under.
func TestHashKeyIsTheAPIs(t *testing.T) {
	t.Parallel()
	for _, k := range []string{"hk_abc", "", "a key with spaces"} {
		require.Equal(t, api.HashKey(k), hashKey(k))
	}
}

func TestSafeNext(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		"":                     "/",
		"/endpoints?x=1":       "/endpoints?x=1",
		"//evil.example/x":     "/",
		"https://evil.example": "/",
		"/\\evil.example":      "/",
		"endpoints":            "/",
		"/a\r\nSet-Cookie:x":   "/",
	} {
		require.Equal(t, want, safeNext(in), in)
	}
}
