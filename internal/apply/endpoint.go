package apply

import (
	"context"
	"fmt"
	"net/url"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/hookline/hookline/internal/delivery"
	"github.com/hookline/hookline/internal/delivery/broker"
	"github.com/hookline/hookline/internal/delivery/format"
	"github.com/hookline/hookline/internal/event"
	"github.com/hookline/hookline/internal/expr"
	"github.com/hookline/hookline/internal/field"
	"github.com/hookline/hookline/internal/redact"
	"github.com/hookline/hookline/internal/signature"
	"github.com/hookline/hookline/internal/store"
	"github.com/hookline/hookline/wire"
)

// Limits on endpoint and subscription fields.
const (
	maxEventTypes    = 100
	maxHeaders       = 50
	maxHeaderValue   = 1024
	maxRetrySchedule = 20
	maxRetryDelay    = 7 * 24 * time.Hour
	// MaxDescription bounds the description of an endpoint, a source or
	// an event type, in bytes.
	MaxDescription = 1000
	// maxEndpointInFlight and maxRateLimit bound an endpoint's own limits.
	maxEndpointInFlight = 1000
	maxRateLimit        = 100000
)

// nameRule is the rule for the names of endpoints and subscriptions (the
// same as a tenant's).
var nameRule = regexp.MustCompile(`^[a-z0-9][a-z0-9_-]{0,62}$`)

var headerName = regexp.MustCompile(`^[A-Za-z0-9!#$%&'*+.^_|~-]{1,100}$`)

// reservedHeaders are set by Hookline on every delivery.
var reservedHeaders = map[string]bool{
	"content-type": true, "content-length": true, "user-agent": true, "host": true,
	"webhook-id": true, "webhook-timestamp": true, "webhook-signature": true,
	"transfer-encoding": true, "connection": true,
}

// NewEndpoint is a new endpoint of a tenant with every default, before
// UpdateEndpoint applies what was asked for.
func NewEndpoint(tenantID string, now time.Time) store.Endpoint {
	return store.Endpoint{
		ID: event.NewID(event.PrefixEndpoint, now), TenantID: tenantID, Enabled: true, CreatedAt: now, UpdatedAt: now,
		Format: format.JSON, Timeout: delivery.DefaultTimeout, EventTypes: []string{}, Headers: map[string]string{},
	}
}

// CreateToUpdate turns a create body into the update that applies it to a
// new endpoint: every field it sets, and defaults for the rest.
func CreateToUpdate(in wire.EndpointCreate) wire.EndpointUpdate {
	upd := wire.EndpointUpdate{
		Name: &in.Name, URL: &in.URL, Description: &in.Description, Filter: &in.Filter, Enabled: in.Enabled,
	}
	if in.EventTypes != nil {
		upd.EventTypes = &in.EventTypes
	}
	if in.Headers != nil {
		upd.Headers = &in.Headers
	}
	if in.Format != "" {
		upd.Format = &in.Format
	}
	if in.Timeout != "" {
		upd.Timeout = &in.Timeout
	}
	if in.RetrySchedule != nil {
		upd.RetrySchedule = &in.RetrySchedule
	}
	upd.MaxInFlight, upd.RateLimit, upd.Ordered = &in.MaxInFlight, &in.RateLimit, &in.Ordered
	return upd
}

// UpdateEndpoint validates the set fields of u and applies them to ep. A
// mistake is a *field.Error.
func (a *Applier) UpdateEndpoint(ctx context.Context, ep *store.Endpoint, u wire.EndpointUpdate) error {
	if u.Name != nil {
		if *u.Name != "" && !nameRule.MatchString(*u.Name) {
			return field.Errorf("name", "must be 1-63 lowercase letters, digits, '-' or '_', starting with a letter or digit")
		}
		ep.Name = *u.Name
	}
	if u.URL != nil {
		if *u.URL == "" {
			return field.Errorf("url", "is required")
		}
		// The URL's credential is kept apart (store.Endpoint.URLSecret)
		// and checks see the URL without it, so no error echoes it. A
		// credential sent back as shown keeps the current one.
		shown, secret := redact.SplitURL(*u.URL)
		if secret == redact.Marker {
			if ep.URLSecret == "" {
				return field.Errorf("url", "its credential is %q, which keeps the current one, but the endpoint has none; send it", redact.Marker)
			}
			secret = ep.URLSecret
		}
		checked, err := a.checkURL(ctx, shown)
		if err != nil {
			return &field.Error{Path: "url", Err: err}
		}
		ep.URL, ep.URLSecret = checked, secret
	}
	if u.Description != nil {
		if len(*u.Description) > MaxDescription {
			return field.Errorf("description", "must be at most %d characters", MaxDescription)
		}
		ep.Description = *u.Description
	}
	if u.EventTypes != nil {
		if err := checkPatterns(*u.EventTypes); err != nil {
			return err
		}
		ep.EventTypes = append([]string{}, *u.EventTypes...)
	}
	if u.Filter != nil {
		if err := checkFilter(*u.Filter); err != nil {
			return err
		}
		ep.Filter = *u.Filter
	}
	if u.Format != nil {
		if !format.Valid(*u.Format) {
			return field.Errorf("format", "must be json, form or xml, got %q", *u.Format)
		}
		ep.Format = *u.Format
	}
	if u.Headers != nil {
		if err := checkHeaders(*u.Headers); err != nil {
			return err
		}
		// Values are shown redacted: one sent back as shown keeps the
		// value ep has.
		h, missing := redact.Keep(*u.Headers, ep.Headers)
		if len(missing) > 0 {
			return field.Errorf("headers", "%s is %q, which keeps the current value, but the endpoint has no such header; send its value",
				missing[0], redact.Marker)
		}
		ep.Headers = h
	}
	if u.Timeout != nil {
		d, err := time.ParseDuration(*u.Timeout)
		if err != nil || d < time.Second || d > delivery.MaxTimeout {
			return field.Errorf("timeout", "must be a duration from 1s to %s, such as \"15s\"", delivery.MaxTimeout)
		}
		ep.Timeout = d
	}
	if u.RetrySchedule != nil {
		sched, err := parseSchedule(*u.RetrySchedule)
		if err != nil {
			return err
		}
		if len(sched) == 0 {
			sched = nil // an empty schedule means the default one
		}
		ep.RetrySchedule = sched
	}
	if u.MaxInFlight != nil {
		if *u.MaxInFlight < 0 || *u.MaxInFlight > maxEndpointInFlight {
			return field.Errorf("max_in_flight", "must be from 0 (server default) to %d", maxEndpointInFlight)
		}
		ep.MaxInFlight = *u.MaxInFlight
	}
	if u.RateLimit != nil {
		if *u.RateLimit < 0 || *u.RateLimit > maxRateLimit {
			return field.Errorf("rate_limit", "must be from 0 (unlimited) to %d events per second", maxRateLimit)
		}
		ep.RateLimit = *u.RateLimit
	}
	setIf(&ep.Ordered, u.Ordered)
	if u.Enabled != nil {
		if *u.Enabled && !ep.Enabled {
			// A fresh start: the failing period that disabled it is over.
			ep.DisabledReason, ep.FailingSince = "", time.Time{}
		}
		ep.Enabled = *u.Enabled
	}
	return nil
}

// checkURL checks an endpoint's URL, its credential replaced by
// redact.Marker, and returns it normalized: an HTTP URL, or one naming a
// message system (broker.Parse), whose host the SSRF guard allows.
func (a *Applier) checkURL(ctx context.Context, shown string) (string, error) {
	if broker.Handles(shown) {
		t, err := broker.Parse(shown)
		if err != nil {
			return "", err
		}
		if err := a.cfg.URLs.CheckHost(ctx, shown, t.Host); err != nil {
			return "", err
		}
		u, err := url.Parse(shown) // Parse took it: it parses
		if err != nil {
			return "", err
		}
		return u.String(), nil
	}
	if scheme, _, _ := strings.Cut(shown, ":"); !strings.EqualFold(scheme, "http") && !strings.EqualFold(scheme, "https") {
		return "", fmt.Errorf("scheme must be http or https, or nats, amqp, redis or kafka for a message system, got %q", scheme)
	}
	parsed, err := a.cfg.URLs.CheckURL(ctx, shown)
	if err != nil {
		return "", err
	}
	return parsed.String(), nil
}

// checkPatterns checks the event_types of an endpoint or a subscription.
func checkPatterns(patterns []string) error {
	if len(patterns) > maxEventTypes {
		return field.Errorf("event_types", "at most %d patterns", maxEventTypes)
	}
	for _, p := range patterns {
		if err := event.ValidatePattern(p); err != nil {
			return &field.Error{Path: "event_types", Err: err}
		}
	}
	return nil
}

// checkFilter checks the filter of an endpoint or a subscription.
func checkFilter(filter string) error {
	if filter == "" {
		return nil
	}
	if _, err := expr.CompileFilter(filter); err != nil {
		return &field.Error{Path: "filter", Err: err}
	}
	return nil
}

func checkHeaders(h map[string]string) error {
	if len(h) > maxHeaders {
		return field.Errorf("headers", "at most %d headers", maxHeaders)
	}
	for k, v := range h {
		if !headerName.MatchString(k) {
			return field.Errorf("headers", "%q is not a valid header name", k)
		}
		if reservedHeaders[strings.ToLower(k)] {
			return field.Errorf("headers", "%s is set by Hookline and cannot be overridden", k)
		}
		if len(v) > maxHeaderValue || strings.ContainsAny(v, "\r\n\x00") {
			return field.Errorf("headers", "value of %s must be at most %d bytes without line breaks", k, maxHeaderValue)
		}
	}
	return nil
}

func parseSchedule(in []string) ([]time.Duration, error) {
	if len(in) > maxRetrySchedule {
		return nil, field.Errorf("retry_schedule", "at most %d retries", maxRetrySchedule)
	}
	out := make([]time.Duration, 0, len(in))
	for i, s := range in {
		d, err := time.ParseDuration(s)
		if err != nil || d < 0 || d > maxRetryDelay {
			return nil, field.Errorf("retry_schedule", "entry %d (%q) must be a duration from 0s to %s", i, s, maxRetryDelay)
		}
		out = append(out, d)
	}
	return out, nil
}

// planEndpoint compares a declared endpoint with the stored one of its
// name and returns its change and its id.
func (a *Applier) planEndpoint(ctx context.Context, tenantID string, decl wire.EndpointDecl, existing []store.Endpoint,
	now time.Time) (step, string, error) {
	in := decl.EndpointCreate
	s := step{change: wire.Change{Kind: "endpoint", Name: in.Name}}
	idx := slices.IndexFunc(existing, func(ep store.Endpoint) bool { return ep.Name != "" && ep.Name == in.Name })
	// A declaration states the whole endpoint: fields it leaves out take
	// their defaults. Identity, secrets and history are kept.
	ep := NewEndpoint(tenantID, now)
	var before store.Endpoint
	if idx >= 0 {
		before = existing[idx]
		ep.ID, ep.CreatedAt, ep.UpdatedAt, ep.Secrets = before.ID, before.CreatedAt, before.UpdatedAt, before.Secrets
		ep.FailingSince = before.FailingSince
		// Only for a URL declared as shown (its credential redacted),
		// which keeps the current credential.
		ep.URLSecret = before.URLSecret
		if in.Headers != nil {
			// Only for header values declared as shown (redacted), which
			// keep the current ones; the declared headers replace these.
			ep.Headers = before.Headers
		}
	}
	if err := a.UpdateEndpoint(ctx, &ep, CreateToUpdate(in)); err != nil {
		return s, "", err
	}
	if in.Enabled == nil && idx >= 0 {
		// Unless the declaration says, an endpoint disabled at run time
		// (410 Gone, by hand) stays disabled.
		ep.Enabled, ep.DisabledReason = before.Enabled, before.DisabledReason
	}
	if decl.Secret != "" {
		if _, err := signature.DecodeSecret(decl.Secret); err != nil {
			return s, "", &field.Error{Path: "secret", Err: err}
		}
		if len(ep.Secrets) == 0 || ep.Secrets[0].Key != decl.Secret {
			ep.Secrets = []store.Secret{{Key: decl.Secret}}
		}
	}
	s.change.ID = ep.ID
	st := a.cfg.Store
	act := actionOf(idx >= 0, reflect.DeepEqual(before, ep))
	var reenabled bool
	switch act {
	case Created:
		if len(ep.Secrets) == 0 {
			secret, err := signature.GenerateSecret()
			if err != nil {
				return s, "", err
			}
			ep.Secrets = []store.Secret{{Key: secret}}
			s.change.Secret = secret
		}
	case Updated:
		ep.UpdatedAt = now
		reenabled = ep.Enabled && !before.Enabled && !ep.FailingSince.IsZero()
		if reenabled {
			ep.FailingSince = time.Time{} // a fresh start, as with PATCH
		}
	}
	s.decide(act, func(ctx context.Context) error { return st.CreateEndpoint(ctx, ep) }, func(ctx context.Context) error {
		if err := st.UpdateEndpoint(ctx, ep); err != nil {
			return err
		}
		if reenabled {
			return st.SetEndpointFailing(ctx, ep.TenantID, ep.ID, time.Time{})
		}
		return nil
	})
	return s, ep.ID, nil
}
