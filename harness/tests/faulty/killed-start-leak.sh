#!/bin/sh
# Faulty aima (test fixture): when `service start ID` is killed before it ends (SIGKILL of its
# process group), an engine container of the service is left behind, as an aima whose container
# create lands after its starter died and that forgot to label it for its data dir would. A
# sidekick outside the process group watches the starter; the container carries aima.service,
# aima-harness.run and aima-harness.fault (so its test removes it), but no aima.instance, so no
# aima reaps it. Needs AIMA_REAL_BIN and AIMA_VLLM_IMAGE.
real="${AIMA_REAL_BIN:?AIMA_REAL_BIN must name the real aima binary}"
if [ "$1" != service ] || [ "$2" != start ]; then
    exec "$real" "$@"
fi
starter=$$
setsid sh -c '
    while kill -0 "$1" 2>/dev/null; do sleep 0.1; done
    if [ -e "$2" ]; then rm -f "$2"; exit 0; fi
    docker create \
        --label aima.engine=vllm \
        --label "aima.service=$3" \
        --label "aima-harness.run=${AIMA_HARNESS_RUN_ID:-unknown}" \
        --label "aima-harness.fault=${HARNESS_FAULT_LABEL:-killed-start-leak}" \
        "$AIMA_VLLM_IMAGE" >/dev/null 2>&1
' sidekick "$starter" "/tmp/killed-start-leak.$starter.done" "$3" </dev/null >/dev/null 2>&1 &
"$real" "$@"
code=$?
: > "/tmp/killed-start-leak.$starter.done"
exit "$code"
