#!/bin/sh
# Approvals over /ws with Node's ws and Python's websockets: a client
# subscribed to evt.approval.> sees a request's "requested" then its
# "decided" with decided_by; a client answers over /ws with an
# {"op":"req"} frame for cmd.approval.answer (an admin: the held call gets
# the decision); a viewer's session gets "forbidden" for that request,
# and the request stays open for an admin.
. "$top_srcdir/tests/integration/lib.sh"
. "$top_srcdir/tests/integration/ws_lib.sh"
plan 17

write_config <<EOF2
  plugins: [sqlite, exec, http]
$(ws_config)
approvals:
  default: ask
EOF2
start_daemon || exit 1
wait_for 10 curl -s -o /dev/null "$H/health"
VIEWER=$(/usr/bin/python3 "$top_srcdir/tests/helpers/jwt_forge.py" "$T/state/http_jwt.key" viewer user:vic)
PYA="$top_srcdir/tests/ws/approval_ws.py"
node_a() { timeout $((WS_DEADLINE + 60)) node "$W/approval_ws.mjs" "$@" 2>>"$T/node.err"; }
py_a() { timeout $((WS_DEADLINE + 60)) /usr/bin/python3 "$PYA" "$@" 2>>"$T/py.err"; }
req() { ctl request cmd.approval.request "$1" --json --timeout 120 > "$2" 2>&1 & }
# subscribed FILE...: each client's first line says it is subscribed.
subscribed() { for _f in "$@"; do wait_for 30 grep -q subscribed "$_f" || return 1; done; }
last() { tail -n 1 "$1"; }

# 1. Both watch; a person answers over the control socket.
node_a "$U" "$TOK" watch > "$T/n1" &
n1=$!
py_a "$U" "$TOK" watch > "$T/p1" &
p1=$!
subscribed "$T/n1" "$T/p1" || fail "the watchers subscribed"
req '{"agent":"claude-code:attached","tool":"Bash","input":{"command":"make"}}' "$T/r1"
wait_for 20 sh -c "\"$BOSUNCTL\" -s \"$T/run/bosund.sock\" approval list --json | jq -e 'length == 1' >/dev/null"
id=$(ctl approval list --json | jq -r '.[0].id')
USER=ann ctl approval deny "$id" >/dev/null
wait "$n1" "$p1"
o=$(last "$T/n1")
is "node: requested, for that request" "$(jf "$o" .requested.data.id)" "\"$id\""
is "  with its tool input" "$(jf "$o" .requested.data.input.command)" '"make"'
is "node: then decided" "$(jf "$o" '[.decided.subject, .decided.data.decision]')" "[\"evt.approval.$id.decided\",\"deny\"]"
is "  with decided_by" "$(jf "$o" .decided.data.decided_by)" '"ann"'
check "  requested before decided (seq)" test "$(jf "$o" .requested.seq)" -lt "$(jf "$o" .decided.seq)"
o=$(last "$T/p1")
is "python: requested then decided, decided_by" "$(jf "$o" '[.requested.data.id, .decided.data.decision, .decided.data.decided_by]')" "[\"$id\",\"deny\",\"ann\"]"

# 2. The admin answers over /ws (node: allow); python watches.
node_a "$U" "$TOK" answer allow > "$T/n2" &
n2=$!
py_a "$U" "$TOK" watch > "$T/p2" &
p2=$!
subscribed "$T/n2" "$T/p2" || fail "the clients subscribed"
req '{"agent":"claude-code:attached","tool":"Read","input":{"file_path":"/etc/hosts"}}' "$T/r2"
wait "$n2" "$p2"
o=$(last "$T/n2")
is "node answers over /ws: a reply frame" "$(jf "$o" .reply.op)" '"reply"'
is "  saying allow" "$(jf "$o" .reply.data.decision)" '"allow"'
is "  decided, by whom the answer named" "$(jf "$o" '[.decided.data.decision, .decided.data.decided_by]')" '["allow","node-ws"]'
wait_for 20 test -s "$T/r2"
like "the held call is allowed" "$(cat "$T/r2")" '"behavior":"allow"'
is "python saw the same decision" "$(jf "$(last "$T/p2")" '.decided.data.decided_by')" '"node-ws"'

# 3. A viewer may watch but not answer; python (admin) then denies over /ws.
py_a "$U" "$VIEWER" try allow > "$T/v3" &
v3=$!
subscribed "$T/v3" || fail "the viewer subscribed"
req '{"agent":"claude-code:attached","tool":"Bash","input":{"command":"rm -rf build"}}' "$T/r3"
wait "$v3"
o=$(last "$T/v3")
is "a viewer is ready as a user" "$(jf "$o" .ready.principal.role)" '"viewer"'
is "  sees the request" "$(jf "$o" .requested.data.input.command)" '"rm -rf build"'
is "  and its cmd.approval.answer is forbidden" "$(jf "$o" '[.reply.op, .reply.error.code]')" '["error","forbidden"]'
check "  the request is still open" sh -c "\"$BOSUNCTL\" -s \"$T/run/bosund.sock\" approval list --json | jq -e 'length == 1' >/dev/null"
py_a "$U" "$TOK" answer deny > "$T/p3" &
p3=$!
# The python client answers the first request it sees published; this
# one was published before it subscribed, so it asks again: a new one.
subscribed "$T/p3" || fail "python subscribed"
id3=$(ctl approval list --json | jq -r '.[0].id')
ctl approval deny "$id3" >/dev/null
req '{"agent":"claude-code:attached","tool":"Bash","input":{"command":"rm -rf dist"}}' "$T/r4"
wait "$p3"
o=$(last "$T/p3")
is "python (admin) denies over /ws: decided" "$(jf "$o" '[.reply.op, .decided.data.decision, .decided.data.decided_by]')" '["reply","deny","python-ws"]'
stop_daemon
is "bosund stops cleanly" "$DAEMON_STATUS" 0
done_testing
