#!/usr/bin/env bash
# The webhook gateway of hookline.yaml, end to end on loopback:
#
#   1. build hookline;
#   2. start `hookline listen` as the downstream service ("relay"), verifying
#      Standard Webhooks signatures with the relay's signing secret;
#   3. start `hookline serve --config examples/gateway/hookline.yaml` on a
#      temporary data dir, with the secrets the file references in its
#      environment;
#   4. post a GitHub push signed like GitHub signs it (HMAC-SHA256 of the
#      body, computed with openssl) to /in/github, and Stripe events signed
#      like Stripe signs them to /in/stripe;
#   5. wait until the relay printed the transformed GitHub event and the
#      live-mode Stripe event with "signature: verified", check that the
#      test-mode Stripe event was stored but not relayed and that a repeated
#      GitHub delivery is recognised as a duplicate;
#   6. stop everything and remove the temporary files (also on failure).
#
#   examples/gateway/run.sh
#
# Needs Go, curl and openssl. Exits non-zero when a step fails, printing the
# server and relay logs.
set -euo pipefail

cd "$(dirname "$0")/../.."

# fail, wait_for, need, free_addrs, build_hookline, use_server, start_serve,
# background, start_example
source examples/lib.sh
start_example gateway serve relay

need go curl openssl

free_addrs api_addr relay_addr

build_hookline

# The values hookline.yaml reads with ${NAME}. In real use they come from
# GitHub's and Stripe's webhook settings and from the downstream service.
export GITHUB_WEBHOOK_SECRET="gh-$(openssl rand -hex 16)"
export STRIPE_WEBHOOK_SECRET="whsec_$(openssl rand -hex 16)"
export RELAY_URL="http://$relay_addr/hooks"
export RELAY_SIGNING_SECRET="whsec_$(openssl rand -base64 24)"
use_server gateway "$api_addr"

echo "==> starting the relay (hookline listen) on $relay_addr"
background relay "$hl" listen --addr "$relay_addr" --secret "$RELAY_SIGNING_SECRET"
wait_for "the relay to listen" 10 port_open "$relay_addr"

# --allow-private-networks: the relay listens on loopback, which deliveries
# are refused by default (SSRF guard). Not for production.
start_serve --config examples/gateway/hookline.yaml --allow-private-networks

echo "==> resources declared by the file"
"$hl" sources list
"$hl" subscriptions list

# --- GitHub ---------------------------------------------------------------
github_body='{"ref":"refs/heads/main","repository":{"full_name":"acme/shop"},"sender":{"login":"octocat"}}'
github_sig="sha256=$(printf '%s' "$github_body" | openssl dgst -sha256 -hmac "$GITHUB_WEBHOOK_SECRET" | awk '{print $NF}')"
github_delivery="$(openssl rand -hex 8)"

post_github() {
  curl -sS -X POST "$HOOKLINE_SERVER/in/github" \
    -H 'Content-Type: application/json' \
    -H 'X-GitHub-Event: push' \
    -H "X-GitHub-Delivery: $github_delivery" \
    -H "X-Hub-Signature-256: $github_sig" \
    --data-binary "$github_body"
}

echo "==> POST /in/github (X-GitHub-Event: push), signed with the GitHub secret"
answer="$(post_github)"
echo "    $answer"
[[ $answer == '{"id":"evt_'* ]] || fail "unexpected answer from /in/github: $answer"

echo "==> the same delivery again is recognised as a duplicate"
answer="$(post_github)"
echo "    $answer"
[[ $answer == *'"duplicate":true'* ]] || fail "repeated delivery was not a duplicate: $answer"

echo "==> a request with a wrong signature is refused"
status="$(curl -sS -o /dev/null -w '%{http_code}' -X POST "$HOOKLINE_SERVER/in/github" \
  -H 'Content-Type: application/json' -H 'X-GitHub-Event: push' -H 'X-GitHub-Delivery: forged' \
  -H "X-Hub-Signature-256: sha256=$(printf '%064d' 0)" --data-binary "$github_body")"
echo "    HTTP $status"
[[ $status == 401 ]] || fail "a forged request answered $status, want 401"

# --- Stripe ---------------------------------------------------------------
post_stripe() {
  local body=$1 t
  t="$(date +%s)"
  local v1
  v1="$(printf '%s' "$t.$body" | openssl dgst -sha256 -hmac "$STRIPE_WEBHOOK_SECRET" | awk '{print $NF}')"
  curl -sS -X POST "$HOOKLINE_SERVER/in/stripe" \
    -H 'Content-Type: application/json' \
    -H "Stripe-Signature: t=$t,v1=$v1" \
    --data-binary "$body"
}

echo "==> POST /in/stripe: a test-mode event (stored, not relayed: the filter wants livemode)"
answer="$(post_stripe '{"id":"evt_test_1","object":"event","type":"invoice.paid","livemode":false,"data":{"object":{"id":"in_test_1"}}}')"
echo "    $answer"
[[ $answer == '{"id":"evt_'* ]] || fail "unexpected answer from /in/stripe: $answer"

echo "==> POST /in/stripe: a live-mode event"
answer="$(post_stripe '{"id":"evt_live_1","object":"event","type":"invoice.paid","livemode":true,"data":{"object":{"id":"in_live_1"}}}')"
echo "    $answer"
[[ $answer == '{"id":"evt_'* ]] || fail "unexpected answer from /in/stripe: $answer"

# --- What came out --------------------------------------------------------
verified() {
  [[ $(grep -c '^signature: verified$' "$work/relay.log") -ge 2 ]]
}
echo "==> waiting for the relay to verify both forwarded deliveries"
wait_for "two verified deliveries at the relay" 30 verified
sleep 1 # give a wrongly relayed test-mode event the time to show up

requests="$(grep -c '^── ' "$work/relay.log" || true)"
[[ $requests -eq 2 ]] || fail "the relay got $requests requests, want 2"
grep -q '"repository": "acme/shop"' "$work/relay.log" || fail "the GitHub event was not transformed"
grep -q '"delivery": "'"$github_delivery"'"' "$work/relay.log" || fail "the transform lost X-GitHub-Delivery"
grep -q 'evt_live_1' "$work/relay.log" || fail "the live-mode Stripe event was not relayed"
! grep -q 'evt_test_1' "$work/relay.log" || fail "the test-mode Stripe event was relayed"

echo
echo "==> events received (newest first)"
"$hl" events list
echo
echo "==> what the relay got"
sed 's/^/    /' "$work/relay.log"

echo "==> OK: GitHub and Stripe webhooks verified, stored, deduplicated and relayed with verified signatures"
