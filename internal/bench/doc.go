// Package bench is the load tool behind `hookline bench`: it drives a real
// Hookline server over HTTP and measures what a user of it would see.
//
// A run starts its own webhook receiver on 127.0.0.1 and, unless it is
// given the URL of a running server, one `hookline serve` child process per
// scenario on a fresh data dir. Publishers POST /v1/events over keep-alive
// connections and take an event's accept time when its 202 arrives; the
// receiver takes the arrival time of every delivery from the same clock,
// so accept→delivery latency needs no clock synchronisation.
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
//
// Each scenario waits until every accepted event reached every endpoint it
// waits for, or a timeout, and reports accept and delivery rates, latency
// percentiles, duplicates, losses and the server's peak RSS. Two ceilings
// put S1 in proportion: one HTTP hop from a plain Go client to the same
// receiver, and the raw AcceptEvents rate of the SQLite store.
package bench
