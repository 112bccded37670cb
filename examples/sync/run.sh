#!/usr/bin/env bash
# The customer sync of hookline.yaml, end to end on loopback:
#
#   1. build hookline;
#   2. start `hookline serve --config examples/sync/hookline.yaml` on a
#      temporary data dir, mirroring into a fresh schema of MIRROR_DSN;
#   3. post Shopify customer webhooks signed like Shopify signs them, out of
#      order and with a repeat: an update before the create it follows, a
#      resent webhook, a delete, and a late update of the deleted customer;
#   4. check the collection (hookline collections records/record/changes)
#      and the PostgreSQL mirror table (psql) hold exactly the shop's state;
#   5. stop everything and drop the mirror schema (also on failure).
#
#   MIRROR_DSN=postgres://postgres@127.0.0.1:5432/test examples/sync/run.sh
#
# MIRROR_DSN defaults to HOOKLINE_TEST_POSTGRES. Needs Go, curl, openssl,
# psql and a PostgreSQL the DSN may create a schema in.
set -euo pipefail

cd "$(dirname "$0")/../.."
export MIRROR_DSN="${MIRROR_DSN:-${HOOKLINE_TEST_POSTGRES:-}}"

example_cleanup() {
  if [[ -n $MIRROR_DSN ]]; then
    psql "$MIRROR_DSN" -qc 'DROP SCHEMA IF EXISTS shop CASCADE' >/dev/null 2>&1 || true
  fi
}

# fail, wait_for, need, free_addrs, build_hookline, use_server, start_serve,
# background, start_example
source examples/lib.sh
start_example sync serve

need go curl openssl psql
[[ -n $MIRROR_DSN ]] || fail "set MIRROR_DSN (or HOOKLINE_TEST_POSTGRES) to a PostgreSQL DSN"
psql "$MIRROR_DSN" -qc 'DROP SCHEMA IF EXISTS shop CASCADE' >/dev/null

free_addrs addr

build_hookline

export SHOPIFY_WEBHOOK_SECRET="shpss_$(openssl rand -hex 16)"
use_server sync "$addr"

# --allow-private-networks: the mirror database is on this machine, and
# database connections go through the same guard as webhooks (SSRF).
start_serve --config examples/sync/hookline.yaml --allow-private-networks

# shop TOPIC BODY posts a webhook as Shopify does.
shop() {
  local topic=$1 body=$2 hmac
  hmac="$(printf '%s' "$body" | openssl dgst -sha256 -hmac "$SHOPIFY_WEBHOOK_SECRET" -binary | openssl base64 -A)"
  curl -fsS -X POST "$HOOKLINE_SERVER/in/shop" -H 'Content-Type: application/json' \
    -H "X-Shopify-Topic: $topic" -H "X-Shopify-Hmac-Sha256: $hmac" \
    -H "X-Shopify-Webhook-Id: ${3:-$(openssl rand -hex 8)}" --data-binary "$body" | sed 's/^/    /'
}

echo "==> customer 1001 is updated, but the update arrives before the create"
shop customers/update '{"id":1001,"email":"ada@example.com","first_name":"Ada","last_name":"Lovelace","orders_count":2,"updated_at":"2026-05-01T10:05:00Z","admin_graphql_api_id":"gid://shopify/Customer/1001"}'
shop customers/create '{"id":1001,"email":"ada@old.example.com","first_name":"Ada","last_name":null,"orders_count":0,"updated_at":"2026-05-01T10:00:00Z"}'
echo "==> customer 1002 is created; the webhook is sent twice"
body='{"id":1002,"email":"grace@example.com","first_name":"Grace","last_name":"Hopper","orders_count":1,"updated_at":"2026-05-01T11:00:00Z"}'
shop customers/create "$body" wh-1002
shop customers/create "$body" wh-1002
echo "==> customer 1003 is created, deleted, then a late update of it arrives"
shop customers/create '{"id":1003,"email":"linus@example.com","first_name":"Linus","orders_count":0,"updated_at":"2026-05-01T12:00:00Z"}'
shop customers/delete '{"id":1003}'
shop customers/update '{"id":1003,"email":"linus@example.com","first_name":"Zombie","orders_count":0,"updated_at":"2026-05-01T12:01:00Z"}'

settled() {
  [[ -z $("$hl" deliveries list --status pending -o json | grep '"id"') ]] &&
    [[ -z $("$hl" deliveries list --status retrying -o json | grep '"id"') ]]
}
wait_for "the sync tasks to finish" 30 settled
# The mirror follows the collection on its own, usually within milliseconds.
mirrored() { "$hl" collections get customers -o json | grep -Eq '"state": *"ok"'; }
wait_for "the mirror to catch up" 30 mirrored

echo "==> the collection"
"$hl" collections records customers
records="$("$hl" collections records customers -o json)"
[[ $records == *'"ada@example.com"'* ]] || fail "customer 1001 lost its newer update: $records"
[[ $records != *'ada@old.example.com'* ]] || fail "the late create overwrote customer 1001"
[[ $records == *'"Ada Lovelace"'* ]] || fail "the mapped name is missing"
[[ $records != *'admin_graphql_api_id'* ]] || fail "a dropped field is stored"
[[ $records == *'"grace@example.com"'* ]] || fail "customer 1002 is missing"
[[ $records != *'"1003"'* ]] || fail "deleted customer 1003 came back"
if "$hl" collections record customers 1003 >/dev/null 2>&1; then
  fail "customer 1003 should be deleted"
fi

echo "==> the changes feed (what another system following the collection sees)"
"$hl" collections changes customers

echo "==> the PostgreSQL mirror, shop.customers"
psql "$MIRROR_DSN" -c 'SELECT id, email, name, orders_count, updated_at, hookline_seq FROM shop.customers ORDER BY id'
mirror="$(psql "$MIRROR_DSN" -Atc "SELECT string_agg(id || '=' || email, ',' ORDER BY id) FROM shop.customers")"
[[ $mirror == "1001=ada@example.com,1002=grace@example.com" ]] || fail "mirror holds $mirror"

echo "==> OK: out-of-order, repeated and late webhooks left the collection and its mirror exactly as the shop is"
