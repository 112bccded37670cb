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
