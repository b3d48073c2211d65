#!/bin/sh
# /ws "sub" with a "machine" filter on a hub with two machines: one id (the
# store's filter) or a list (which may name the hub itself) gets those
# machines' events only, in the replay and live; no filter gets all; a
# filter that is no id or list of ids is refused for that sid.  The client
# is Python's websockets over TLS with the test CA.
. "$top_srcdir/tests/integration/lib.sh"
. "$top_srcdir/tests/integration/http_lib.sh"
. "$top_srcdir/tests/integration/fleet_lib.sh"
/usr/bin/python3 -c 'import websockets' 2>/dev/null ||
    { echo "1..0 # SKIP needs python3-websockets"; exit 0; }
plan 9

fleet_hub "heartbeat_timeout: 3s"
node_start hub || exit 1
machine_join m1 || exit 1
machine_join m2 || exit 1
check "m1 online" wait_for 30 machine_status_is m1 online
check "m2 online" wait_for 30 machine_status_is m2 online

# pub NODE I: evt.fleettest.e {"i": I} on that node.
pub() { nctl "$1" pub evt.fleettest.e "{\"i\":$2}" >/dev/null; }
for i in 1 2 3; do pub m1 "$i"; pub m2 "$i"; done
pub hub 0
check "the replayed events are on the hub" sh -c "
    for i in \$(seq 1 200); do
        [ \"\$(\"$BOSUNCTL\" -s \"$T/hub/run/bosund.sock\" request cmd.store.events '{\"subject\":\"evt.fleettest.e\",\"limit\":100}' --json | jq '.data.events | length')\" -ge 7 ] && exit 0
        sleep 0.1
    done; exit 1"

subs='[{"sid":"one","subject":"evt.fleettest.>","machine":"m1"},
       {"sid":"list","subject":"evt.fleettest.>","machine":["m2","hub"]},
       {"sid":"all","subject":"evt.fleettest.>"},
       {"sid":"bad-type","subject":"evt.fleettest.>","machine":5},
       {"sid":"bad-empty","subject":"evt.fleettest.>","machine":[]},
       {"sid":"bad-id","subject":"evt.fleettest.>","machine":["m1","no.such"]}]'
WS_DEADLINE=60 timeout 90 /usr/bin/python3 "$top_srcdir/tests/helpers/ws_machine_sub.py" \
    "wss://127.0.0.1:$PORT/ws" "$BOOT" "$T/ca.pem" "$T/ready" "$subs" '{"one":5,"list":6,"all":11}' \
    > "$T/ws.out" 2>"$T/ws.err" &
client=$!
wait_for 30 test -s "$T/ready" || fail "the client subscribed" "$(cat "$T/ws.err")"
for i in 4 5; do pub m2 "$i"; pub m1 "$i"; done
wait "$client"
got() { jq -c ".got[\"$1\"]" "$T/ws.out"; }
is "one id: that machine's events, replayed then live" "$(got one)" '[["m1",1],["m1",2],["m1",3],["m1",4],["m1",5]]'
is "a list: its machines' events (the hub's own too)" "$(jq -c '.got.list | sort' "$T/ws.out")" \
    '[["hub",0],["m2",1],["m2",2],["m2",3],["m2",4],["m2",5]]'
is "  in the hub's order" "$(jq -c '[.got.list[] | select(.[0] == "m2") | .[1]]' "$T/ws.out")" '[1,2,3,4,5]'
is "no filter: every machine's" "$(jq -c '[.got.all[] | .[0]] | group_by(.) | map([.[0], length])' "$T/ws.out")" \
    '[["hub",1],["m1",5],["m2",5]]'
is "a filter that is no id or list of ids: bad_request for that sid" \
    "$(jq -c '[.errors[] | "\(.sid):\(.code)"] | sort' "$T/ws.out")" '["bad-empty:bad_request","bad-id:bad_request","bad-type:bad_request"]'
is "  and no event for it" "$(jq -c '[.got["bad-type"], .got["bad-empty"], .got["bad-id"]]' "$T/ws.out")" '[[],[],[]]'
done_testing
