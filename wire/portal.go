package wire

// PortalSessionCreate is the body of POST /v1/portal/sessions; every
// field is optional.
type PortalSessionCreate struct {
	// EventTypes limits the portal to these event types: names or
	// patterns as endpoints take them ("order.*", "invoice.paid"), at
	// most 100. Empty or absent: every event type of the tenant.
	EventTypes []string `json:"event_types,omitempty"`
	// ExpiresIn is how long the link, and the session it opens, last, in
	// seconds: from 60 to 86400 (24 hours); default 3600.
	ExpiresIn int `json:"expires_in,omitempty"`
	// Label names the customer in the portal's header, such as "Acme
	// Inc."; at most 100 bytes.
	Label string `json:"label,omitempty"`
}

// PortalSession is the answer to POST /v1/portal/sessions.
type PortalSession struct {
	ID string `json:"id"`
	// URL opens the portal, once: hand it to the customer's browser, as
	// a redirect or an iframe's src. Whoever has it can open the portal,
	// so treat it as a secret until it is used.
	URL string `json:"url"`
	// ExpiresAt is when the link stops opening and the session it opened
	// ends.
	ExpiresAt  Time     `json:"expires_at"`
	EventTypes []string `json:"event_types"`
	Label      string   `json:"label,omitempty"`
}
