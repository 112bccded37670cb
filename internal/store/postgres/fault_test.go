package postgres_test

import (
	"context"
	"encoding/json"
	"net"
	"net/url"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"

	"github.com/hookline/hookline/internal/event"
	"github.com/hookline/hookline/internal/faultproxy"
	"github.com/hookline/hookline/internal/store"
	"github.com/hookline/hookline/internal/store/postgres"
	"github.com/hookline/hookline/internal/testkit"
)

// TestClassify raises the SQLSTATEs of database faults for real and checks
// what they become; a refused connection is unavailable too.
func TestClassify(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, testkit.PostgresDSN(t))
	require.NoError(t, err)
	t.Cleanup(func() { conn.Close(ctx) })
	for code, want := range map[string]error{
		"disk_full": store.ErrDiskFull, "admin_shutdown": store.ErrUnavailable, "cannot_connect_now": store.ErrUnavailable,
		"query_canceled": store.ErrUnavailable, "connection_failure": store.ErrUnavailable,
		"read_only_sql_transaction": store.ErrUnavailable, "unique_violation": nil, "division_by_zero": nil,
	} {
		_, err := conn.Exec(ctx, `DO $$ BEGIN RAISE EXCEPTION 'raised' USING ERRCODE = '`+code+`'; END $$`)
		require.Error(t, err)
		require.Equal(t, want, store.Fault(postgres.Classify(err)), code)
	}

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := ln.Addr().String()
	require.NoError(t, ln.Close())
	_, err = pgx.Connect(ctx, "postgres://postgres@"+addr+"/test?sslmode=disable&connect_timeout=2")
	require.ErrorIs(t, postgres.Classify(err), store.ErrUnavailable)
}

// proxied opens a store on a fresh schema through a proxy that can freeze
// the link to the database, and the same schema directly, to look.
func proxied(t *testing.T) (via, direct *postgres.Store, p *faultproxy.Proxy) {
	t.Helper()
	u, err := url.Parse(testkit.PostgresDSN(t))
	require.NoError(t, err)
	p, err = faultproxy.Start(u.Host)
	require.NoError(t, err)
	t.Cleanup(func() { p.Close() })
	u.Host = p.Addr()
	sch := schema(t)
	direct = openIn(t, sch)
	via, err = postgres.Open(context.Background(), postgres.Config{DSN: u.String(), Box: box(t), Schema: sch, MaxConns: 4})
	require.NoError(t, err)
	t.Cleanup(func() { via.Close() })
	return via, direct, p
}

func faultEvent(t *testing.T, s store.Store, key string) store.NewEvent {
	t.Helper()
	tid := event.NewID(event.PrefixTenant, base)
	err := s.CreateTenant(context.Background(), store.Tenant{ID: tid, Name: "acme-" + key, CreatedAt: base})
	require.NoError(t, err)
	return store.NewEvent{IdempotentSince: base.Add(-time.Hour), Event: event.Event{ID: event.NewID(event.PrefixEvent, base),
		TenantID: tid, Type: "a.b", Source: "api", Data: json.RawMessage(`{}`), OccurredAt: base, IdempotencyKey: key, CreatedAt: base}}
}

// TestAcceptFrozenLink: with the link to the database frozen, an accept
// gives up at its deadline with a definite failure, and nothing of it is
// committed once the link thaws; then accepts work again.
func TestAcceptFrozenLink(t *testing.T) {
	t.Parallel()
	via, direct, p := proxied(t)
	ctx := context.Background()
	ne := faultEvent(t, direct, "frozen")

	p.Freeze()
	cctx, cancel := context.WithTimeout(ctx, time.Second)
	defer cancel()
	start := time.Now()
	_, err := via.AcceptEvents(cctx, []store.NewEvent{ne})
	took := time.Since(start)
	require.ErrorIs(t, err, store.ErrUnavailable)
	require.NotErrorIs(t, err, store.ErrCommitUnknown)
	require.Less(t, took, 1500*time.Millisecond, "gave up at the deadline")
	t.Logf("accept on a frozen link failed after %s: %v", took.Round(time.Millisecond), err)

	p.Thaw()
	require.Eventually(t, func() bool {
		cctx, cancel := context.WithTimeout(ctx, time.Second)
		defer cancel()
		res, err := via.AcceptEvents(cctx, []store.NewEvent{ne})
		return err == nil && !res[0].Duplicate
	}, 10*time.Second, 50*time.Millisecond, "accepts work again, and the failed one was not committed")
}

// TestAcceptLockedTable: a table locked by another session makes the
// accept wait; the server's statement_timeout ends it at the deadline,
// nothing is committed, and the lock's release lets accepts through.
func TestAcceptLockedTable(t *testing.T) {
	t.Parallel()
	s := openIn(t, schema(t))
	ctx := context.Background()
	ne := faultEvent(t, s, "locked")

	lock, err := s.BeginBounded(ctx)
	require.NoError(t, err)
	_, err = lock.Exec(ctx, `LOCK TABLE events IN ACCESS EXCLUSIVE MODE`)
	require.NoError(t, err)
	cctx, cancel := context.WithTimeout(ctx, time.Second)
	defer cancel()
	start := time.Now()
	_, err = s.AcceptEvents(cctx, []store.NewEvent{ne})
	took := time.Since(start)
	require.ErrorIs(t, err, store.ErrUnavailable)
	require.NotErrorIs(t, err, store.ErrCommitUnknown)
	require.Less(t, took, 1500*time.Millisecond)
	require.NoError(t, lock.Commit(ctx))

	_, err = s.GetEvent(ctx, ne.Event.TenantID, ne.Event.ID)
	require.ErrorIs(t, err, store.ErrNotFound)
	res, err := s.AcceptEvents(ctx, []store.NewEvent{ne})
	require.NoError(t, err)
	require.False(t, res[0].Duplicate)
}

// TestCommitHeldUp freezes the link between a write and its COMMIT: the
// COMMIT's outcome is unknown at the deadline, and the server, which the
// client had told when to give up, ends the session before the held COMMIT
// reaches it, so it never lands.
func TestCommitHeldUp(t *testing.T) {
	t.Parallel()
	via, direct, p := proxied(t)
	ctx := context.Background()
	tid := event.NewID(event.PrefixTenant, base)

	cctx, cancel := context.WithTimeout(ctx, time.Second)
	defer cancel()
	tx, err := via.BeginBounded(cctx)
	require.NoError(t, err)
	_, err = tx.Exec(cctx, `INSERT INTO tenants (id, name, created_at) VALUES ($1, 'held', now())`, tid)
	require.NoError(t, err)
	var pid int
	require.NoError(t, tx.QueryRow(cctx, `SELECT pg_backend_pid()`).Scan(&pid))
	p.Freeze()
	err = postgres.CommitError("commit", tx.Commit(cctx))
	require.ErrorIs(t, err, store.ErrCommitUnknown)

	// The link stays down until the server, past the deadline, has ended
	// the session whose COMMIT is held.
	require.Eventually(t, func() bool {
		q, err := direct.BeginBounded(ctx)
		require.NoError(t, err)
		defer q.Rollback(ctx)
		var alive bool
		require.NoError(t, q.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM pg_stat_activity WHERE pid = $1)`, pid).Scan(&alive))
		return !alive
	}, 10*time.Second, 20*time.Millisecond, "the server ended the session of the held COMMIT")
	p.Thaw()
	require.Never(t, func() bool {
		_, err := direct.GetTenant(ctx, tid)
		return err == nil
	}, time.Second, 50*time.Millisecond, "the held COMMIT did not land")
}
