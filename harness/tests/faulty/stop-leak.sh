#!/bin/sh
# Faulty aima (test fixture): after each successful `service stop` a container labelled
# aima.engine is left behind, as an aima whose stop forgot a container would. The container
# also carries aima-harness.run and aima-harness.fault (so its test removes it). Needs
# AIMA_REAL_BIN and AIMA_VLLM_IMAGE.
real="${AIMA_REAL_BIN:?AIMA_REAL_BIN must name the real aima binary}"
if [ "$1" != service ] || [ "$2" != stop ]; then
    exec "$real" "$@"
fi
"$real" "$@"
code=$?
if [ "$code" -eq 0 ]; then
    docker create \
        --label aima.engine=vllm \
        --label "aima-harness.run=${AIMA_HARNESS_RUN_ID:-unknown}" \
        --label "aima-harness.fault=${HARNESS_FAULT_LABEL:-stop-leak}" \
        "${AIMA_VLLM_IMAGE:?}" >/dev/null 2>&1
fi
exit "$code"
