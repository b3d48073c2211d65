#!/bin/sh
# MCP 2026-07-28, the stateless revision, beside the 2025 ones, on both
# transports.  Over HTTP with curl: server/discover, tools/list and
# tools/call with no initialize and no Mcp-Session-Id, results that say
# resultType (and ttlMs/cacheScope for the cacheable ones); the headers
# checked against the body (400, -32020); an unknown revision 400, -32022
# with the supported ones; the envelope required; no GET stream; two
# requests of one token under the same id at once, each answered under
# its own, progress under its own token, notifications/cancelled by the
# client's id; one plugin session for all of a token's requests.  Over
# stdio with bosunctl mcp: the same answers, and a 2025 initialize still
# served in the same session.
. "$top_srcdir/tests/integration/lib.sh"
MCP_RUN_DIR=mcp-stateless-run
. "$top_srcdir/tests/integration/mcp_lib.sh"
BOSUN_PLUGIN_PATH="$BOSUN_PLUGIN_PATH:$top_builddir/plugins/http"
command -v curl >/dev/null || { echo "1..0 # SKIP curl is not installed"; exit 0; }

PORT=$(/usr/bin/python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
U="http://127.0.0.1:$PORT/mcp"
write_config <<EOF2
  plugins: [sqlite, exec, mcp, http]
http:
  listen: ["127.0.0.1:$PORT"]
mcp:
  progress_interval: 0.2s
agents:
  idle:
    command: [sleep, "3600"]
    start_secs: 0
EOF2
start_daemon || exit 1
wait_for 10 curl -s -o /dev/null "http://127.0.0.1:$PORT/health" || fail "the listener is up"

j=$(ctl task create --title "stateless MCP" --agent idle --json)
task=$(echo "$j" | jq -r .task); run=$(echo "$j" | jq -r .run)
wait_for 10 test -s "$T/run/runs/$run/mcp.json"
tok=$(jq -r .mcpServers.bosun.env.BOSUN_AGENT_TOKEN "$T/run/runs/$run/mcp.json")
V=2026-07-28
META='"_meta":{"io.modelcontextprotocol/protocolVersion":"'$V'","io.modelcontextprotocol/clientCapabilities":{},"io.modelcontextprotocol/clientInfo":{"name":"curl","version":"1"}}'

# post METHOD BODY [curl args...]: a POST with the revision's headers (PV
# the MCP-Protocol-Version when set); the body, a newline, the status.
post() {
    _m=$1; _b=$2; shift 2
    curl -s -w '\n%{http_code}' -H "Authorization: Bearer $tok" -H 'Content-Type: application/json' \
        -H 'Accept: application/json, text/event-stream' -H "MCP-Protocol-Version: ${PV:-$V}" \
        -H "Mcp-Method: $_m" "$@" -d "$_b" "$U"
}
body() { sed '$d'; }
code() { tail -n 1; }

out=$(post server/discover '{"jsonrpc":"2.0","id":"d1","method":"server/discover","params":{'"$META"'}}' -D "$T/discover.h")
is "server/discover: 200" "$(echo "$out" | code)" 200
r=$(echo "$out" | body)
is "  the client's id" "$(echo "$r" | jq -r .id)" d1
is "  resultType complete" "$(echo "$r" | jq -r .result.resultType)" complete
is "  the stateless revision first, the 2025 ones after" \
    "$(echo "$r" | jq -c '.result.supportedVersions[0:3]')" '["2026-07-28","2025-11-25","2025-06-18"]'
is "  tools, no listChanged (nothing can tell a stateless client)" "$(echo "$r" | jq -c .result.capabilities)" '{"tools":{}}'
is "  serverInfo, in _meta too" "$(echo "$r" | jq -c '[.result.serverInfo.name, .result._meta["io.modelcontextprotocol/serverInfo"].name]')" '["bosun","bosun"]'
like "  instructions name the run" "$(echo "$r" | jq -r .result.instructions)" "run $run"
is "  cacheable, privately" "$(echo "$r" | jq -c '[.result.ttlMs > 0, .result.cacheScope]')" '[true,"private"]'
unlike_empty_ok "  no Mcp-Session-Id" "$(cat "$T/discover.h")" '[Mm]cp-[Ss]ession-[Ii]d'

r=$(post tools/list '{"jsonrpc":"2.0","id":1,"method":"tools/list","params":{'"$META"'}}' | body)
is "tools/list without initialize" "$(echo "$r" | jq -c '[.result.resultType, .result.ttlMs, .result.cacheScope]')" '["complete",0,"private"]'
like "  lists the tools" "$(echo "$r" | jq -c '[.result.tools[].name]')" '"report_status"'

r=$(post tools/call '{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"report_status","arguments":{"state":"working","message":"stateless hello"},'"$META"'}}' -H 'Mcp-Name: report_status' | body)
is "tools/call: resultType complete, not an error" "$(echo "$r" | jq -c '[.id, .result.resultType, .result.isError]')" '[2,"complete",false]'
wait_for 10 sh -c "\"$BOSUNCTL\" -s \"$T/run/bosund.sock\" events --subject 'evt.run.idle.$run.status' --json | grep -q 'stateless hello'"
like "  the call is the run's event" "$(ctl events --subject "evt.run.idle.$run.status" --json)" '"message":"stateless hello"'
# Mcp-Name in its base64 form ("=?base64?...?=") is the same name.
r=$(post tools/call '{"jsonrpc":"2.0","id":3,"method":"tools/call","params":{"name":"get_task","arguments":{},'"$META"'}}' -H "Mcp-Name: =?base64?$(printf get_task | base64)?=" | body)
is "Mcp-Name in base64 is accepted" "$(echo "$r" | jq -c '[.result.resultType, .result.structuredContent.task.id]')" "[\"complete\",\"$task\"]"

# --- the edge: headers against the body, the revision, the envelope
hm() { echo "$1" | tr '\n' ' '; }
out=$(curl -s -w '\n%{http_code}' -H "Authorization: Bearer $tok" -H 'Content-Type: application/json' \
    -H 'Accept: application/json, text/event-stream' -H 'Mcp-Method: tools/list' \
    -d '{"jsonrpc":"2.0","id":4,"method":"tools/list","params":{'"$META"'}}' "$U")
is "no MCP-Protocol-Version: 400, -32020" "$(echo "$out" | code) $(echo "$out" | body | jq .error.code)" "400 -32020"
out=$(post tools/list '{"jsonrpc":"2.0","id":5,"method":"tools/call","params":{"name":"get_task",'"$META"'}}' -H 'Mcp-Name: get_task')
is "Mcp-Method not the body's: 400, -32020" "$(echo "$out" | code) $(echo "$out" | body | jq .error.code)" "400 -32020"
like "  says which header" "$(echo "$out" | body | jq -r .error.message)" "Mcp-Method"
out=$(post tools/call '{"jsonrpc":"2.0","id":6,"method":"tools/call","params":{"name":"get_task",'"$META"'}}' -H 'Mcp-Name: report_status')
is "Mcp-Name not the body's: 400, -32020" "$(echo "$out" | code) $(echo "$out" | body | jq .error.code)" "400 -32020"
out=$(post tools/call '{"jsonrpc":"2.0","id":7,"method":"tools/call","params":{"name":"get_task",'"$META"'}}')
is "no Mcp-Name for a tool call: 400, -32020" "$(echo "$out" | code) $(echo "$out" | body | jq .error.code)" "400 -32020"
out=$(PV=2027-01-01 post tools/list '{"jsonrpc":"2.0","id":8,"method":"tools/list","params":{"_meta":{"io.modelcontextprotocol/protocolVersion":"2027-01-01","io.modelcontextprotocol/clientCapabilities":{}}}}')
is "a revision to come: 400, -32022" "$(echo "$out" | code) $(echo "$out" | body | jq .error.code)" "400 -32022"
is "  naming what was asked and what is spoken" "$(echo "$out" | body | jq -c '[.id, .error.data.requested, .error.data.supported[0], (.error.data.supported | index("2025-11-25") != null)]')" '[8,"2027-01-01","2026-07-28",true]'
out=$(post tools/list '{"jsonrpc":"2.0","id":9,"method":"tools/list","params":{"_meta":{"io.modelcontextprotocol/protocolVersion":"'$V'"}}}')
is "no clientCapabilities: 400, -32602" "$(echo "$out" | code) $(echo "$out" | body | jq .error.code)" "400 -32602"
like "  naming the key" "$(echo "$out" | body | jq -r .error.message)" "clientCapabilities"
out=$(post tools/list '{"jsonrpc":"2.0","id":10,"method":"tools/list"}')
is "the revision's header on a body without _meta: 400, -32602" "$(echo "$out" | code) $(echo "$out" | body | jq .error.code)" "400 -32602"
code=$(curl -s -o /dev/null -w '%{http_code}' -X GET -H "Authorization: Bearer $tok" -H 'Accept: text/event-stream' -H "MCP-Protocol-Version: $V" "$U")
is "GET in the stateless revision: 405" "$code" 405
r=$(post initialize '{"jsonrpc":"2.0","id":11,"method":"initialize","params":{'"$META"',"protocolVersion":"2025-11-25","capabilities":{},"clientInfo":{"name":"x","version":"1"}}}' | body)
is "initialize under the stateless revision: method not found" "$(echo "$r" | jq .error.code)" -32601
r=$(post ping '{"jsonrpc":"2.0","id":12,"method":"ping","params":{'"$META"'}}' | body)
is "ping too (removed in 2026-07-28)" "$(echo "$r" | jq .error.code)" -32601
r=$(curl -s -H "Authorization: Bearer nottheagenttoken" -H 'Content-Type: application/json' \
    -H 'Accept: application/json, text/event-stream' -H "MCP-Protocol-Version: $V" -H 'Mcp-Method: tools/list' \
    -w '\n%{http_code}' -d '{"jsonrpc":"2.0","id":1,"method":"tools/list","params":{'"$META"'}}' "$U")
is "a token that is not an agent's: 401" "$(echo "$r" | code)" 401

# --- one token, the same id twice at once: each answered under its own
answer_when "stateless: answer me" "from bosunctl"
post tools/call '{"jsonrpc":"2.0","id":7,"method":"tools/call","params":{"name":"request_input","arguments":{"question":"stateless: answer me","wait_seconds":60},"_meta":{"progressToken":"tok-a","io.modelcontextprotocol/protocolVersion":"'$V'","io.modelcontextprotocol/clientCapabilities":{}}}}' \
    -N -H 'Mcp-Name: request_input' > "$T/wait.out" &
WAITPID=$!
wait_for 10 grep -q '"progressToken":"tok-a"' "$T/wait.out"
r=$(post tools/call '{"jsonrpc":"2.0","id":7,"method":"tools/call","params":{"name":"get_task","arguments":{},'"$META"'}}' -H 'Mcp-Name: get_task' | body)
is "a second request under id 7 while the first waits: answered, id 7" "$(echo "$r" | jq -c '[.id, .result.resultType]')" '[7,"complete"]'
wait $WAITPID
like "the waiting call's progress comes under the client's token" "$(cat "$T/wait.out")" 'data: \{"jsonrpc":"2.0","method":"notifications/progress","params":\{"progressToken":"tok-a"'
like "  and its answer under id 7, with the human's words" "$(grep '"result"' "$T/wait.out")" '"id":7,"result":\{"resultType":"complete".*from bosunctl'

# --- notifications/cancelled by the client's id
post tools/call '{"jsonrpc":"2.0","id":"c1","method":"tools/call","params":{"name":"request_input","arguments":{"question":"stateless: never answered","wait_seconds":60},'"$META"'}}' \
    -H 'Mcp-Name: request_input' > "$T/cancel.out" &
CPID=$!
wait_for 10 sh -c "\"$BOSUNCTL\" -s \"$T/run/bosund.sock\" input list --pending --json | grep -q 'never answered'"
code=$(post notifications/cancelled '{"jsonrpc":"2.0","method":"notifications/cancelled","params":{"requestId":"c1","reason":"the user pressed Esc",'"$META"'}}' -o /dev/null | code)
is "notifications/cancelled: 202" "$code" 202
wait_for 10 sh -c "\"$BOSUNCTL\" -s \"$T/run/bosund.sock\" events --subject 'evt.run.idle.$run.tool_call' --json | grep -q 'the user pressed Esc'"
like "  the call with the client's id c1 is cancelled, with the reason" "$(ctl events --subject "evt.run.idle.$run.tool_call" --json)" '"outcome":"cancelled".*the user pressed Esc'
kill "$CPID" 2>/dev/null; wait "$CPID" 2>/dev/null

is "one plugin session served all of the token's stateless requests" \
    "$(grep -c '/mcp session .* stateless (2026-07-28)' "$T/bosund.log")" 1

# --- stdio, through bosunctl mcp
export BOSUN_SOCKET="$T/run/bosund.sock" BOSUN_AGENT_TOKEN="$tok" BOSUN_RUN_ID="$run"
{
    echo '{"jsonrpc":"2.0","id":1,"method":"server/discover","params":{'"$META"'}}'
    echo '{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"get_task","arguments":{},'"$META"'}}'
    echo '{"jsonrpc":"2.0","id":3,"method":"tools/list","params":{"_meta":{"io.modelcontextprotocol/protocolVersion":"2025-01-01","io.modelcontextprotocol/clientCapabilities":{}}}}'
    echo '{"jsonrpc":"2.0","id":4,"method":"tools/list","params":{"_meta":{"io.modelcontextprotocol/protocolVersion":7}}}'
    echo '{"jsonrpc":"2.0","id":5,"method":"server/discover"}'
    echo '{"jsonrpc":"2.0","id":6,"method":"initialize","params":{"protocolVersion":"2025-11-25","capabilities":{},"clientInfo":{"name":"sh","version":"1"}}}'
} > "$T/stdio.in"
timeout 20 "$BOSUNCTL" mcp < "$T/stdio.in" > "$T/stdio.out"
is "stdio: six answers" "$(wc -l < "$T/stdio.out")" 6
a() { jq -c "select(.id == $1) | $2" "$T/stdio.out"; }
is "stdio: server/discover" "$(a 1 '[.result.resultType, .result.supportedVersions[0], .result.serverInfo.name]')" '["complete","2026-07-28","bosun"]'
is "stdio: tools/call without initialize" "$(a 2 '[.result.resultType, .result.structuredContent.task.id]')" "[\"complete\",\"$task\"]"
is "stdio: an unknown revision, -32022 with the supported ones" "$(a 3 '[.error.code, .error.data.requested, .error.data.supported[0]]')" '[-32022,"2025-01-01","2026-07-28"]'
is "stdio: a revision that is not a string, -32602" "$(a 4 .error.code)" -32602
is "stdio: server/discover without _meta, -32602" "$(a 5 .error.code)" -32602
is "stdio: a 2025 initialize in the same session still works" "$(a 6 .result.protocolVersion)" '"2025-11-25"'

stop_daemon
echo "1..$_n"
done_testing
