#!/usr/bin/env bash
# The fulfil-order workflow of hookline.yaml — parallel, foreach and call
# steps — end to end on loopback:
#
#   1. build hookline, and start ../services (go run) as the inventory and
#      the payment provider, whose first answer to each charge is a 503;
#   2. start `hookline serve --config examples/workflows/fulfilment/hookline.yaml`
#      on a temporary data dir (--allow-private-networks);
#   3. send order o-2001 (three lines): its payment branch calls
#      charge-card, which succeeds on its second attempt, while its stock
#      branch reserves the lines two at a time; order.ready carries the
#      charge and the reservations in the lines' order;
#   4. send order o-2002, whose payment is declined: the called run fails,
#      the parallel step fails, and its on_error path releases the lines
#      and emits order.on_hold;
#   5. check the runs and their child runs (hookline workflows runs
#      --parent), the events and the services' log; stop everything.
#
#   examples/workflows/fulfilment/run.sh
#
# Needs Go, curl and openssl. Exits non-zero when a check fails, printing
# the server and services logs.
set -euo pipefail

cd "$(dirname "$0")/../../.."

source examples/lib.sh
# one_line, run_of, run_status, ended, finished, serve_shop
source examples/workflows/lib.sh
start_example fulfilment serve services

serve_shop fulfilment examples/workflows/fulfilment/hookline.yaml

echo "==> declared by the file"
"$hl" workflows list

# children RUN prints the ids of the runs RUN's steps started.
children() {
  "$hl" workflows runs --parent "$1" -o json | one_line | grep -o '"id": "run_[0-9a-z]*"' | grep -o 'run_[0-9a-z]*'
}

# --- A paid order -----------------------------------------------------------
echo "==> hookline send order.paid: order o-2001, three lines"
event="$("$hl" send order.paid --data '{"id": "o-2001", "total": 59.9,
  "items": [{"sku": "MUG-01", "qty": 2}, {"sku": "TEA-07", "qty": 1}, {"sku": "POT-02", "qty": 1}]}')"
echo "    $event"
run="$(finished fulfil-order "$event")"
[[ $(run_status "$run") == succeeded ]] || fail "run $run of order o-2001 did not succeed"

echo "==> its branches: hookline workflows runs --parent $run"
"$hl" workflows runs --parent "$run"
mapfile -t branches < <(children "$run")
[[ ${#branches[@]} -eq 2 ]] || fail "expected 2 branch runs, got ${#branches[@]}"
payment="${branches[1]}" stock="${branches[0]}" # newest first: stock was started second
[[ $("$hl" workflows run-log "$stock" -o json | one_line) == *'"step": "lines","kind": "foreach","status": "succeeded"'* ]] ||
  { payment="${branches[0]}" stock="${branches[1]}"; }
mapfile -t called < <(children "$payment")
[[ ${#called[@]} -eq 1 ]] || fail "the payment branch should have called one run"
echo "==> the called charge-card run ${called[0]}"
"$hl" workflows run-log "${called[0]}"
flat="$("$hl" workflows run-log "${called[0]}" -o json | one_line)"
[[ $flat == *'"workflow": "charge-card"'* && $flat == *'"status": "succeeded"'* ]] || fail "charge-card did not succeed: $flat"
[[ $flat == *'"step": "charge","kind": "http","status": "succeeded","attempts": 2,'* ]] || fail "the charge did not take two attempts"
grep -q "Idempotency-Key=${called[0]}-charge attempt 2: order o-2001 charged 59.90" "$work/services.log" ||
  fail "the payment service did not charge with the called run's key"
mapfile -t lines < <(children "$stock")
[[ ${#lines[@]} -eq 3 ]] || fail "expected one iteration run per line, got ${#lines[@]}"
for n in 0 1 2; do
  grep -q "inventory: POST /reserve order o-2001-$n: 1 item(s) reserved" "$work/services.log" || fail "line $n was not reserved"
done

echo "==> the order.ready event"
ready="$("$hl" events list --type order.ready -o json | one_line)"
echo "    $(grep -o '"data": {.*}\]}' <<<"$ready" | head -c 400)"
[[ $ready == *'"charge": "ch_1"'* ]] || fail "order.ready lacks the charge: $ready"
[[ $ready =~ \"sku\":\ \"MUG-01\".*\"sku\":\ \"TEA-07\".*\"sku\":\ \"POT-02\" ]] || fail "order.ready's lines are not in order: $ready"

# --- A declined payment -----------------------------------------------------
echo
echo "==> hookline send order.paid: order o-2002, whose payment is declined"
event="$("$hl" send order.paid --data '{"id": "o-2002", "total": 4999, "items": [{"sku": "SOFA-9", "qty": 1}]}')"
echo "    $event"
run2="$(finished fulfil-order "$event")"
flat="$("$hl" workflows run-log "$run2" -o json | one_line)"
[[ $flat == *'"step": "prepare","kind": "parallel","status": "failed"'* ]] || fail "the parallel step should have failed: $flat"
[[ $flat == *'"step": "release","kind": "foreach","status": "succeeded"'* ]] || fail "the lines were not released: $flat"
wait_for "order.on_hold" 15 bash -c "\"$hl\" events list --type order.on_hold -o json | grep -q o-2002"
hold="$("$hl" events list --type order.on_hold -o json | one_line)"
[[ $hold == *'branch payment (run '*') failed: step pay: workflow charge-card (run '*') failed: step charge: POST '*'answered 402 Payment Required'* ]] ||
  fail "order.on_hold does not say why: $hold"
echo "    $(grep -o '"why": "[^"]*"' <<<"$hold")"

echo
echo "==> what the services logged"
sed 's/^/    /' "$work/services.log"

echo "==> OK: o-2001 charged by a called workflow while its lines were reserved in parallel; o-2002 declined, released and put on hold"
