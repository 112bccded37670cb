# Shell helpers of the workflow examples' run.sh scripts, over those of
# examples/lib.sh; they call the CLI as $hl.

# one_line joins the indented JSON of -o json into one line, keeping the
# spaces inside strings: {"id": "run_…","workflow": "lead-to-crm",…
one_line() {
  sed -E 's/^ +//' | tr -d '\n'
}

# run_of WORKFLOW EVENT prints the id of the run of WORKFLOW that EVENT
# started: the oldest with that event, as the runs its parallel and
# foreach steps start share it and come after it.
run_of() {
  local id
  id="$("$hl" workflows runs "$1" -o json | one_line |
    grep -o "\"id\": \"run_[0-9a-z]*\",[^}]*\"event_id\": \"$2\"" | grep -o 'run_[0-9a-z]*' | tail -n1)" || return 1
  [[ -n $id ]] || return 1
  echo "$id"
}

# run_status RUN prints a run's status.
run_status() {
  "$hl" workflows run-log "$1" -o json | one_line | grep -o '^{"id": "run_[0-9a-z]*",[^{]*"status": "[a-z]*"' |
    sed 's/.*"status": "//; s/"$//'
}

# ended RUN succeeds when the run succeeded, failed or was cancelled.
ended() {
  local s
  s="$(run_status "$1")"
  [[ $s == succeeded || $s == failed || $s == cancelled ]]
}

# finished WORKFLOW EVENT waits for the run of WORKFLOW that EVENT started
# to end, shows its log and prints its id.
finished() {
  local workflow=$1 event=$2 run
  wait_for "the run of $event to start" 15 run_of "$workflow" "$event"
  run="$(run_of "$workflow" "$event")"
  wait_for "run $run to end" 30 ended "$run"
  echo >&2
  "$hl" workflows run-log "$run" >&2
  echo >&2
  echo "$run"
}

# serve_shop NAME CONFIG builds hookline, starts ../services as the
# inventory and the payment provider, and serves CONFIG (a hookline.yaml
# reading ${INVENTORY_URL} and ${PAYMENTS_URL}) as server NAME on a free
# port, allowing the loopback services.
serve_shop() {
  local name=$1 config=$2
  need go curl openssl
  free_addrs api_addr svc_addr
  build_hookline
  start_services "$svc_addr" "inventory and payment"
  # What hookline.yaml reads with ${NAME}, and an admin key of our choice:
  # serve registers HOOKLINE_API_KEY at start, and the CLI reads it too.
  export INVENTORY_URL="http://$svc_addr"
  export PAYMENTS_URL="http://$svc_addr"
  use_server "$name" "$api_addr"
  start_serve --config "$config" --allow-private-networks
}
