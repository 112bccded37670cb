#!/usr/bin/env bash
# A signed contact form → the lead-to-crm workflow → a CRM and a Slack-style
# webhook, end to end on loopback:
#
#   1. build hookline, and start ../services (go run) as the CRM (which
#      wants a bearer token) and the Slack incoming webhook;
#   2. start `hookline serve --config examples/workflows/form-to-crm/hookline.yaml`
#      (the forms source, and workflow_env naming CRM_URL, CRM_TOKEN and
#      SLACK_WEBHOOK_URL) on a temporary data dir, with
#      --allow-private-networks since the services are on loopback;
#   3. check lead-to-crm.yaml with `hookline workflows validate` (and show
#      how a mistake is reported, FILE:LINE), then save it with
#      `hookline workflows apply`;
#   4. post three form submissions to /in/forms, form-encoded and signed
#      with HMAC-SHA256 like the form's backend would: a new lead, the
#      same person again, and a bot that filled in the hidden field;
#   5. check the runs (hookline workflows runs / run-log), that the CRM
#      created then updated one contact, that Slack got two messages, and
#      that the token never shows in the run log;
#   6. stop everything and remove the temporary files (also on failure).
#
#   examples/workflows/form-to-crm/run.sh
#
# Needs Go, curl and openssl. Exits non-zero when a check fails, printing
# the server and services logs.
set -euo pipefail

cd "$(dirname "$0")/../../.."

# fail, wait_for, need, free_addrs, build_hookline, use_server, start_serve,
# background, start_example
source examples/lib.sh
# one_line, run_of, run_status, ended, finished
source examples/workflows/lib.sh
start_example form-to-crm serve services

need go curl openssl

free_addrs api_addr svc_addr

build_hookline

# The CRM's token: the services program requires it, the workflow sends it
# as env.CRM_TOKEN.
export CRM_TOKEN="crm_$(openssl rand -hex 16)"

start_services "$svc_addr" "CRM and Slack webhook" -crm-token "$CRM_TOKEN"

# What hookline.yaml reads with ${NAME}, what the workflow reads as
# env.NAME, and an admin key of our choice for serve and the CLI.
export FORM_SECRET="form_$(openssl rand -hex 16)"
export CRM_URL="http://$svc_addr"
export SLACK_WEBHOOK_URL="http://$svc_addr/slack/webhook"
use_server forms "$api_addr"

start_serve --config examples/workflows/form-to-crm/hookline.yaml --allow-private-networks

flow=examples/workflows/form-to-crm/lead-to-crm.yaml
echo "==> hookline workflows validate -f $flow"
"$hl" workflows validate -f "$flow"

echo "==> a mistake is reported with its file and line (a copy with a broken expression)"
sed 's/lower(trim(event.data.email))/lower(trim(event.data.email)/' "$flow" >"$work/broken.yaml"
if "$hl" workflows validate -f "$work/broken.yaml" 2>"$work/broken.out"; then
  fail "validate accepted a broken workflow"
fi
sed "s|$work/||; s/^/    /" "$work/broken.out"
grep -q "^$work/broken.yaml:[0-9]*: steps\[1\].set.email: invalid expression" "$work/broken.out" ||
  fail "validate did not report FILE:LINE: steps[1].set.email"

echo "==> hookline workflows apply -f $flow"
"$hl" workflows apply -f "$flow"

# submit FORM_BODY posts a form-encoded submission to /in/forms, signed as
# the form's backend signs it, and prints the event id.
submit() {
  local body=$1 sig answer
  sig="sha256=$(printf '%s' "$body" | openssl dgst -sha256 -hmac "$FORM_SECRET" | awk '{print $NF}')"
  answer="$(curl -fsS -X POST "$HOOKLINE_SERVER/in/forms" -H 'Content-Type: application/x-www-form-urlencoded' \
    -H "X-Form-Signature: $sig" --data-binary "$body")"
  [[ $answer == '{"id":"evt_'* ]] || fail "unexpected answer from /in/forms: $answer"
  grep -o 'evt_[0-9a-z]*' <<<"$answer"
}

# The form as a browser posts it: the "website" field is hidden with CSS,
# so people leave it empty.
echo "==> POST /in/forms: Grace Hopper fills in the contact form"
e1="$(submit 'name=Grace+Hopper&email=Grace%40Example.com&company=Navy+%22COBOL%22+Labs&message=Hello%21&website=')"
echo "    $e1"
r1="$(finished lead-to-crm "$e1")"
[[ $(run_status "$r1") == succeeded ]] || fail "run $r1 did not succeed"

echo "==> POST /in/forms: she sends the form again"
e2="$(submit 'name=Grace+Hopper&email=grace%40example.com&company=&message=Did+you+get+it%3F&website=')"
echo "    $e2"
r2="$(finished lead-to-crm "$e2")"
[[ $(run_status "$r2") == succeeded ]] || fail "run $r2 did not succeed"

echo "==> POST /in/forms: a bot fills in every field, the hidden one too"
e3="$(submit 'name=Cheap+Pills&email=bot%40spam.example&company=&message=buy&website=http%3A%2F%2Fspam.example')"
echo "    $e3"
r3="$(finished lead-to-crm "$e3")"
[[ $(run_status "$r3") == succeeded ]] || fail "run $r3 did not succeed"

echo "==> a request with a wrong signature is refused"
status="$(curl -sS -o /dev/null -w '%{http_code}' -X POST "$HOOKLINE_SERVER/in/forms" \
  -H 'Content-Type: application/x-www-form-urlencoded' -H "X-Form-Signature: sha256=$(printf '%064d' 0)" \
  --data-binary 'name=Mallory&email=m%40evil.example')"
echo "    HTTP $status"
[[ $status == 401 ]] || fail "a forged submission answered $status, want 401"

echo "==> hookline workflows runs lead-to-crm"
"$hl" workflows runs lead-to-crm

log1="$("$hl" workflows run-log "$r1" -o json | one_line)"
[[ $log1 == *'"step": "upsert_contact","kind": "http","status": "succeeded"'* ]] || fail "run $r1 did not upsert the contact"
[[ $log1 == *'"Authorization": "redacted"'* ]] || fail "the Authorization header is not redacted in the run log"
[[ $log1 != *"$CRM_TOKEN"* ]] || fail "the CRM token shows in the run log"
[[ $log1 == *'"text": "New lead: Grace Hopper <grace@example.com> from Navy \"COBOL\" Labs (CRM contact ct_1)"'* ]] ||
  fail "run $r1 composed another message: $log1"
log3="$("$hl" workflows run-log "$r3" -o json | one_line)"
[[ $log3 == *'"step": "honeypot","kind": "if","status": "succeeded"'* && $log3 != *'upsert_contact'* ]] ||
  fail "the bot's submission was not stopped at the honeypot: $log3"

echo "==> what the services logged"
sed 's/^/    /' "$work/services.log"
grep -q 'crm: POST /crm/contacts contact grace@example.com created (ct_1) → 201' "$work/services.log" || fail "the contact was not created"
grep -q 'crm: POST /crm/contacts contact grace@example.com updated (ct_1) → 200' "$work/services.log" || fail "the contact was not updated"
[[ $(grep -c 'crm: POST /crm/contacts' "$work/services.log") -eq 2 ]] || fail "the CRM got other than 2 requests"
grep -qF 'slack: POST /slack/webhook message: New lead: Grace Hopper <grace@example.com> from Navy "COBOL" Labs (CRM contact ct_1)' \
  "$work/services.log" || fail "Slack did not get the new lead"
grep -qF 'slack: POST /slack/webhook message: Returning lead: Grace Hopper <grace@example.com> (CRM contact ct_1)' \
  "$work/services.log" || fail "Slack did not get the returning lead"
[[ $(grep -c 'slack: POST' "$work/services.log") -eq 2 ]] || fail "Slack got other than 2 messages"
! grep -q 'spam.example' "$work/services.log" || fail "the bot's submission reached a service"

echo "==> OK: signed form submissions became one CRM contact (created, then updated) and two Slack messages; the bot was stopped"
