#!/bin/sh
# The systemd notification protocol, with a listener standing in for
# systemd: READY, STATUS, RELOADING, STOPPING and the watchdog.
. "$top_srcdir/tests/integration/lib.sh"
plan 12

LISTEN="$top_builddir/tests/helpers/notify_listen"
write_config <<'EOF2'
  plugins: [heartbeat]
EOF2
"$LISTEN" "$T/notify.sock" 120 > "$T/notify.out" &
LPID=$!
wait_for 5 test -S "$T/notify.sock"

NOTIFY_SOCKET="$T/notify.sock" WATCHDOG_USEC=1000000 start_daemon || exit 1
wait_for 10 grep -q READY=1 "$T/notify.out"
like "READY=1 with a STATUS" "$(cat "$T/notify.out")" "READY=1\\|STATUS=running"
kill -HUP "$DAEMON_PID"
wait_for 10 sh -c "grep -c READY=1 '$T/notify.out' | grep -q 2"
like "SIGHUP: RELOADING=1 then READY=1" "$(tr '\n' ' ' < "$T/notify.out")" "READY=1.*RELOADING=1.*READY=1"
# The watchdog: pings keep coming (a bounded wait for six, not a count
# within a time), at half of WATCHDOG_USEC as logged; the median gap between
# them (notify_listen stamps each datagram) must lie well inside
# (0.25 s, 1 s): never slower than the 1 s systemd would allow.
wait_for 60 sh -c "[ \$(grep -c WATCHDOG=1 '$T/notify.out') -ge 6 ]"
n=$(grep -c 'WATCHDOG=1' "$T/notify.out")
check "WATCHDOG=1 sent repeatedly (saw $n)" test "$n" -ge 6
like "the watchdog interval is half of WATCHDOG_USEC, logged" "$(cat "$T/bosund.log")" "pinging every 0.500 s"
median=$(awk '/WATCHDOG=1/ { if (prev != "") print $1 - prev; prev = $1 }' "$T/notify.out" | sort -n |
         awk '{ g[NR] = $1 } END { if (NR) printf "%.3f", g[int((NR + 1) / 2)] }')
check "pings arrive about every 0.5 s: median gap ${median:-?} s within (0.25, 1)" \
    awk -v m="${median:-0}" 'BEGIN { exit !(m > 0.25 && m < 1) }'
stop_daemon; st=$DAEMON_STATUS
wait $LPID
is "daemon exits 0" "$st" 0
like "STOPPING=1 at shutdown" "$(tail -1 "$T/notify.out")" "STOPPING=1"

# A WATCHDOG_PID meant for another process disables the watchdog.
"$LISTEN" "$T/notify2.sock" 120 > "$T/notify2.out" &
LPID=$!
wait_for 5 test -S "$T/notify2.sock"
NOTIFY_SOCKET="$T/notify2.sock" WATCHDOG_USEC=100000 WATCHDOG_PID=1 start_daemon || exit 1
sleep 0.5
stop_daemon; st=$DAEMON_STATUS
wait $LPID
is "second daemon exits 0" "$st" 0
like "it still notified READY" "$(cat "$T/notify2.out")" "READY=1"
is "no WATCHDOG=1 when WATCHDOG_PID names another process" "$(grep -c WATCHDOG=1 "$T/notify2.out")" 0
log=$(cat "$T/bosund.log")
is "the log has the second daemon's start" "$(printf '%s\n' "$log" | grep -c 'started: machine')" 2
is "and only the first daemon's watchdog" "$(printf '%s\n' "$log" | grep -c 'watchdog: pinging')" 1
done_testing
