#!/bin/sh
# Faulty aima (test fixture): the error of `service start` never names the port (every
# occurrence of $AIMA_VLLM_PORT is replaced), as a vague "address in use" message would be.
# Needs AIMA_REAL_BIN and AIMA_VLLM_PORT.
real="${AIMA_REAL_BIN:?AIMA_REAL_BIN must name the real aima binary}"
if [ "$1" != service ] || [ "$2" != start ]; then
    exec "$real" "$@"
fi
port="${AIMA_VLLM_PORT:?}"
dir=$(mktemp -d)
"$real" "$@" >"$dir/out" 2>"$dir/err"
code=$?
sed "s/\b$port\b/<port>/g" "$dir/out"
sed "s/\b$port\b/<port>/g" "$dir/err" >&2
rm -rf "$dir"
exit "$code"
