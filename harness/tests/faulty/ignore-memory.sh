#!/bin/sh
# Faulty aima (test fixture): `service create` drops `--memory` and its value, as an aima that
# ignored the flag would: the engine runs under the default limit instead.
# Needs AIMA_REAL_BIN.
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
    if [ "$arg" = --memory ]; then
        skip=1
        continue
    fi
    set -- "$@" "$arg"
done
exec "$real" "$@"
