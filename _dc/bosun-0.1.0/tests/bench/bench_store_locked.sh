#!/bin/bash
# bench_store_locked.sh [BUILD_DIR] — bosund's memory while its database is
# locked by another process under a flooding agent (see tests/bench/README).
#
# One agent, print_lines, writes BENCH_FLOOD_LINES (3,000,000) lines of 100
# bytes as fast as it can; one second after it starts, a Python sqlite3
# process takes BEGIN EXCLUSIVE on bosun.db for BENCH_LOCK (20) seconds.
# Every second the daemon's VmRSS is printed, then its VmHWM, and after the
# lock is gone the time until every line is stored and the count of stored
# lines (from the database, after the daemon stopped).
set -u
BUILD=$(cd "${1:-$(dirname "$0")/../..}" && pwd)
SRC=$(cd "$(dirname "$0")" && pwd)
LINES=${BENCH_FLOOD_LINES:-3000000}
LOCK=${BENCH_LOCK:-20}
T=$(mktemp -d "${TMPDIR:-/tmp}/bosun-bench-store.XXXXXX")
DPID=
LPID=
cleanup() {
    [ -n "$LPID" ] && kill "$LPID" 2>/dev/null && wait "$LPID" 2>/dev/null
    if [ -n "$DPID" ] && kill -0 "$DPID" 2>/dev/null; then
        kill -TERM "$DPID"
        for _ in $(seq 1 300); do kill -0 "$DPID" 2>/dev/null || break; sleep 0.1; done
        kill -KILL "$DPID" 2>/dev/null
    fi
    [ "${BENCH_KEEP:-0}" = 1 ] && echo "bench: kept $T" || rm -rf "$T"
}
trap cleanup EXIT
log() { echo "$*" >&2; }

P="$BUILD/tests/bench/print_lines"
if [ ! -x "$P" ] || [ "$SRC/print_lines.c" -nt "$P" ]; then
    cc -O2 -o "$T/print_lines" "$SRC/print_lines.c" || exit 1
    P="$T/print_lines"
fi
BOSUND="$BUILD/bosund"; BOSUNCTL="$BUILD/bosunctl"
mkdir -p "$T/state" "$T/run"
cat > "$T/bosun.yaml" <<EOF
daemon:
  machine_id: bench
  state_dir: $T/state
  runtime_dir: $T/run
  log_level: notice
  plugin_path: [$BUILD/plugins/sqlite, $BUILD/plugins/exec]
  plugins: [sqlite, exec]
agents:
  printer:
    command: [$P, "$LINES"]
    start_secs: 0
EOF
ctl() { "$BOSUNCTL" -s "$T/run/bosund.sock" "$@"; }
"$BOSUND" -c "$T/bosun.yaml" 2>"$T/bosund.log" &
DPID=$!
for _ in $(seq 1 100); do ctl status >/dev/null 2>&1 && break; sleep 0.1; done
field() { awk -v k="$1:" '$1 == k { print $2 }' "/proc/$DPID/status"; }
log "bench store-locked: $LINES lines of 100 bytes, database locked for $LOCK s; bosund VmRSS before: $(field VmRSS) kB"
run=$(ctl start printer) || exit 1
sleep 1
/usr/bin/python3 - "$T/state/bosun.db" "$LOCK" <<'PY' &
import sqlite3, sys, time
c = sqlite3.connect(sys.argv[1], isolation_level=None, timeout=30)
c.execute("BEGIN EXCLUSIVE")
time.sleep(float(sys.argv[2]))
c.execute("COMMIT")
PY
LPID=$!
t0=$EPOCHREALTIME
while kill -0 "$LPID" 2>/dev/null; do
    printf 'bench:   t=%5.1f s  VmRSS %8s kB\n' "$(awk -v a="$EPOCHREALTIME" -v b="$t0" 'BEGIN { print a - b }')" "$(field VmRSS)" >&2
    sleep 1
done
wait "$LPID"; LPID=
hwm_locked=$(field VmHWM)
t1=$EPOCHREALTIME
last=
for _ in $(seq 1 1200); do
    last=$(ctl request cmd.store.events "{\"subject\":\"evt.run.*.$run.output\",\"tail\":1}" --json 2>/dev/null |
        sed -n 's/.*"n":\([0-9]*\).*/\1/p')
    [ "$last" = "$LINES" ] && break
    sleep 0.5
done
drain=$(awk -v a="$EPOCHREALTIME" -v b="$t1" 'BEGIN { printf "%.1f", a - b }')
hwm=$(field VmHWM)
kill -TERM "$DPID"; wait "$DPID"; DPID=
stored=$(/usr/bin/python3 -c 'import sqlite3,sys; print(sqlite3.connect(sys.argv[1]).execute("SELECT count(*) FROM events WHERE subject LIKE ?", ("%." + sys.argv[2] + ".output",)).fetchone()[0])' "$T/state/bosun.db" "$run")
dropped=$(grep -c "dropping events" "$T/bosund.log")
echo "store locked ${LOCK} s under a flood: VmHWM while locked ${hwm_locked} kB, overall ${hwm} kB; all stored ${drain} s after the lock (last n ${last:-none}); stored ${stored} of ${LINES}; drop log lines ${dropped}; log lines $(wc -l < "$T/bosund.log")"
