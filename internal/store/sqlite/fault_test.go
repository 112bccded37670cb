package sqlite_test

import (
	"context"
	"database/sql"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/hookline/hookline/internal/store"
)

// TestDiskFull fills a database capped a few pages above its size: the
// write that finds no room fails as store.ErrDiskFull and leaves nothing;
// CheckWrite says so too, while reads go on; once the cap is lifted (room
// made), CheckWrite passes and the same write commits.
func TestDiskFull(t *testing.T) {
	t.Parallel()
	s := openAt(t, filepath.Join(t.TempDir(), "hookline.db"))
	ctx := context.Background()
	require.NoError(t, s.CreateTenant(ctx, store.Tenant{ID: "ten_1", Name: "a"}))
	require.NoError(t, s.LimitGrowth(ctx, 20))
	var full store.NewEvent
	for i := range 100 {
		ne := bigEvent("ten_1", i)
		if _, err := s.AcceptEvents(ctx, []store.NewEvent{ne}); err != nil {
			require.ErrorIs(t, err, store.ErrDiskFull)
			full = ne
			break
		}
	}
	require.NotEmpty(t, full.Event.ID, "the capped database filled up")
	_, err := s.GetEvent(ctx, "ten_1", full.Event.ID)
	require.ErrorIs(t, err, store.ErrNotFound, "the failed write left nothing")
	require.ErrorIs(t, s.CheckWrite(ctx), store.ErrDiskFull)
	require.ErrorIs(t, s.CreateTenant(ctx, store.Tenant{ID: "ten_2", Name: strings.Repeat("b", 20<<10)}), store.ErrDiskFull)
	_, err = s.GetTenant(ctx, "ten_1")
	require.NoError(t, err, "reads go on")

	require.NoError(t, s.LimitGrowth(ctx, -1))
	require.NoError(t, s.CheckWrite(ctx))
	res, err := s.AcceptEvents(ctx, []store.NewEvent{full})
	require.NoError(t, err)
	require.False(t, res[0].Duplicate)
}

// TestLockedByAnotherProcess: another connection holding the write lock
// makes an accept wait; at its deadline it gives up as store.ErrUnavailable
// although busy_timeout is longer, and commits nothing.
func TestLockedByAnotherProcess(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "hookline.db")
	s := openAt(t, path)
	ctx := context.Background()
	require.NoError(t, s.CreateTenant(ctx, store.Tenant{ID: "ten_1", Name: "a"}))
	other, err := sql.Open("sqlite", "file:"+path+"?_pragma=busy_timeout(10000)")
	require.NoError(t, err)
	t.Cleanup(func() { other.Close() })
	conn, err := other.Conn(ctx)
	require.NoError(t, err)
	_, err = conn.ExecContext(ctx, `BEGIN IMMEDIATE`)
	require.NoError(t, err)

	ne := bigEvent("ten_1", 1)
	cctx, cancel := context.WithTimeout(ctx, 500*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err = s.AcceptEvents(cctx, []store.NewEvent{ne})
	took := time.Since(start)
	require.ErrorIs(t, err, store.ErrUnavailable)
	require.Less(t, took, 2*time.Second, "gave up near the deadline, not after busy_timeout")
	t.Logf("accept on a locked database failed after %s: %v", took.Round(time.Millisecond), err)

	_, err = conn.ExecContext(ctx, `ROLLBACK`)
	require.NoError(t, err)
	require.NoError(t, conn.Close())
	res, err := s.AcceptEvents(ctx, []store.NewEvent{ne})
	require.NoError(t, err)
	require.False(t, res[0].Duplicate, "the failed accept committed nothing")
}
