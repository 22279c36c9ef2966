#!/bin/sh
# Faulty aima (test fixture): `service create` drops `--restart` and its value, as an aima whose
# services ignored restart policies would: every service gets the default policy `no`, so the
# daemon never restarts anything. Needs AIMA_REAL_BIN.
real="${AIMA_REAL_BIN:?AIMA_REAL_BIN must name the real aima binary}"
if [ "$1" != service ] || [ "$2" != create ]; then
    exec "$real" "$@"
fi
first=1
for arg in "$@"; do
    if [ "$first" = 1 ]; then
        set --
        first=0
    fi
    if [ "$skip" = 1 ]; then
        skip=0
        continue
    fi
    if [ "$arg" = --restart ]; then
        skip=1
        continue
    fi
    set -- "$@" "$arg"
done
exec "$real" "$@"
