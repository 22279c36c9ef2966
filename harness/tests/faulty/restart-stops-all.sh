#!/bin/sh
# Faulty aima (test fixture): each time the daemon starts it first stops every service of the
# data dir, as a daemon that killed the engines it found instead of adopting them would.
# Needs AIMA_REAL_BIN.
real="${AIMA_REAL_BIN:?AIMA_REAL_BIN must name the real aima binary}"
if [ "$1" = start ]; then
    for id in $("$real" service list --output json | grep -o 'svc-[0-9a-f]\{8\}' | sort -u); do
        "$real" service stop "$id" >/dev/null 2>&1
    done
fi
exec "$real" "$@"
