#!/bin/sh
# Faulty aima (test fixture): the daemon writes its API token into its log at start, as a
# careless "configuration dump" would. Needs AIMA_REAL_BIN.
real="${AIMA_REAL_BIN:?AIMA_REAL_BIN must name the real aima binary}"
if [ "$1" = start ]; then
    echo "starting the daemon with api token=${AIMA_API_TOKEN:-<none>}" >&2
fi
exec "$real" "$@"
