package content

import (
	"encoding/json"

	"github.com/hookline/hookline/internal/content/schedule"
	"github.com/hookline/hookline/internal/store"
)

// RuleDef is a notify rule as declared: its expressions and settings as
// their author wrote them, which CompileRule checks and compiles. It is
// the document the store keeps (store.NotifyRule.Spec, and a workflow's
// notify step within the workflow's spec): its JSON must stay readable by
// every later version, so a field is only ever added, with omitempty. The
// API's wire.NotifyRule is mapped to and from it in internal/apply.
type RuleDef struct {
	Name   string   `json:"name"`
	Events []string `json:"events,omitempty"`
	// If is a condition over event and data.
	If string `json:"if,omitempty"`
	// Recipient is an expression giving the recipient's id.
	Recipient string        `json:"recipient"`
	Directory *DirectoryDef `json:"directory,omitempty"`
	Template  string        `json:"template"`
	// DigestTemplate renders digests; empty: a plain list.
	DigestTemplate string      `json:"digest_template,omitempty"`
	Channels       []string    `json:"channels"`
	Category       string      `json:"category,omitempty"`
	Lookups        []LookupDef `json:"lookups,omitempty"`
	// SendAt is an expression giving when to send; empty: now.
	SendAt string `json:"send_at,omitempty"`
	// PageTTL is a Go duration as written; empty: a week.
	PageTTL     string `json:"page_ttl,omitempty"`
	WebhookType string `json:"webhook_type,omitempty"`
	// Track is true unless set false.
	Track *bool `json:"track,omitempty"`
	// Enabled is kept as written in a workflow's notify step, which
	// ignores it; a stored rule's is its row's (store.NotifyRule.Enabled),
	// never in its spec.
	Enabled *bool `json:"enabled,omitempty"`
}

// DirectoryDef maps a collection's records to recipients: each field is
// an expression over record.
type DirectoryDef struct {
	Collection string `json:"collection"`
	Email      string `json:"email"`
	Name       string `json:"name,omitempty"`
	Locale     string `json:"locale,omitempty"`
	TimeZone   string `json:"time_zone,omitempty"`
}

// LookupDef loads data for templates: a collection record by key (an
// expression), or a JSON document from a URL (a template) with headers
// (secret: shown redacted).
type LookupDef struct {
	Name       string            `json:"name"`
	Collection string            `json:"collection,omitempty"`
	Key        string            `json:"key,omitempty"`
	URL        string            `json:"url,omitempty"`
	Headers    map[string]string `json:"headers,omitempty"`
}

// ParseRuleDef reads a stored rule's definition.
func ParseRuleDef(sr store.NotifyRule) (RuleDef, error) {
	var in RuleDef
	err := json.Unmarshal(sr.Spec, &in)
	return in, err
}

// Prefs are a recipient's choices, as stored (store.Recipient.Prefs).
// Everything is opted in unless turned off: Channels turns a channel off
// everywhere, Categories per category.
type Prefs struct {
	Channels   map[string]bool            `json:"channels,omitempty"`
	Categories map[string]map[string]bool `json:"categories,omitempty"`
	QuietHours *QuietHours                `json:"quiet_hours,omitempty"`
	// Digest maps a category to its digest window ("1h", "daily@08:00").
	Digest map[string]string `json:"digest,omitempty"`
}

// QuietHours is schedule.QuietHours as a recipient's prefs store it.
type QuietHours struct {
	Start string `json:"start"`
	End   string `json:"end"`
}

// Recipient is a person content is made for, as rendering and sending
// see them: from the recipient list or a rule's directory.
type Recipient struct {
	ID, Email, Name string
	// Locale is e.g. "fr-CA"; empty: the template's default.
	Locale string
	// TimeZone is an IANA name; empty: UTC.
	TimeZone string
	Prefs    Prefs
	// Data holds more attributes for templates (recipient.data.…).
	Data map[string]any
}

// RecipientOf reads a stored recipient.
func RecipientOf(sr store.Recipient) Recipient {
	out := Recipient{ID: sr.ID, Email: sr.Email, Name: sr.Name, Locale: sr.Locale, TimeZone: sr.TimeZone}
	_ = json.Unmarshal(sr.Prefs, &out.Prefs)
	if len(sr.Data) > 0 {
		_ = json.Unmarshal(sr.Data, &out.Data)
	}
	return out
}

// quiet is q as the schedule package takes it.
func (q QuietHours) quiet() schedule.QuietHours { return schedule.QuietHours(q) }
