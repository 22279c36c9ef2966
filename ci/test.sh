#!/usr/bin/env bash
# The whole test suite, as CI and developers run it on a fresh machine:
#   1. a Docker daemon (integration tests and the harness use real containers), headless
#      Chromium (the status page's browser test) and Debian's docker-registry (the image pull
#      tests);
#   2. every unit, CLI, Docker and harness test through cargo-nextest;
#   2b. the package: the systemd unit checked (ci/unit-check.sh), the .deb built (ci/package.sh)
#       and tested as a user would, in a clean Debian container (ci/package-test.sh);
#   3. the conformance harness on every scenario of scenarios/manifest.txt as a gate, three
#      runs each (exit 0 only when every criterion of every scenario passes in every run; a
#      scenario missing, refused or crashed fails the gate): the `simulator` tier, then the
#      `real-engine` tier (a real llama.cpp server, prepared by ci/real-engine.sh);
#   4. `harness chaos --seconds 90 --seed 1` as a gate (no invariant may break);
#   5. scenario 20 on the Swarm runtime (a single-node swarm that ci/swarm.sh makes and leaves);
#   6. `harness bench --quick` as a smoke test of the bench (its figures are read, never asserted).
set -euo pipefail
cd "$(dirname "$0")/.."

bash ci/docker-up.sh
bash ci/browser-up.sh
# The pull tests run a real registry: Debian's docker-registry.
bash ci/registry.sh

if ! command -v cargo-nextest >/dev/null; then
  echo "test: installing cargo-nextest"
  cargo install cargo-nextest --locked
fi
command -v python3 >/dev/null || { apt-get update -qq && apt-get install -y -qq python3 >/dev/null; }

cargo build --workspace --all-targets
cargo nextest run --workspace --no-fail-fast

# The Debian package: the unit's sandbox rating and verify, the release build and the .deb, then
# install/run/remove/purge in a clean Debian container (the base image is cached).
bash ci/unit-check.sh
bash ci/package.sh
bash ci/package-test.sh

# Scenario 20 contends for port 8000 by default (the others pick free ports); on a machine where
# something else holds it, every scenario runs on one free port instead.
port_args=()
if ! python3 -c 'import socket,sys; s=socket.socket(); s.bind(("0.0.0.0", 8000))' 2>/dev/null; then
  port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
  echo "test: port 8000 is busy here; running the scenarios on port $port"
  port_args=(--port "$port")
fi
# Three full runs of each scenario of the manifest's `simulator` tier, so every figure comes with
# a median; one combined report.
cargo run -q -p harness -- scenario all --quiet --repeat 3 "${port_args[@]}"

# The `real-engine` tier (scenario 2: a real llama.cpp server), three runs as well. Sourcing
# ci/real-engine.sh prepares its inputs: the llama.cpp image (built only when this machine does
# not hold the tag of its pinned source; the first build compiles llama-server, about ten minutes
# on two idle cores), the Python venv with `gguf` and `openai`, and the tiny GGUF, all cached
# under ~/.cache/aima-ci.
# shellcheck source=ci/real-engine.sh
source ci/real-engine.sh
cargo run -q -p harness -- scenario all --tier real-engine --quiet --repeat 3 "${port_args[@]}"

# harness chaos as a gate: 90 s of concurrent operations and random faults against one daemon,
# seed 1, every invariant checked all the time (docs/harness.md#chaos); exit 0 only without a
# violation.
cargo run -q -p harness -- chaos --seconds 90 --seed 1 --quiet --shrink-secs 120

# Scenario 20 once more on the Swarm runtime, on a single-node swarm on loopback that
# ci/swarm.sh turns on for it (and leaves again only if it turned it on), on a free port.
swarm_port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
bash ci/swarm.sh run cargo run -q -p harness -- scenario 20 --runtime swarm --quiet --port "$swarm_port"

# The bench's smoke run, on the debug build CI already has (the figures in docs/bench.md come from
# the release build: `cargo run -p harness -- bench`).
cargo run -q -p harness -- bench --quick --debug
