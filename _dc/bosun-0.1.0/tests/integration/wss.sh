#!/bin/sh
# /ws over TLS (wss://), verified against a CA made here with openssl req:
# Node's ws (NODE_EXTRA_CA_CERTS) and Python's websockets (SSL_CERT_FILE)
# authenticate (Bearer at the upgrade, first frame, a bad token, none),
# replay from since and then follow live while events are produced (no
# gap, no duplicate), and get the close codes of the frame and message
# bounds and of a binary frame; bosunctl --url https://... --cacert
# follows events end to end, and without the CA refuses the daemon.
. "$top_srcdir/tests/integration/lib.sh"
. "$top_srcdir/tests/integration/http_lib.sh"
. "$top_srcdir/tests/integration/ws_lib.sh"
plan 25

test_ca
mkcert server "bosun wss"
NODE_EXTRA_CA_CERTS="$T/ca.pem"
SSL_CERT_FILE="$T/ca.pem"
export NODE_EXTRA_CA_CERTS SSL_CERT_FILE
WS_TLS="{cert: $T/server.pem, key: $T/server.key}"
U="wss://127.0.0.1:$PORT/ws"
H="https://127.0.0.1:$PORT"
write_config <<EOF2
  plugins: [sqlite, http]
$(ws_config "ws_frame_max: 65536" "ws_message_max: 131072" "ws_auth_timeout: 1")
EOF2
start_daemon || exit 1
wait_for 10 curl -s --cacert "$T/ca.pem" -o /dev/null "$H/health"
like "the listener is TLS" "$(cat "$T/bosund.log")" "listening on 127\.0\.0\.1:$PORT \(TLS\)"

# --- auth
ws_auth_checks

# --- replay from since, then live, while a producer publishes
PRE=30 LIVE=120
for i in $(seq 1 $PRE); do ctl pub "evt.wss.a.e$i" "{\"i\":$i}" >/dev/null; done
wait_for 10 sh -c "[ \$(\"$BOSUNCTL\" -s \"$T/run/bosund.sock\" request cmd.store.events '{\"subject\":\"evt.wss.>\"}' --json | jq '.data.events | length') -eq $PRE ]"
mid=$(ctl request cmd.store.events '{"subject":"evt.wss.>","limit":10}' --json | jq '.data.events[9].seq')
last=$(ctl request cmd.store.events '{"subject":"evt.wss.>","tail":1}' --json | jq '.data.events[0].seq')
"$BOSUNCTL" --url "$H" --cacert "$T/ca.pem" --token-file "$T/boot.tok" events -f --since "$mid" \
    --subject 'evt.wss.>' > "$T/cli.out" 2> "$T/cli.err" &
cli=$!
ws_follow_three evt.wss $PRE $LIVE "$mid"
out=$(cat "$T/nodemid.out")
check "from since on only" test "$(jf "$out" '.got[0]')" -gt "$mid"
check "  replayed, then live after subscribed" test "$(jf "$out" .live_after_subscribed)" -ge 0 \
    -a "$(jf "$out" .last_seq)" -ge "$last"

# --- bosunctl --url https:// --cacert events -f, the same events
wait_for 30 sh -c "[ \$(wc -l < '$T/cli.out') -ge $((PRE + LIVE - 10)) ]"
kill -INT "$cli" 2>/dev/null
for _i in $(seq 1 50); do kill -0 "$cli" 2>/dev/null || break; sleep 0.1; done
kill -KILL "$cli" 2>/dev/null
wait "$cli"
is "bosunctl events -f over https: every event after since" "$(wc -l < "$T/cli.out" | tr -d ' ')" $((PRE + LIVE - 10))
is "  exactly what the store has, in order" "$(cat "$T/cli.out")" \
    "$(ctl events --since "$mid" --subject 'evt.wss.>')"
out=$("$BOSUNCTL" --url "$H" --token-file "$T/boot.tok" events -f 2>&1); rc=$?
check "  without --cacert the daemon's certificate is refused (exit $rc)" test "$rc" -ne 0
like "  saying why" "$out" '[Cc]ertificate'

# --- close codes over wss
out=$(node_ws frame "$U" "$TOK" 70000)
is "a frame over ws_frame_max: 1009" "$(jf "$out" .code)" 1009
out=$(py_ws fragmented "$U" "$TOK" 3 60000)
is "fragments over ws_message_max together: 1009" "$(jf "$out" .code)" 1009
out=$(node_ws binary "$U" "$TOK")
is "a binary frame: 1003" "$(jf "$out" .code)" 1003
like "the bounds logged at notice" "$(cat "$T/bosund.log")" '^<5>http: /ws .*1009'
stop_daemon
is "the daemon stops cleanly" "$DAEMON_STATUS" 0
done_testing
