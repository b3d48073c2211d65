#!/bin/sh
# A hub and a machine in two network namespaces made here, joined by a
# veth pair whose addresses exist only inside them; the machine's end of
# the link is set down (packets vanish, nothing is closed): the hub marks
# the machine offline after its heartbeat timeout, and when the link is up
# again the machine registers again and is online, its heartbeats moving
# last_seen.  Where namespaces cannot be made it is skipped (a TAP
# "1..0 # SKIP" with the reason: counted as skipped, not passed).
. "$top_srcdir/tests/integration/lib.sh"
. "$top_srcdir/tests/integration/http_lib.sh"
. "$top_srcdir/tests/integration/fleet_lib.sh"

NS_H="bosun-h-$$" NS_M="bosun-m-$$"
if ! command -v ip >/dev/null || ! ip netns add "$NS_H" 2>"$T/netns.err"; then
    echo "1..0 # SKIP network namespaces are not available: $(head -c 200 "$T/netns.err" 2>/dev/null | tr '\n' ' ')"
    exit 0
fi
netns_cleanup() {
    ip netns del "$NS_H" 2>/dev/null
    ip netns del "$NS_M" 2>/dev/null
}
trap 'fleet_cleanup; netns_cleanup' EXIT
if ! { ip netns add "$NS_M" && ip link add "bh$$" type veth peer name "bm$$" &&
    ip link set "bh$$" netns "$NS_H" && ip link set "bm$$" netns "$NS_M" &&
    ip -n "$NS_H" addr add 10.213.7.1/30 dev "bh$$" && ip -n "$NS_M" addr add 10.213.7.2/30 dev "bm$$" &&
    ip -n "$NS_H" link set "bh$$" up && ip -n "$NS_M" link set "bm$$" up &&
    ip -n "$NS_H" link set lo up && ip -n "$NS_M" link set lo up; } 2>"$T/netns.err"; then
    echo "1..0 # SKIP cannot set up the veth pair: $(head -c 200 "$T/netns.err" | tr '\n' ' ')"
    exit 0
fi
plan 6

HUB_ADDR=10.213.7.1
fleet_hub "heartbeat_timeout: 3s"
echo "$NS_H" > "$T/hub/netns"
node_start hub || exit 1
(umask 077 && reg_token m1 > "$T/m1.reg")
fleet_machine m1 "registration_token_file: $T/m1.reg"
echo "$NS_M" > "$T/m1/netns"
node_start m1 || exit 1
check "the machine in its namespace is online on the hub in the other" wait_for 30 machine_status_is m1 online
like "  from its namespace's address" "$(machine_field m1 address)" '^10\.213\.7\.2'

ip -n "$NS_M" link set "bm$$" down
check "link down: the hub marks the machine offline after the heartbeat timeout" \
    wait_for 20 machine_status_is m1 offline
dead_logged() { grep -Eq '^<[3-6]>uplink: .*no pong nor any frame from the hub' "$T/m1/bosund.log"; }
check "  the machine notices the dead link" wait_for 20 dead_logged
ip -n "$NS_M" link set "bm$$" up
check "link up: it registers again and is online" wait_for 90 machine_status_is m1 online
seen1=$(machine_field m1 last_seen)
moved() { [ "$(machine_field m1 last_seen)" != "$seen1" ]; }
check "  its heartbeats move last_seen again" wait_for 10 moved
done_testing
