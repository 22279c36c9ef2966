#!/bin/sh
# Faulty aima (test fixture): `service list` reports "creating" where aima says "failed",
# like a service stuck in a transitional state after a failed start. Needs AIMA_REAL_BIN.
real="${AIMA_REAL_BIN:?AIMA_REAL_BIN must name the real aima binary}"
if [ "$1" != service ] || [ "$2" != list ]; then
    exec "$real" "$@"
fi
out=$("$real" "$@")
code=$?
printf '%s\n' "$out" | sed 's/"status": *"failed"/"status":"creating"/g'
exit "$code"
