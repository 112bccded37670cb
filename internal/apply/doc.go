// Package apply turns declared resources into stored ones. Applier.Apply
// makes a tenant's resources match a declaration (POST /v1/apply,
// `hookline apply`, and the --config file of `hookline serve` at start and
// on every reload); the checks and saves of one resource that a
// declaration shares with the API's create and update requests live here
// too (UpdateEndpoint, UpdateSource, UpdateSubscription, SaveWorkflow, …),
// so that both refuse the same things with the same words.
//
// # What Apply promises
//
// Resources are matched by name (a recipient by its id): a missing one is
// created, one that differs is updated, one that is the same is reported
// unchanged and not written. Resources the declaration does not name are
// left alone. Apply works in three phases:
//
//  1. Plan. Every resource is checked and compared with the stored one;
//     this only reads. A mistake in any resource (an *Error naming it, its
//     name and, through a *field.Error, the field) is returned before
//     anything is written: a declaration is refused whole. A dry run stops
//     here and reports what would change.
//  2. Install. The change capture triggers of each created or updated,
//     enabled postgres source are put in place in its watched database, so
//     that a source is never saved without them. A failure here (the
//     database is out of reach, a table is missing) is an *Error at the
//     source's "postgres" field, and nothing has been written to the
//     store; the triggers installed for the sources before it stay (Install
//     is idempotent, applying again puts them in place anyway, and a
//     source's watcher reinstalls its stored configuration whenever it
//     connects).
//  3. Write. The changes are written one by one, in the order the result
//     lists them: event types, endpoints, sources, collections, workflows,
//     templates, recipients, notify rules, subscriptions, each kind in the
//     order declared. The store has no transaction over several resources,
//     so a write that fails (the database is unavailable, a workflow or
//     template was saved concurrently) stops Apply with the error: the
//     changes before it are written, and are in the result returned with
//     the error; it and those after it are not. Applying the same
//     declaration again finishes the job: what was written reports
//     unchanged.
//
// After the write phase, whether or not a write failed, the caches and
// routing of the tenant are told (Config.Invalidate, EventTypesChanged,
// SourceChanged), so that what was written takes effect at once.
package apply
