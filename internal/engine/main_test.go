package engine_test

import (
	"testing"

	"go.uber.org/goleak"
)

// TestMain fails the package if a test leaves a goroutine behind: every
// goroutine of the engine belongs to Start and ends by Stop (or Kill).
func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}
