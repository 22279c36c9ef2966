#!/usr/bin/env bash
# A headless browser for the status page's browser test: Debian's `chromium` package, installed
# when no chromium is on PATH. The test itself fails under CI=true when none can be found.
set -euo pipefail

if command -v chromium >/dev/null; then
  exit 0
fi
if [ "$(id -u)" != 0 ]; then
  echo "browser-up: chromium is missing and this is not root; install Debian's chromium package" >&2
  exit 1
fi
echo "browser-up: installing chromium"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends chromium fonts-dejavu-core >/dev/null
chromium --version
