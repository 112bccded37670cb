package wire

import (
	"encoding/json"
)

// Recipient is a person content is made for: PUT /v1/recipients/{id},
// `recipients:` in hookline.yaml.
type Recipient struct {
	ID       string         `json:"id"`
	Email    string         `json:"email,omitempty"`
	Name     string         `json:"name,omitempty"`
	Locale   string         `json:"locale,omitempty"`    // e.g. "fr-CA"; default "en"
	TimeZone string         `json:"time_zone,omitempty"` // IANA name; default UTC
	Prefs    RecipientPrefs `json:"prefs,omitzero"`
	// Data holds more attributes for templates (recipient.data.…).
	Data      map[string]any `json:"data,omitempty"`
	CreatedAt Time           `json:"created_at,omitzero"`
	UpdatedAt Time           `json:"updated_at,omitzero"`
}

// RecipientPrefs are a recipient's choices. Everything is opted in unless
// turned off: Channels turns a channel off everywhere, Categories per
// category ("marketing": {"email": false}).
type RecipientPrefs struct {
	Channels   map[string]bool            `json:"channels,omitempty"`
	Categories map[string]map[string]bool `json:"categories,omitempty"`
	// QuietHours hold email and webhook messages until they end, in the
	// recipient's time zone.
	QuietHours *QuietHours `json:"quiet_hours,omitempty"`
	// Digest collects a category's email messages over a window ("1h",
	// "24h", "daily@08:00") and sends one digest.
	Digest map[string]string `json:"digest,omitempty"`
}

// QuietHours is a daily period, "22:00" to "07:00".
type QuietHours struct {
	Start string `json:"start"`
	End   string `json:"end"`
}

// TemplateSpec is a content template: POST /v1/templates, `templates:` in
// hookline.yaml. Subject and Text are text/template, HTML is html/template
// (escaping on); Locales override parts per locale.
type TemplateSpec struct {
	Name          string                    `json:"name"`
	Subject       string                    `json:"subject"`
	Text          string                    `json:"text,omitempty"`
	HTML          string                    `json:"html,omitempty"`
	Locales       map[string]TemplateLocale `json:"locales,omitempty"`
	DefaultLocale string                    `json:"default_locale,omitempty"`
	// Strict makes a missing field an error instead of empty text.
	Strict bool `json:"strict,omitempty"`
}

// TemplateLocale overrides template parts for one locale.
type TemplateLocale struct {
	Subject string `json:"subject,omitempty"`
	Text    string `json:"text,omitempty"`
	HTML    string `json:"html,omitempty"`
}

// Template is a template as the API shows it.
type Template struct {
	TemplateSpec
	Version   int  `json:"version"`
	CreatedAt Time `json:"created_at"`
}

// TemplateSaved answers POST /v1/templates: the version now current and
// whether saving made it.
type TemplateSaved struct {
	Template Template `json:"template"`
	Action   string   `json:"action"` // created, updated, unchanged
}

// Preview is the body of POST /v1/templates/{name}/preview: a sample
// event and recipient (an id, or inline) to render with.
type Preview struct {
	Event     json.RawMessage `json:"event,omitempty"` // {"type": …, "data": …} or just data
	Recipient *Recipient      `json:"recipient,omitempty"`
	Records   map[string]any  `json:"records,omitempty"`
	Locale    string          `json:"locale,omitempty"`
}

// Rendered is a rendered template.
type Rendered struct {
	Locale  string `json:"locale"`
	Subject string `json:"subject"`
	Text    string `json:"text,omitempty"`
	HTML    string `json:"html,omitempty"`
}

// NotifyRule says which events produce which content for whom, on which
// channels: POST /v1/notify-rules, `notify_rules:` in hookline.yaml, and
// (without events) the notify step of workflows.
type NotifyRule struct {
	Name   string   `json:"name"`
	Events []string `json:"events,omitempty"`
	// If is a condition over event and data.
	If string `json:"if,omitempty"`
	// Recipient is an expression giving the recipient's id, e.g.
	// "data.customer_id".
	Recipient string `json:"recipient"`
	// Directory reads recipients from a collection instead of the
	// recipient list.
	Directory *RecipientDirectory `json:"directory,omitempty"`
	Template  string              `json:"template"`
	// DigestTemplate renders digests (items: the digest's messages);
	// default a plain list of their subjects and texts.
	DigestTemplate string   `json:"digest_template,omitempty"`
	Channels       []string `json:"channels"` // email, inbox, page, webhook
	Category       string   `json:"category,omitempty"`
	// Lookups enrich the event: records.NAME in templates.
	Lookups []Lookup `json:"lookups,omitempty"`
	// SendAt is an expression giving when to send (an RFC 3339 time);
	// default now.
	SendAt string `json:"send_at,omitempty"`
	// PageTTL is how long a page stays up, e.g. "168h" (the default).
	PageTTL string `json:"page_ttl,omitempty"`
	// WebhookType is the event type the webhook channel publishes;
	// default content.message.
	WebhookType string `json:"webhook_type,omitempty"`
	// Track rewrites links to tracked redirects and adds an open pixel to
	// email; default true.
	Track   *bool `json:"track,omitempty"`
	Enabled *bool `json:"enabled,omitempty"`
}

// RecipientDirectory maps a collection's records to recipients: the
// record whose key is the recipient id; each field is an expression over
// record.
type RecipientDirectory struct {
	Collection string `json:"collection"`
	Email      string `json:"email"`
	Name       string `json:"name,omitempty"`
	Locale     string `json:"locale,omitempty"`
	TimeZone   string `json:"time_zone,omitempty"`
}

// Lookup loads data for templates: a collection record by key (an
// expression), or a JSON document from a URL (a template). Headers are
// stored encrypted and shown by name, each value "redacted"; a PUT that
// sends "redacted" back keeps the stored value.
type Lookup struct {
	Name       string            `json:"name"`
	Collection string            `json:"collection,omitempty"`
	Key        string            `json:"key,omitempty"`
	URL        string            `json:"url,omitempty"`
	Headers    map[string]string `json:"headers,omitempty"`
}

// NotifyRuleOut is a notify rule as the API shows it.
type NotifyRuleOut struct {
	NotifyRule
	CreatedAt Time `json:"created_at"`
	UpdatedAt Time `json:"updated_at"`
}

// Message is one piece of content for one recipient on one channel.
type Message struct {
	ID        string `json:"id"`
	Rule      string `json:"rule,omitempty"`
	Recipient string `json:"recipient"`
	Channel   string `json:"channel"`
	Category  string `json:"category,omitempty"`
	Template  string `json:"template,omitempty"`
	Locale    string `json:"locale,omitempty"`
	Subject   string `json:"subject"`
	Text      string `json:"text,omitempty"`
	HTML      string `json:"html,omitempty"`
	Status    string `json:"status"`
	EventID   string `json:"event_id,omitempty"`
	SendAt    Time   `json:"send_at"`
	SentAt    Time   `json:"sent_at,omitzero"`
	Attempts  int    `json:"attempts"`
	Error     string `json:"error,omitempty"`
	Read      bool   `json:"read"`
	Archived  bool   `json:"archived,omitempty"`
	PageURL   string `json:"page_url,omitempty"`
	CreatedAt Time   `json:"created_at"`
}
