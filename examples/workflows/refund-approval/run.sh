#!/usr/bin/env bash
# The refund-approval workflow end to end on loopback:
#
#   1. build hookline, and start ../services (go run) as the Slack webhook;
#   2. start `hookline serve --config examples/workflows/refund-approval/hookline.yaml`
#      with public_url the server's own address;
#   3. request a refund: the run waits at its approval step, and Slack gets
#      the question with its Approve and Reject links;
#   4. open the link (GET: a page, nothing decided), approve it with the
#      page's form (POST), and check that the link is used up and Slack
#      was told;
#   5. request a second refund and reject it through the API
#      (POST /v1/runs/{id}/reject with a comment);
#   6. stop everything and remove the temporary files (also on failure).
#
#   examples/workflows/refund-approval/run.sh
#
# Needs Go, curl and openssl. Exits non-zero when a check fails, printing
# the server and services logs.
set -euo pipefail

cd "$(dirname "$0")/../../.."

source examples/lib.sh
source examples/workflows/lib.sh
start_example refund-approval serve services

need go curl openssl
free_addrs api_addr svc_addr
build_hookline
start_services "$svc_addr" "Slack webhook"

export SLACK_WEBHOOK_URL="http://$svc_addr/slack/webhook"
use_server refunds "$api_addr"
export HOOKLINE_PUBLIC_URL="$HOOKLINE_SERVER" # the links' base
start_serve --config examples/workflows/refund-approval/hookline.yaml --allow-private-networks

# asked ORDER succeeds when Slack got the approval question of ORDER.
asked() {
  grep -q "message: Refund .* for order $1? Approve: " "$work/services.log"
}

# waiting RUN succeeds when the run waits.
waiting() {
  [[ $(run_status "$1") == waiting ]]
}

# link ORDER KIND prints the Approve or Reject link Slack got for ORDER.
link() {
  grep "message: Refund .* for order $1? Approve: " "$work/services.log" | grep -o "$2: http://[^ ]*" | sed "s/^$2: //"
}

echo "==> refund.requested for order o-1001: the run waits for a decision"
event="$("$hl" send refund.requested --data '{"order": "o-1001", "amount": 120, "customer": "ada"}')"
wait_for "Slack to get the approval question" 30 asked o-1001
approve="$(link o-1001 Approve)"
echo "    Slack: $(grep -o 'message: Refund .* for order o-1001?' "$work/services.log")"
echo "    link:  $approve"

echo "==> GET the link: a page with Approve and Reject, nothing decided"
page="$(curl -fsS "$approve")"
[[ $page == *'<button name="decision" value="approve">Approve</button>'* ]] || fail "no Approve button: $page"
[[ $page == *'Refund 120 EUR to ada for order o-1001?'* ]] || fail "the page does not ask: $page"

echo "==> POST the form: approve, with a comment"
decided="$(curl -sS -o /dev/null -w '%{http_code}' "$approve" --data-urlencode decision=approve --data-urlencode 'comment=ok, regular customer')"
[[ $decided == 200 ]] || fail "the decision answered $decided"
again="$(curl -sS -o /dev/null -w '%{http_code}' "$approve" --data-urlencode decision=reject)"
[[ $again == 409 ]] || fail "the link was used twice (answered $again)"
echo "    decided: 200; the same link again: 409 already decided"

first="$(finished refund "$event")"
[[ $(run_status "$first") == succeeded ]] || fail "run $first did not succeed"

echo "==> refund.requested for order o-1002, rejected through the API"
event="$("$hl" send refund.requested --data '{"order": "o-1002", "amount": 900, "customer": "bob"}')"
wait_for "Slack to get the approval question" 30 asked o-1002
wait_for "the run of $event to start" 15 run_of refund "$event"
second_run="$(run_of refund "$event")"
# The question goes out just before the run is saved waiting.
wait_for "run $second_run to wait" 15 waiting "$second_run"
curl -fsS -X POST "$HOOKLINE_SERVER/v1/runs/$second_run/reject" -H "Authorization: Bearer $HOOKLINE_API_KEY" \
  -H "Content-Type: application/json" -d '{"comment": "over the limit for this customer"}' >/dev/null
wait_for "run $second_run to end" 30 ended "$second_run"
"$hl" workflows run-log "$second_run"

echo "==> what the services logged"
sed 's/^/    /' "$work/services.log"
grep -qF 'message: Refund for o-1001: approved true (link: ok, regular customer)' "$work/services.log" ||
  fail "Slack was not told of the approval"
grep -qF 'message: Refund for o-1002: approved false (api: over the limit for this customer)' "$work/services.log" ||
  fail "Slack was not told of the rejection"

echo "==> OK: one refund approved with its link, one rejected through the API, and Slack told of both"
