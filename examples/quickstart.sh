#!/usr/bin/env bash
# Quick start, end to end: build hookline, start a server on a temporary data
# dir and a local receiver (hookline listen), create an endpoint, send an
# event, wait until its delivery succeeded with a verified signature, print
# it, and clean up. Exits non-zero when any step fails.
#
#   examples/quickstart.sh
#
# Needs Go and curl. Ports can be changed with QUICKSTART_API_ADDR and
# QUICKSTART_RECEIVER_ADDR.
set -euo pipefail

api_addr="${QUICKSTART_API_ADDR:-127.0.0.1:18181}"
receiver_addr="${QUICKSTART_RECEIVER_ADDR:-127.0.0.1:19191}"

cd "$(dirname "$0")/.."

# fail, wait_for, need, free_addrs, build_hookline, use_server, start_serve,
# background, start_example
source examples/lib.sh
start_example quickstart serve listen

for addr in "$api_addr" "$receiver_addr"; do
  ! port_open "$addr" || fail "$addr is in use; set QUICKSTART_API_ADDR / QUICKSTART_RECEIVER_ADDR"
done

build_hookline

# An admin key of our choice: serve registers HOOKLINE_API_KEY on start, and
# the CLI reads the same variable.
export HOOKLINE_API_KEY="hk_quickstart_$(od -An -N16 -tx1 /dev/urandom | tr -d ' \n')"
export HOOKLINE_SERVER="http://$api_addr"

# --allow-private-networks: the receiver below listens on loopback, which
# deliveries are refused by default (SSRF guard).
start_serve --allow-private-networks

echo "==> creating an endpoint for order.* events"
"$hl" endpoints create --url "http://$receiver_addr/webhook" --event-type 'order.*' \
  --description quickstart >"$work/endpoint.txt" 2>/dev/null
endpoint_id="$(awk '$1 == "id:" {print $2}' "$work/endpoint.txt")"
secret="$(awk '$1 == "secret:" {print $2}' "$work/endpoint.txt")"
[[ $endpoint_id == ep_* && $secret == whsec_* ]] || fail "unexpected endpoint output: $(cat "$work/endpoint.txt")"
echo "    endpoint $endpoint_id"

echo "==> starting hookline listen on $receiver_addr"
background listen "$hl" listen --addr "$receiver_addr" --secret "$secret"
wait_for "the receiver to listen" 10 port_open "$receiver_addr"

echo "==> sending order.created"
event_id="$("$hl" send order.created --data '{"id":"ord_1","amount":4200}')"
[[ $event_id == evt_* ]] || fail "unexpected send output: $event_id"
echo "    event $event_id"

echo "==> waiting for the delivery to succeed"
delivered() {
  "$hl" deliveries list --event "$event_id" --status succeeded | grep -q "$endpoint_id"
}
wait_for "delivery of $event_id to succeed" 30 delivered
delivery_id="$("$hl" deliveries list --event "$event_id" | awk 'NR == 2 {print $1}')"
[[ $delivery_id == dlv_* ]] || fail "no delivery id for $event_id"

echo
"$hl" deliveries get "$delivery_id"
echo
echo "==> what the receiver got"
sed 's/^/    /' "$work/listen.log"
grep -q '^signature: verified$' "$work/listen.log" || fail "the receiver did not verify the signature"

echo "==> OK: $event_id delivered to $endpoint_id and its signature verified"
