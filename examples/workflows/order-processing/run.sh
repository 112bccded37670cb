#!/usr/bin/env bash
# The order-processing workflow of hookline.yaml, end to end on loopback:
#
#   1. build hookline, and start ../services (go run) as the inventory and
#      the payment provider, whose first answer to each charge is a 503;
#   2. start `hookline serve --config examples/workflows/order-processing/hookline.yaml`
#      on a temporary data dir (--allow-private-networks: the services are
#      on loopback);
#   3. send order o-1001: it is reserved, charged on the second attempt
#      with the same Idempotency-Key, confirmed (order.confirmed) and the
#      customer gets an inbox message;
#   4. send order o-1002, whose payment is declined: the run releases the
#      stock, fails, and its workflow.failed event starts order-alert,
#      which emits ops.order_failed;
#   5. check the runs (hookline workflows runs / run-log), the events, the
#      inbox message (GET /v1/messages) and the services' log;
#   6. stop everything and remove the temporary files (also on failure).
#
#   examples/workflows/order-processing/run.sh
#
# Needs Go, curl and openssl. Exits non-zero when a check fails, printing
# the server and services logs.
set -euo pipefail

cd "$(dirname "$0")/../../.."

# fail, wait_for, need, free_addrs, build_hookline, use_server, start_serve,
# background, start_example
source examples/lib.sh
# one_line, run_of, run_status, ended, finished, serve_shop
source examples/workflows/lib.sh
start_example order-processing serve services

serve_shop orders examples/workflows/order-processing/hookline.yaml

echo "==> declared by the file"
"$hl" workflows list

# --- A good order ----------------------------------------------------------
echo "==> hookline send order.created: order o-1001"
event="$("$hl" send order.created --data '{"id": "o-1001", "customer_id": "cus_ada", "total": 59.9,
  "items": [{"sku": "MUG-01", "qty": 2}, {"sku": "TEA-07", "qty": 1}]}')"
echo "    $event"
# The charge's first attempt meets a 503 and is retried a second later.
# The warehouse is quicker: the shipment is confirmed while the payment
# waits for its retry. The run keeps it and takes it at its wait.
echo "==> hookline send shipment.confirmed for o-1001, before the run waits for it"
shipment="$("$hl" send shipment.confirmed --data '{"order_id": "o-1001", "carrier": "DHL"}')"
echo "    $shipment"
run="$(finished order-processing "$event")"
[[ $(run_status "$run") == succeeded ]] || fail "run $run of order o-1001 did not succeed"
flat="$("$hl" workflows run-log "$run" -o json | one_line)"
[[ $flat == *'"step": "shipped","kind": "wait_for","status": "succeeded"'* ]] || fail "the wait did not take the shipment"
[[ $flat == *"\"id\": \"$shipment\""* ]] || fail "the wait's output is not the early shipment $shipment"
[[ $("$hl" events list --type order.shipped -o json | one_line) == *'"carrier": "DHL"'* ]] || fail "no order.shipped with the carrier"

log="$("$hl" workflows run-log "$run" -o json)"
flat="$(one_line <<<"$log")"
[[ $flat == *'"step": "charge","kind": "http","status": "succeeded","attempts": 2,'* ]] ||
  fail "the charge did not succeed on its second attempt: $log"
[[ $flat == *'"charge_id": "ch_1"'* ]] || fail "the run's vars lack the charge id: $log"

key="$run-charge"
[[ $(grep -c "Idempotency-Key=$key attempt" "$work/services.log") -eq 2 ]] ||
  fail "the payment service did not see two attempts with Idempotency-Key $key"
grep -q "Idempotency-Key=$key attempt 1: simulated outage → 503" "$work/services.log" || fail "no 503 on the first attempt"
grep -q "Idempotency-Key=$key attempt 2: order o-1001 charged 59.90 as ch_1 → 201" "$work/services.log" ||
  fail "the second attempt did not charge"
grep -q 'inventory: POST /reserve order o-1001: 2 item(s) reserved as res_1' "$work/services.log" || fail "o-1001 was not reserved"

echo "==> the order.confirmed event the run emitted"
confirmed="$("$hl" events list --type order.confirmed -o json)"
flat="$(one_line <<<"$confirmed")"
[[ $flat == *'"source": "workflow:order-processing"'* ]] || fail "no order.confirmed from the workflow: $confirmed"
[[ $flat == *'"total": 59.9'* && $flat == *'"charge": "ch_1"'* && $flat == *'"reservation": "res_1"'* ]] ||
  fail "order.confirmed lacks the order's data: $confirmed"
# The emit step's idempotency key is RUN:SEQ:STEP: the step runs again
# after a crash, but the event is published once.
[[ $flat == *"\"idempotency_key\": \"$run:4:confirm\""* ]] || fail "order.confirmed has another idempotency key: $confirmed"
echo "    $(grep -o '"data": {[^}]*}' <<<"$flat")"

echo "==> the customer's inbox: GET /v1/messages?recipient=cus_ada"
messages="$(curl -fsS "$HOOKLINE_SERVER/v1/messages?recipient=cus_ada" -H "Authorization: Bearer $HOOKLINE_API_KEY")"
echo "    $messages" | cut -c1-400
[[ $messages == *"\"id\":\"msg_${run#run_}_5_inbox\""* ]] || fail "no inbox message made by the notify step"
[[ $messages == *'"channel":"inbox"'* && $messages == *'"status":"sent"'* ]] || fail "the inbox message was not sent"
[[ $messages == *'"subject":"Order o-1001 is confirmed"'* ]] || fail "unexpected subject"
[[ $messages == *'Hi Ada Lovelace, we have received your payment of €59.90 for order o-1001 (charge ch_1).'* ]] ||
  fail "unexpected text"

# --- A declined payment ----------------------------------------------------
echo
echo "==> hookline send order.created: order o-1002, whose payment is declined"
event="$("$hl" send order.created --data '{"id": "o-1002", "customer_id": "cus_ada", "total": 4999,
  "items": [{"sku": "SOFA-9", "qty": 1}]}')"
echo "    $event"
run2="$(finished order-processing "$event")"
[[ $(run_status "$run2") == failed ]] || fail "run $run2 of order o-1002 did not fail"
flat="$("$hl" workflows run-log "$run2" -o json | one_line)"
[[ $flat == *'"step": "charge","kind": "http","status": "failed","attempts": 1,'* ]] ||
  fail "a declined payment (402) should fail at once, without retries"
[[ $flat == *'"step": "release","kind": "http","status": "succeeded"'* ]] || fail "the stock was not released"
grep -q 'inventory: POST /release order o-1002: reservation res_2 released' "$work/services.log" ||
  fail "the inventory did not see the release"

echo "==> the error workflow order-alert ran on the workflow.failed event"
alert_done() {
  "$hl" events list --type ops.order_failed -o json | one_line | grep -q "\"run\": \"$run2\""
}
wait_for "ops.order_failed" 15 alert_done
"$hl" events list --type ops.order_failed -o json | one_line | grep -o '"data": {[^}]*}' | sed 's/^/    /'
"$hl" workflows runs
[[ $("$hl" workflows runs order-alert -o json | one_line) == *'"status": "succeeded"'* ]] || fail "order-alert did not succeed"

# --- A cancelled order -----------------------------------------------------
echo
echo "==> hookline send order.created: order o-1003, then order.cancelled for it"
event="$("$hl" send order.created --data '{"id": "o-1003", "customer_id": "cus_ada", "total": 12,
  "items": [{"sku": "MUG-01", "qty": 1}]}')"
"$hl" send order.cancelled --data '{"order_id": "o-1003"}' >/dev/null
run3="$(finished order-processing "$event")"
[[ $(run_status "$run3") == cancelled ]] || fail "run $run3 of order o-1003 was not cancelled"
[[ $("$hl" workflows run-log "$run3" -o json | one_line) == *'"error": "cancelled by event evt_'* ]] ||
  fail "run $run3 does not say which event cancelled it"

# --- What the services saw -------------------------------------------------
echo
echo "==> what the services logged"
sed 's/^/    /' "$work/services.log"

echo "==> OK: o-1001 reserved, charged once across a retry, confirmed, announced in the inbox and shipped (its early shipment kept); o-1002 declined, released and alerted; o-1003 cancelled by order.cancelled"
