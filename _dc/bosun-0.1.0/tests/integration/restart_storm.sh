#!/bin/sh
# The control socket during a restart storm (issue 18, item 2): while
# STORM_N crashers restart with no back-off, STORM_M `ps` and `status`
# calls all answer, each within a bound only a starved daemon misses, and
# list every crasher; the restarts go on meanwhile; and once the daemon has
# stopped, the store holds one "exited" event for every process started.
# Before restarts were paced (proc_pace.c) a ps in this storm got no
# answer at all: the bus queue it waited in grew faster than it drained.
. "$top_srcdir/tests/integration/lib.sh"
command -v jq >/dev/null 2>&1 || { echo "1..0 # SKIP jq is not installed"; exit 77; }
/usr/bin/python3 -c 'import sqlite3' 2>/dev/null ||
    { echo "1..0 # SKIP /usr/bin/python3 with sqlite3 is needed to count the stored events"; exit 77; }
N=${STORM_N:-100}
M=${STORM_M:-20}
BOUND=10 # seconds a call may take: generous, a starved daemon never answers
plan 9

{
    for i in $(seq 1 "$N"); do
        printf '  c%03d:\n    command: [sh, -c, "echo x >> %s/starts; exit 1"]\n' "$i" "$T"
        printf '    autostart: true\n    restart: always\n    backoff_base: 0\n'
        printf '    max_restarts: unlimited\n    start_secs: 0\n'
    done
} >"$T/agents.yaml"
write_config <<EOF2
  plugins: [sqlite, exec]
agents:
$(cat "$T/agents.yaml")
EOF2
start_daemon || exit 1

lines() { if [ -f "$T/starts" ]; then wc -l <"$T/starts" | tr -d ' '; else echo 0; fi; }
# The storm is on: every crasher has started more than once.
wait_for 60 sh -c "[ \$(cat '$T/starts' 2>/dev/null | wc -l) -ge $((N * 3)) ]"
check "the storm is on: $(lines) starts of $N crashers" test "$(lines)" -ge $((N * 3))

restarts() { timeout "$BOUND" "$BOSUNCTL" -s "$T/run/bosund.sock" ps --json | jq '[.[].restarts] | add'; }
r0=$(restarts)
answered=0 listed=0 st_ok=0 slow=
for k in $(seq 1 "$M"); do
    if out=$(timeout "$BOUND" "$BOSUNCTL" -s "$T/run/bosund.sock" ps --json); then
        answered=$((answered + 1))
        [ "$(printf '%s\n' "$out" | jq '[.[] | select(.agent | test("^c[0-9]{3}$"))] | length')" = "$N" ] &&
            listed=$((listed + 1))
    else
        slow="$slow ps#$k"
    fi
    if timeout "$BOUND" "$BOSUNCTL" -s "$T/run/bosund.sock" status --json | jq -e '.start_time' >/dev/null; then
        st_ok=$((st_ok + 1))
    else
        slow="$slow status#$k"
    fi
done
r1=$(restarts)
is "all $M ps calls answered within $BOUND s each${slow:+ (not:$slow)}" "$answered" "$M"
is "every answer lists the $N crashers" "$listed" "$M"
is "all $M status calls answered within $BOUND s each" "$st_ok" "$M"
check "the restarts went on meanwhile (ps restarts $r0 -> $r1)" test "${r1:-0}" -gt "${r0:-0}"

stop_daemon
is "bosund stopped cleanly" "$DAEMON_STATUS" 0
counts=$(/usr/bin/python3 - "$T/state/bosun.db" <<'PY'
import sqlite3, sys
db = sqlite3.connect(sys.argv[1])
n = lambda kind: db.execute("SELECT count(*) FROM events WHERE subject GLOB ?",
                            ("evt.run.c[0-9][0-9][0-9].*." + kind,)).fetchone()[0]
print(n("spawn_started"), n("exited"))
PY
)
set -- $counts
started=${1:-0} exited=${2:-x}
is "the store has one exited event per process started ($started started)" "$exited" "$started"
# Each process appends a line unless the stop's SIGTERM came first: at most
# one a crasher is missing from the file, none is missing from the store.
check "the store has every start the crashers made ($(lines) lines, $started stored)" \
    test "$started" -ge "$(lines)"
check "and no more than one a crasher beyond them" test "$started" -le $(($(lines) + N))
done_testing
