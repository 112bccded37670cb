# Shell helpers shared by the examples' run.sh scripts. Source it after
# `cd`-ing to the repository root; the script defines the pids array of
# its background processes.

# fail prints an error and exits 1 (the script's EXIT trap cleans up).
fail() {
  echo "error: $*" >&2
  exit 1
}

# wait_for DESCRIPTION TIMEOUT_SECONDS COMMAND... retries COMMAND until it
# succeeds, failing when the timeout passes or a background process died.
wait_for() {
  local what=$1 timeout=$2
  shift 2
  local deadline=$((SECONDS + timeout))
  until "$@" >/dev/null 2>&1; do
    for pid in "${pids[@]}"; do
      kill -0 "$pid" 2>/dev/null || fail "a background process exited while waiting for $what"
    done
    ((SECONDS < deadline)) || fail "timed out after ${timeout}s waiting for $what"
    sleep 0.2
  done
}

# port_open HOST:PORT succeeds when something listens there.
port_open() {
  (exec 3<>"/dev/tcp/${1%:*}/${1##*:}") 2>/dev/null
}

# free_addr prints a loopback address whose port nothing listens on.
free_addr() {
  local addr
  for _ in $(seq 50); do
    addr="127.0.0.1:$((20000 + RANDOM % 20000))"
    if ! port_open "$addr"; then
      echo "$addr"
      return
    fi
  done
  fail "no free loopback port found"
}

# need TOOL... fails unless every TOOL is on the PATH.
need() {
  local tool
  for tool in "$@"; do
    command -v "$tool" >/dev/null || fail "$tool is required"
  done
}

# free_addrs VAR... sets each VAR to a free loopback address, all different.
free_addrs() {
  # Names of their own: a local named like a VAR would hide it.
  local _fa_var _fa_addr _fa_taken=" "
  for _fa_var in "$@"; do
    _fa_addr="$(free_addr)"
    [[ $_fa_taken != *" $_fa_addr "* ]] || _fa_addr="$(free_addr)"
    _fa_taken+="$_fa_addr "
    printf -v "$_fa_var" '%s' "$_fa_addr"
  done
}

# build_hookline builds hookline into $work and sets hl to it.
build_hookline() {
  echo "==> building hookline"
  go build -o "$work/hookline" ./cmd/hookline
  hl="$work/hookline"
}

# use_server NAME ADDR exports an admin key of our choice (serve registers
# HOOKLINE_API_KEY at start, and the CLI reads the same variable) and the
# server's URL, HOOKLINE_SERVER.
use_server() {
  export HOOKLINE_API_KEY="hk_$1_$(openssl rand -hex 16)"
  export HOOKLINE_SERVER="http://$2"
}

# background LOG COMMAND... runs COMMAND in the background with its output
# in $work/LOG.log, and adds it to pids.
background() {
  local log=$1
  shift
  "$@" >"$work/$log.log" 2>&1 &
  pids+=($!)
}

# start_serve ARG... starts `hookline serve` on $HOOKLINE_SERVER's address
# with a data dir in $work and ARGs, logging to $work/serve.log, and waits
# until it is ready.
start_serve() {
  local addr=${HOOKLINE_SERVER#http://}
  echo "==> starting hookline serve $* on $addr"
  background serve "$hl" serve --addr "$addr" --data-dir "$work/data" "$@"
  wait_for "the server to be ready" 30 curl -fsS "$HOOKLINE_SERVER/readyz"
}

# start_services ADDR WHAT ARG... runs the example services of
# examples/workflows/services on ADDR with ARGs, logging to
# $work/services.log, and waits until they answer.
start_services() {
  local addr=$1 what=$2
  shift 2
  echo "==> starting the $what services (go run ./examples/workflows/services) on $addr"
  set -m # a process group of its own, so cleanup can stop the program go run started
  background services go run ./examples/workflows/services -addr "$addr" "$@"
  set +m
  wait_for "the services to listen" 120 curl -fsS "http://$addr/healthz"
}

# start_example NAME LOG... makes $work (a temporary directory) and the
# pids array, and traps EXIT to stop the background processes (their
# process groups too, for `go run`), run example_cleanup when the script
# defines it, print $work/LOG.log of each LOG when the script failed, and
# remove $work.
start_example() {
  example_name=$1
  shift
  example_logs=("$@")
  work="$(mktemp -d)"
  pids=()
  trap example_exit EXIT
  trap 'exit 130' INT TERM
}

example_exit() {
  local code=$?
  for pid in "${pids[@]}"; do
    kill -- "-$pid" 2>/dev/null || kill "$pid" 2>/dev/null || true
  done
  for pid in "${pids[@]}"; do
    wait "$pid" 2>/dev/null || true
  done
  if declare -F example_cleanup >/dev/null; then
    example_cleanup || true
  fi
  if [[ $code -ne 0 ]]; then
    echo "$example_name example FAILED (exit $code)" >&2
    for log in "${example_logs[@]}"; do
      if [[ -s $work/$log.log ]]; then
        echo "--- $log log:" >&2
        sed 's/^/  /' "$work/$log.log" >&2
      fi
    done
  fi
  rm -rf "$work"
  exit "$code"
}
