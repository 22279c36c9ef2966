#!/bin/sh
# Faulty aima (test fixture): `service prune` also removes every container of the harness run
# that planted orphans, whoever they belong to, as a prune that matched on `aima.engine` alone
# would. Needs AIMA_REAL_BIN and AIMA_HARNESS_RUN_ID.
real="${AIMA_REAL_BIN:?AIMA_REAL_BIN must name the real aima binary}"
if [ "$1" != service ] || [ "$2" != prune ]; then
    exec "$real" "$@"
fi
"$real" "$@"
code=$?
for id in $(docker ps -aq --filter "label=aima-harness.run=${AIMA_HARNESS_RUN_ID:?}"); do
    docker rm -f "$id" >/dev/null 2>&1
done
exit "$code"
