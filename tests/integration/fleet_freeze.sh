#!/bin/sh
# A link cut without a close: the test's TCP proxy between a machine and
# the hub stops forwarding (frozen) without closing either socket.  The
# hub marks the machine offline after its heartbeat timeout (an
# evt.machine.m1.offline event); the machine notices the missed pongs,
# drops the link and tries again; when the proxy thaws it registers again,
# is online, and the events published meanwhile reach the hub, none lost.
# A second machine, linked directly, stays online throughout.
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
for i in 1 2 3; do nctl m1 pub evt.freeze.e "{\"i\":$i}" >/dev/null; done
hub_count() {
    nctl hub request cmd.store.events '{"subject":"evt.freeze.>","limit":1000}' --json |
        jq --arg m m1 '[.data.events[] | select(.machine == $m)] | length'
}
has() { [ "$(hub_count)" -ge "$1" ]; }
check "events before the freeze reach the hub" wait_for 20 has 3

s=$(date +%s)
proxy_freeze m1
check "the hub marks m1 offline after its heartbeat timeout" wait_for 20 machine_status_is m1 offline
el=$(($(date +%s) - s))
check "  not before it (${el} s >= 3 s heartbeat_timeout - 1)" test "$el" -ge 2
offline_evt() {
    nctl hub request cmd.store.events '{"subject":"evt.machine.m1.offline"}' --json | jq -e '.data.events | length > 0'
}
check "  with an evt.machine.m1.offline event" wait_for 5 offline_evt
dead_logged() { grep -Eiq '^<[3-6]>uplink: .*(pong|dead|heartbeat|timed? ?out)' "$T/m1/bosund.log"; }
check "the machine notices the dead link (missed pongs) and says so" wait_for 20 dead_logged
is "m2 stayed online" "$(machine_field m2 status)" online
for i in 4 5 6 7 8; do nctl m1 pub evt.freeze.e "{\"i\":$i}" >/dev/null; done

proxy_thaw m1
check "after the thaw m1 registers again and is online" wait_for 90 machine_status_is m1 online
check "the events published during the freeze reach the hub" wait_for 30 has 8
is "  each once, in order" "$(nctl hub request cmd.store.events '{"subject":"evt.freeze.>","limit":1000}' --json |
    jq -c --arg m m1 '[.data.events[] | select(.machine == $m) | .data.i]')" '[1,2,3,4,5,6,7,8]'
like "the hub logged the machine going offline for its heartbeat timeout" "$(cat "$T/hub/bosund.log")" \
    'fleet: .*m1.*(offline|heartbeat|timeout)'
done_testing
