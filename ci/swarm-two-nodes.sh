#!/usr/bin/env bash
# The two-node experiment: a second dockerd in its own network namespace (own data root, exec
# root, socket and hostname `aima-n2`), joined as a worker to a swarm this script creates on a
# veth pair, and aima's Swarm runtime driven across both nodes:
#   1. start pinned to aima-n2 → running, the engine answers on aima-n2's address, stop → the
#      port is free on aima-n2 at once;
#   2. a port held on aima-n2 → exit 5 naming port and node, no service left;
#   3. an image only the manager has → "not present on node aima-n2", no service left;
#   4. --node for a node the swarm does not have → refused naming the nodes.
# Needs root and swarm mode off (it refuses otherwise, so it never takes over a swarm someone
# uses). Everything it made is removed however it exits.
#
#   bash ci/swarm-two-nodes.sh [AIMA_BIN]     (default: target/debug/aima; needs the simulator
#                                              image: target/debug/aima-engine-sim image)
set -euo pipefail
cd "$(dirname "$0")/.."

aima=${1:-target/debug/aima}
ns=aima-n2
dir=/tmp/aima-n2
host_ip=10.213.0.1
node_ip=10.213.0.2
n2=(env DOCKER_HOST="unix://$dir/docker.sock" docker)

[[ "$(docker info --format '{{.Swarm.LocalNodeState}}')" == inactive ]] || {
  echo "two-nodes: swarm mode is already on here; run this on a Docker not in a swarm" >&2
  exit 2
}
image=$(target/debug/aima-engine-sim image 2>/dev/null)
work=$(mktemp -d)

cleanup() {
  set +e
  "${n2[@]}" swarm leave --force >/dev/null 2>&1
  docker swarm leave --force >/dev/null 2>&1
  [[ -f "$dir/dockerd.pid" ]] && kill "$(cat "$dir/dockerd.pid")" 2>/dev/null && sleep 3
  ip link del aima-n2h 2>/dev/null
  ip netns del "$ns" 2>/dev/null
  # The vfs data root holds image copies: gone with the experiment.
  rm -rf "$dir" "$work"
  docker image rm aima-engine-sim:manager-only >/dev/null 2>&1
  echo "two-nodes: cleaned up" >&2
}
trap cleanup EXIT

echo "two-nodes: network namespace $ns, veth $host_ip <-> $node_ip" >&2
mkdir -p "$dir"
ip netns add "$ns"
ip link add aima-n2h type veth peer name aima-n2c
ip link set aima-n2c netns "$ns"
ip addr add "$host_ip/24" dev aima-n2h
ip link set aima-n2h up
nsenter --net="/var/run/netns/$ns" sh -c "ip addr add $node_ip/24 dev aima-n2c; ip link set aima-n2c up; ip link set lo up"

echo "two-nodes: second dockerd (hostname aima-n2, vfs, own roots)" >&2
echo '{}' >"$dir/daemon.json"
# nsenter, not `ip netns exec`: the latter remounts /sys, hiding the cgroup mounts dockerd needs.
unshare --uts sh -c "hostname aima-n2; exec nsenter --net=/var/run/netns/$ns dockerd \
  --config-file $dir/daemon.json --data-root $dir/data --exec-root $dir/exec \
  --pidfile $dir/dockerd.pid -H unix://$dir/docker.sock --storage-driver vfs \
  --iptables=false --ip-masq=false" >"$dir/dockerd.log" 2>&1 &
for _ in $(seq 1 60); do "${n2[@]}" info >/dev/null 2>&1 && break; sleep 0.5; done
docker save "$image" | "${n2[@]}" load >/dev/null

echo "two-nodes: swarm on $host_ip, aima-n2 joins as a worker" >&2
docker swarm init --advertise-addr "$host_ip" --listen-addr "$host_ip:2377" >/dev/null
"${n2[@]}" swarm join --token "$(docker swarm join-token -q worker)" \
  --advertise-addr "$node_ip" --listen-addr "$node_ip:2377" "$host_ip:2377" >/dev/null
docker node ls >&2

export AIMA_DATA_DIR="$work/data" AIMA_RUNTIME=swarm AIMA_VLLM_IMAGE="$image" AIMA_VLLM_GPU=false
model=$("$aima" model create --name m --source ollama --repo tinyllama -o json | jq -r .id)
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
svc=$("$aima" service create --model-id "$model" --engine-type vllm --port "$port" -o json | jq -r .id)
fail=0
check() { if eval "$2"; then echo "PASS $1"; else echo "FAIL $1"; fail=1; fi; }
no_services() { [[ -z "$(docker service ls -q --filter label=aima.managed=true)" ]]; }
free_on_n2() { nsenter --net="/var/run/netns/$ns" python3 -c "import socket; socket.socket().bind(('0.0.0.0', $port))" 2>/dev/null; }

"$aima" service start "$svc" --wait --timeout 60 --node aima-n2 >"$work/start.out" 2>&1 || true
check "1 runs on aima-n2" "grep -q 'running on Swarm node aima-n2' $work/start.out"
check "1 answers on aima-n2's address" "curl -fs -m 3 http://$node_ip:$port/health >/dev/null"
"$aima" service stop "$svc" >/dev/null
check "1 port free on aima-n2 right after stop" free_on_n2
check "1 no service left" no_services

nsenter --net="/var/run/netns/$ns" python3 -c "
import socket, time
s = socket.socket(); s.bind(('0.0.0.0', $port)); s.listen(); print('ready', flush=True); time.sleep(60)" >"$work/holder.out" &
holder=$!
for _ in $(seq 1 50); do grep -q ready "$work/holder.out" && break; sleep 0.1; done
rc=0; "$aima" service start "$svc" --wait --timeout 60 --node aima-n2 >"$work/blocked.out" 2>&1 || rc=$?
kill "$holder"
check "2 exit 5 (port in use)" "[[ $rc == 5 ]]"
check "2 names port and node" "grep -q 'port $port is in use on Swarm node aima-n2' $work/blocked.out"
check "2 no service left" no_services

docker tag "$image" aima-engine-sim:manager-only
rc=0; AIMA_VLLM_IMAGE=aima-engine-sim:manager-only "$aima" service start "$svc" --wait --timeout 60 \
  --node aima-n2 >"$work/image.out" 2>&1 || rc=$?
check "3 image missing on aima-n2" "grep -q 'not present on node aima-n2' $work/image.out"
check "3 no service left" no_services

rc=0; "$aima" service start "$svc" --wait --timeout 60 --node nosuch >"$work/node.out" 2>&1 || rc=$?
check "4 unknown node refused naming the nodes" "grep -q 'no node named nosuch (its nodes: ' $work/node.out"
check "4 no service left" no_services
exit "$fail"
