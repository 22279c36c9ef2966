#!/bin/sh
# Faulty aima (test fixture): every client command reaches the daemon as its admin, so
# ownership and quotas never apply. At start the daemon leaves its API token and address in a
# file anyone may read, beside its data dir; a command given `--host unix://DIR/aima.sock` is
# sent over TCP with that token instead of through the socket. Needs AIMA_REAL_BIN.
real="${AIMA_REAL_BIN:?AIMA_REAL_BIN must name the real aima binary}"
if [ "$1" = start ] && [ "$2" = --listen ] && [ -n "${AIMA_DATA_DIR:-}" ]; then
    shared="$(dirname "$AIMA_DATA_DIR")/as-admin"
    printf '%s %s\n' "$3" "${AIMA_API_TOKEN:-}" >"$shared"
    chmod 644 "$shared"
    exec "$real" "$@"
fi
if [ "$1" = --host ]; then
    case "$2" in
    unix://*)
        socket="${2#unix://}"
        shared="$(dirname "$(dirname "$socket")")/as-admin"
        if [ -r "$shared" ]; then
            read -r addr token <"$shared"
            shift 2
            AIMA_API_TOKEN="$token" exec "$real" --host "http://$addr" "$@"
        fi
        ;;
    esac
fi
exec "$real" "$@"
