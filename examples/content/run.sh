#!/usr/bin/env bash
# The order notifications of hookline.yaml, end to end on loopback:
#
#   1. build hookline and the SMTP sink (smtp-sink/main.go);
#   2. start the sink, then `hookline serve --config examples/content/hookline.yaml`
#      on a temporary data dir, with SMTP pointed at the sink and public_url
#      set to the server's own address;
#   3. send customer.updated (enrichment) and order.shipped events;
#   4. check that the sink received the personalised email, that the
#      recipient's live inbox stream (GET /inbox/stream?token=…, with the
#      token of GET /v1/recipients/cus_42/token) pushed the inbox message and
#      that GET /inbox?token=… lists it;
#   5. follow the tracked link of the inbox message, check it redirects to
#      the shop, that content.clicked was emitted, and that the second
#      notify rule answered it with a follow-up inbox message;
#   6. ship an order to a French-speaking customer with quiet hours: the
#      inbox message is in French at once, the email waits if it is night
#      in Montréal;
#   7. stop everything and remove the temporary files (also on failure).
#
#   examples/content/run.sh
#
# Needs Go, curl and openssl. Exits non-zero when a step fails, printing the
# server and sink logs.
set -euo pipefail

cd "$(dirname "$0")/../.."

# fail, wait_for, need, free_addrs, build_hookline, use_server, start_serve,
# background, start_example
source examples/lib.sh
start_example content serve smtp

need go curl openssl

free_addrs api_addr smtp_addr

build_hookline
echo "==> building the SMTP sink"
go build -o "$work/smtp-sink" ./examples/content/smtp-sink

echo "==> starting the SMTP sink on $smtp_addr"
background smtp "$work/smtp-sink" -addr "$smtp_addr"
# Wait for its first line rather than probing the port, which it would log
# as a broken connection.
sink_ready() { grep -q '^smtp-sink listening' "$work/smtp.log"; }
wait_for "the SMTP sink to listen" 10 sink_ready

use_server content "$api_addr"
# Settings that override hookline.yaml: the links in messages point at this
# server, and mail goes to the sink's port (smtp.host is 127.0.0.1, tls none).
# SMTP settings of the calling shell must not send the mail elsewhere.
unset HOOKLINE_SMTP_HOST HOOKLINE_SMTP_TLS HOOKLINE_SMTP_USERNAME HOOKLINE_SMTP_PASSWORD HOOKLINE_SMTP_FROM
export HOOKLINE_PUBLIC_URL="$HOOKLINE_SERVER"
export HOOKLINE_SMTP_PORT="${smtp_addr##*:}"

start_serve --config examples/content/hookline.yaml

api() {
  curl -fsS "$HOOKLINE_SERVER$1" -H "Authorization: Bearer $HOOKLINE_API_KEY" "${@:2}"
}

echo "==> customer cus_42 is a gold member (the customers collection, read by the template's lookup)"
"$hl" send customer.updated --data '{"id":"cus_42","tier":"gold"}' | sed 's/^/    /'
has_customer() { api /v1/collections/customers/records/cus_42 | grep -q '"tier":"gold"'; }
wait_for "the customer record" 15 has_customer

# The recipient's web app follows its inbox live: Server-Sent Events on
# /inbox/stream, authenticated by the recipient token (EventSource cannot
# send headers, hence ?token=).
token="$(api /v1/recipients/cus_42/token | sed -n 's/.*"token":"\([^"]*\)".*/\1/p')"
[[ $token == rt_* ]] || fail "no recipient token: $token"
echo "==> following the inbox of cus_42 live (GET /inbox/stream?token=…)"
background stream curl -sSN "$HOOKLINE_SERVER/inbox/stream?token=$token"
stream_open() { grep -q '^event: unread' "$work/stream.log"; }
wait_for "the inbox stream" 10 stream_open

echo "==> order A-1001 of cus_42 ships"
"$hl" send order.shipped --data '{"order_id":"A-1001","customer_id":"cus_42","total":1234.5,"currency":"EUR",
  "shipped_at":"2026-05-04T16:30:00Z","items":[{"name":"Notebook","qty":2},{"name":"Fountain pen","qty":1}]}' | sed 's/^/    /'

# --- Email -----------------------------------------------------------------
subject="Ada, your order A-1001 has shipped"
email_arrived() { grep -qF "subject: $subject" "$work/smtp.log"; }
echo "==> waiting for the email at the SMTP sink"
wait_for "the email" 30 email_arrived
grep -qF "envelope: from noreply@shop.example to ada@example.com" "$work/smtp.log" || fail "wrong envelope"
grep -qF "€1,234.50" "$work/smtp.log" || fail "the amount is not formatted for en"
grep -qF "Monday, May 4, 2026 at 5:30 PM" "$work/smtp.log" || fail "the date is not in Europe/London time"
grep -qF "As a Gold member, shipping was on us." "$work/smtp.log" || fail "the customer record was not looked up"
grep -qE "href=\"$HOOKLINE_SERVER/t/[A-Za-z0-9_-]+\"" "$work/smtp.log" || fail "the email's link is not tracked"
grep -qE "src=\"$HOOKLINE_SERVER/o/[A-Za-z0-9_-]+\.gif\"" "$work/smtp.log" || fail "the email has no open pixel"
grep -qE "list-unsubscribe: <$HOOKLINE_SERVER/u/" "$work/smtp.log" || fail "no List-Unsubscribe header"
echo "    $subject"

# --- Inbox -----------------------------------------------------------------
echo "==> the inbox stream pushed the message"
streamed() { grep -qF "\"subject\":\"$subject\"" "$work/stream.log"; }
wait_for "the message on the inbox stream" 15 streamed
grep -E '^(event|id):' "$work/stream.log" | sed 's/^/    /'

echo "==> the inbox of cus_42 (GET /inbox?token=…, as the shop's web app lists it)"
inbox() { curl -fsS "$HOOKLINE_SERVER/inbox?token=$token"; }
inbox_has() { inbox | grep -qF "$1"; }
wait_for "the inbox message" 15 inbox_has "\"subject\":\"$subject\""
[[ $(curl -fsS "$HOOKLINE_SERVER/inbox/unread?token=$token") == '{"unread":1}' ]] || fail "unread count is not 1"
list="$(inbox)"
echo "    $subject (unread: 1)"
# What a browser on the shop's own origin asks before calling /inbox with
# an Authorization header.
preflight="$(curl -sS -o /dev/null -w '%{http_code}' -X OPTIONS "$HOOKLINE_SERVER/inbox" \
  -H 'Origin: https://shop.example' -H 'Access-Control-Request-Method: GET' -H 'Access-Control-Request-Headers: authorization')"
[[ $preflight == 204 ]] || fail "the CORS preflight of /inbox answered $preflight"

# --- Click -----------------------------------------------------------------
link="$(grep -oE "$HOOKLINE_SERVER/t/[A-Za-z0-9_-]+" <<<"$list" | head -n 1)"
[[ -n $link ]] || fail "no tracked link in the inbox message: $list"
echo "==> following the tracked link $link"
target="$(curl -sS -o /dev/null -w '%{redirect_url}' "$link")"
echo "    redirects to $target"
[[ $target == "https://shop.example/orders/A-1001" ]] || fail "the link redirects to $target"

clicked() { api '/v1/events?type=content.clicked' | grep -qF '"url":"https://shop.example/orders/A-1001"'; }
wait_for "the content.clicked event" 15 clicked
echo "==> content.clicked"
"$hl" events list --type content.clicked

wait_for "the follow-up message of order-link-clicked" 15 inbox_has '"subject":"Questions about your delivery?"'
[[ $(api '/v1/messages?recipient=cus_42&channel=inbox&status=clicked' | grep -c '"rule":"order-shipped"') -eq 1 ]] ||
  fail "the clicked inbox message is not marked clicked"

# --- Another locale --------------------------------------------------------
echo "==> order A-1002 of cus_43 (fr-CA, quiet hours 22:00-07:00 America/Montreal) ships"
"$hl" send order.shipped --data '{"order_id":"A-1002","customer_id":"cus_43","total":89.9,"currency":"CAD",
  "shipped_at":"2026-05-04T16:30:00Z","items":[{"name":"Carnet","qty":1}]}' | sed 's/^/    /'
fr_inbox() { api '/v1/messages?recipient=cus_43&channel=inbox' | grep -qF '"subject":"Camille, votre commande A-1002 est expédiée"'; }
wait_for "the French inbox message" 15 fr_inbox
# The inbox message is there at once; the email waits out Camille's quiet
# hours when it is night in Montréal (status scheduled, send_at 07:00 there).
fr_email() { api '/v1/messages?recipient=cus_43&channel=email' | grep -qE '"status":"(scheduled|sent)"'; }
wait_for "the French email" 15 fr_email
email="$(api '/v1/messages?recipient=cus_43&channel=email')"
if [[ $email == *'"status":"scheduled"'* ]]; then
  echo "    night in Montréal: the email waits for the end of quiet hours, $(grep -o '"send_at":"[^"]*"' <<<"$email")"
else
  echo "    day in Montréal: the email was sent"
fi

echo
echo "==> the message log (hookline messages list)"
"$hl" messages list

echo
echo "==> what the SMTP sink received"
sed 's/^/    /' "$work/smtp.log"

echo "==> OK: the order email reached the SMTP sink, the inbox listed the message, and its tracked link emitted content.clicked, which a second rule answered"
