#!/usr/bin/env bash
# The whole test suite, as CI and developers run it on a fresh machine:
#   1. a Docker daemon (integration tests and the harness use real containers), and Debian's
#      docker-registry for the image pull tests;
#   2. every unit, CLI, Docker and harness test through cargo-nextest;
#   3. the conformance harness on scenario 20 as a gate, three runs (exit 0 only when every
#      criterion passes in every run).
set -euo pipefail
cd "$(dirname "$0")/.."

bash ci/docker-up.sh
# The pull tests run a real registry: Debian's docker-registry.
bash ci/registry.sh

if ! command -v cargo-nextest >/dev/null; then
  echo "test: installing cargo-nextest"
  cargo install cargo-nextest --locked
fi
command -v python3 >/dev/null || { apt-get update -qq && apt-get install -y -qq python3 >/dev/null; }

cargo build --workspace --all-targets
cargo nextest run --workspace --no-fail-fast

# The scenario uses port 8000; on a machine where something else holds it, use a free port.
port=8000
if ! python3 -c 'import socket,sys; s=socket.socket(); s.bind(("0.0.0.0", 8000))' 2>/dev/null; then
  port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
  echo "test: port 8000 is busy here; running scenario 20 on port $port"
fi
# Three full runs, so the figures (fast-fail time, wall time) come with a median.
cargo run -q -p harness -- scenario 20 --port "$port" --repeat 3
