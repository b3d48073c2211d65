#!/bin/sh
# /ws against a real bosund with Node's ws and Python's websockets: the
# upgrade checks, auth (Bearer at the upgrade, first frame, bad token,
# timeout, a frame before auth), frame and message bounds (1009), binary
# frames (1003), error frames for bad ops with the connection kept, req
# for cmd.proc.ps (the bus reply's data), subscriptions authorised per
# pattern (an agent token), server pings and a client that does not
# answer them, and 1001 to clients when the daemon stops.  No token in
# the log.  A revoked or expired credential closes its connections.
. "$top_srcdir/tests/integration/lib.sh"
. "$top_srcdir/tests/integration/ws_lib.sh"
plan 49

mkdir -p "$T/out"
write_config <<EOF2
  plugins: [sqlite, exec, http]
$(ws_config "ws_frame_max: 65536" "ws_message_max: 131072" "ws_auth_timeout: 1" \
    "ping_interval: 1" "ws_subs_max: 3")
agents:
  holder:
    command: [sh, -c, 'echo "\$\$BOSUN_AGENT_TOKEN \$\$BOSUN_RUN_ID" > $T/out/tok.new && mv $T/out/tok.new $T/out/tok; exec sleep 3600']
    start_secs: 0
    restart: never
EOF2
start_daemon || exit 1
wait_for 10 curl -s -o /dev/null "$H/health"

# --- the upgrade
code=$(curl -s -o "$T/body" -w '%{http_code}' "$H/ws")
is "GET /ws without an upgrade: 400" "$code" 400
code=$(curl -s -o "$T/body" -D "$T/hdr" -w '%{http_code}' -H 'Connection: Upgrade' -H 'Upgrade: websocket' \
    -H 'Sec-WebSocket-Version: 8' -H 'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==' "$H/ws")
is "another WebSocket version: 426" "$code" 426
like "naming version 13" "$(cat "$T/hdr")" '^Sec-WebSocket-Version: 13'
out=$(cd "$T" && TOKEN=x node_ws upgrade "$U" bsn_adm_not_a_token)
is "a bad Bearer token at the upgrade: 401" "$(jf "$out" .result)" 401

# --- auth
ws_auth_checks
check "after ws_auth_timeout (1 s)" awk -v s="$(jf "$out" .secs)" 'BEGIN { exit !(s >= 0.9 && s < 8) }'
out=$(py_ws early "$U" -)
is "another op before auth: 1008" "$(jf "$out" .code)" 1008
# The session cookie: only from our own Origin (or an allowed one).
curl -s -o /dev/null -D "$T/login.hdr" -d "{\"token\":\"$TOK\"}" "$H/api/v1/auth/login"
cookie=$(sed -n 's/^Set-Cookie: \(bosun_session=[^;]*\).*/\1/p' "$T/login.hdr")
out=$(node_ws cookie "$U" - "$cookie" "$H")
is "the session cookie from our own Origin: ready" "$(jf "$out" .ready.kind)" '"admin"'
out=$(node_ws cookie "$U" - "$cookie" "https://evil.example")
is "from another site's Origin: 403" "$(jf "$out" .result)" 403

# --- bounds
out=$(node_ws frame "$U" "$TOK" 1000)
is "a small frame is answered (control)" "$(jf "$out" .answered)" true
out=$(node_ws frame "$U" "$TOK" 70000)
is "a frame over ws_frame_max: 1009" "$(jf "$out" .code)" 1009
is "frame too big" "$(jf "$out" .reason)" '"frame too big"'
out=$(py_ws fragmented "$U" "$TOK" 2 60000)
is "a fragmented message within ws_message_max is read (control)" "$(jf "$out" .answered)" true
out=$(py_ws fragmented "$U" "$TOK" 3 60000)
is "fragments over ws_message_max together: 1009" "$(jf "$out" .code)" 1009
out=$(node_ws binary "$U" "$TOK")
is "a binary frame: 1003" "$(jf "$out" .code)" 1003

# --- at most ws_subs_max (3) subscriptions on a connection
out=$(node_ws subs "$U" "$TOK" 5)
is "three subscriptions taken" "$(jf "$out" .subscribed)" 3
is "the others refused: too_many" "$(jf "$out" .errors)" '["too_many","too_many"]'
is "  one notice for the connection" \
    "$(grep -c '^<5>http: /ws 127\.0\.0\.1: sid s[0-9] refused: 3 subscriptions (ws_subs_max)' "$T/bosund.log")" 1

# --- error frames, the connection kept
out=$(node_ws errors "$U" "$TOK")
is "every bad frame got an error frame" "$(jf "$out" '.errors | length')" 11
is "and the connection stayed open" "$(jf "$out" .open)" true
# (the answer to a request comes when the bus gives it: compared sorted)
is "their codes" "$(jf "$out" '[.errors[].error.code] | sort')" \
    '["bad_json","bad_json","bad_request","bad_request","bad_request","bad_request","bad_request","bad_request","bad_request","not_found","not_found"]'
is "ids and sids echoed" "$(jf "$out" '[.errors[] | .sid // .id // empty] | sort')" '["nope","r1","r2","s","s"]'

# --- req: the same data as the bus reply
ctl start holder >/dev/null
wait_for 20 test -s "$T/out/tok"
out=$(node_ws req "$U" "$TOK" cmd.proc.ps '{}')
is "req cmd.proc.ps: a reply" "$(jf "$out" .op)" '"reply"'
want=$(ctl request cmd.proc.ps '{}' --json | jq -c '.data.rows | map(del(.uptime, .cpu, .rss)) | sort_by(.run)')
is "with the rows the bus gives" "$(jf "$out" '.data.rows | map(del(.uptime, .cpu, .rss)) | sort_by(.run)')" "$want"
like "holding the agent" "$(jf "$out" .data.rows)" '"agent":"holder"'

# --- subscriptions authorised per pattern
read -r atok arun < "$T/out/tok"
out=$(node_ws sub "$U" "$atok" 'evt.>')
is "an agent token: ready as agent" "$(jf "$out" .ready.kind)" '"agent"'
is "evt.> is forbidden to it" "$(jf "$out" .frame.error.code)" '"forbidden"'
is "for that sid" "$(jf "$out" .frame.sid)" '"x"'
out=$(node_ws sub "$U" "$atok" "evt.run.*.$arun.>")
is "its own run's events are not (control)" "$(jf "$out" .frame.op)" '"subscribed"'
out=$(node_ws req "$U" "$atok" cmd.proc.ps '{}')
is "and it makes no requests" "$(jf "$out" .error.code)" '"forbidden"'

# --- pings
out=$(node_ws pings "$U" "$TOK" 3)
check "server pings every second ($(jf "$out" .pings) in 3 s)" test "$(jf "$out" .pings)" -ge 2
is "answered, the connection stays" "$(jf "$out" .open)" true
out=$(node_ws nopong "$U" "$TOK")
is "no pong: closed" "$(jf "$out" .code)" 1001
is "saying why" "$(jf "$out" .reason)" '"no pong"'

# --- the log
like "1009 logged at notice" "$(cat "$T/bosund.log")" '^<5>http: /ws .*breaking the protocol: 1009'
like "the auth timeout logged" "$(cat "$T/bosund.log")" '^<5>http: /ws .*closing with 1008 \(authentication timeout\)'

# --- a credential that ends ends its connections
sec=$(ctl token create --name wsrev 2>"$T/create.err")
rid=$(sed -n 's/.*admin token \(tok_[0-9a-f]*\) .*/\1/p' "$T/create.err")
: > "$T/py.err"
py_ws hold "$U" "$sec" > "$T/rev.out" &
hold=$!
wait_for 10 grep -q ready "$T/py.err"
ctl token revoke "$rid" >/dev/null
wait "$hold"
is "a revoked admin token: 1008" "$(jf "$(cat "$T/rev.out")" .code)" 1008
is "credential revoked" "$(jf "$(cat "$T/rev.out")" .reason)" '"credential revoked"'
sec=$(ctl token create --name wsexp --ttl 2s 2>/dev/null)
: > "$T/py.err"
py_ws hold "$U" "$sec" > "$T/exp.out" &
hold=$!
wait_for 10 grep -q ready "$T/py.err"
wait "$hold"
is "an expiring one: 1008 at its expiry" "$(jf "$(cat "$T/exp.out")" .code)" 1008
is "credential expired" "$(jf "$(cat "$T/exp.out")" .reason)" '"credential expired"'

# --- stop: clients are told
: > "$T/py.err"
py_ws hold "$U" "$TOK" > "$T/hold.out" &
hold=$!
wait_for 10 grep -q ready "$T/py.err"
stop_daemon
wait "$hold"
is "the daemon stops cleanly with a client connected" "$DAEMON_STATUS" 0
is "the client got 1001" "$(jf "$(cat "$T/hold.out")" .code)" 1001
is "no token in the log" "$(grep -c -e "$TOK" -e "$atok" "$T/bosund.log")" 0
done_testing
