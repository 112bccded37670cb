package capture

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/hookline/hookline/internal/backoff"
	"github.com/hookline/hookline/internal/clock"
)

// retryDelay is the wait after failed sessions and failed Emit calls
// before jitter: doubling from 100 ms up to 30 s.
var retryDelay = backoff.Exponential{Initial: 100 * time.Millisecond, Max: 30 * time.Second}

// ackTimeout bounds the round trip that deletes a batch Emit accepted (and
// reads the next). It runs on after ctx is cancelled, since a batch left
// behind is emitted again by the next watcher; so it also bounds how long a
// stop can wait for it.
const ackTimeout = 10 * time.Second

// Run installs the capture (see Install) and then watches the source's
// outbox until ctx is done, passing its changes to emit in id order and
// deleting them once emit returns nil. It returns nil when ctx is done and
// a *ConfigError for an invalid cfg; any other failure (connection, SQL,
// emit) is logged and retried with capped, jittered backoff.
//
// Only one Run per source and Schema emits at a time, across processes:
// each holds a session advisory lock while it watches, and the others
// retry the lock every PollInterval, taking over when the holder's session
// ends.
func Run(ctx context.Context, cfg Config, emit Emit) error {
	c, err := cfg.compile()
	if err != nil {
		return err
	}
	if emit == nil {
		return errors.New("run capture: emit is nil")
	}
	w := &watcher{c: c, emit: emit, rnd: rand.Float64}
	for attempt := 1; ; attempt++ {
		err := w.session(ctx)
		if ctx.Err() != nil {
			return nil
		}
		if w.listened {
			// The session worked for a while; start backing off afresh.
			attempt, w.listened = 1, false
		}
		d := retryDelay.Delay(attempt, w.rnd)
		c.log.WarnContext(ctx, "capture session failed", "source", c.source, "error", err, "retry_in", d)
		if !clock.Sleep(ctx, d) {
			return nil
		}
	}
}

// watcher is the state of one Run.
type watcher struct {
	c    *compiled
	emit Emit
	// rnd spreads retryDelay by ±20%, so restarted watchers do not
	// reconnect in step.
	rnd func() float64
	// listened is set once a session holds the lock and listens.
	listened bool
}

// session connects, installs, waits for the source's lock and then moves
// changes from the outbox to emit until ctx is done or the connection
// fails. Closing the connection releases the lock.
func (w *watcher) session(ctx context.Context) error {
	c := w.c
	conn, err := pgx.ConnectConfig(ctx, c.connConf)
	if err != nil {
		return fmt.Errorf("connect: %w", err)
	}
	defer func() {
		cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), ackTimeout)
		defer cancel()
		_ = conn.Close(cctx)
	}()
	// Install before the lock: a standby's triggers already capture
	// changes, so a table added to cfg loses nothing while it waits.
	if err := install(ctx, conn, c); err != nil {
		return err
	}
	if err := w.lock(ctx, conn); err != nil {
		return err
	}
	// LISTEN before the first read: a change committed after that read
	// then always wakes the wait.
	if _, err := conn.Exec(ctx, `LISTEN `+pgx.Identifier{c.channel()}.Sanitize()); err != nil {
		return fmt.Errorf("listen: %w", err)
	}
	w.listened = true
	c.log.InfoContext(ctx, "capture watching", "source", c.source, "schema", c.schema, "tables", len(c.tables))
	for {
		if err := w.drain(ctx, conn); err != nil {
			return err
		}
		if err := w.wait(ctx, conn); err != nil {
			return err
		}
	}
}

// lock takes the source's session advisory lock, retrying every poll
// interval while another watcher holds it.
func (w *watcher) lock(ctx context.Context, conn *pgx.Conn) error {
	for logged := false; ; {
		var got bool
		if err := conn.QueryRow(ctx, `SELECT pg_try_advisory_lock(hashtextextended($1, 0))`, w.c.lockKey()).Scan(&got); err != nil {
			return fmt.Errorf("lock source: %w", err)
		}
		if got {
			return nil
		}
		if !logged {
			w.c.log.InfoContext(ctx, "capture waiting: another watcher holds the source", "source", w.c.source)
			logged = true
		}
		if !clock.Sleep(ctx, w.c.poll) {
			return ctx.Err()
		}
	}
}

// drain emits batches until a read finds the outbox empty. The delete of
// one batch travels with the read of the next, in one round trip and one
// transaction.
func (w *watcher) drain(ctx context.Context, conn *pgx.Conn) error {
	var acked []int64
	for {
		// The read below sees every commit these notifications announce.
		discardNotifications(conn)
		cs, err := w.next(ctx, conn, acked)
		if err != nil {
			return err
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if len(cs) == 0 {
			return nil
		}
		if err := w.emitRetry(ctx, cs); err != nil {
			return err
		}
		acked = acked[:0]
		for _, ch := range cs {
			acked = append(acked, ch.ID)
		}
	}
}

// next deletes acked (ids Emit accepted) and reads the next batch.
// Deleting exactly those ids, never "everything up to the highest", is what
// keeps a change that commits late with a lower id from being skipped.
func (w *watcher) next(ctx context.Context, conn *pgx.Conn, acked []int64) ([]Change, error) {
	b := &pgx.Batch{}
	if len(acked) > 0 {
		// Emit accepted these: delete them even when ctx is cancelled
		// meanwhile, so a clean stop leaves nothing to emit twice.
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(context.WithoutCancel(ctx), ackTimeout)
		defer cancel()
		b.Queue(`DELETE FROM `+w.c.outbox()+` WHERE source = $1 AND id = ANY($2)`, w.c.source, acked)
	}
	b.Queue(`SELECT id, schema_name, table_name, op, record, old_record, changed_at
		FROM `+w.c.outbox()+` WHERE source = $1 ORDER BY id LIMIT $2`, w.c.source, w.c.batch)
	br := conn.SendBatch(ctx, b)
	if len(acked) > 0 {
		if _, err := br.Exec(); err != nil {
			_ = br.Close()
			return nil, fmt.Errorf("delete emitted changes: %w", err)
		}
	}
	rows, err := br.Query()
	if err != nil {
		_ = br.Close()
		return nil, fmt.Errorf("read outbox: %w", err)
	}
	cs, err := pgx.CollectRows(rows, scanChange)
	if err != nil {
		_ = br.Close()
		return nil, fmt.Errorf("read outbox: %w", err)
	}
	// The delete commits here; cs is emitted only after it did.
	if err := br.Close(); err != nil {
		return nil, fmt.Errorf("read outbox: %w", err)
	}
	return cs, nil
}

func scanChange(r pgx.CollectableRow) (Change, error) {
	var ch Change
	var rec, old []byte
	err := r.Scan(&ch.ID, &ch.Schema, &ch.Table, &ch.Op, &rec, &old, &ch.At)
	ch.Record, ch.OldRecord = rec, old
	return ch, err
}

// emitRetry calls emit until it succeeds or ctx is done, keeping the
// session (and so the lock) meanwhile.
func (w *watcher) emitRetry(ctx context.Context, cs []Change) error {
	for attempt := 1; ; attempt++ {
		err := w.emit(ctx, cs)
		if err == nil {
			return nil
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
		d := retryDelay.Delay(attempt, w.rnd)
		w.c.log.WarnContext(ctx, "capture emit failed", "source", w.c.source, "changes", len(cs), "first_id", cs[0].ID, "error", err, "retry_in", d)
		if !clock.Sleep(ctx, d) {
			return ctx.Err()
		}
	}
}

// wait returns on a notification for the source or after the poll
// interval, whichever comes first.
func (w *watcher) wait(ctx context.Context, conn *pgx.Conn) error {
	tctx, cancel := context.WithTimeout(ctx, w.c.poll)
	defer cancel()
	for {
		n, err := conn.WaitForNotification(tctx)
		switch {
		case ctx.Err() != nil:
			return ctx.Err()
		case tctx.Err() != nil:
			return nil
		case err != nil:
			return fmt.Errorf("wait for notification: %w", err)
		case n.Payload == w.c.source:
			return nil
		}
	}
}

// discardNotifications drops notifications pgx has already buffered
// without reading from the network: a done context makes
// WaitForNotification return buffered ones only.
func discardNotifications(conn *pgx.Conn) {
	done, cancel := context.WithCancel(context.Background())
	cancel()
	for {
		if n, _ := conn.WaitForNotification(done); n == nil {
			return
		}
	}
}
