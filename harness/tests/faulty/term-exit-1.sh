#!/bin/sh
# Faulty aima (test fixture): the daemon ends with exit code 1 after SIGTERM instead of 0, as a
# daemon that treats a requested shutdown as an error would. The harness signals the daemon's
# whole process group, so the real aima gets the signal too. Needs AIMA_REAL_BIN.
real="${AIMA_REAL_BIN:?AIMA_REAL_BIN must name the real aima binary}"
if [ "$1" != start ]; then
    exec "$real" "$@"
fi
"$real" "$@" &
pid=$!
trap 'wait $pid; exit 1' TERM
wait $pid
