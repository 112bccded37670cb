// Package bench is the load tool behind `hookline bench`: it drives a real
// Hookline server over HTTP and measures what a user of it would see.
//
// A run starts its own webhook receiver on 127.0.0.1 and, unless it is
// given the URL of a running server, one `hookline serve` child process per
// scenario on a fresh data dir. Publishers POST /v1/events bodies of a
// fixed size (1 KiB by default) over keep-alive connections and take an
// event's accept time when its 202 arrives; the receiver takes the
// arrival time of every delivery from the same clock, so accept→delivery
// latency needs no clock synchronisation.
//
// Publishers run a closed loop (each sends its next event once the last
// is answered) or, at a fixed rate, an open loop: event i is due at the
// start plus i/rate, and its publish latency runs from then to its 202,
// so that a wait for a free publisher is not hidden (coordinated
// omission).
//
// The scenarios:
//
//	S1 throughput  1 endpoint, 20,000 events
//	S2 fan-out     10 endpoints, 5,000 events (50,000 deliveries)
//	S3 isolation   S2 plus one endpoint taking 5 s per request; only the
//	               healthy endpoints are waited for, then the slow one is
//	               watched for two of its delays and its backlog reported
//	               as pending (at 10 in flight it needs over 40 minutes)
//	S4 outage      1 endpoint answering 500 for 20 s, 2,000 events
//	S5 crash       S1 with a kill -9 of the server after half the events
//	               are accepted and a restart on the same data dir
//	R1 steady      1 endpoint, a fixed rate (2,000/s) for a duration
//	Y1 sync        20,000 events applied to a collection, each counted
//	               when the changed event it caused is delivered
//	Y2 sync+mirror Y1 with a PostgreSQL mirror table, waited for until it
//	               holds every change
//	W1 workflow    5,000 three-step workflow runs, each counted when the
//	               event its last step emits is delivered
//	M1 backlog     1,000,000 events in batches to a dead endpoint: the
//	               server's peak RSS with every delivery pending
//
// Each scenario waits until every accepted event reached every endpoint it
// waits for, or a timeout, and reports accept and delivery rates, publish
// and delivery latency percentiles, duplicates, losses, and the server's
// CPU use (from /proc/<pid>/stat) and peak RSS. Two ceilings put S1 in
// proportion: the same publishers and bodies sent one HTTP hop straight
// to the same receiver, and the raw AcceptEvents rate of the SQLite
// store. CheckTargets holds a run to issue 17's performance targets.
package bench
