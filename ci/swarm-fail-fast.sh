#!/usr/bin/env bash
# Fast-fail times of a blocked start, plain Docker next to the Swarm runtime: RUNS starts of one
# service whose port a python3 holder takes, wall time of `aima service start --wait` each,
# median printed per path. Swarm paths need a Swarm manager: run it as
#   bash ci/swarm.sh run bash ci/swarm-fail-fast.sh [RUNS]
# Paths: docker (holder on 0.0.0.0, preflight), swarm-preflight (same holder), swarm-task
# (an IPv6-only holder the host probe does not see: the Swarm task meets it).
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${1:-5}
aima=target/debug/aima
image=$(target/debug/aima-engine-sim image 2>/dev/null)
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }

measure() {
  local runtime=$1 holder=$2 port dir model svc pid times=()
  port=$(free_port)
  dir=$(mktemp -d)
  export AIMA_DATA_DIR=$dir AIMA_RUNTIME=$runtime AIMA_VLLM_IMAGE=$image AIMA_VLLM_GPU=false
  model=$("$aima" model create --name m --source ollama --repo tinyllama -o json | jq -r .id)
  svc=$("$aima" service create --model-id "$model" --engine-type vllm --port "$port" -o json | jq -r .id)
  python3 - "$holder" "$port" >"$dir/holder" <<'PY' &
import socket, sys, time
family, port = sys.argv[1], int(sys.argv[2])
if family == "v6":
    s = socket.socket(socket.AF_INET6)
    s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
    s.bind(("::", port))
else:
    s = socket.socket()
    s.bind(("0.0.0.0", port))
s.listen()
print("ready", flush=True)
time.sleep(300)
PY
  pid=$!
  for _ in $(seq 1 50); do grep -q ready "$dir/holder" && break; sleep 0.1; done
  for _ in $(seq 1 "$runs"); do
    local t0 t1 rc=0
    t0=$(date +%s%N)
    "$aima" service start "$svc" --wait --timeout 30 >/dev/null 2>"$dir/err" || rc=$?
    t1=$(date +%s%N)
    [[ $rc == 5 ]] || { echo "unexpected exit $rc: $(cat "$dir/err")" >&2; kill "$pid"; exit 1; }
    times+=($(( (t1 - t0) / 1000000 )))
  done
  kill "$pid"
  "$aima" service delete "$svc" >/dev/null
  # The engine cache volume a Swarm task created for this throw-away data dir goes with it.
  docker volume ls -q --filter "label=aima.instance=$(cat "$dir/instance-id")" | xargs -r docker volume rm >/dev/null
  rm -rf "$dir"
  local sorted
  sorted=$(printf '%s\n' "${times[@]}" | sort -n | paste -sd' ')
  echo "$runtime/$holder: median $(printf '%s\n' "${times[@]}" | sort -n | sed -n "$(( (runs + 1) / 2 ))p") ms (runs: $sorted)"
}

measure docker v4
if [[ "$(docker info --format '{{.Swarm.ControlAvailable}}')" == true ]]; then
  measure swarm v4
  measure swarm v6
  echo "Swarm services left: $(docker service ls -q --filter label=aima.managed=true | wc -l)"
else
  echo "not a Swarm manager: run under bash ci/swarm.sh run … for the Swarm figures" >&2
fi
