package engine

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sort"
	"time"

	"github.com/hookline/hookline/internal/store"
)

// msgRebalance announces a change of members (a node stopped, or was
// found dead): every node renews its membership and buckets now rather
// than at its next heartbeat, so the buckets set free move at once.
const msgRebalance = "rebalance"

// ClusterConfig enables cluster mode.
type ClusterConfig struct {
	Coordinator store.Coordinator
	NodeID      string
	Addr        string
	// Heartbeat is how often membership and bucket leases are renewed;
	// BucketLease how long a bucket lease lasts and how long a silent node
	// counts as alive (default 5 heartbeats, so a few slow heartbeats
	// under load do not lose it). A node killed without a word is found
	// dead within BucketLease plus a heartbeat, and its work moves then.
	Heartbeat   time.Duration
	BucketLease time.Duration
}

// ClusterStatus is the cluster as this node sees it.
type ClusterStatus struct {
	Self   string
	Nodes  []store.Node
	Owners []store.Ownership
}

// desiredBuckets spreads buckets over live nodes: bucket b goes to the
// node at index b mod n of the ids in sorted order, so every node computes
// the same plan from the same membership.
func desiredBuckets(self string, nodes []store.Node) []int {
	ids := make([]string, 0, len(nodes))
	for _, n := range nodes {
		ids = append(ids, n.ID)
	}
	sort.Strings(ids)
	i := slices.Index(ids, self)
	if i < 0 {
		return nil
	}
	var out []int
	for b := range store.NumBuckets {
		if b%len(ids) == i {
			out = append(out, b)
		}
	}
	return out
}

// ownership is this node's view of the buckets it owns.
type ownership struct {
	owned [store.NumBuckets]bool
	// until is when this node stops dispatching unless its leases are
	// renewed: one heartbeat before they expire, so another node can
	// never take a bucket while this one still starts attempts in it.
	until time.Time
}

// owns reports whether this node dispatches t's destination now. Without
// a cluster every destination is local.
func (e *Engine) owns(t *store.Task) bool {
	if e.cluster == nil {
		return true
	}
	e.ownMu.RLock()
	defer e.ownMu.RUnlock()
	return e.own.owned[store.Bucket(t.DestinationID)] && e.clock.Now().Before(e.own.until)
}

func (e *Engine) ownedBuckets() []int {
	e.ownMu.RLock()
	defer e.ownMu.RUnlock()
	var out []int
	for b, ok := range e.own.owned {
		if ok {
			out = append(out, b)
		}
	}
	return out
}

// clusterLoop renews membership and bucket leases, takes the buckets this
// node should own and hands over those it should not, draining them first
// so no destination runs on two nodes at once.
func (e *Engine) clusterLoop(ctx context.Context) {
	defer e.loops.Done()
	heartbeat := func() {
		if err := e.rebalance(ctx); err != nil && ctx.Err() == nil {
			e.log.WarnContext(ctx, "cluster heartbeat", "error", err)
		}
	}
	heartbeat()
	every(ctx, e.cluster.Heartbeat, e.rebal, heartbeat)
}

// rebalanceSoon has the cluster loop renew membership and buckets now.
func (e *Engine) rebalanceSoon() {
	select {
	case e.rebal <- struct{}{}:
	default:
	}
}

func (e *Engine) rebalance(ctx context.Context) error {
	c := e.cluster
	// own.until is measured on this node's clock from before the
	// heartbeat: only a span of it counts, never its reading.
	now := e.clock.Now()
	cctx, cancel := e.bounded(ctx)
	defer cancel()
	nodes, err := c.Coordinator.Heartbeat(cctx, store.Node{ID: c.NodeID, Addr: c.Addr, StartedAt: e.startedAt}, c.BucketLease)
	if err != nil {
		return fmt.Errorf("heartbeat: %w", err)
	}
	gone, released, err := c.Coordinator.Reap(cctx, c.BucketLease)
	if err != nil {
		return fmt.Errorf("reap silent nodes: %w", err)
	}
	if len(gone) > 0 {
		e.log.WarnContext(ctx, "cluster: nodes silent too long are gone; their buckets and tasks move to the others",
			"nodes", gone, "tasks", released)
		e.m.nodesReaped.Add(float64(len(gone)))
		e.announceRebalance(ctx)
	}
	want := desiredBuckets(c.NodeID, nodes)
	// Hand over what this node should no longer own before taking more.
	var drop []int
	for _, b := range e.ownedBuckets() {
		if !slices.Contains(want, b) {
			drop = append(drop, b)
		}
	}
	if len(drop) > 0 {
		e.setOwned(drop, false)
		e.drain(ctx, drop)
		rctx, cancel := e.bounded(ctx)
		defer cancel()
		if err := c.Coordinator.Release(rctx, c.NodeID, drop); err != nil {
			return fmt.Errorf("release buckets: %w", err)
		}
	}
	actx, cancel := e.bounded(ctx)
	defer cancel()
	held, err := c.Coordinator.Acquire(actx, c.NodeID, want, c.BucketLease)
	if err != nil {
		// Leases not renewed may expire: stop dispatching rather than risk
		// running a destination on two nodes.
		e.setOwnedExactly(nil)
		e.drain(ctx, e.allBuckets())
		return fmt.Errorf("acquire buckets: %w", err)
	}
	// A bucket whose lease lapsed (a slow heartbeat) may already be another
	// node's: stop dispatching it here too.
	var lost []int
	for _, b := range e.ownedBuckets() {
		if !slices.Contains(held, b) {
			lost = append(lost, b)
		}
	}
	gained := e.setOwnedExactly(held)
	e.ownMu.Lock()
	e.own.until = now.Add(c.BucketLease - c.Heartbeat)
	e.ownMu.Unlock()
	if len(lost) > 0 {
		e.log.WarnContext(ctx, "cluster: bucket leases lapsed", "buckets", lost)
		e.drain(ctx, lost)
	}
	if gained {
		e.log.DebugContext(ctx, "cluster: buckets owned", "node_id", c.NodeID, "buckets", held)
		e.pokePoller()
	}
	return nil
}

// announceRebalance tells every node the members changed.
func (e *Engine) announceRebalance(ctx context.Context) {
	if err := e.cluster.Coordinator.Notify(context.WithoutCancel(ctx), msgRebalance); err != nil {
		// The others notice at their next heartbeat.
		e.log.WarnContext(ctx, "cluster: announce a change of members", "error", err)
	}
}

func (e *Engine) allBuckets() []int {
	out := make([]int, store.NumBuckets)
	for i := range out {
		out[i] = i
	}
	return out
}

func (e *Engine) setOwned(buckets []int, v bool) {
	e.ownMu.Lock()
	defer e.ownMu.Unlock()
	for _, b := range buckets {
		e.own.owned[b] = v
	}
}

// setOwnedExactly replaces the owned set and reports whether it grew.
func (e *Engine) setOwnedExactly(buckets []int) bool {
	e.ownMu.Lock()
	defer e.ownMu.Unlock()
	var next [store.NumBuckets]bool
	gained := false
	for _, b := range buckets {
		next[b] = true
		gained = gained || !e.own.owned[b]
	}
	e.own.owned = next
	return gained
}

// drain removes the queued tasks of buckets from this node (releasing their
// leases) and waits, up to the task lease, for their running attempts to
// finish.
func (e *Engine) drain(ctx context.Context, buckets []int) {
	in := func(destID string) bool { return slices.Contains(buckets, store.Bucket(destID)) }
	if ls := e.disp.evict(in); len(ls) > 0 {
		if err := e.store.ReleaseTasks(ctx, ls); err != nil && ctx.Err() == nil {
			e.log.WarnContext(ctx, "release drained tasks", "error", err)
		}
	}
	deadline := time.Now().Add(e.cfg.Lease)
	for e.disp.running(in) > 0 && time.Now().Before(deadline) && ctx.Err() == nil {
		select {
		case <-ctx.Done():
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// ClusterStatus reports the nodes and bucket owners; an error without a
// cluster.
func (e *Engine) ClusterStatus(ctx context.Context) (ClusterStatus, error) {
	if e.cluster == nil {
		return ClusterStatus{}, errNoCluster
	}
	c := e.cluster
	nodes, err := c.Coordinator.Heartbeat(ctx, store.Node{ID: c.NodeID, Addr: c.Addr, StartedAt: e.startedAt}, c.BucketLease)
	if err != nil {
		return ClusterStatus{}, err
	}
	owners, err := c.Coordinator.Owners(ctx)
	if err != nil {
		return ClusterStatus{}, err
	}
	return ClusterStatus{Self: c.NodeID, Nodes: nodes, Owners: owners}, nil
}

// errNoCluster is returned by ClusterStatus on a single-node store.
var errNoCluster = errors.New("not running as a cluster (SQLite store)")

// ErrNoCluster reports whether err says the engine runs without a cluster.
func ErrNoCluster(err error) bool { return errors.Is(err, errNoCluster) }
