package store

import (
	"context"
	"time"

	"github.com/hookline/hookline/internal/event"
)

// Queue is a tenant's named pull queue: it takes the events of Source
// (every source when empty) whose type matches one of EventTypes (every
// type when empty), each put on it in the transaction that accepts the
// event (NewEvent.Queues). Consumers lease, acknowledge and reject them.
type Queue struct {
	ID         string
	TenantID   string
	Name       string
	Source     string
	EventTypes []string
	CreatedAt  time.Time
	UpdatedAt  time.Time
}

// QueueMessage is one event on a queue as a lease returned it.
type QueueMessage struct {
	Event event.Event
	// Token is the lease's token: acknowledging or rejecting the message
	// needs it, so a consumer whose lease lapsed and was taken over by
	// another changes nothing.
	Token int64
	// Deliveries is how many times the message was leased, this lease
	// included.
	Deliveries int
}

// QueueReceipt names one lease of a message: its event id and token.
type QueueReceipt struct {
	EventID string
	Token   int64
}

// MaxQueueReplay bounds how many past events one replay puts on a queue.
const MaxQueueReplay = 10000

// Queues are the tenants' pull queues and their messages. Leases are
// kept by the database's clock.
type Queues interface {
	// PutQueue creates the tenant's queue q.Name, or replaces its Source
	// and EventTypes (keeping its ID, CreatedAt and messages), and
	// returns it as stored.
	PutQueue(ctx context.Context, q Queue) (Queue, error)
	GetQueue(ctx context.Context, tenantID, name string) (Queue, error)
	// ListQueues lists every queue of a tenant, by name.
	ListQueues(ctx context.Context, tenantID string) ([]Queue, error)
	// DeleteQueue deletes a queue with its messages.
	DeleteQueue(ctx context.Context, tenantID, name string) error
	// EnqueueEvents puts the tenant's events named by ids on a queue,
	// those it does not hold already, visible at once, and returns how
	// many it added; ids of no event of the tenant are skipped.
	EnqueueEvents(ctx context.Context, tenantID, queueID string, ids []string) (int, error)
	// LeaseMessages leases up to limit visible messages of a tenant's
	// queue, oldest event first, for visibility: none of them is leased
	// again until it has passed, unless rejected. Each lease has a new
	// token.
	LeaseMessages(ctx context.Context, tenantID, queueID string, limit int, visibility time.Duration) ([]QueueMessage, error)
	// AckMessages deletes the messages whose lease is the one named, and
	// returns the receipts that name none (acknowledged already, leased
	// again since, or never on the queue).
	AckMessages(ctx context.Context, tenantID, queueID string, rs []QueueReceipt) (stale []QueueReceipt, err error)
	// NackMessages makes the messages whose lease is the one named
	// visible again after delay, and returns the receipts that name none.
	NackMessages(ctx context.Context, tenantID, queueID string, rs []QueueReceipt, delay time.Duration) (stale []QueueReceipt, err error)
	// CountMessages counts a queue's messages: all, and those leased now.
	CountMessages(ctx context.Context, tenantID, queueID string) (total, leased int, err error)
}
