#!/bin/sh
# Faulty aima (test fixture): after a failed `service start` it leaves a container labelled
# aima.engine behind, as an aima without failure cleanup would. The container also carries
# aima-harness.run (so parallel harness runs can tell whose it is) and aima-harness.fault (so
# the test that made it removes it). Needs AIMA_REAL_BIN (the real aima) and AIMA_VLLM_IMAGE.
real="${AIMA_REAL_BIN:?AIMA_REAL_BIN must name the real aima binary}"
if [ "$1" != service ] || [ "$2" != start ]; then
    exec "$real" "$@"
fi
"$real" "$@"
code=$?
if [ "$code" -ne 0 ]; then
    docker create \
        --label aima.engine=vllm \
        --label "aima-harness.run=${AIMA_HARNESS_RUN_ID:-unknown}" \
        --label "aima-harness.fault=${HARNESS_FAULT_LABEL:-leaky}" \
        "${AIMA_VLLM_IMAGE:?}" >/dev/null 2>&1
fi
exit "$code"
