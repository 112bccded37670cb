#!/usr/bin/env bash
# The daily-digest workflow: a weekday 9:00 Berlin schedule, run now by
# hand, end to end on loopback:
#
#   1. build hookline, and start ../services (go run) as the Slack webhook;
#   2. start `hookline serve --config examples/workflows/daily-digest/hookline.yaml`
#      on a temporary data dir, with --allow-private-networks since the
#      service is on loopback;
#   3. show the schedule and its next time (GET /v1/workflows/daily-digest);
#   4. run the workflow by hand (hookline workflows run) with an input that
#      names the day, and check that Slack got the digest;
#   5. stop everything and remove the temporary files (also on failure).
#
#   examples/workflows/daily-digest/run.sh
#
# Needs Go, curl and openssl. Exits non-zero when a check fails, printing
# the server and services logs.
set -euo pipefail

cd "$(dirname "$0")/../../.."

source examples/lib.sh
source examples/workflows/lib.sh
start_example daily-digest serve services

need go curl openssl
free_addrs api_addr svc_addr
build_hookline
start_services "$svc_addr" "Slack webhook"

export SLACK_WEBHOOK_URL="http://$svc_addr/slack/webhook"
use_server digest "$api_addr"
start_serve --config examples/workflows/daily-digest/hookline.yaml --allow-private-networks

echo "==> GET /v1/workflows/daily-digest: the schedule and when it next runs"
shown="$(curl -fsS "$HOOKLINE_SERVER/v1/workflows/daily-digest" -H "Authorization: Bearer $HOOKLINE_API_KEY")"
schedules="$(grep -o '"schedules":\[.*\]' <<<"$shown")"
echo "    $schedules"
[[ $schedules == *'"schedule":"0 9 * * MON-FRI","timezone":"Europe/Berlin","missed":"run_once","next_at":"'* ]] ||
  fail "the schedule is not planned: $shown"

echo "==> hookline workflows run daily-digest --input - (run it now)"
run_json="$(echo '{"scheduled_at": "2026-12-07T08:00:00Z"}' | "$hl" workflows run daily-digest --input - -o json | one_line)"
run="$(grep -o 'run_[0-9a-z]*' <<<"$run_json" | head -n1)"
echo "    $run"
wait_for "run $run to end" 30 ended "$run"
"$hl" workflows run-log "$run"
[[ $(run_status "$run") == succeeded ]] || fail "run $run did not succeed"

echo "==> what the services logged"
sed 's/^/    /' "$work/services.log"
grep -qF 'slack: POST /slack/webhook message: Orders digest for the day before 2026-12-07T08:00:00Z (workflow.manual)' \
  "$work/services.log" || fail "Slack did not get the digest"

echo "==> OK: the digest is scheduled for weekdays at 9:00 Berlin time, and a run by hand posted it"
