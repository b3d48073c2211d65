#!/bin/sh
# The real Claude Code CLI reaches bosun's MCP server over Streamable HTTP:
# with the http plugin on a loopback listener its --mcp-config is the run's
# mcp-http.json (type http, no bosunctl child), and both the permission
# prompt tool (mcp__bosun__approve, a call asked about and allowed with
# bosunctl) and a blocking mcp__bosun__request_input go through /mcp; an
# agent with mcp_transport: stdio keeps the bosunctl mcp server.
. "$top_srcdir/tests/integration/lib.sh"
. "$top_srcdir/tests/integration/claude_lib.sh"
BOSUN_PLUGIN_PATH="$BOSUN_PLUGIN_PATH:$top_builddir/plugins/http"
command -v curl >/dev/null || { echo "1..0 # SKIP curl is not installed"; exit 0; }

plan 20

PORT=$(/usr/bin/python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
write_config <<EOF2
  plugins: [sqlite, exec, mcp, http, claude-code]
http:
  listen: ["127.0.0.1:$PORT"]
approvals:
  allow: ["Bash(mkdir:*)", "Bash(rm:*)"]
  deny: ["Bash(rm -rf *)"]
  default: deny
agents:
$(claude_agent cc <<EOF3 | sed 's/allowed_tools: \[Bash, /allowed_tools: [/'
    approvals:
      ask: ["Bash(touch:*)"]
      timeout: 2m
EOF3
)
$(claude_agent asker </dev/null)
$(claude_agent ccstdio <<EOF3
    mcp_transport: stdio
EOF3
)
EOF2
start_daemon || exit 1
wait_for 10 grep -q "MCP over HTTP for Claude Code runs: http://127.0.0.1:$PORT/mcp" "$T/bosund.log" ||
    fail "the supervisor heard the /mcp URL"
mkdir -p "$T/work/victim"

# --- permission prompts through /mcp
run=$(ctl start cc --prompt "SCENARIO:perm DIR:$T/work")
like "the run started" "$run" '^[0-9A-Z]{26}$'
argv=$(events "$run" spawn_started | jq -c '.[0].data.argv')
like "the CLI gets the HTTP MCP config" "$argv" "\"--mcp-config=[^\"]*/runs/$run/mcp-http.json\""
like "and the approve tool as its permission prompt" "$argv" '"--permission-prompt-tool","mcp__bosun__approve"'
pending() { ctl approval list --json | jq -r '.[0].id // empty'; }
check "a request waits for a person" wait_for 90 sh -c "[ -n \"\$(\"$BOSUNCTL\" -s \"$T/run/bosund.sock\" approval list --json | jq -r '.[0].id // empty')\" ]"
id=$(pending)
is "the request shows the call" "$(ctl approval show "$id" | jq -r .input.command)" "touch $T/work/asked"
ctl approval allow "$id" >/dev/null
wait_for 90 ended "$run" || fail "the run ended" "$(ctl ps --json)"
is "the run exited" "$(runf "$run" state)" EXITED
check "the allowed calls ran" test -e "$T/work/asked" -a -d "$T/work/made"
check "the denied call did not" test -d "$T/work/victim"
calls=$(events "$run" tool_call | jq -c '[.[].data.tool]')
like "the approve calls were MCP tool calls of the run" "$calls" '"approve".*"approve".*"approve"'
like "over an HTTP session" "$(grep '/mcp session' "$T/bosund.log")" "/mcp session [A-Za-z0-9]{32} opened for run $run"
check "no bosunctl mcp relay served it" sh -c "! grep -q 'control client .*MCP session .* for run $run' '$T/bosund.log'"
like "Claude Code spoke MCP 2026-07-28 (stateless, no initialize to fall back to)" \
    "$(grep '/mcp session' "$T/bosund.log")" "opened for run $run \\([^)]*\\), stateless \\(2026-07-28\\)"

# --- a blocking question through /mcp
j=$(ctl task create --title "pick a colour" --prompt "SCENARIO:ask" --agent asker --json)
run2=$(printf '%s\n' "$j" | jq -r .run)
cli_exited() { [ "$(events "$run2" exited | jq length)" = 1 ]; }
check "the asking CLI exited after asking" wait_for 90 cli_exited
is "the run waits for input" "$(runf "$run2" state)" WAITING_INPUT
is "request_input answered the CLI over HTTP: pending" \
    "$(events "$run2" tool_result | jq -r '.[0].data.content' | jq -r '.status' 2>/dev/null)" pending
like "its session was an HTTP one" "$(grep '/mcp session' "$T/bosund.log")" "opened for run $run2"

# --- mcp_transport: stdio
run3=$(ctl start ccstdio --prompt "SCENARIO:plain")
wait_for 90 ended "$run3" || fail "the stdio run ended"
argv=$(events "$run3" spawn_started | jq -c '.[0].data.argv')
like "mcp_transport: stdio: the CLI gets mcp.json (bosunctl mcp)" "$argv" "\"--mcp-config=[^\"]*/runs/$run3/mcp.json\""
check "  whose session is relayed by bosunctl mcp" grep -q "control client .*MCP session .* for run $run3" "$T/bosund.log"
check "  in MCP 2026-07-28 too" grep -q "mcp: session .* speaks 2026-07-28 (run $run3)" "$T/bosund.log"
stop_daemon
is "bosund stops cleanly" "$DAEMON_STATUS" 0
done_testing
