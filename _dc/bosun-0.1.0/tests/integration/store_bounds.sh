#!/bin/sh
# The store under failure: a database locked by another process and a full
# disk.  Memory stays bounded (agents' output pauses, events past
# retain_max_bytes are dropped counted, in an evt.store.dropped event),
# every event kept is stored once the database is back, the full disk is
# logged without a flood and shown by status and start, and queries wait,
# parked, for their commit while other requests are answered meanwhile.
. "$top_srcdir/tests/integration/lib.sh"
if [ "$(id -u)" -ne 0 ]; then echo "1..0 # SKIP needs root (tmpfs)"; exit 0; fi
plan 17

PY=/usr/bin/python3
DB="$T/state/bosun.db"
# lock NAME SECONDS: another process holds BEGIN EXCLUSIVE on the database
# until $T/NAME.release exists (SECONDS at most); $T/NAME.locked says when.
lock() {
    rm -f "$T/$1.locked" "$T/$1.release"
    "$PY" - "$DB" "$T/$1.locked" "$T/$1.release" "$2" <<'PYEOF' &
import os, sqlite3, sys, time
db, ready, release, limit = sys.argv[1], sys.argv[2], sys.argv[3], float(sys.argv[4])
c = sqlite3.connect(db, isolation_level=None, timeout=10)
c.execute("BEGIN EXCLUSIVE")
open(ready, "w").close()
end = time.time() + limit
while time.time() < end and not os.path.exists(release):
    time.sleep(0.02)
c.execute("COMMIT")
PYEOF
    LOCK_PID=$!
    wait_for 10 test -e "$T/$1.locked"
}
unlock() { touch "$T/$1.release"; wait "$LOCK_PID"; }
hwm_mb() { awk '/^VmHWM:/ { print int($2 / 1024) }' "/proc/$DAEMON_PID/status"; }
# The bound: 300 MB, or 1000 MB for a sanitizer build (ASan's shadow memory
# and quarantine); before the bounds, 1,000,000 lines took 723 MB plain.
BOUND=300
# count SQL: run against the database (the daemon stopped or idle).
count() { "$PY" -c 'import sqlite3,sys; print(sqlite3.connect(sys.argv[1]).execute(sys.argv[2]).fetchone()[0])' "$DB" "$1"; }
status_field() { ctl request cmd.store.status '{}' --json | jq -r ".data.$1"; }
LINES=1000000

# ---- 1. a locked database under a flooding agent
write_config <<EOF2
  plugins: [sqlite, exec]
agents:
  flood:
    command: [seq, 1, "$LINES"]
    start_secs: 0
EOF2
start_daemon || exit 1
grep -q libasan "/proc/$DAEMON_PID/maps" && BOUND=1000
lock l1 12
run=$(ctl start flood)
# The first commit waits 5 s for the lock, then fails: the store is failing.
wait_for 20 sh -c "[ \"\$(\"$BOSUNCTL\" -s \"$T/run/bosund.sock\" request cmd.store.status '{}' --json | jq -r .data.failing)\" = true ]"
is "the store says it is failing while the database is locked" "$(status_field failing)" true
like "bosunctl status says so" "$(ctl status)" "store FAILING: .*locked"
sleep 4
unlock l1
wait_for 120 sh -c "[ \"\$(\"$BOSUNCTL\" -s \"$T/run/bosund.sock\" request cmd.store.events '{\"subject\":\"evt.run.*.$run.output\",\"tail\":1}' --json | jq '.data.events[0].data.n')\" = $LINES ]"
hwm=$(hwm_mb)
check "bounded memory while locked: VmHWM ${hwm} MB < $BOUND MB" test "$hwm" -lt "$BOUND"
is "the store no longer fails" "$(status_field failing)" false
stop_daemon
is "every line of the flood is stored once the lock is gone" \
    "$(count "SELECT count(*) FROM events WHERE subject LIKE 'evt.run.flood.$run.output'")" "$LINES"
is "nothing was dropped" "$(count "SELECT count(*) FROM events WHERE subject = 'evt.store.dropped'")" 0

# ---- 2. past retain_max_bytes while failing: dropped, counted, told
write_config <<EOF2
  plugins: [sqlite]
sqlite:
  retain_max_bytes: 64K
EOF2
: > "$T/bosund.log"
start_daemon || exit 1
lock l2 30
ctl pub evt.test.first '{"i":0}'
wait_for 20 sh -c "[ \"\$(\"$BOSUNCTL\" -s \"$T/run/bosund.sock\" request cmd.store.status '{}' --json | jq -r .data.failing)\" = true ]"
PUB=400
# One connection publishing quickly: a source that cannot pause.
"$PY" - "$T/run/bosund.sock" "$PUB" <<'PYEOF'
import json, socket, sys
s = socket.socket(socket.AF_UNIX); s.connect(sys.argv[1])
f = s.makefile("rwb")
for i in range(1, int(sys.argv[2]) + 1):
    req = {"id": i, "op": "pub", "subject": "evt.test.flood", "data": {"i": i, "pad": "x" * 300}}
    f.write((json.dumps(req) + "\n").encode()); f.flush()
    json.loads(f.readline())
PYEOF
held=$(status_field retained_bytes)
check "retained bytes stay within retain_max_bytes ($held <= 65536)" test "$held" -le 65536
dropped=$(status_field dropped)
check "events past the bound are counted ($dropped > 0)" test "$dropped" -gt 0
like "and logged" "$(cat "$T/bosund.log")" "dropping events: .* retain_max_bytes 65536 reached"
lines=$(grep -c "dropping events" "$T/bosund.log")
check "at most once a second ($lines lines for $dropped drops)" test "$lines" -le 15
unlock l2
wait_for 30 sh -c "[ \"\$(\"$BOSUNCTL\" -s \"$T/run/bosund.sock\" request cmd.store.events '{\"subject\":\"evt.store.dropped\"}' --json | jq '.data.events | length')\" = 1 ]"
told=$(ctl request cmd.store.events '{"subject":"evt.store.dropped"}' --json | jq '.data.events[0].data.count')
stored=$(ctl request cmd.store.events '{"subject":"evt.test.flood","limit":10000}' --json | jq '.data.events | length')
is "stored + dropped = published ($stored + $told)" "$((stored + told))" "$PUB"
is "the evt.store.dropped count is the status count" "$told" "$dropped"
stop_daemon

# ---- 3. a full disk: bounded, logged without a flood, shown by status and start
FULL=200000
rm -rf "$T/state"; mkdir -p "$T/state"
mount -t tmpfs -o size=100m tmpfs "$T/state" || { echo "Bail out! cannot mount a tmpfs"; exit 1; }
trap 'umount "$T/state" 2>/dev/null; cleanup' EXIT
write_config <<EOF2
  plugins: [sqlite, exec]
agents:
  flood:
    command: [seq, 1, "$FULL"]
    start_secs: 0
  sleeper:
    command: [sleep, "3600"]
    start_secs: 0
EOF2
: > "$T/bosund.log"
start_daemon || exit 1
dd if=/dev/zero of="$T/state/filler" bs=1M count=200 2>/dev/null
run=$(ctl start flood)
wait_for 20 sh -c "[ \"\$(\"$BOSUNCTL\" -s \"$T/run/bosund.sock\" request cmd.store.status '{}' --json | jq -r .data.failing)\" = true ]"
out=$(ctl start sleeper 2>&1)
like "bosunctl start warns that the store cannot write" "$out" "warning: the store cannot write to .*full"
sleep 3
like "bosunctl status says the store is failing" "$(ctl status)" "store FAILING: .*full"
n=$(grep -c "cannot write log" "$T/bosund.log")
check "failed output.log writes are logged without a flood ($n lines)" test "$n" -le 3
hwm=$(hwm_mb)
check "bounded memory with a full disk: VmHWM ${hwm} MB < $BOUND MB" test "$hwm" -lt "$BOUND"
rm -f "$T/state/filler"
wait_for 120 sh -c "[ \"\$(\"$BOSUNCTL\" -s \"$T/run/bosund.sock\" request cmd.store.events '{\"subject\":\"evt.run.*.$run.output\",\"tail\":1}' --json | jq '.data.events[0].data.n')\" = $FULL ]"
stop_daemon
is "every line is stored once there is room" \
    "$(count "SELECT count(*) FROM events WHERE subject LIKE 'evt.run.flood.$run.output'")" "$FULL"
umount "$T/state"
trap cleanup EXIT
done_testing
