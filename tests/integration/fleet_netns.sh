#!/bin/sh
# A hub and a machine in two network namespaces made here, joined by a
# veth pair whose addresses exist only inside them; the machine's end of
# the link is set down (packets vanish, nothing is closed): the hub marks
# the machine offline after its heartbeat timeout, and when the link is up
# again the machine registers again, online, with the events published
# meanwhile.  Skipped (a TAP "1..0 # SKIP") where namespaces cannot be made.
. "$top_srcdir/tests/integration/lib.sh"
. "$top_srcdir/tests/integration/http_lib.sh"
. "$top_srcdir/tests/integration/fleet_lib.sh"

NS_H="bosun-h-$$" NS_M="bosun-m-$$"
if ! command -v ip >/dev/null || ! ip netns add "$NS_H" 2>"$T/netns.err"; then
    echo "1..0 # SKIP network namespaces are not available: $(head -c 200 "$T/netns.err" 2>/dev/null)"
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
    echo "1..0 # SKIP cannot set up the veth pair: $(head -c 200 "$T/netns.err")"
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
hub_count() {
    nctl hub request cmd.store.events '{"subject":"evt.netns.>","limit":1000}' --json |
        jq '[.data.events[] | select(.machine == "m1")] | length'
}
has() { [ "$(hub_count)" -ge "$1" ]; }
nctl m1 pub evt.netns.e '{"i":1}' >/dev/null
check "its events reach the hub" wait_for 20 has 1

ip -n "$NS_M" link set "bm$$" down
check "link down: the hub marks the machine offline after the heartbeat timeout" \
    wait_for 20 machine_status_is m1 offline
nctl m1 pub evt.netns.e '{"i":2}' >/dev/null
ip -n "$NS_M" link set "bm$$" up
check "link up: it registers again and is online" wait_for 90 machine_status_is m1 online
check "  the event published meanwhile reaches the hub" wait_for 30 has 2
is "  each once" "$(nctl hub request cmd.store.events '{"subject":"evt.netns.>","limit":1000}' --json |
    jq -c '[.data.events[] | select(.machine == "m1") | .data.i]')" '[1,2]'
done_testing
