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
