#!/bin/sh
# The systemd notification protocol, with a listener standing in for
# systemd: READY, STATUS, RELOADING, STOPPING and the watchdog.
. "$top_srcdir/tests/integration/lib.sh"
plan 9

LISTEN="$top_builddir/tests/helpers/notify_listen"
write_config <<'EOF2'
  plugins: [heartbeat]
EOF2
"$LISTEN" "$T/notify.sock" 30 > "$T/notify.out" &
LPID=$!
wait_for 5 test -S "$T/notify.sock"

NOTIFY_SOCKET="$T/notify.sock" WATCHDOG_USEC=200000 start_daemon || exit 1
wait_for 10 grep -q READY=1 "$T/notify.out"
like "READY=1 with a STATUS" "$(cat "$T/notify.out")" "READY=1\\|STATUS=running"
kill -HUP "$DAEMON_PID"
wait_for 10 sh -c "grep -c READY=1 '$T/notify.out' | grep -q 2"
like "SIGHUP: RELOADING=1 then READY=1" "$(tr '\n' ' ' < "$T/notify.out")" "READY=1.*RELOADING=1.*READY=1"
sleep 1
n=$(grep -c 'WATCHDOG=1' "$T/notify.out")
check "WATCHDOG=1 sent repeatedly at half of WATCHDOG_USEC (saw $n in ~1 s)" test "$n" -ge 3
like "the watchdog interval is logged" "$(cat "$T/bosund.log")" "pinging every 0.100 s"
stop_daemon; st=$DAEMON_STATUS
wait $LPID
is "daemon exits 0" "$st" 0
like "STOPPING=1 at shutdown" "$(tail -1 "$T/notify.out")" "STOPPING=1"

# A WATCHDOG_PID meant for another process disables the watchdog.
"$LISTEN" "$T/notify2.sock" 30 > "$T/notify2.out" &
LPID=$!
wait_for 5 test -S "$T/notify2.sock"
NOTIFY_SOCKET="$T/notify2.sock" WATCHDOG_USEC=100000 WATCHDOG_PID=1 start_daemon || exit 1
sleep 0.5
stop_daemon; st=$DAEMON_STATUS
wait $LPID
is "second daemon exits 0" "$st" 0
like "it still notified READY" "$(cat "$T/notify2.out")" "READY=1"
is "no WATCHDOG=1 when WATCHDOG_PID names another process" "$(grep -c WATCHDOG=1 "$T/notify2.out")" 0
done_testing
