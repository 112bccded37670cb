package store

import (
	"context"
	"crypto/md5"
	"time"
)

// NumBuckets is the number of partitions destinations are spread over when
// several nodes share one database. Each bucket is owned by one node at a
// time through a lease, so every destination is dispatched by one node and
// its limits (max in flight, rate, order, circuit) hold cluster-wide.
const NumBuckets = 64

// Bucket returns the bucket of a destination: the low six bits of the
// fourth byte of the MD5 of its id. Drivers compute the same in SQL
// (get_byte(decode(md5(id), 'hex'), 3) & 63) for Claim.Buckets.
func Bucket(destinationID string) int {
	h := md5.Sum([]byte(destinationID))
	return int(h[3] & (NumBuckets - 1))
}

// Node is one Hookline process sharing the database.
type Node struct {
	ID          string
	Addr        string
	StartedAt   time.Time
	HeartbeatAt time.Time
}

// Ownership is which node holds a bucket and until when.
type Ownership struct {
	Bucket     int
	NodeID     string
	LeaseUntil time.Time
}

// Coordinator is implemented by stores that several nodes share
// (PostgreSQL): membership, bucket leases and work announcements. Every
// time it keeps (heartbeats, lease ends) is the database's clock, so nodes
// whose clocks disagree still agree on who is alive and who owns what.
type Coordinator interface {
	// Heartbeat records node as alive now and returns the nodes whose
	// heartbeat is younger than ttl, this one included.
	Heartbeat(ctx context.Context, node Node, ttl time.Duration) ([]Node, error)
	// Reap forgets the nodes whose heartbeat is older than ttl (killed,
	// frozen or cut off from the database) and drops their bucket leases
	// and the leases of the tasks they held, so the survivors take their
	// work over now instead of when each lease would expire. It returns
	// the nodes it forgot and how many task leases it dropped.
	Reap(ctx context.Context, ttl time.Duration) (gone []string, released int, err error)
	// Leave removes a node from the members at once: it is stopping.
	Leave(ctx context.Context, nodeID string) error
	// Acquire takes or renews the leases of buckets for nodeID, for
	// lease, where they are free, expired or already its own, and returns
	// the buckets it holds after the call.
	Acquire(ctx context.Context, nodeID string, buckets []int, lease time.Duration) ([]int, error)
	// Release gives buckets up.
	Release(ctx context.Context, nodeID string, buckets []int) error
	// Owners lists every bucket's lease.
	Owners(ctx context.Context) ([]Ownership, error)
	// Notify sends an announcement to every node, this one included: new
	// work when msg is empty, otherwise an engine message of at most 7,000
	// bytes (closed circuits, a change of members).
	Notify(ctx context.Context, msg string) error
	// Listen calls fn with every announcement until ctx ends, reconnecting
	// as needed; after a reconnect it calls fn("") since announcements may
	// have been missed.
	Listen(ctx context.Context, fn func(msg string)) error
}
