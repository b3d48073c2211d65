#!/bin/sh
# bosund in the foreground: one per state dir, prefixed log lines, plugins
# stopped in reverse order, exit 0 on SIGTERM and SIGINT, recovery after
# kill -9.
. "$top_srcdir/tests/integration/lib.sh"
plan 15

write_config <<'EOF2'
  plugins: [heartbeat, order_a, order_b]
EOF2
start_daemon || exit 1
check "daemon process is running in the foreground" kill -0 "$DAEMON_PID"
is "lock file holds the daemon's pid" "$(cat "$T/state/bosund.lock")" "$DAEMON_PID"

out=$(timeout 20 "$BOSUND" -c "$T/bosun.yaml" 2>&1); st=$?
is "second daemon on the same state dir exits 1" "$st" 1
like "second daemon names the pid holding the lock" "$out" "another bosund \\(pid $DAEMON_PID\\) is running"
check "first daemon is still running" kill -0 "$DAEMON_PID"

bad=$(grep -Ev '^<[3-7]>' "$T/bosund.log" | head -3)
is "every log line starts with a syslog priority" "$bad" ""
like "start-up notice at priority 5" "$(cat "$T/bosund.log")" "^<5>bosund .* started: machine test-machine"
like "plugins start in listed order" "$(grep -E 'order_[ab]: start' "$T/bosund.log" | tr '\n' ' ')" "order_a: start .*order_b: start"

stop_daemon; st=$DAEMON_STATUS
is "SIGTERM: exit 0" "$st" 0
like "plugins stop in reverse order" "$(grep -E 'order_[ab]: stop' "$T/bosund.log" | tr '\n' ' ')" "order_b: stop .*order_a: stop"
is "control socket removed at exit" "$(ls "$T/run")" ""

: > "$T/bosund.log"
start_daemon || exit 1
kill -INT "$DAEMON_PID"; wait "$DAEMON_PID"; st=$?; DAEMON_PID=
is "SIGINT: exit 0" "$st" 0

start_daemon || exit 1
kill -KILL "$DAEMON_PID"; wait "$DAEMON_PID" 2>/dev/null; DAEMON_PID=
check "a killed daemon leaves its socket file" test -S "$T/run/bosund.sock"
start_daemon
check "a new daemon starts over the stale lock and socket" kill -0 "$DAEMON_PID"
like "and answers" "$(ctl status --json)" "\"pid\":$DAEMON_PID"
stop_daemon
done_testing
