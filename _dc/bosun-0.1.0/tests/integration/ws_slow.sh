#!/bin/sh
# A slow consumer on /ws: a client that stops reading while events flow is
# closed with 1013 "slow consumer" once its send queue would pass
# limits.send_queue_max, while a fast client subscribed to the same events
# gets every one of them, and the daemon goes on answering.
. "$top_srcdir/tests/integration/lib.sh"
. "$top_srcdir/tests/integration/ws_lib.sh"
plan 14

write_config <<EOF2
  plugins: [sqlite, http]
$(ws_config "send_queue_max: 262144")
EOF2
start_daemon || exit 1
wait_for 10 curl -s -o /dev/null "$H/health"

N=150
PAD=$(head -c 60000 /dev/zero | tr '\0' x)
py_ws slow "$U" "$TOK" 'evt.flood.>' "$T/resume" > "$T/slow.out" &
slow=$!
node_ws count "$U" "$TOK" 'evt.flood.>' $N > "$T/fast.out" &
fast=$!
wait_for 60 grep -q subscribed "$T/py.err"
wait_for 60 grep -q subscribed "$T/node.err"
# 9 MB for a reader that takes 4 KiB at a time: more than its queue
# and the kernel's buffers hold (the sender's grows to 4 MiB here).
(for i in $(seq 1 $N); do ctl pub "evt.flood.x.e$i" "{\"i\":$i,\"pad\":\"$PAD\"}" >/dev/null; done) &
producer=$!
# It reads again as soon as it is closed: within the server's short
# deadline for writing what is queued (the close frame last).
wait_for $WS_DEADLINE grep -q 'slow consumer' "$T/bosund.log"
touch "$T/resume"
wait "$producer"
wait "$fast"
wait "$slow"

like "the slow one is closed, logged at notice" "$(cat "$T/bosund.log")" \
    '^<5>http: /ws .*closing with 1013 \(slow consumer\)'
out=$(cat "$T/slow.out")
is "it gets 1013" "$(jf "$out" .code)" 1013
is "saying why" "$(jf "$out" .reason)" '"slow consumer"'
check "before all the events ($(jf "$out" .msgs) of $N)" test "$(jf "$out" .msgs)" -lt $N
out=$(cat "$T/fast.out")
is "the fast one gets all $N" "$(jf "$out" .n)" $N
is "in order" "$(jf "$out" .increasing)" true
is "and stays open" "$(jf "$out" .open)" true
check "the daemon answers" sh -c "\"$BOSUNCTL\" -s \"$T/run/bosund.sock\" status >/dev/null"
is "one slow consumer only" "$(grep -c 'slow consumer' "$T/bosund.log")" 1

# A replay of all of them (9 MB) to a client with the same 256 KiB queue
# that reads slowly (a small receive buffer, 20 ms a message): sent as fast
# as it reads, not refused as slow; live events that come meanwhile pass
# the bound kept aside, are dropped and read again from the store: nothing
# lost, nothing twice.
M=40
py_ws slowfollow "$U" "$TOK" 'evt.flood.>' $((N + M)) 0.02 > "$T/replay.out" &
reader=$!
wait_for 60 grep -q replaying "$T/py.err"
for i in $(seq 1 $M); do ctl pub "evt.flood.y.e$i" "{\"i\":$i,\"pad\":\"$PAD\"}" >/dev/null; done
wait "$reader"
since=0; : > "$T/stored"
for _p in $(seq 1 100); do
    ctl request cmd.store.events "{\"subject\":\"evt.flood.>\",\"since\":$since,\"limit\":50}" --json > "$T/page"
    jq '.data.events[].seq' "$T/page" >> "$T/stored"
    since=$(tail -1 "$T/stored")
    [ "$(jq .data.more "$T/page")" = true ] || break
done
out=$(cat "$T/replay.out")
is "the replay and what came during it: all $((N + M))" "$(jf "$out" .n)" $((N + M))
is "exactly the stored events, in order" "$(jf "$out" .got)" "$(jq -sc . "$T/stored")"
is "no error frame" "$(jf "$out" '.errors | length')" 0
is "still one slow consumer only" "$(grep -c 'slow consumer' "$T/bosund.log")" 1
like "the live ones were read again from the store" "$(cat "$T/bosund.log")" \
    'sid s: live events during the replay passed 262144 bytes: reading them from the store'
done_testing
