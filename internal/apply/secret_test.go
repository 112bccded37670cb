package apply

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/hookline/hookline/internal/store"
)

func TestRotateSecrets(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 1, 2, 15, 0, 0, 0, time.UTC)
	old := []store.Secret{
		{Key: "current"},
		{Key: "still-signing", ExpiresAt: now.Add(time.Hour)},
		{Key: "expired", ExpiresAt: now.Add(-time.Second)},
	}
	require.Equal(t, []store.Secret{
		{Key: "next"}, {Key: "current", ExpiresAt: now.Add(24 * time.Hour)}, {Key: "still-signing", ExpiresAt: now.Add(time.Hour)},
	}, RotateSecrets(old, "next", now, 24*time.Hour))
	require.Equal(t, []store.Secret{{Key: "next"}, {Key: "still-signing", ExpiresAt: now.Add(time.Hour)}},
		RotateSecrets(old, "next", now, 0), "no grace: the current secret stops signing at once")
}
