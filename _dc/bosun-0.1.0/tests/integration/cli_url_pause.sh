#!/bin/sh
# bosunctl --url events -f when the daemon closes its /ws connection as a
# slow consumer (1013): it reads what it missed from the store over REST,
# connects again, subscribes with "since" = the last event it has, and goes
# on: every event once, in order.  A real daemon does that only after
# megabytes queue up, so a stand-in server (tests/helpers/ws_pause_server.py,
# python3-websockets) closes on cue.
. "$top_srcdir/tests/integration/lib.sh"
if ! /usr/bin/python3 -c 'import websockets' 2>/dev/null; then
    echo "1..0 # SKIP needs /usr/bin/python3 with websockets (python3-websockets)"
    exit 0
fi
plan 5
printf 'bsn_adm_fake\n' > "$T/token"
chmod 600 "$T/token"
/usr/bin/python3 "$top_srcdir/tests/helpers/ws_pause_server.py" bsn_adm_fake "$T/port" \
    "$T/subs.log" 2> "$T/server.err" &
spid=$!
wait_for 10 test -s "$T/port" || fail "the stand-in server came up" "$(cat "$T/server.err")"
URL="http://127.0.0.1:$(cat "$T/port")"
"$BOSUNCTL" --url "$URL" --token-file "$T/token" events -f > "$T/out" 2> "$T/err" &
fpid=$!
wait_for 20 grep -q 'line 10' "$T/out"
kill -INT "$fpid" 2>/dev/null
for _i in $(seq 1 50); do kill -0 "$fpid" 2>/dev/null || break; sleep 0.1; done
kill -KILL "$fpid" 2>/dev/null
wait "$fpid"
rc=$?
kill "$spid" 2>/dev/null
wait "$spid" 2>/dev/null
is "every event once, in order, across the pause" "$(awk '{print $1}' "$T/out" | tr '\n' ' ')" \
    "1 2 3 4 5 6 7 8 9 10 "
is "each with its own data" "$(grep -o '"text":"line [0-9]*"' "$T/out" | tr '\n' ' ')" \
    "$(for i in 1 2 3 4 5 6 7 8 9 10; do printf '"text":"line %d" ' $i; done)"
is "two subscriptions: the first after the replay, the second after the catch-up" \
    "$(tr '\n' ' ' < "$T/subs.log")" "sub since=3 sub since=8 "
is "interrupted: exit 0" "$rc" 0
is "nothing on stderr" "$(cat "$T/err")" ""
done_testing
