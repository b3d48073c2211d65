#!/bin/sh
# Forwarded events: no gap and no duplicate on the hub, checked by the
# machine's seq, while a producer publishes on the machine through a hub
# restart, a machine restart, a kill -9 of the hub and a kill -9 of the
# machine.  Two machines forward at once; each one's copy on the hub is
# exactly its own store's events, in seq order, each once.
. "$top_srcdir/tests/integration/lib.sh"
. "$top_srcdir/tests/integration/http_lib.sh"
. "$top_srcdir/tests/integration/fleet_lib.sh"
plan 17

K=${FLEET_EVENTS:-400}
fleet_hub "heartbeat_timeout: 3s"
node_start hub || exit 1
for m in m1 m2; do
    (umask 077 && reg_token "$m" > "$T/$m.reg")
    fleet_machine "$m" "registration_token_file: $T/$m.reg"
    node_start "$m" || exit 1
done
check "m1 online" wait_for 30 machine_status_is m1 online
check "m2 online" wait_for 30 machine_status_is m2 online

# produce MACHINE: publishes evt.fleettest.e {"i":1..K} on the machine, the
# count so far in $T/MACHINE.produced; a publish refused while the machine
# is down is tried again (bounded), never skipped.
produce() {
    i=1 tries=0
    while [ "$i" -le "$K" ] && [ "$tries" -lt 3000 ]; do
        if nctl "$1" pub evt.fleettest.e "{\"i\":$i}" >/dev/null 2>&1; then
            echo "$i" > "$T/$1.produced"
            i=$((i + 1))
            sleep 0.02
        else
            tries=$((tries + 1))
            sleep 0.1
        fi
    done
}
produce m1 & p1=$!
produce m2 & p2=$!
reached() { [ "$(cat "$T/m1.produced" 2>/dev/null || echo 0)" -ge "$1" ]; }

wait_for 60 reached $((K / 8))
node_stop hub
sleep 1
node_start hub || exit 1
wait_for 60 reached $((K * 3 / 8))
node_stop m1
node_start m1 || exit 1
wait_for 60 reached $((K * 5 / 8))
node_kill9 hub
sleep 1
node_start hub || exit 1
wait_for 60 reached $((K * 7 / 8))
node_kill9 m1
node_start m1 || exit 1
wait "$p1"
wait "$p2"
is "m1's producer published all $K" "$(cat "$T/m1.produced")" "$K"
is "m2's producer published all $K" "$(cat "$T/m2.produced")" "$K"

# local_seqs M / hub_seqs M: the seqs of M's evt.fleettest events in its
# own store and on the hub (with their i), one "seq i" a line.
local_seqs() {
    nctl "$1" request cmd.store.events '{"subject":"evt.fleettest.>","limit":10000}' --json |
        jq -r '.data.events[] | "\(.seq) \(.data.i)"'
}
hub_seqs() {
    nctl hub request cmd.store.events '{"subject":"evt.fleettest.>","limit":10000}' --json |
        jq -r --arg m "$1" '.data.events[] | select(.machine == $m) |
            "\(.machine_seq // .data.machine_seq // "?") \(.data.i)"'
}
hub_has() { [ "$(hub_seqs "$1" | wc -l)" -ge "$(local_seqs "$1" | wc -l)" ]; }
for m in m1 m2; do
    check "$m: the hub caught up with the machine's store" wait_for 90 hub_has "$m"
    l=$(local_seqs "$m"); h=$(hub_seqs "$m")
    is "$m: the hub has exactly the machine's events, by machine seq and payload" "$h" "$l"
    is "$m: no duplicate seq on the hub" "$(printf '%s\n' "$h" | cut -d' ' -f1 | sort | uniq -d)" ""
    is "$m: in seq order" "$(printf '%s\n' "$h" | cut -d' ' -f1 | sort -n -c 2>&1 && echo sorted)" sorted
done
is "m2's payloads are 1..$K, each once (it was never killed)" \
    "$(hub_seqs m2 | cut -d' ' -f2 | sort -n | uniq | tr '\n' ' ')" "$(seq 1 "$K" | tr '\n' ' ')"
is "events --machine m2 on the hub: m2's only, as many as on m2" \
    "$(nctl hub events --machine m2 --subject 'evt.fleettest.>' | grep -c ' @m2 evt.fleettest.e ')" "$(local_seqs m2 | wc -l)"
is "events --machine m1 on the hub: no event of m2" \
    "$(nctl hub --json events --machine m1 --subject 'evt.fleettest.>' | jq -r .machine | sort -u)" m1
unlike_empty_ok "the hub logged no duplicate store error" "$(cat "$T/hub/bosund.log")" 'UNIQUE constraint'
node_stop m1
node_stop m2
node_stop hub
is "the hub stops cleanly" "$NODE_STATUS" 0
done_testing
