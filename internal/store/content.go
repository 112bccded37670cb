package store

import "time"

// Recipient is a person content is made for. Prefs and Data are JSON
// documents owned by the content package (channel opt-ins per category,
// quiet hours, digests; extra attributes for templates).
type Recipient struct {
	TenantID  string
	ID        string // the tenant's own id for the person
	Email     string
	Name      string
	Locale    string
	TimeZone  string
	Prefs     []byte
	Data      []byte
	CreatedAt time.Time
	UpdatedAt time.Time
}

// Template is one version of a content template; Spec is the JSON
// document owned by the content package. Versions count 1, 2, 3….
type Template struct {
	TenantID  string
	Name      string
	Version   int
	Spec      []byte
	CreatedAt time.Time
}

// NotifyRule says which events produce content for whom; Spec is owned
// by the content package and encrypted at rest by the driver (its lookups
// carry headers, which may be credentials).
type NotifyRule struct {
	TenantID  string
	Name      string
	Spec      []byte
	Enabled   bool
	CreatedAt time.Time
	UpdatedAt time.Time
}

// Message statuses.
const (
	MessageScheduled = "scheduled" // waiting for its send time
	MessageDigest    = "digest"    // waiting in a digest
	MessageSent      = "sent"
	MessageFailed    = "failed"
	MessageSkipped   = "skipped" // the recipient opted out
	MessageOpened    = "opened"
	MessageClicked   = "clicked"
)

// Message is one piece of content for one recipient on one channel.
type Message struct {
	ID          string
	TenantID    string
	Rule        string
	RecipientID string
	Channel     string // email, inbox, page, webhook
	Category    string
	Template    string
	Locale      string
	Subject     string
	Text        string
	HTML        string
	Status      string
	// EventID is the event that caused the message.
	EventID string
	// DigestKey groups the messages of one digest (recipient, category,
	// window end); empty for others.
	DigestKey string
	SendAt    time.Time
	SentAt    time.Time
	Attempts  int
	Error     string
	// Read and Archived are inbox flags.
	Read     bool
	Archived bool
	// PageToken is the hosted page's token (channel page).
	PageToken string
	PageUntil time.Time
	CreatedAt time.Time
	UpdatedAt time.Time
}

// MessageQuery filters ListMessages (newest first).
type MessageQuery struct {
	Page
	RecipientID string
	Channel     string
	Status      string
	// Inbox lists a recipient's inbox: channel inbox, not archived unless
	// Archived.
	Archived bool
}

// Link is a tracked link of a message: /t/{Token} redirects to URL.
// Token "" with Open set is the open pixel.
type Link struct {
	Token     string
	TenantID  string
	MessageID string
	URL       string
	// Open marks the open-tracking pixel of the message.
	Open      bool
	CreatedAt time.Time
}
