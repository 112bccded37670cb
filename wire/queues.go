package wire

// QueueSpec is the body of PUT /v1/queues/{name}: which events the queue
// takes. Both fields are optional.
type QueueSpec struct {
	// Name is the queue's name; the path names it, so the body may leave
	// it out.
	Name string `json:"name"`
	// Source keeps only the events received at /in/{source}; empty: the
	// events of every source and of POST /v1/events.
	Source string `json:"source,omitempty"`
	// EventTypes keeps only the events whose type matches one of these
	// names or patterns ("invoice.*"), at most 100; empty: every type.
	EventTypes []string `json:"event_types,omitempty"`
}

// Queue is a pull queue: the events it takes wait on it until a consumer
// leases and acknowledges them.
type Queue struct {
	Name       string   `json:"name"`
	Source     string   `json:"source,omitempty"`
	EventTypes []string `json:"event_types"`
	// Messages is how many events are on the queue; InFlight how many of
	// them are invisible now (leased, or rejected with a delay).
	Messages  int  `json:"messages"`
	InFlight  int  `json:"in_flight"`
	CreatedAt Time `json:"created_at"`
	UpdatedAt Time `json:"updated_at"`
}

// QueueLease is the body of POST /v1/queues/{name}/lease; every field is
// optional.
type QueueLease struct {
	// Limit is how many messages to lease at most, 1 to 100; default 10.
	Limit int `json:"limit,omitempty"`
	// Visibility is how long the leased messages stay invisible to other
	// leases unless acknowledged or rejected first, a Go duration from
	// "1s" to "12h"; default "30s". A message not acknowledged by then
	// is leased again.
	Visibility string `json:"visibility,omitempty"`
	// Wait is how long to wait for a message when none is visible (long
	// poll), up to "60s"; default none: answer at once.
	Wait string `json:"wait,omitempty"`
}

// QueueMessages is the answer to POST /v1/queues/{name}/lease: the
// leased messages, oldest event first; none when the wait passed first.
type QueueMessages struct {
	Data []QueueMessage `json:"data"`
}

// QueueMessage is one leased event.
type QueueMessage struct {
	// Receipt names this lease of the message: acknowledge or reject the
	// message with it. A later lease of the same message has another.
	Receipt string `json:"receipt"`
	// Deliveries is how many times the message was leased, this lease
	// included: more than 1 is a redelivery.
	Deliveries int `json:"deliveries"`
	// Event is the event with, for a received one, its body as it
	// arrived (raw_body or raw_body_base64).
	Event Event `json:"event"`
	// RequestHeaders are the headers of the request a received event came
	// in, as sent (signatures included; hop-by-hop headers and credentials
	// left out): with the raw body, what forwarding the request again
	// needs.
	RequestHeaders map[string]string `json:"request_headers,omitempty"`
}

// QueueAck is the body of POST /v1/queues/{name}/ack and
// POST /v1/queues/{name}/nack.
type QueueAck struct {
	// Receipts are the receipts of the leased messages, at most 1000.
	Receipts []string `json:"receipts"`
	// Delay, for nack only, is how long the rejected messages stay
	// invisible before they are leased again, a Go duration up to "12h";
	// default none.
	Delay string `json:"delay,omitempty"`
}

// QueueAcked is the answer to an ack or a nack.
type QueueAcked struct {
	// Settled counts the messages acknowledged or rejected.
	Settled int `json:"settled"`
	// Stale are the receipts that changed nothing: the message was
	// acknowledged already, or its lease lapsed and another lease holds it
	// (it will be, or was, delivered again).
	Stale []string `json:"stale"`
}

// QueueReplay is the body of POST /v1/queues/{name}/replay.
type QueueReplay struct {
	// Since puts back on the queue the events it takes that were
	// created at or after this time and are still kept: the newest 10000
	// at most.
	Since Time `json:"since"`
}

// QueueReplayed is the answer to POST /v1/queues/{name}/replay.
type QueueReplayed struct {
	// Enqueued counts the events put on the queue (those on it already
	// are not put twice).
	Enqueued int `json:"enqueued"`
	// Truncated is true when more events matched than one replay takes:
	// the oldest of them were left out.
	Truncated bool `json:"truncated,omitempty"`
}
