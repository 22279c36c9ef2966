#!/usr/bin/env bash
# A single-node Docker Swarm on loopback for the Swarm runtime's tests, shared by every test and
# script that needs one on this Docker daemon, and left again only by whoever turned it on.
#
#   bash ci/swarm.sh up HOLDER_PID    join the holders (turning swarm mode on if it is off)
#   bash ci/swarm.sh down HOLDER_PID  leave the holders; the last one leaves the swarm, but
#                                     only if swarm mode was off before the first `up`
#   bash ci/swarm.sh run CMD ARGS...  CMD with the swarm up, left again however CMD ends
#
# Holders are process ids in a file under /tmp, changed under a lock: a holder that died
# without `down` is dropped at the next `up` or `down`, so a killed test cannot keep the swarm
# on forever (it stays on only until the next script passes by).
set -euo pipefail

state_dir=/tmp/aima-swarm
holders="$state_dir/holders"
created="$state_dir/created-by-aima"
mkdir -p "$state_dir"

swarm_state() { docker info --format '{{.Swarm.LocalNodeState}}' 2>/dev/null || echo unknown; }

# Keeps only the holders whose process still runs.
prune_holders() {
  local pid alive=()
  [[ -f "$holders" ]] || { : >"$holders"; return; }
  while read -r pid; do
    [[ -n "$pid" ]] && kill -0 "$pid" 2>/dev/null && alive+=("$pid")
  done <"$holders"
  printf '%s\n' "${alive[@]+"${alive[@]}"}" | sed '/^$/d' >"$holders"
}

up() {
  local holder=$1
  exec 9>"$state_dir/lock"
  flock 9
  prune_holders
  if [[ "$(swarm_state)" != active ]]; then
    echo "swarm: turning swarm mode on (single node, loopback)" >&2
    docker swarm init --advertise-addr 127.0.0.1 --listen-addr 127.0.0.1:2377 >/dev/null
    touch "$created"
  fi
  echo "$holder" >>"$holders"
}

down() {
  local holder=$1
  exec 9>"$state_dir/lock"
  flock 9
  prune_holders
  grep -vx "$holder" "$holders" >"$holders.new" || true
  mv "$holders.new" "$holders"
  if [[ ! -s "$holders" && -f "$created" ]]; then
    echo "swarm: last holder gone; leaving the swarm this script created" >&2
    docker swarm leave --force >/dev/null || true
    rm -f "$created"
  fi
}

case "${1:-}" in
  up) up "${2:?holder pid}" ;;
  down) down "${2:?holder pid}" ;;
  run)
    shift
    up $$
    trap 'down $$' EXIT
    "$@"
    ;;
  *)
    echo "usage: $0 up PID | down PID | run CMD [ARGS...]" >&2
    exit 2
    ;;
esac
