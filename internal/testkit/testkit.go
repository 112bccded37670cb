// Package testkit is what the tests of several packages share: a buffer a
// server may write while the test reads it, a fresh PostgreSQL schema, a
// free address, the local message systems (skipping when one is down),
// and waits on a running server through its API client.
// The helpers that start an app in process are in internal/app/apptest.
package testkit

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"

	"github.com/hookline/hookline/client"
)

// Buffer is a bytes.Buffer that a process, command or logger may write
// from any goroutine while the test reads it.
type Buffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *Buffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

// String is all that was written so far.
func (b *Buffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// Line returns the first line written that contains msg, or "".
func (b *Buffer) Line(msg string) string {
	for line := range strings.Lines(b.String()) {
		if strings.Contains(line, msg) {
			return line
		}
	}
	return ""
}

// PostgresEnv is the variable that holds the DSN of the test database.
const PostgresEnv = "HOOKLINE_TEST_POSTGRES"

// PostgresDSN returns the DSN of the test database, or skips tb.
func PostgresDSN(tb testing.TB) string {
	tb.Helper()
	dsn := os.Getenv(PostgresEnv)
	if dsn == "" {
		tb.Skipf("%s is not set; set it to a PostgreSQL DSN (e.g. postgres://postgres@127.0.0.1:5432/test?sslmode=disable) to run this test", PostgresEnv)
	}
	return dsn
}

// SchemaName returns a fresh name for a test schema: hl_test_ and twelve
// hex digits.
func SchemaName() string { return UniqueName("hl_test_") }

// UniqueName returns prefix and twelve random hex digits: a schema,
// subject, stream, exchange or topic no other test (or earlier run) uses.
func UniqueName(prefix string) string {
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	return prefix + hex.EncodeToString(b)
}

// PostgresSchema returns a DSN of the test database whose search_path is a
// fresh schema, dropped when the test ends, or skips tb as PostgresDSN
// does.
func PostgresSchema(tb testing.TB) string {
	tb.Helper()
	dsn := PostgresDSN(tb)
	schema := SchemaName()
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, dsn)
	require.NoError(tb, err)
	_, err = conn.Exec(ctx, "CREATE SCHEMA "+schema)
	require.NoError(tb, err)
	require.NoError(tb, conn.Close(ctx))
	tb.Cleanup(func() {
		conn, err := pgx.Connect(context.Background(), dsn)
		if err == nil {
			_, _ = conn.Exec(context.Background(), "DROP SCHEMA "+schema+" CASCADE")
			conn.Close(context.Background())
		}
	})
	u, err := url.Parse(dsn)
	require.NoError(tb, err)
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	return u.String()
}

// FreeAddr returns a loopback address no one listens on.
func FreeAddr(tb testing.TB) string {
	tb.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(tb, err)
	addr := ln.Addr().String()
	require.NoError(tb, ln.Close())
	return addr
}

// Local message systems the broker tests publish to; .ci/run starts
// each that is not running.
const (
	NATSAddr     = "127.0.0.1:4222" // with JetStream
	RabbitMQAddr = "127.0.0.1:5672" // user guest, password guest
	RedisAddr    = "127.0.0.1:6379"
)

// Service skips the test unless something listens on addr, the local
// server of the message system named.
func Service(tb testing.TB, name, addr string) {
	tb.Helper()
	c, err := net.DialTimeout("tcp", addr, 2*time.Second)
	if err != nil {
		tb.Skipf("%s is not reachable at %s (%v): start it (.ci/run does) to run this test", name, addr, err)
	}
	_ = c.Close()
}

// SettleStall is how long Settled waits for one more delivery to settle.
const SettleStall = 15 * time.Second

// Settled waits until no delivery that c sees is pending or retrying. It
// fails when deliveries stop settling, not when many settle slowly: on a
// starved machine (-race, shared cores) a batch of hundreds takes longer
// than any fixed deadline, yet each delivery still settles within seconds
// of the one before. On failure it logs a few of the deliveries left.
func Settled(tb testing.TB, c *client.Client) {
	tb.Helper()
	left := func() int {
		n := 0
		for _, st := range []string{client.DeliveryPending, client.DeliveryRetrying} {
			page, err := c.ListDeliveries(context.Background(), client.DeliveryListOptions{Status: st,
				ListOptions: client.ListOptions{Limit: 1000}})
			require.NoError(tb, err)
			n += len(page.Data)
		}
		return n
	}
	tick := time.NewTicker(20 * time.Millisecond) // between polls
	defer tick.Stop()
	last, progressed := left(), time.Now()
	for last > 0 {
		if time.Since(progressed) > SettleStall {
			logUnsettled(tb, c)
			tb.Fatalf("deliveries stopped settling: %d pending or retrying, none settled for %s", last, SettleStall)
		}
		<-tick.C
		if n := left(); n != last {
			last, progressed = n, time.Now()
		}
	}
}

// logUnsettled logs up to three pending and three retrying deliveries
// with their attempt logs.
func logUnsettled(tb testing.TB, c *client.Client) {
	tb.Helper()
	for _, st := range []string{client.DeliveryPending, client.DeliveryRetrying} {
		page, _ := c.ListDeliveries(context.Background(), client.DeliveryListOptions{Status: st})
		if page == nil {
			continue
		}
		for i, d := range page.Data {
			if i > 2 {
				break
			}
			full, _ := c.GetDelivery(context.Background(), d.ID)
			if full == nil {
				continue
			}
			tb.Logf("%s %s attempts=%d err=%s log=%+v", d.ID, d.Status, d.Attempts, d.LastError, full.AttemptLog)
		}
	}
}

// LastChange is the sequence number of the collection's last change, read
// from its changes feed.
func LastChange(tb testing.TB, c *client.Client, name string) int64 {
	tb.Helper()
	var after int64
	for {
		page, err := c.ListChanges(context.Background(), name, strconv.FormatInt(after, 10), 1000, 0)
		require.NoError(tb, err)
		n, err := strconv.ParseInt(page.Cursor, 10, 64)
		require.NoError(tb, err)
		if n == after {
			return after
		}
		after = n
	}
}

// Receiver is a webhook receiver that answers every request 204 and
// counts the requests of each webhook-id.
type Receiver struct {
	*httptest.Server
	mu   sync.Mutex
	seen map[string]int
}

// NewReceiver starts a Receiver, closed when the test ends.
func NewReceiver(tb testing.TB) *Receiver {
	rc := &Receiver{seen: map[string]int{}}
	rc.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rc.mu.Lock()
		rc.seen[r.Header.Get("webhook-id")]++
		rc.mu.Unlock()
		w.WriteHeader(http.StatusNoContent)
	}))
	tb.Cleanup(rc.Close)
	return rc
}

// GotAll reports whether a request came for each of the webhook-ids.
func (rc *Receiver) GotAll(ids []string) bool {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	for _, id := range ids {
		if rc.seen[id] == 0 {
			return false
		}
	}
	return true
}

// GitHubSignature is the X-Hub-Signature-256 GitHub sends with body for a
// webhook secret: "sha256=" and the hex HMAC-SHA256 of the body. It is
// the oracle of tests that send or check GitHub webhooks.
func GitHubSignature(secret string, body []byte) string {
	m := hmac.New(sha256.New, []byte(secret))
	m.Write(body)
	return "sha256=" + hex.EncodeToString(m.Sum(nil))
}
