#!/usr/bin/env bash
# The real-engine tier's inputs, prepared (and cached) on this machine:
#   - the llama.cpp server image (`ci/llama-image.sh`: built once per source hash, then reused);
#   - a Python virtual environment with PyPI's `gguf`, `numpy` and `openai` packages;
#   - the tiny random-weight GGUF written by `ci/tiny_gguf.py` (no weights are downloaded).
# Exports HARNESS_LLAMA_IMAGE, HARNESS_TINY_GGUF and HARNESS_OPENAI_PYTHON. Sourced (as
# ci/test.sh does before `harness scenario all`) it only prepares; run directly, it then runs
# scenario 2 with any extra arguments (`bash ci/real-engine.sh --port 18080`).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

cache="${AIMA_CI_CACHE:-$HOME/.cache/aima-ci}"
venv="$cache/venv"
mkdir -p "$cache"

if [[ ! -x $venv/bin/python ]]; then
  if ! python3 -m venv "$venv" 2>/dev/null; then
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3-venv >/dev/null
    python3 -m venv "$venv"
  fi
fi
if ! "$venv/bin/python" -c 'import gguf, numpy, openai' 2>/dev/null; then
  "$venv/bin/pip" install -q 'gguf>=0.17' numpy 'openai>=1.40'
fi

gguf="$cache/tiny-random-llama.gguf"
if [[ ! -s $gguf || ci/tiny_gguf.py -nt $gguf ]]; then
  "$venv/bin/python" ci/tiny_gguf.py "$gguf"
fi

HARNESS_LLAMA_IMAGE=$(bash ci/llama-image.sh | tail -n 1)
export HARNESS_LLAMA_IMAGE
export HARNESS_TINY_GGUF="$gguf"
export HARNESS_OPENAI_PYTHON="$venv/bin/python"
echo "real-engine: image $HARNESS_LLAMA_IMAGE, model $HARNESS_TINY_GGUF" >&2

if [[ "${BASH_SOURCE[0]}" == "$0" ]]; then
  exec cargo run -q -p harness -- scenario 2 "$@"
fi
