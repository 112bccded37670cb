package broker

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"net"
	"sync"
	"time"

	"github.com/hookline/hookline/internal/clock"
)

// Dial connects to a broker address. The pool's is the SSRF guard's
// (netguard.Policy.Dial), so every connection a client library makes,
// reconnections and brokers it discovers included, is checked after DNS.
type Dial func(ctx context.Context, network, addr string) (net.Conn, error)

// Defaults of PoolConfig.
const (
	DefaultConnectTimeout = 10 * time.Second
	DefaultIdleTimeout    = 5 * time.Minute
)

// Message is one delivery to publish.
type Message struct {
	// Headers travel as the system's headers: NATS headers, AMQP
	// headers, Kafka record headers, Redis stream fields. Their names
	// are lower case (webhook-id, webhook-timestamp, webhook-signature,
	// content-type, hookline-delivery-id, and the endpoint's own).
	Headers map[string]string
	Body    []byte
	// Key is the Kafka record key, which picks the partition: the event
	// id, or for an ordered endpoint the endpoint id, so its messages
	// share one partition and keep their order.
	Key string
}

// Receipt is what a broker acknowledged, or where a publish that failed
// was going: the Detail of the attempt.
type Receipt struct {
	System string `json:"system"`
	// Destination is the subject, exchange, stream or topic.
	Destination string `json:"destination"`
	RoutingKey  string `json:"routing_key,omitempty"`
	// Stream and Sequence are the JetStream stream that stored the
	// message and its sequence there.
	Stream   string `json:"stream,omitempty"`
	Sequence uint64 `json:"sequence,omitempty"`
	// EntryID is the id of the Redis stream entry.
	EntryID string `json:"entry_id,omitempty"`
	// Partition and Offset locate the Kafka record.
	Partition *int32 `json:"partition,omitempty"`
	Offset    *int64 `json:"offset,omitempty"`
}

// ErrClosed is returned by Publish after Close.
var ErrClosed = errors.New("broker pool is closed")

// ConnectError means the broker was not reached: the connection (or its
// login) failed. Other errors of Publish mean the broker was reached and
// did not take the message (no stream for the subject, a missing
// exchange, a negative confirm, an unroutable message), or that no
// acknowledgement came in time.
type ConnectError struct{ Err error }

func (e *ConnectError) Error() string { return "connect: " + e.Err.Error() }
func (e *ConnectError) Unwrap() error { return e.Err }

// publisher is an open connection to one broker target.
type publisher interface {
	publish(ctx context.Context, t Target, m Message, r *Receipt) error
	// alive is false once the connection is lost for good, so the pool
	// opens a new one.
	alive() bool
	close() error
}

// opener connects to t; connections dial with d.
type opener func(ctx context.Context, t Target, d dialer) (publisher, error)

// dialer adapts a Dial to client libraries whose dial function takes no
// context (NATS, AMQP): each dial, reconnections included, is bounded by
// timeout.
type dialer struct {
	dial    Dial
	timeout time.Duration
}

// Dial connects to addr within d.timeout.
func (d dialer) Dial(network, addr string) (net.Conn, error) {
	ctx, cancel := context.WithTimeout(context.Background(), d.timeout)
	defer cancel()
	return d.dial(ctx, network, addr)
}

// PoolConfig configures NewPool.
type PoolConfig struct {
	Dial Dial
	// ConnectTimeout bounds each connection attempt and login.
	ConnectTimeout time.Duration
	// IdleTimeout closes a connection no delivery has used for so long
	// (an endpoint deleted, or quiet).
	IdleTimeout time.Duration
	Clock       clock.Clock
}

// Pool holds one open connection per endpoint and publishes through it.
// A connection opens on the endpoint's first delivery, is reused by the
// next ones, and closes when the endpoint's URL changes, when Retire finds
// the endpoint changed or gone, when idle past IdleTimeout, when lost for
// good (the next delivery opens a new one), and on Close.
type Pool struct {
	cfg PoolConfig

	mu     sync.Mutex
	conns  map[string]*conn // by endpoint id
	closed bool
}

type conn struct {
	tenantID, url string
	ready         chan struct{} // closed once pub or err is set
	pub           publisher
	err           error
	// Guarded by Pool.mu:
	refs    int
	used    time.Time
	retired bool
}

// NewPool returns an empty pool.
func NewPool(cfg PoolConfig) *Pool {
	if cfg.Dial == nil {
		panic("broker: NewPool needs Dial")
	}
	cfg.ConnectTimeout = cmp.Or(cfg.ConnectTimeout, DefaultConnectTimeout)
	cfg.IdleTimeout = cmp.Or(cfg.IdleTimeout, DefaultIdleTimeout)
	if cfg.Clock == nil {
		cfg.Clock = clock.Real{}
	}
	return &Pool{cfg: cfg, conns: make(map[string]*conn)}
}

// Publish sends m to the broker raw names, for endpoint id of tenantID,
// and waits for the broker's acknowledgement or the end of ctx. The
// receipt names the destination even when the publish failed. An error
// wrapping ErrInvalidURL will not pass on a retry; a *ConnectError means
// the broker was not reached.
func (p *Pool) Publish(ctx context.Context, tenantID, id, raw string, m Message) (Receipt, error) {
	t, err := Parse(raw)
	if err != nil {
		return Receipt{}, err
	}
	r := Receipt{System: t.System, Destination: t.Name, RoutingKey: t.Key}
	c, err := p.acquire(ctx, tenantID, id, raw, t)
	if err != nil {
		return r, err
	}
	defer p.release(c)
	if err := c.pub.publish(ctx, t, m, &r); err != nil {
		if op := (*net.OpError)(nil); errors.As(err, &op) && op.Op == "dial" {
			return r, &ConnectError{Err: err} // a client that connects lazily (Redis, Kafka)
		}
		return r, err
	}
	return r, nil
}

func (p *Pool) acquire(ctx context.Context, tenantID, id, raw string, t Target) (*conn, error) {
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		return nil, ErrClosed
	}
	var done []*conn
	now := p.cfg.Clock.Now()
	for key, c := range p.conns {
		if c.refs == 0 && now.Sub(c.used) > p.cfg.IdleTimeout {
			done = append(done, p.retire(key, c)...)
		}
	}
	c := p.conns[id]
	if c != nil && (c.url != raw || c.failed()) {
		done = append(done, p.retire(id, c)...)
		c = nil
	}
	opening := c == nil
	if opening {
		c = &conn{tenantID: tenantID, url: raw, ready: make(chan struct{})}
		p.conns[id] = c
	}
	c.refs++
	p.mu.Unlock()
	closeAll(done)

	if opening {
		timeout := p.cfg.ConnectTimeout
		if dl, ok := ctx.Deadline(); ok {
			timeout = max(min(timeout, time.Until(dl)), time.Millisecond)
		}
		octx, cancel := context.WithTimeout(ctx, timeout)
		c.pub, c.err = systems[t.System].open(octx, t, dialer{dial: p.cfg.Dial, timeout: timeout})
		cancel()
		if c.err != nil {
			c.err = &ConnectError{Err: c.err}
		}
		close(c.ready)
	} else {
		select {
		case <-c.ready:
		case <-ctx.Done():
			p.release(c)
			return nil, &ConnectError{Err: fmt.Errorf("wait for the connection: %w", ctx.Err())}
		}
	}
	if c.err != nil {
		p.release(c)
		return nil, c.err
	}
	return c, nil
}

// failed reports whether c is open and lost, or failed to open. Called
// with Pool.mu held.
func (c *conn) failed() bool {
	select {
	case <-c.ready:
		return c.err != nil || !c.pub.alive()
	default:
		return false
	}
}

func (p *Pool) release(c *conn) {
	p.mu.Lock()
	c.refs--
	c.used = p.cfg.Clock.Now()
	closing := c.retired && c.refs == 0
	p.mu.Unlock()
	if closing {
		closeAll([]*conn{c})
	}
}

// retire takes c, the connection of key, out of the pool; it returns c
// when nobody uses it, to be closed once Pool.mu is released. Called with
// Pool.mu held.
func (p *Pool) retire(key string, c *conn) []*conn {
	if p.conns[key] == c {
		delete(p.conns, key)
	}
	c.retired = true
	if c.refs > 0 {
		return nil // the last release closes it
	}
	return []*conn{c}
}

func closeAll(cs []*conn) {
	for _, c := range cs {
		if c.pub != nil {
			_ = c.pub.close()
		}
	}
}

// Retire closes the connections of tenantID's endpoints that keep, given
// an endpoint's id and the URL its connection was opened for, says are
// no longer wanted (the endpoint changed or is gone). Connections in use
// close after their deliveries.
func (p *Pool) Retire(tenantID string, keep func(id, raw string) bool) {
	p.mu.Lock()
	urls := make(map[string]string)
	for id, c := range p.conns {
		if c.tenantID == tenantID {
			urls[id] = c.url
		}
	}
	p.mu.Unlock()
	var stale []string
	for id, raw := range urls {
		if !keep(id, raw) {
			stale = append(stale, id)
		}
	}
	var done []*conn
	p.mu.Lock()
	for _, id := range stale {
		if c := p.conns[id]; c != nil && c.url == urls[id] {
			done = append(done, p.retire(id, c)...)
		}
	}
	p.mu.Unlock()
	closeAll(done)
}

// Open reports how many connections the pool holds.
func (p *Pool) Open() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return len(p.conns)
}

// Close closes every connection (those in use after their deliveries)
// and makes Publish fail with ErrClosed.
func (p *Pool) Close() {
	p.mu.Lock()
	p.closed = true
	var done []*conn
	for key, c := range p.conns {
		done = append(done, p.retire(key, c)...)
	}
	p.mu.Unlock()
	closeAll(done)
}
