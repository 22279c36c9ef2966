#!/usr/bin/env bash
# Tests the Debian package as a user would, in a clean Debian 12 container made without any
# registry: installs target/debian/aima_*.deb (ci/package.sh builds it), runs `aima --version`
# and `aima info`, runs the daemon as user aima on /var/lib/aima (the unit's ExecStart line by
# hand: no systemd runs in the container), starts and stops an engine through the daemon's
# socket as a member of group aima (and is refused as someone outside it), then removes,
# purges (keeping the data), reinstalls (adopting it) and purges with AIMA_PURGE_DATA=yes,
# checking what is left after each.
#
# The base image aima-test-debian:bookworm is made once by debootstrap on this host (minbase
# and curl, from the host's Debian mirror; installed when missing) and kept, with its rootfs
# tarball under ~/.cache/aima-ci. The container shares the host's network (engines publish on
# its loopback) and Docker socket. The container, and every engine container and volume of its
# data dir, are removed whatever way this script exits.
set -euo pipefail
cd "$(dirname "$0")/.."

image=aima-test-debian:bookworm
label=aima.ci=package-test
cache=${AIMA_CI_CACHE:-$HOME/.cache/aima-ci}
# The host's own Debian mirror (its apt sources name it), unless AIMA_CI_DEBIAN_MIRROR says.
host_mirror() {
  cat /etc/apt/sources.list.d/*.sources 2>/dev/null | awk '$1 == "URIs:" && $2 ~ /\/debian$/ { print $2; exit }'
  grep -hE '^deb .*/debian ' /etc/apt/sources.list /etc/apt/sources.list.d/*.list 2>/dev/null | awk '{ print $2; exit }'
  true
}
mirror=${AIMA_CI_DEBIAN_MIRROR:-$(host_mirror | head -1)}
socket=/var/run/docker.sock

deb=$(ls -t target/debian/aima_*_amd64.deb 2>/dev/null | head -1 || true)
[[ -n "$deb" ]] || { echo "package-test: no target/debian/aima_*_amd64.deb; run bash ci/package.sh first" >&2; exit 1; }
docker info >/dev/null 2>&1 || { echo "package-test: Docker does not answer; run bash ci/docker-up.sh" >&2; exit 1; }

step() { echo "package-test: $*"; }
t0=$(date +%s)

# --- the base image -------------------------------------------------------------------------
if ! docker image inspect "$image" >/dev/null 2>&1; then
  rootfs_tar=$cache/debian-bookworm-rootfs.tar
  if [[ ! -s "$rootfs_tar" ]]; then
    command -v debootstrap >/dev/null || { apt-get update -qq && apt-get install -y -qq debootstrap >/dev/null; }
    mkdir -p "$cache"
    rootfs=$(mktemp -d "$cache/rootfs.XXXXXX")
    [[ -n "$mirror" ]] || { echo "package-test: no Debian mirror in this host's apt sources; set AIMA_CI_DEBIAN_MIRROR" >&2; exit 1; }
    step "debootstrap bookworm (minbase + curl) from $mirror into $rootfs"
    debootstrap --variant=minbase --include=curl bookworm "$rootfs" "$mirror" >"$cache/debootstrap.log" 2>&1 ||
      { tail -20 "$cache/debootstrap.log" >&2; rm -rf "$rootfs"; exit 1; }
    rm -rf "$rootfs"/var/cache/apt/archives/*.deb
    tar -C "$rootfs" -c . >"$rootfs_tar.tmp" && mv "$rootfs_tar.tmp" "$rootfs_tar"
    rm -rf "$rootfs"
  fi
  step "importing $rootfs_tar as $image"
  docker import --change "LABEL $label" --change 'CMD ["/bin/bash"]' "$rootfs_tar" "$image" >/dev/null
fi
step "base image ready after $(($(date +%s) - t0)) s"

# --- the engine: the simulator image the test suite builds -----------------------------------
engine_image=$(cargo run -q -p aima-engine-sim -- image)
step "engine image $engine_image"

# --- the container, removed whatever way this exits ------------------------------------------
name=aima-pkgtest-$$
instance=""
cleanup() {
  local rc=$?
  if [[ -n "$instance" ]]; then
    docker ps -aq --filter "label=aima.instance=$instance" | xargs -r docker rm -f >/dev/null 2>&1 || true
    docker volume ls -q --filter "label=aima.instance=$instance" | xargs -r docker volume rm >/dev/null 2>&1 || true
  fi
  docker rm -f "$name" >/dev/null 2>&1 || true
  if [[ $rc -ne 0 ]]; then echo "package-test: FAILED (exit $rc)" >&2; fi
  exit $rc
}
trap cleanup EXIT
trap 'exit 130' INT TERM

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
api_port=$(free_port)
engine_port=$(free_port)
docker_gid=$(stat -c %g "$socket")

docker run -d --name "$name" --label "$label" --network host \
  -v "$socket:/var/run/docker.sock" -v "$PWD/$deb:/tmp/aima.deb:ro" "$image" sleep infinity >/dev/null
inside() { docker exec -i "$name" bash -eu -o pipefail -c "$1"; }
fail() { echo "package-test: $*" >&2; exit 1; }

# --- install --------------------------------------------------------------------------------
step "installing $(basename "$deb")"
inside 'apt-get install -y -q /tmp/aima.deb >/tmp/install.log 2>&1 || { cat /tmp/install.log; exit 1; }'
inside 'aima --version'
inside '[[ "$(stat -c "%U %G %a" /var/lib/aima)" == "aima aima 750" ]] || { stat /var/lib/aima; exit 1; }'
inside 'getent passwd aima | grep -q ":/var/lib/aima:/usr/sbin/nologin$"'
for f in /usr/bin/aima /lib/systemd/system/aima.service /usr/share/bash-completion/completions/aima \
  /usr/share/zsh/vendor-completions/_aima /usr/share/fish/vendor_completions.d/aima.fish \
  /usr/share/man/man1/aima.1.gz /usr/share/man/man1/aima-service-start.1.gz; do
  inside "test -s $f" || fail "$f is not installed"
done
inside 'grep -q "^ExecStart=/usr/bin/aima start$" /lib/systemd/system/aima.service'

# The daemon's account as the unit makes it: user aima, group aima, supplementary group docker
# (here: the group of the host's Docker socket).
inside "getent group $docker_gid >/dev/null || groupadd -g $docker_gid docker-host"
as_aima="setpriv --reuid=aima --regid=aima --groups=$docker_gid --inh-caps=-all env -i \
  PATH=/usr/bin:/bin HOME=/var/lib/aima AIMA_DATA_DIR=/var/lib/aima AIMA_LISTEN=127.0.0.1:$api_port \
  AIMA_VLLM_IMAGE=$engine_image AIMA_VLLM_GPU=false"
inside "$as_aima aima info" >/dev/null
instance=$(inside 'cat /var/lib/aima/instance-id')
step "aima info ran as user aima; data dir instance $instance"

# --- the daemon, as the unit's ExecStart ------------------------------------------------------
step "starting the daemon as user aima on 127.0.0.1:$api_port"
docker exec -d "$name" bash -c "echo \$\$ >/run/aima.pid; exec $as_aima /usr/bin/aima start >/tmp/daemon.log 2>&1"
inside 'for _ in $(seq 100); do [[ -S /var/lib/aima/aima.sock ]] && exit 0; sleep 0.1; done; cat /tmp/daemon.log; exit 1'
inside '[[ "$(stat -c "%U %G %a" /var/lib/aima/aima.sock)" == "aima aima 660" ]]'

# A person in group aima, and one outside it.
inside 'useradd -m -G aima alice && useradd -m bob'
api() { # USER METHOD PATH [BODY]
  inside "runuser -u $1 -- curl -sS --fail-with-body --max-time 180 --unix-socket /var/lib/aima/aima.sock \
    -X $2 -H 'content-type: application/json' ${4:+--data '$4'} http://aima/api/v2$3"
}
json() { python3 -c "import json,sys; print(json.load(sys.stdin)$1)"; }
if inside 'runuser -u bob -- curl -sS --unix-socket /var/lib/aima/aima.sock http://aima/api/v2/services' 2>/dev/null; then
  fail "bob, outside group aima, reached the daemon's socket"
fi
step "bob (not in group aima) is refused the socket"

model=$(api alice POST /models '{"name":"tiny","source":"huggingface","repo":"sim/tiny"}' | json '["id"]')
service=$(api alice POST /services "{\"model_id\":\"$model\",\"engine_type\":\"vllm\",\"port\":$engine_port,\"name\":\"pkg-test\"}" | json '["id"]')
began=$(date +%s.%N)
status=$(api alice POST "/services/$service/start" '{"wait":true,"timeout":120}' | json '["status"]')
[[ "$status" == running ]] || fail "start through the socket ended $status"
step "alice started $service through the socket: running after $(python3 -c "print(round($(date +%s.%N) - $began, 2))") s"
docker ps --filter "label=aima.service=$service" --filter "label=aima.instance=$instance" --format '{{.Names}}' | grep -q . ||
  fail "no engine container labelled for $service"
status=$(api alice POST "/services/$service/stop" '{}' | json '["status"]')
[[ "$status" == stopped ]] || fail "stop through the socket ended $status"
[[ -z "$(docker ps -aq --filter "label=aima.service=$service")" ]] || fail "the engine container outlived its stop"
step "alice stopped it: no container left"

inside 'kill -TERM "$(cat /run/aima.pid)"; for _ in $(seq 100); do kill -0 "$(cat /run/aima.pid)" 2>/dev/null || exit 0; sleep 0.1; done; echo "daemon still running"; exit 1'
inside "$as_aima aima cache rm vllm" >/dev/null || true
step "daemon stopped by SIGTERM; engine cache removed"

# --- remove, purge keeping the data, reinstall, purge with the data ---------------------------
inside 'apt-get remove -y -q aima >/tmp/remove.log 2>&1 || { cat /tmp/remove.log; exit 1; }'
inside '! test -e /usr/bin/aima && ! test -e /lib/systemd/system/aima.service'
inside 'test -s /var/lib/aima/aima.db && getent passwd aima >/dev/null'
step "remove: binary and unit gone; data dir and user kept"

inside 'apt-get purge -y -q aima >/tmp/purge.log 2>&1 || { cat /tmp/purge.log; exit 1; }'
inside '! getent passwd aima && ! getent group aima && test -s /var/lib/aima/aima.db'
step "purge: user and group gone; data kept (not asked to remove it)"

inside 'apt-get install -y -q /tmp/aima.deb >/tmp/install.log 2>&1 || { cat /tmp/install.log; exit 1; }'
inside '[[ "$(stat -c "%U %G" /var/lib/aima /var/lib/aima/aima.db | sort -u)" == "aima aima" ]]'
models=$(inside "$as_aima aima model list -o json" | json '["items"][0]["name"]')
[[ "$models" == tiny ]] || fail "the reinstalled package lost the model: $models"
step "reinstall: the kept data dir is adopted by the new user aima (model $models still there)"

inside 'AIMA_PURGE_DATA=yes apt-get purge -y -q aima >/tmp/purge.log 2>&1 || { cat /tmp/purge.log; exit 1; }'
left=$(inside 'ls -d /var/lib/aima /etc/aima /usr/bin/aima /lib/systemd/system/aima.service /usr/share/man/man1/aima.1.gz \
  /usr/share/bash-completion/completions/aima /usr/share/doc/aima 2>/dev/null || true')
[[ -z "$left" ]] || fail "purge with AIMA_PURGE_DATA=yes left: $left"
inside '! getent passwd aima && ! getent group aima && ! dpkg -s aima >/dev/null 2>&1'
step "purge with AIMA_PURGE_DATA=yes: nothing of aima left"
step "passed in $(($(date +%s) - t0)) s"
