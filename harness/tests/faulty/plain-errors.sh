#!/bin/sh
# Faulty aima (test fixture): the daemon runs behind a small proxy that turns every error
# answer (status 400 and above) into plain text, as a server with default error pages would.
# Needs AIMA_REAL_BIN and python3.
real="${AIMA_REAL_BIN:?AIMA_REAL_BIN must name the real aima binary}"
if [ "$1" != start ] || [ "$2" != --listen ]; then
    exec "$real" "$@"
fi
front="$3"
back_port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
"$real" start --listen "127.0.0.1:$back_port" &
back=$!
python3 "$(dirname "$0")/plain_errors_proxy.py" "$front" "127.0.0.1:$back_port" &
proxy=$!
trap 'kill -TERM $back $proxy 2>/dev/null; wait $back; exit 0' TERM INT
wait $back
kill $proxy 2>/dev/null
