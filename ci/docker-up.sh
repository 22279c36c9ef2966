#!/usr/bin/env bash
# Makes sure a Docker daemon answers: uses a running one, else installs Debian's docker.io (when
# missing) and starts dockerd, then waits for its socket. Idempotent; safe to run repeatedly.
set -euo pipefail

answers() { timeout 10 docker info >/dev/null 2>&1; }

if command -v docker >/dev/null && answers; then
  echo "docker-up: a Docker daemon answers"
  exit 0
fi

if ! command -v dockerd >/dev/null; then
  echo "docker-up: installing docker.io with apt"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  # Without systemd the package's own service start fails; dockerd is started below instead.
  apt-get install -y -qq docker.io >/dev/null || true
  command -v dockerd >/dev/null || { echo "docker-up: installing docker.io failed" >&2; exit 1; }
fi

# Nested machines often lack a usable overlay filesystem: prefer fuse-overlayfs, else vfs.
if [ ! -f /etc/docker/daemon.json ]; then
  mkdir -p /etc/docker
  driver=vfs
  if command -v fuse-overlayfs >/dev/null || apt-get install -y -qq fuse-overlayfs >/dev/null 2>&1; then
    driver=fuse-overlayfs
  fi
  printf '{"storage-driver": "%s"}\n' "$driver" >/etc/docker/daemon.json
fi

if ! pgrep -x dockerd >/dev/null; then
  echo "docker-up: starting dockerd (log: /tmp/dockerd.log)"
  nohup dockerd >/tmp/dockerd.log 2>&1 &
fi

for _ in $(seq 1 60); do
  if answers; then
    echo "docker-up: Docker answers ($(docker version --format '{{.Server.Version}}'))"
    exit 0
  fi
  sleep 1
done
echo "docker-up: Docker did not answer within 60 s; last lines of /tmp/dockerd.log:" >&2
tail -n 20 /tmp/dockerd.log >&2 || true
exit 1
