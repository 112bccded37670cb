package apply

import (
	"time"

	"github.com/hookline/hookline/internal/store"
)

// MaxSecretGrace is the longest a rotated-out secret may keep signing.
const MaxSecretGrace = 7 * 24 * time.Hour

// RotateSecrets returns an endpoint's secrets after a rotation at now:
// the new current one first, the current one until now+grace (dropped at
// once when grace is zero), and earlier ones while they have not expired.
func RotateSecrets(secrets []store.Secret, next string, now time.Time, grace time.Duration) []store.Secret {
	kept := []store.Secret{{Key: next}}
	for _, old := range secrets {
		switch {
		case old.ExpiresAt.IsZero() && grace > 0:
			kept = append(kept, store.Secret{Key: old.Key, ExpiresAt: now.Add(grace)})
		case old.ExpiresAt.After(now):
			kept = append(kept, old)
		}
	}
	return kept
}
