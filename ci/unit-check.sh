#!/usr/bin/env bash
# Checks the shipped systemd unit, aima/systemd/aima.service, without systemd as PID 1:
#   1. `systemd-analyze security --offline=true` rates its sandbox at most 4.0 ("OK");
#   2. `systemd-analyze verify` finds nothing wrong with it. Verify also insists that ExecStart's
#      binary exists; on a build machine /usr/bin/aima does not, so a copy of the unit whose
#      ExecStart names this checkout's build is verified instead (nothing else is changed; the
#      installed unit is verified as it is by ci/package-test.sh).
# Needs systemd-analyze 252 or newer (Debian 12): `apt-get install systemd` provides it.
set -euo pipefail
cd "$(dirname "$0")/.."

unit=aima/systemd/aima.service
max_exposure=4.0

if ! command -v systemd-analyze >/dev/null; then
  echo "unit-check: systemd-analyze is missing; install the systemd package" >&2
  exit 1
fi

report=$(systemd-analyze security --offline=true "$unit" 2>&1) || true
exposure=$(sed -n 's/.*Overall exposure level for aima.service: \([0-9.]*\).*/\1/p' <<<"$report")
if [[ -z "$exposure" ]]; then
  echo "unit-check: systemd-analyze security gave no exposure level for $unit:" >&2
  echo "$report" >&2
  exit 1
fi
echo "unit-check: systemd-analyze security rates $unit at $exposure (at most $max_exposure)"
if ! awk -v e="$exposure" -v max="$max_exposure" 'BEGIN { exit !(e <= max) }'; then
  echo "$report" | grep '✗' >&2
  echo "unit-check: exposure $exposure is above $max_exposure; the ✗ lines above are what is open" >&2
  exit 1
fi

binary=""
for candidate in target/release/aima target/debug/aima; do
  [[ -x "$candidate" ]] && { binary="$PWD/$candidate"; break; }
done
if [[ -z "$binary" ]]; then
  echo "unit-check: no built aima (target/release/aima or target/debug/aima); run cargo build -p aima" >&2
  exit 1
fi
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
sed "s|^ExecStart=/usr/bin/aima |ExecStart=$binary |" "$unit" >"$work/aima.service"
if ! grep -q "^ExecStart=$binary " "$work/aima.service"; then
  echo "unit-check: $unit has no 'ExecStart=/usr/bin/aima …' line to check" >&2
  exit 1
fi
# --man=no: the Documentation= man page is installed by the package, not on a build machine.
if ! out=$(systemd-analyze verify --man=no "$work/aima.service" 2>&1) || [[ -n "$out" ]]; then
  echo "unit-check: systemd-analyze verify $unit failed:" >&2
  echo "$out" >&2
  exit 1
fi
echo "unit-check: systemd-analyze verify $unit: clean"
