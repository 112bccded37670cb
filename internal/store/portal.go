package store

import (
	"context"
	"time"
)

// PortalSession is a customer portal session of a tenant: made with a
// one-time link (POST /v1/portal/sessions), opened once, and then good
// until ExpiresAt for the event types it is scoped to.
type PortalSession struct {
	ID       string
	TenantID string
	// KeyHash is the hash of the API key that made the session (as
	// APIKey.Hash): the session ends when that key is deleted.
	KeyHash []byte
	// Label names the customer in the portal's header; optional.
	Label string
	// EventTypes are the patterns the session is limited to; empty: every
	// event type of the tenant.
	EventTypes []string
	// LinkHash is the SHA-256 of the one-time link's token; SessionHash
	// the SHA-256 of the session's token, set when the link is opened.
	LinkHash    []byte
	SessionHash []byte
	CreatedAt   time.Time
	ExpiresAt   time.Time
	// OpenedAt is when the link was opened; zero until then.
	OpenedAt time.Time
}

// PortalPruneAfter is how long after its expiry a portal session is kept:
// a late second open of its link still says the link expired.
const PortalPruneAfter = 24 * time.Hour

// PortalSessions are the customer portal's sessions.
type PortalSessions interface {
	// CreatePortalSession inserts a session, and deletes up to 100 that
	// expired more than PortalPruneAfter before ps.CreatedAt, so the
	// table holds only the sessions of about a day.
	CreatePortalSession(ctx context.Context, ps PortalSession) error
	// OpenPortalSession opens the session of a link, once: when the
	// link's session exists, was never opened and has not expired at
	// at, it records at and sessionHash and returns the session. A link
	// that does not exist is ErrNotFound; one opened before or expired
	// returns its session with ErrConflict (OpenedAt tells which).
	OpenPortalSession(ctx context.Context, linkHash, sessionHash []byte, at time.Time) (PortalSession, error)
	// PortalSessionByHash returns the opened session of a session token's
	// hash, expired or not; ErrNotFound when there is none.
	PortalSessionByHash(ctx context.Context, sessionHash []byte) (PortalSession, error)
}

// Patterns is a list of event type patterns as stored: never nil, so it
// is written as [] rather than null.
func Patterns(ps []string) []string {
	if ps == nil {
		return []string{}
	}
	return ps
}
