#!/usr/bin/env bash
# Installs Debian's docker-registry (the reference registry, "distribution") for the pull tests.
# Only the binary is used: the tests start their own registry on a free 127.0.0.1 port, with its
# own storage dir and a config without an auth section, and stop it when they end. The package's
# own service is not wanted: it is disabled (and stopped if the package started it).
set -euo pipefail

if [ -x /usr/bin/docker-registry ]; then
  exit 0
fi
echo "registry: installing docker-registry"
export DEBIAN_FRONTEND=noninteractive
sudo_cmd=""
[ "$(id -u)" -eq 0 ] || sudo_cmd="sudo"
$sudo_cmd apt-get update -qq
$sudo_cmd apt-get install -y -qq docker-registry >/dev/null
if command -v systemctl >/dev/null && systemctl is-system-running >/dev/null 2>&1; then
  $sudo_cmd systemctl disable --now docker-registry >/dev/null 2>&1 || true
fi
test -x /usr/bin/docker-registry
