#!/bin/sh
# MCP Streamable HTTP at /mcp: with the http plugin on a plain loopback
# listener bosund writes a run's mcp-http.json (type http, the URL, the
# agent token as a Bearer header, 0600) beside mcp.json; the official
# SDK's StreamableHTTPClientTransport initializes, lists and calls tools
# through it, a blocking request_input answered by bosunctl streams its
# progress; tokens other than the run's are refused, sessions are bound to
# their token, DELETE ends one, oversize bodies get 413.  mcp_transport:
# stdio writes no HTTP config, http without a listener is a start error.
. "$top_srcdir/tests/integration/lib.sh"
MCP_RUN_DIR=mcp-http-run
. "$top_srcdir/tests/integration/mcp_lib.sh"
BOSUN_PLUGIN_PATH="$BOSUN_PLUGIN_PATH:$top_builddir/plugins/http"
command -v curl >/dev/null || { echo "1..0 # SKIP curl is not installed"; exit 0; }

PORT=$(/usr/bin/python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
U="http://127.0.0.1:$PORT"
write_config <<EOF2
  plugins: [sqlite, exec, mcp, http]
http:
  listen: ["127.0.0.1:$PORT"]
mcp:
  max_message_bytes: 64KiB
  progress_interval: 0.2s
agents:
  idle:
    command: [sleep, "3600"]
    start_secs: 0
  stdio_only:
    command: [sleep, "3600"]
    start_secs: 0
    mcp_transport: stdio
EOF2
start_daemon || exit 1
wait_for 10 curl -s -o /dev/null "$U/health" || fail "the listener is up"
wait_for 10 grep -q "MCP over HTTP for Claude Code runs: $U/mcp" "$T/bosund.log"
like "the supervisor heard the /mcp URL" "$(cat "$T/bosund.log")" "MCP over HTTP for Claude Code runs: $U/mcp"

j=$(ctl task create --title "HTTP MCP task" --agent idle --json)
task=$(echo "$j" | jq -r .task); run=$(echo "$j" | jq -r .run)
cfg="$T/run/runs/$run/mcp-http.json"
check "bosund wrote the run's HTTP MCP config" test -s "$cfg"
is "  private (0600)" "$(stat -c %a "$cfg")" 600
check "  beside the stdio one" test -s "$T/run/runs/$run/mcp.json"
tok=$(jq -r .mcpServers.bosun.env.BOSUN_AGENT_TOKEN "$T/run/runs/$run/mcp.json")
is "  with the same agent token" "$(jq -r .mcpServers.bosun.headers.Authorization "$cfg")" "Bearer $tok"
unlike "the token is in no stored event" "$(ctl events --json)" "$tok"

ADMIN=$(ctl request cmd.auth.token.create '{"name":"mcp-http"}' --json | jq -r '.data.secret // empty')
SHARE=$(curl -s -H "Authorization: Bearer $ADMIN" -H 'Content-Type: application/json' \
    -d "{\"task\":\"$task\"}" "$U/api/v1/shares" | jq -r '.token // empty')
check "an admin token and a share token to be refused" test -n "$ADMIN" -a -n "$SHARE"

# The human's answer to the blocking question, after a few progress beats.
answer_when "HTTP: answer me" "from bosunctl"
node_tap http_test.mjs "$cfg" "$task" "$ADMIN" "$SHARE" 65536

like "the report_status call is an event of the run" "$(ctl events --subject "evt.run.idle.$run.status" --json)" '"message":"over http"'
like "the HTTP sessions are logged opened and closed" "$(grep '/mcp session' "$T/bosund.log")" "closed: ended by the client"
unlike "the log holds no agent token" "$(cat "$T/bosund.log")" "$tok"

# Streams still open when the daemon stops: a waiting call's event stream
# and a GET stream, both with curl (the exit status below says whether the
# stop freed them: a sanitizer build fails it otherwise).
mcp_curl() { curl -s -H "Authorization: Bearer $tok" -H 'Content-Type: application/json' \
    -H 'Accept: application/json, text/event-stream' "$@"; }
mcp_curl -D "$T/init.h" -o /dev/null -d '{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-11-25","capabilities":{},"clientInfo":{"name":"curl","version":"1"}}}' "$U/mcp"
sid=$(sed -n 's/^[Mm]cp-[Ss]ession-[Ii]d: *\([A-Za-z0-9]*\).*/\1/p' "$T/init.h")
like "curl opened a session" "$sid" '^[A-Za-z0-9]{32}$'
mcp_curl -N -H "Mcp-Session-Id: $sid" -o "$T/wait.sse" -d '{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"request_input","arguments":{"question":"never answered","wait_seconds":120},"_meta":{"progressToken":"p1"}}}' "$U/mcp" &
mcp_curl -N -X GET -H "Mcp-Session-Id: $sid" -o "$T/get.sse" "$U/mcp" &
wait_for 10 grep -q '"progressToken":"p1"' "$T/wait.sse"
like "a waiting call's progress streams as server-sent events" "$(cat "$T/wait.sse")" '^data: \{"jsonrpc":"2.0","method":"notifications/progress","params":\{"progressToken":"p1"'

j=$(ctl task create --title "stdio only" --agent stdio_only --json); run2=$(echo "$j" | jq -r .run)
check "mcp_transport: stdio writes only mcp.json" test -s "$T/run/runs/$run2/mcp.json" -a ! -e "$T/run/runs/$run2/mcp-http.json"

# --- validation and the start error
cat >> "$T/bosun.yaml" <<EOF2
  bad:
    command: [sleep, "3600"]
    mcp_transport: carrier-pigeon
EOF2
out=$("$BOSUND" --check-config -c "$T/bosun.yaml" 2>&1)
like "a bad mcp_transport is refused with FILE:LINE:COL" "$out" "bosun.yaml:[0-9]+:[0-9]+: .*mcp_transport.*'carrier-pigeon' is not one of auto, stdio, http"
stop_daemon
is "bosund stops cleanly" "$DAEMON_STATUS" 0
write_config <<EOF2
  plugins: [sqlite, exec, mcp]
agents:
  wants_http:
    command: [sleep, "3600"]
    start_secs: 0
    mcp_transport: http
EOF2
start_daemon || exit 1
out=$(ctl start wants_http 2>&1)
like "mcp_transport: http without a /mcp listener: a clear start error" "$out" "mcp_transport is http, but no plain-HTTP loopback listener serves /mcp"
stop_daemon
echo "1..$_n"
done_testing
