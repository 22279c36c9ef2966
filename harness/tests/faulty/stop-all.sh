#!/bin/sh
# Faulty aima (test fixture): `service stop ID` stops every service of the data dir, as an aima
# that selected containers by engine instead of by service would. Needs AIMA_REAL_BIN.
real="${AIMA_REAL_BIN:?AIMA_REAL_BIN must name the real aima binary}"
if [ "$1" != service ] || [ "$2" != stop ]; then
    exec "$real" "$@"
fi
for id in $("$real" service list --output json | grep -o 'svc-[0-9a-f]\{8\}' | sort -u); do
    "$real" service stop "$id" >/dev/null 2>&1
done
exec "$real" "$@"
