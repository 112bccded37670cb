package capture

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// BenchmarkCapture measures row changes per second from the INSERT to
// their Emit: four writers insert b.N rows in statements of 500 while one
// watcher drains the outbox.
func BenchmarkCapture(b *testing.B) {
	bb := setup(b)
	bb.exec(b, `CREATE TABLE `+bb.ts+`.bench (id bigserial PRIMARY KEY, v int NOT NULL, note text NOT NULL)`)
	cfg := bb.cfg
	cfg.Tables = []string{bb.table("bench")}
	if err := Install(context.Background(), cfg); err != nil {
		b.Fatal(err)
	}
	var got atomic.Int64
	all := make(chan struct{})
	var once sync.Once
	run(b, cfg, func(_ context.Context, cs []Change) error {
		if got.Add(int64(len(cs))) >= int64(b.N) {
			once.Do(func() { close(all) })
		}
		return nil
	})

	const writers, chunk = 4, 500
	b.ResetTimer()
	start := time.Now()
	var wg sync.WaitGroup
	var next atomic.Int64
	for range writers {
		wg.Go(func() {
			for {
				end := next.Add(chunk)
				n := min(chunk, int64(b.N)-(end-chunk))
				if n <= 0 {
					return
				}
				if _, err := bb.pool.Exec(context.Background(),
					`INSERT INTO `+bb.ts+`.bench (v, note) SELECT g, 'note ' || g FROM generate_series(1, $1) g`, n); err != nil {
					b.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
	select {
	case <-all:
	case <-time.After(time.Minute):
		b.Fatalf("only %d of %d changes emitted", got.Load(), b.N)
	}
	b.StopTimer()
	b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "changes/s")
}
