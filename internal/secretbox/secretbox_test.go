package secretbox

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestSealOpen(t *testing.T) {
	t.Parallel()
	key := make([]byte, KeySize)
	key[0] = 1
	b, err := New(key)
	require.NoError(t, err)
	sealed := b.Seal([]byte("whsec_abc"))
	require.NotContains(t, string(sealed), "whsec_abc")
	got, err := b.Open(sealed)
	require.NoError(t, err)
	require.Equal(t, "whsec_abc", string(got))

	other, err := New(make([]byte, KeySize))
	require.NoError(t, err)
	_, err = other.Open(sealed)
	require.ErrorContains(t, err, "wrong encryption key")
	_, err = New([]byte("short"))
	require.Error(t, err)
}

func TestParseKey(t *testing.T) {
	t.Parallel()
	k, err := ParseKey(strings.Repeat("ab", 32))
	require.NoError(t, err)
	require.Equal(t, byte(0xab), k[31])
	_, err = ParseKey("nope")
	require.Error(t, err)
}

func TestKeyFile(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "sub", "secret.key")
	k1, err := LoadOrCreateKeyFile(path)
	require.NoError(t, err)
	fi, err := os.Stat(path)
	require.NoError(t, err)
	require.Equal(t, os.FileMode(0o600), fi.Mode().Perm())
	k2, err := LoadOrCreateKeyFile(path)
	require.NoError(t, err)
	require.Equal(t, k1, k2)
}
