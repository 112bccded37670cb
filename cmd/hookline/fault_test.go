package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"

	"github.com/hookline/hookline/client"
	"github.com/hookline/hookline/internal/faultproxy"
	"github.com/hookline/hookline/internal/testkit"
)

// publishAnswer is what one publish got.
type publishAnswer struct {
	key, id    string
	status     int
	retryAfter string
	took       time.Duration
	at         time.Time
}

// TestFrozenDatabase runs the real binary on PostgreSQL through a link
// that the test freezes (every byte held, either way, as a stopped server
// would), while clients publish without pause. During the freeze every
// publish is answered within commit_timeout: 503 with Retry-After (or 504
// if its COMMIT went unanswered); /readyz is 503. After the thaw /readyz
// is 200 again by itself. Then: no event answered 503 exists, none is
// stored twice, a 504's retry finds its event or makes it once, and every
// event answered 2xx is delivered.
func TestFrozenDatabase(t *testing.T) {
	t.Parallel()
	const commitTimeout = 2 * time.Second
	bin := buildHookline(t)
	dsn := testkit.PostgresSchema(t)
	u, err := url.Parse(dsn)
	require.NoError(t, err)
	proxy, err := faultproxy.Start(u.Host)
	require.NoError(t, err)
	t.Cleanup(func() { proxy.Close() })
	via := *u
	via.Host = proxy.Addr()
	// The server's sessions are named, so the test can see when none has a
	// COMMIT on its way.
	appName := "hl_frozen_" + strings.TrimPrefix(u.Query().Get("search_path"), "hl_test_")
	vq := via.Query()
	vq.Set("application_name", appName)
	via.RawQuery = vq.Encode()

	rc := testkit.NewReceiver(t)

	srv := startServeEnv(t, bin, "frozen", []string{"HOOKLINE_COMMIT_TIMEOUT=" + commitTimeout.String()},
		"--database", via.String(), "--data-dir", filepath.Join(t.TempDir(), "data"))
	hc := &http.Client{Timeout: 30 * time.Second}
	ready := func() int {
		resp, err := hc.Get(srv.url() + "/readyz")
		if err != nil {
			return 0
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	c := srv.client()
	ctx := context.Background()
	_, err = c.CreateEndpoint(ctx, client.EndpointCreate{URL: rc.URL})
	require.NoError(t, err)

	publish := func(k string) publishAnswer {
		req, err := http.NewRequest(http.MethodPost, srv.url()+"/v1/events", strings.NewReader(`{"type":"order.created","data":{"k":"`+k+`"}}`))
		require.NoError(t, err)
		req.Header.Set("Authorization", "Bearer "+serveKey)
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Idempotency-Key", k)
		start := time.Now()
		resp, err := hc.Do(req)
		require.NoError(t, err, "publish %s: every request is answered", k)
		defer resp.Body.Close()
		var body struct {
			ID string `json:"id"`
		}
		_ = json.NewDecoder(resp.Body).Decode(&body)
		return publishAnswer{key: k, id: body.ID, status: resp.StatusCode, retryAfter: resp.Header.Get("Retry-After"), took: time.Since(start), at: start}
	}

	var stop atomic.Bool
	var answersMu sync.Mutex
	var answers []publishAnswer
	var wg sync.WaitGroup
	for g := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for n := 0; !stop.Load(); n++ {
				a := publish(fmt.Sprintf("p%d-%d", g, n))
				answersMu.Lock()
				answers = append(answers, a)
				answersMu.Unlock()
			}
		}()
	}
	// answeredSince reports, for publishes started at or after since, how
	// many were answered with a status in statuses and whether every
	// publisher had one of them answered.
	answeredSince := func(since time.Time, statuses ...int) (n int, everyPublisher bool) {
		answersMu.Lock()
		defer answersMu.Unlock()
		by := map[string]bool{}
		for _, a := range answers {
			if !a.at.Before(since) && slices.Contains(statuses, a.status) {
				n++
				by[a.key[:strings.IndexByte(a.key, '-')]] = true
			}
		}
		return n, len(by) == 4
	}
	start := time.Now()
	// Publishing goes on while the link is up, then frozen.
	require.Eventually(t, func() bool {
		n, all := answeredSince(start, http.StatusAccepted)
		return all && n >= 20
	}, 30*time.Second, 20*time.Millisecond, "publishes accepted while the link is up")

	proxy.Freeze()
	frozeAt := time.Now()
	require.Eventually(t, func() bool { return ready() == http.StatusServiceUnavailable }, commitTimeout+5*time.Second, 20*time.Millisecond,
		"/readyz says not ready while writes fail")
	notReadyAfter := time.Since(frozeAt)
	// The freeze lasts until every publisher, its publish in flight at the
	// freeze answered at its deadline, had publishes started during the
	// freeze answered 503.
	require.Eventually(t, func() bool {
		n, all := answeredSince(frozeAt.Add(notReadyAfter), http.StatusServiceUnavailable)
		return all && n >= 8
	}, 3*commitTimeout+10*time.Second, 20*time.Millisecond, "publishes answered 503 during the freeze")
	proxy.Thaw()
	thawedAt := time.Now()
	require.Eventually(t, func() bool { return ready() == http.StatusOK }, 20*time.Second, 20*time.Millisecond,
		"/readyz recovers by itself; logs: %s", srv.logs)
	readyAfter := time.Since(thawedAt)
	readyAt := time.Now()
	require.Eventually(t, func() bool {
		_, all := answeredSince(readyAt, http.StatusAccepted)
		return all
	}, 30*time.Second, 20*time.Millisecond, "every publisher has publishes accepted again after the thaw")
	stop.Store(true)
	wg.Wait()

	var ok, unavailable, unknown []publishAnswer
	var worst503 time.Duration
	for _, a := range answers {
		switch {
		case a.status == http.StatusAccepted || a.status == http.StatusOK:
			ok = append(ok, a)
		case a.status == http.StatusServiceUnavailable:
			require.NotEmpty(t, a.retryAfter, "503 carries Retry-After")
			unavailable = append(unavailable, a)
			worst503 = max(worst503, a.took)
		case a.status == http.StatusGatewayTimeout:
			require.NotEmpty(t, a.retryAfter)
			unknown = append(unknown, a)
		default:
			t.Fatalf("publish %s: unexpected status %d", a.key, a.status)
		}
		require.LessOrEqual(t, a.took, commitTimeout+time.Second, "publish %s answered within commit_timeout (status %d)", a.key, a.status)
	}
	require.NotEmpty(t, unavailable, "publishes during the freeze were answered 503")
	t.Logf("%d publishes: %d 2xx, %d 503 (slowest %s), %d 504; /readyz 503 %s after the freeze, 200 %s after the thaw",
		len(answers), len(ok), len(unavailable), worst503.Round(time.Millisecond), len(unknown),
		notReadyAfter.Round(time.Millisecond), readyAfter.Round(time.Millisecond))

	// Look directly, past the proxy, once no COMMIT is still on its way:
	// every session of the server idle, out of a transaction.
	db, err := pgx.Connect(ctx, dsn)
	require.NoError(t, err)
	defer db.Close(ctx)
	require.Eventually(t, func() bool {
		var sessions, busy int
		require.NoError(t, db.QueryRow(ctx, `SELECT count(*), count(*) FILTER (WHERE state <> 'idle' OR xact_start IS NOT NULL)
			FROM pg_stat_activity WHERE application_name = $1`, appName).Scan(&sessions, &busy))
		return sessions > 0 && busy == 0
	}, 20*time.Second, 20*time.Millisecond, "every session of the server idle")
	stored := func() map[string]int {
		rows, err := db.Query(ctx, `SELECT idempotency_key, count(*) FROM events WHERE idempotency_key IS NOT NULL GROUP BY 1`)
		require.NoError(t, err)
		defer rows.Close()
		n := map[string]int{}
		for rows.Next() {
			var k string
			var c int
			require.NoError(t, rows.Scan(&k, &c))
			n[k] = c
		}
		require.NoError(t, rows.Err())
		return n
	}
	n := stored()
	for k, c := range n {
		require.Equal(t, 1, c, "key %s stored once", k)
	}
	for _, a := range unavailable {
		require.Zero(t, n[a.key], "publish %s answered 503 at %s was not committed, then or later", a.key, a.at.Format(time.StampMilli))
	}
	for _, a := range ok {
		require.Equal(t, 1, n[a.key], "publish %s answered %d is stored", a.key, a.status)
	}
	for _, a := range unknown {
		again := publish(a.key)
		require.Contains(t, []int{http.StatusAccepted, http.StatusOK}, again.status)
		require.Equal(t, n[a.key] == 1, again.status == http.StatusOK, "a 504's retry finds its event if it landed")
	}
	if len(unknown) > 0 {
		n = stored()
		for _, a := range unknown {
			require.Equal(t, 1, n[a.key], "a 504 and its retry make one event")
		}
	}

	ids := make([]string, 0, len(ok))
	for _, a := range ok {
		ids = append(ids, a.id)
	}
	require.Eventually(t, func() bool { return rc.GotAll(ids) }, 60*time.Second, 50*time.Millisecond, "every event answered 2xx is delivered")
}
