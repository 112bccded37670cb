package client

import (
	"context"
	"net/http"
	"time"
)

// LeaseOptions says how LeaseMessages leases; the zero value takes the
// server's defaults (10 messages, 30 s visibility, no wait).
type LeaseOptions struct {
	// Limit is how many messages to lease at most, 1 to 100.
	Limit int
	// Visibility is how long the leased messages stay invisible to other
	// leases, 1 s to 12 h: acknowledge each before it passes, or it is
	// leased again.
	Visibility time.Duration
	// Wait, when above zero, has the server wait up to that long (60 s at
	// most) for a message when none is visible: a long poll. The
	// client's timeout is extended by it.
	Wait time.Duration
}

// PutQueue creates the pull queue spec.Name, or replaces its filter (the
// events on it stay).
func (c *Client) PutQueue(ctx context.Context, spec QueueSpec) (*Queue, error) {
	return doJSON[Queue](ctx, c, call{action: "put queue", method: http.MethodPut, path: "/v1/queues/{id}", id: spec.Name, body: spec})
}

// GetQueue returns the pull queue name with its counts.
func (c *Client) GetQueue(ctx context.Context, name string) (*Queue, error) {
	return doJSON[Queue](ctx, c, call{action: "get queue", method: http.MethodGet, path: "/v1/queues/{id}", id: name})
}

// ListQueues returns every pull queue, by name, without counts.
func (c *Client) ListQueues(ctx context.Context) ([]Queue, error) {
	return listAll[Queue](ctx, c, call{action: "list queues", method: http.MethodGet, path: "/v1/queues"})
}

// DeleteQueue deletes the pull queue name with the events on it.
func (c *Client) DeleteQueue(ctx context.Context, name string) error {
	return c.do(ctx, call{action: "delete queue", method: http.MethodDelete, path: "/v1/queues/{id}", id: name}, nil)
}

// LeaseMessages leases a batch of events from the pull queue name, oldest
// first; none when opts.Wait passed first. Settle each with AckMessages
// or NackMessages and its Receipt.
func (c *Client) LeaseMessages(ctx context.Context, name string, opts LeaseOptions) ([]QueueMessage, error) {
	in := QueueLease{Limit: opts.Limit}
	if opts.Visibility > 0 {
		in.Visibility = opts.Visibility.String()
	}
	if opts.Wait > 0 {
		in.Wait = opts.Wait.String()
	}
	out, err := doJSON[QueueMessages](ctx, c, call{action: "lease messages", method: http.MethodPost, path: "/v1/queues/{id}/lease", id: name,
		body: in, wait: opts.Wait})
	if err != nil {
		return nil, err
	}
	return out.Data, nil
}

// AckMessages acknowledges leased events of the pull queue name by their
// receipts: they leave the queue. Stale receipts changed nothing.
func (c *Client) AckMessages(ctx context.Context, name string, receipts ...string) (*QueueAcked, error) {
	return doJSON[QueueAcked](ctx, c, call{action: "ack messages", method: http.MethodPost, path: "/v1/queues/{id}/ack", id: name,
		body: QueueAck{Receipts: receipts}})
}

// NackMessages rejects leased events of the pull queue name by their
// receipts: they are leased again after delay (at once when zero).
func (c *Client) NackMessages(ctx context.Context, name string, delay time.Duration, receipts ...string) (*QueueAcked, error) {
	in := QueueAck{Receipts: receipts}
	if delay > 0 {
		in.Delay = delay.String()
	}
	return doJSON[QueueAcked](ctx, c, call{action: "nack messages", method: http.MethodPost, path: "/v1/queues/{id}/nack", id: name, body: in})
}

// ReplayQueue puts on the pull queue name again the events it takes that
// were created since since and are still kept (the newest 10,000 at
// most), except those on it already.
func (c *Client) ReplayQueue(ctx context.Context, name string, since time.Time) (*QueueReplayed, error) {
	return doJSON[QueueReplayed](ctx, c, call{action: "replay queue", method: http.MethodPost, path: "/v1/queues/{id}/replay", id: name,
		body: QueueReplay{Since: TimeOf(since)}})
}
