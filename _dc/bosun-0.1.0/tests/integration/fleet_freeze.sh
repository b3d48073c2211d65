#!/bin/sh
# A link cut without a close: the test's TCP proxy between a machine and
# the hub stops forwarding (frozen) without closing either socket.  The
# hub marks the machine offline after its heartbeat timeout (an
# evt.machine.m1.offline event, logged); the machine notices the missed
# pongs, drops the link and tries again; when the proxy thaws it registers
# again, is online, and its heartbeats move last_seen again.  A second
# machine, linked directly, stays online throughout.  (That no forwarded
# event is lost across such a cut is fleet_events.sh's.)
. "$top_srcdir/tests/integration/lib.sh"
. "$top_srcdir/tests/integration/http_lib.sh"
. "$top_srcdir/tests/integration/fleet_lib.sh"
plan 12

fleet_hub "heartbeat_timeout: 3s"
node_start hub || exit 1
pp=$(proxy_start m1 "$PORT") || { fail "the proxy starts"; exit 1; }
for m in m1 m2; do (umask 077 && reg_token "$m" > "$T/$m.reg"); done
UPLINK_HUB="wss://127.0.0.1:$pp" fleet_machine m1 "registration_token_file: $T/m1.reg"
fleet_machine m2 "registration_token_file: $T/m2.reg"
node_start m1 || exit 1
node_start m2 || exit 1
check "m1 online (through the proxy)" wait_for 30 machine_status_is m1 online
check "m2 online (direct)" wait_for 30 machine_status_is m2 online

s=$(date +%s.%N)
proxy_freeze m1
check "the hub marks m1 offline after its heartbeat timeout" wait_for 20 machine_status_is m1 offline
el=$(echo "$(date +%s.%N) $s" | awk '{ printf "%.1f", $1 - $2 }')
check "  not before it (${el} s >= 3 s heartbeat_timeout - 1 s heartbeat)" \
    awk -v e="$el" 'BEGIN { exit !(e >= 2) }'
offline_evt() {
    nctl hub request cmd.store.events '{"subject":"evt.machine.m1.offline"}' --json | jq -e '.data.events | length > 0' >/dev/null
}
check "  with an evt.machine.m1.offline event stored on the hub" wait_for 5 offline_evt
like "  and the hub logged why" "$(cat "$T/hub/bosund.log")" 'fleet: machine m1: no frame for [0-9.]+ s'
dead_logged() { grep -Eq '^<[3-6]>uplink: .*no pong nor any frame from the hub .*dead' "$T/m1/bosund.log"; }
check "the machine notices the dead link (missed pongs) and says so" wait_for 20 dead_logged
retry() { grep -q 'linking to the hub at .*attempt [2-9]' "$T/m1/bosund.log"; }
check "  and tries again while the proxy is frozen" wait_for 30 retry
is "m2 stayed online" "$(machine_field m2 status)" online

proxy_thaw m1
check "after the thaw m1 registers again and is online" wait_for 90 machine_status_is m1 online
seen1=$(machine_field m1 last_seen)
moved() { [ "$(machine_field m1 last_seen)" != "$seen1" ]; }
check "  its heartbeats move last_seen again" wait_for 10 moved
is "  m2 still online" "$(machine_field m2 status)" online
done_testing
