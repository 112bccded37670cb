// Package capture turns row changes of watched PostgreSQL tables into an
// ordered stream of changes, which Hookline emits as
// db.{table}.inserted, db.{table}.updated and db.{table}.deleted events.
//
// It works on servers with wal_level=replica (no logical decoding): Install
// puts an AFTER INSERT OR UPDATE OR DELETE FOR EACH ROW trigger on every
// watched table. The trigger writes the row (to_jsonb of NEW and OLD) into
// an outbox table inside the writing transaction, so a change exists
// exactly when its transaction commits. It then sends pg_notify(channel,
// source) purely as a wake-up: NOTIFY payloads are capped near 8,000 bytes,
// so no data travels through it, and a lost notification only delays a
// change until the next poll.
//
// Run is the watcher: one per source across all processes (a session
// advisory lock elects it), reading the source's outbox rows in id order,
// handing them to Emit, and deleting them only after Emit succeeds.
//
// Watchers runs Run for every enabled source that captures, reading the
// stored sources at start, when told they changed and every 30 seconds,
// and publishes the changes as events whose idempotency key is the
// change's id in its outbox.
//
// # Why nothing is lost or reordered
//
// Outbox ids come from an identity sequence when the trigger fires, so
// transactions may commit out of id order: id 10 can become visible after
// id 12. The watcher therefore never keeps a cursor ("everything below 12
// is done"); it deletes exactly the ids Emit accepted, and every read
// starts from the lowest id still in the outbox. A row committed late with
// a low id is still there on the next read, so nothing is skipped.
//
// Changes to one table row are ordered: a second transaction that updates
// or deletes the row waits for the first one's row lock, so its trigger
// (and its nextval) runs after the first transaction committed. Per-row
// outbox ids are therefore in commit order, and since a read sees every
// transaction that committed before it, a later change of a row is never
// read before an earlier one. Across different rows the stream follows id
// order within one Emit call only; a late commit with a low id arrives in
// a later call, which is fine because those rows are unrelated.
//
// Delivery is at least once: if the watcher stops after Emit returned but
// before the delete committed, the next watcher emits that batch again with
// the same ids. Consumers deduplicate by source and Change.ID, which is why
// the outbox table is never dropped (its sequence must not restart).
//
// # One owner per source and schema
//
// A source's trigger name, outbox rows and watcher lock are keyed by its
// name within Schema, so two installations that chose the same name and
// Schema in one database would share them: each Install would drop the
// other's triggers, one watcher would take every change, and an Uninstall
// would delete the other's. Install therefore records Config.Owner in the
// schema's capture_owners table and refuses a source another owner holds;
// Uninstall refuses it too and deletes the record.
//
// # Limits
//
// TRUNCATE fires no row triggers and is not captured. Rows of a partitioned
// table report the partition as their table. Session advisory locks and
// LISTEN need a session, so Config.DSN must not point at a transaction
// pooler. Writers need no privileges on the outbox: the trigger function is
// SECURITY DEFINER, owned by the role that ran Install.
package capture
