#!/bin/sh
# Faulty aima (test fixture): when `service start ID` times out (exit 8) a container labelled
# for the service is left behind, as an aima that forgot cleanup on timeout would. It also
# carries aima-harness.run and aima-harness.fault so its test removes it. Needs AIMA_REAL_BIN
# and AIMA_VLLM_IMAGE.
real="${AIMA_REAL_BIN:?AIMA_REAL_BIN must name the real aima binary}"
if [ "$1" != service ] || [ "$2" != start ]; then
    exec "$real" "$@"
fi
"$real" "$@"
code=$?
if [ "$code" -eq 8 ]; then
    docker create \
        --label aima.engine=vllm \
        --label "aima.service=$3" \
        --label "aima-harness.run=${AIMA_HARNESS_RUN_ID:-unknown}" \
        --label "aima-harness.fault=${HARNESS_FAULT_LABEL:-timeout-leak}" \
        "${AIMA_VLLM_IMAGE:?}" >/dev/null 2>&1
fi
exit "$code"
