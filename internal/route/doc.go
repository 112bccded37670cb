// Package route is Hookline's one routing layer: it finds the destinations
// of an event.
//
// Each destination domain registers a Filler that contributes its entries
// for a tenant: endpoints and subscriptions (delivery), workflow triggers
// (workflow), notify rules (content). An entry is a target (kind and
// destination id), the event types it takes (exact names and globs), and
// an optional compiled filter. The Table compiles a tenant's entries once
// into an index by event type and keeps it until a routing input changes:
// Invalidate bumps the tenant's generation, and the next event rebuilds the
// table from the fillers. A table older than MaxAge is rebuilt too, in case
// a change was made where this process could not see it (a notification
// another node sent while this one was reconnecting).
//
// Each event's data is parsed at most once, when the first filter or
// condition that needs it runs, and every other filter sees the same
// parsed value.
//
// Runs waiting for an event (a workflow's wait_for step) are part of the
// table: a filler reports them when it fills, and SetWait adds or removes
// one as a run starts or stops waiting, without a rebuild, so an event
// that matches no waiting run costs no query. Wait changes carry the run's
// revision, so they may be applied in any order and more than once.
//
// On a cluster (Config.Cluster), Invalidate and SetWait are announced to
// the other nodes, which hand them to Receive.
package route
