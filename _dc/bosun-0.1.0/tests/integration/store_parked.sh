#!/bin/sh
# A store query never blocks the loop: issued while a commit waits for a
# database locked by another process, it is parked and answered, with the
# event it must see, once the lock is gone; meanwhile requests that do not
# need the store (status, ps) are answered.
. "$top_srcdir/tests/integration/lib.sh"
plan 5

PY=/usr/bin/python3
DB="$T/state/bosun.db"
write_config <<EOF2
  plugins: [sqlite, exec]
EOF2
start_daemon || exit 1

# Another process holds BEGIN EXCLUSIVE until $T/release exists (8 s at
# most); the writer's busy wait (5 s) outlasts the steps below.
"$PY" - "$DB" "$T/locked" "$T/release" <<'PYEOF' &
import os, sqlite3, sys, time
c = sqlite3.connect(sys.argv[1], isolation_level=None, timeout=10)
c.execute("BEGIN EXCLUSIVE")
open(sys.argv[2], "w").close()
end = time.time() + 8
while time.time() < end and not os.path.exists(sys.argv[3]):
    time.sleep(0.01)
c.execute("COMMIT")
PYEOF
LOCK_PID=$!
wait_for 10 test -e "$T/locked"
ctl pub evt.test.parked '{"x":1}'
ctl request cmd.store.events '{"subject":"evt.test.parked"}' --json > "$T/query.out" 2>&1 &
QPID=$!
# Let the query reach the daemon, then ask what needs no store.
wait_for 5 sh -c "[ \"\$(\"$BOSUNCTL\" -s \"$T/run/bosund.sock\" request cmd.store.status '{}' --json | jq .data.parked)\" = 1 ]"
st=$(ctl status 2>&1 | head -1)
ps=$(ctl ps --json 2>&1)
check "the query is still waiting for the commit" kill -0 "$QPID"
like "status answers meanwhile" "$st" "^bosund "
is "ps answers meanwhile" "$ps" "[]"
touch "$T/release"
wait "$LOCK_PID"
wait "$QPID"
is "the query is answered after the lock is gone" "$?" 0
is "with the event it had to see" "$(jq -c '[.data.events[].data.x]' "$T/query.out")" "[1]"
done_testing
