#!/bin/sh
# /ws replay-then-follow while events are being produced: clients on
# Node's ws and Python's websockets subscribe with since (0, and a seq in
# the middle of what is stored) as a producer publishes; each must get
# exactly the stored events of its pattern after since, in order: no gap,
# no duplicate, nothing else.  Without since: from the store's last seq.
. "$top_srcdir/tests/integration/lib.sh"
. "$top_srcdir/tests/integration/ws_lib.sh"
plan 17

write_config <<EOF2
  plugins: [sqlite, http]
$(ws_config)
EOF2
start_daemon || exit 1
wait_for 10 curl -s -o /dev/null "$H/health"

PRE=30 LIVE=150
for i in $(seq 1 $PRE); do
    ctl pub "evt.wstest.a.e$i" "{\"i\":$i}" >/dev/null
    ctl pub "evt.other.x.e$i" "{\"i\":$i}" >/dev/null # not theirs
done
wait_for 10 sh -c "[ \$(\"$BOSUNCTL\" -s \"$T/run/bosund.sock\" request cmd.store.events '{\"subject\":\"evt.wstest.>\"}' --json | jq '.data.events | length') -eq $PRE ]"
mid=$(ctl request cmd.store.events '{"subject":"evt.wstest.>","limit":10}' --json | jq '.data.events[9].seq')

# The producer and the clients at once: the replay runs while live events come.
ws_follow_three evt.wstest $PRE $LIVE "$mid"
for c in node0 nodemid py0; do
    check "$c: subscribed after the replay, at or above what was stored before" \
        test "$(jf "$(cat "$T/$c.out")" .last_seq)" -ge "$mid"
done
out=$(cat "$T/nodemid.out")
check "from since on only" test "$(jf "$out" '.got[0]')" -gt "$mid"
out=$(cat "$T/node0.out")
is "only the pattern's subjects" "$(jf "$out" .subjects)" '["evt.wstest.a","evt.wstest.b"]'
is "each frame with its sid, subject and data" "$(jf "$out" .sids_ok)" true
is "as admin" "$(jf "$out" .ready.kind)" '"admin"'
out=$(cat "$T/py0.out")
is "python, authenticated by its first frame" "$(jf "$out" .ready.kind)" '"admin"'

# Without since: live from the store's last seq.
last=$(ctl request cmd.store.events '{"subject":"evt.wstest.>","tail":1}' --json | jq '.data.events[0].seq')
node_ws live "$U" "$TOK" 'evt.wstest.>' > "$T/live.out" &
lv=$!
wait_for 60 grep -q subscribed "$T/node.err"
ctl pub evt.wstest.c.late '{"late":true}' >/dev/null
wait "$lv"
out=$(cat "$T/live.out")
is "no since: subscribed at the store's last seq" "$(jf "$out" .last_seq)" "$last"
check "then the next event" test "$(jf "$out" .seq)" -gt "$last"
is "its data" "$(jf "$out" .data)" '{"late":true}'
done_testing
