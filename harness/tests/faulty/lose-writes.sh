#!/bin/sh
# Faulty aima (test fixture): a daemon that loses acknowledged writes when it is killed. Each
# `aima start` after the first puts the state database back as the first one found it (none at
# all in a fresh data dir), as a daemon that acknowledged writes it never made durable would
# after SIGKILL: every model and service created since is gone. Needs AIMA_REAL_BIN and
# AIMA_DATA_DIR.
real="${AIMA_REAL_BIN:?AIMA_REAL_BIN must name the real aima binary}"
if [ "$1" = start ]; then
    db="${AIMA_DATA_DIR:?}/aima.db"
    kept="$AIMA_DATA_DIR/faulty-kept.db"
    if [ -e "$kept.none" ]; then
        rm -f "$db" "$db-wal" "$db-shm"
    elif [ -e "$kept" ]; then
        rm -f "$db-wal" "$db-shm"
        cp "$kept" "$db"
    elif [ -e "$db" ]; then
        cp "$db" "$kept"
    else
        : > "$kept.none"
    fi
fi
exec "$real" "$@"
