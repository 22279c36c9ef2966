#!/bin/sh
# Faulty aima (test fixture): `service list` and `service get` with `-o json` show a service
# whose start was interrupted (its starter died) as still "starting", like an aima that never
# resolves a start whose process is gone. Needs AIMA_REAL_BIN and jq.
real="${AIMA_REAL_BIN:?AIMA_REAL_BIN must name the real aima binary}"
if [ "$1" != service ] || { [ "$2" != list ] && [ "$2" != get ]; }; then
    exec "$real" "$@"
fi
case " $* " in
*" -o json "* | *" --output json "*) ;;
*) exec "$real" "$@" ;;
esac
out=$("$real" "$@")
code=$?
if [ "$code" -ne 0 ]; then
    printf '%s\n' "$out"
    exit "$code"
fi
printf '%s\n' "$out" | jq '
    def stuck: if .status == "failed" and ((.last_error // "") | startswith("start interrupted"))
               then .status = "starting" else . end;
    if has("items") then .items |= map(stuck) else stuck end'
exit "$code"
