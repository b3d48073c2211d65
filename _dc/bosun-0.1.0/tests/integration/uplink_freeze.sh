#!/bin/sh
# A link cut without a close: the test's TCP proxy (tests/helpers/
# tcp_proxy.py) between the machine and the scripted hub stops forwarding
# without closing either socket.  The machine notices the missed pongs
# after three heartbeats, drops the link and tries again (each attempt
# bounded by connect_timeout while the proxy stays frozen); once the proxy
# thaws it registers again, and the events published meanwhile reach the
# hub, each once.
. "$top_srcdir/tests/integration/lib.sh"
. "$top_srcdir/tests/integration/http_lib.sh"
. "$top_srcdir/tests/integration/uplink_lib.sh"
plan 10

hub_start || exit 1
rm -f "$T/proxy.port"
/usr/bin/python3 "$top_srcdir/tests/helpers/tcp_proxy.py" "$T/proxy.port" "$HUB_PORT" 300 \
    > "$T/proxy.log" 2>&1 &
echo $! > "$T/proxy.0.pid"
wait_for 10 test -s "$T/proxy.port" || { fail "the proxy starts"; exit 1; }
UPLINK_HUB="wss://127.0.0.1:$(cat "$T/proxy.port")" \
    machine_config "registration_token: $(reg_token)" "connect_timeout: 2s"
start_daemon || exit 1
check "the machine registers through the proxy" wait_for 20 hub_linked
for i in 1 2 3; do ctl pub evt.test.e "{\"i\":$i}" >/dev/null; done
check "events reach the hub" wait_for 20 hub_has_all

kill -USR1 "$(cat "$T/proxy.0.pid")"
s=$(date +%s.%N)
dead() { log_has '^<4>uplink: no pong nor any frame from the hub for [0-9.]+ s \(3 heartbeats of 1.0 s\): the link is dead'; }
check "the machine notices the dead link (missed pongs) and says so" wait_for 15 dead
el=$(awk -v s="$s" -v e="$(date +%s.%N)" 'BEGIN { printf "%.1f", e - s }')
check "  after about three heartbeats ($el s)" awk -v e="$el" 'BEGIN { exit !(e >= 2.5 && e <= 6) }'
tries() { [ "$(grep -c '^<6>uplink: attempt [0-9]* to link .*connect_timeout' "$T/bosund.log")" -ge 1 ]; }
check "  and keeps trying, each attempt bounded by connect_timeout" wait_for 20 tries
for i in 4 5 6 7 8; do ctl pub evt.test.e "{\"i\":$i}" >/dev/null; done

kill -USR2 "$(cat "$T/proxy.0.pid")"
relinked() { [ "$(hubst '.registers | length')" -ge 2 ] && hub_linked; }
check "after the thaw it registers again" wait_for 30 relinked
check "  and the events published during the freeze reach the hub" wait_for 20 hub_has_all
is "  each once, in order" "$(hub_seqs)" "$(all_local_seqs)"
stop_daemon
is "bosund stops cleanly" "$DAEMON_STATUS" 0
unlike_empty_ok "no sanitizer report in its log" "$(cat "$T/bosund.log")" 'Sanitizer|runtime error'
done_testing
