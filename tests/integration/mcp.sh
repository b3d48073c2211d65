#!/bin/sh
# Agents talk to bosun over MCP (stdio): the official MCP TypeScript SDK
# client spawns `bosunctl mcp` from the MCP config bosund wrote for a real
# run, calls every tool, and checks the events they produce; blocking input
# requests resume the agent with the answer; tokens are checked.
. "$top_srcdir/tests/integration/lib.sh"

MCP_RUN_DIR=mcp-run
. "$top_srcdir/tests/integration/mcp_lib.sh"

config() {
    write_config <<EOF2
  plugins: [sqlite, exec, mcp]
  agent_token_ttl: $1
agents:
  idle:
    command: [sleep, "3600"]
    start_secs: 0
    instances: 3
  asker:
    command: [node, "$M/agent_ask.mjs"]
    start_secs: 0
    restart: on-failure
    max_restarts: 0
EOF2
}
config 1h
start_daemon || exit 1

task_new() { ctl task create --title "$1" --agent "$2" --json; }
j=$(task_new "MCP test task" idle); taskA=$(echo "$j" | jq -r .task); runA=$(echo "$j" | jq -r .run)
j=$(task_new "Other task" idle); taskB=$(echo "$j" | jq -r .task); runB=$(echo "$j" | jq -r .run)
other=$(ctl request cmd.input.create "{\"run\":\"$runB\",\"question\":\"for task B\"}" --json | jq -r .data.input)
cfgA="$T/run/runs/$runA/mcp.json"; cfgB="$T/run/runs/$runB/mcp.json"
check "bosund wrote the run's MCP config" test -s "$cfgA"
is "the MCP config is private (0600)" "$(stat -c %a "$cfgA")" 600
like "the config runs bosunctl mcp with the socket and the token" "$(jq -c .mcpServers.bosun "$cfgA")" '"args":\["mcp"\],"env":\{"BOSUN_SOCKET":"[^"]+","BOSUN_RUN_ID":"[0-9A-Z]{26}","BOSUN_AGENT_TOKEN":"bat_[A-Za-z0-9_-]{43}"\}'
tok=$(jq -r .mcpServers.bosun.env.BOSUN_AGENT_TOKEN "$cfgA")
like "a token was read from the MCP config" "$tok" '^bat_[A-Za-z0-9_-]{43}$'
stored=$(ctl events --json)
like "the stored events include the token's issue" "$stored" "\"subject\":\"evt\\.run\\.idle\\.$runA\\.token_issued\""
unlike "the token is in no stored event" "$stored" "$tok"
like "only its hash is" "$(ctl events --subject "evt.run.idle.$runA.token_issued" --json)" '"hash":"[0-9a-f]{64}"'

# Answer the question the client waits for, as a human would.
answer_when "Answer me within 10 s" "here you go"
printf 'artifact from a file\n' > "$T/art.txt"
ARTIFACT_FILE="$T/art.txt" node_tap client_test.mjs "$cfgA" "$taskA" "$cfgB" "$other"

# --- what the calls left behind
calls=$(ctl events --subject "evt.run.idle.$runA.tool_call" --json)
check "every tools/call is an event on the run ($(echo "$calls" | wc -l) events)" test "$(echo "$calls" | wc -l)" -ge 14
like "tool_call events carry tool, outcome and duration" "$(echo "$calls" | head -1)" '"tool":"[a-z_]+".*"outcome":"(ok|error)".*"duration_ms":'
like "secret-looking argument values are redacted" "$(echo "$calls" | grep log_event)" '"api_key":"\(redacted\)"'
stored=$(ctl events --json)
like "the stored events include the redacted call" "$stored" '"tool":"log_event".*"api_key":"\(redacted\)"'
unlike "the secret itself is stored nowhere" "$stored" "sk-secret"
like "report_status is an event" "$(ctl events --subject "evt.run.idle.$runA.status" --json)" '"state":"working","message":"reading the code"'
is "artifact history: notes.md has 2 versions" "$(ctl artifact list "$taskA" --json | jq -r '.[] | select(.name=="notes.md") | .versions')" 2
is "artifact get --version 1" "$(ctl artifact get "$taskA" notes.md --version 1)" "# v1"
is "artifact get: latest" "$(ctl artifact get "$taskA" notes.md)" "# v2"
is "artifact from a path" "$(ctl artifact get "$taskA" from-file.txt)" "artifact from a file"
like "task show lists the linked PR" "$(ctl task show "$taskA")" "https://github.com/acme/widgets/pull/42"
like "task show lists questions and answers" "$(ctl task show "$taskA")" "answer: here you go"
like "input requests are events on the task" "$(ctl events --subject 'evt.input.>' --json | grep "\"task\":\"$taskA\"" | head -1)" '"question"'

node_tap raw_test.mjs "$cfgA"

# --- blocking request: the agent exits, is resumed with the answer
j=$(task_new "Ask a human" asker); taskC=$(echo "$j" | jq -r .task); run1=$(echo "$j" | jq -r .run)
wait_for 30 stored_state_is "$run1" WAITING_INPUT
is "blocking request: the run waits (WAITING_INPUT)" "$(stored_run "$run1" state)" WAITING_INPUT
like "the agent was told the request is pending" "$(ctl logs "$run1")" "^asked request=[0-9A-Z]{26} status=pending"
is "its exit was not a failure: not restarted" "$(stored_run "$run1" restarts)" 0
req=$(ctl input list --pending --json | jq -r '.[] | select(.question=="Deploy to production?") | .id')
row=$(ctl input list --pending --json | jq -c '.[] | select(.question=="Deploy to production?")')
like "input list --json rows: id, task, run, question, status" "$row" "\"task\":\"$taskC\".*\"run\":\"$run1\".*\"status\":\"pending\""
like "task list shows the pending request" "$(ctl task list --json | jq -c ".[] | select(.id==\"$taskC\")")" '"has_pending_requests":true'
out=$(ctl input answer "$req" --choice 1)
run2=$(echo "$out" | sed -n 's/.*resumed as run \([0-9A-Z]*\).*/\1/p')
like "answering resumes the agent" "$out" "answered $req; resumed as run [0-9A-Z]{26}"
wait_for 30 stored_state_is "$run2" EXITED
is "resumed run with the answer (env and file)" "$(ctl logs "$run2")" "resumed answer=yes request=$req file=yes"
is "resumed run is linked to the previous one" "$(stored_run "$run2" resumed_from)" "$run1"
is "same task" "$(stored_run "$run2" task)" "$taskC"
like "the first run ended as resumed" "$(stored_run "$run1" reason)" "resumed as run $run2"
is "the request is answered" "$(ctl request cmd.store.inputs "{\"input\":\"$req\"}" --json | jq -r '.data.inputs[0].status')" answered

# --- a client that disconnects mid-call leaves nothing behind
base=$(ctl status --json | jq '.subscriptions')
clients=$(ctl status --json | jq '.control_clients')
cat > "$M/disconnect.mjs" <<'EOF2'
import { readFileSync } from 'node:fs';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport, getDefaultEnvironment } from '@modelcontextprotocol/sdk/client/stdio.js';
const s = JSON.parse(readFileSync(process.argv[2], 'utf8')).mcpServers.bosun;
const c = new Client({ name: 'quitter', version: '1' });
await c.connect(new StdioClientTransport({ command: s.command, args: s.args, env: { ...getDefaultEnvironment(), ...s.env } }));
c.callTool({ name: 'request_input', arguments: { question: 'never answered', wait_seconds: 60 } }).catch(() => {});
setTimeout(() => process.exit(0), 500);
EOF2
(cd "$M" && timeout 20 node disconnect.mjs "$cfgA")
wait_for 10 sh -c "[ \$(\"$BOSUNCTL\" -s \"$T/run/bosund.sock\" status --json | jq '.subscriptions') -le $base ]"
is "after a disconnect mid-call: no subscription left" "$(ctl status --json | jq '.subscriptions')" "$base"
is "and no control client left" "$(ctl status --json | jq '.control_clients')" "$clients"
like "the cancelled call is recorded" "$(ctl events --subject "evt.run.idle.$runA.tool_call" --json | grep 'never answered')" '"outcome":"cancelled"'

# --- the tool set changes on reload: connected clients are told
ready="$T/lc.ready"; reloaded="$T/lc.reloaded"
TAP_OFFSET=$_n timeout 120 node "$M/list_changed_test.mjs" "$cfgA" "$ready" "$reloaded" >"$T/lc.tap" 2>"$T/node.err" &
LCPID=$!
wait_for 20 test -e "$ready"
printf 'mcp:\n  tools: [get_task, report_status]\n' >> "$T/bosun.yaml"
ctl reload >/dev/null
touch "$reloaded"
wait $LCPID
grep -v '^1\.\.' "$T/lc.tap"
if [ -s "$TAP_COUNT_FILE" ]; then
    read -r _n _f < "$TAP_COUNT_FILE"; _failed=$((_failed + _f)); rm -f "$TAP_COUNT_FILE"
else
    fail "list_changed_test.mjs ran to the end" "$(tail -20 "$T/node.err")"
fi

# --- an expired token
stop_daemon
config 1s
start_daemon || exit 1
runE=$(task_new "expiring" idle | jq -r .run)
sleep 2
out=$(printf '%s\n' '{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-11-25","capabilities":{},"clientInfo":{"name":"t","version":"1"}}}' |
      BOSUN_SOCKET="$T/run/bosund.sock" BOSUN_AGENT_TOKEN=$(jq -r .mcpServers.bosun.env.BOSUN_AGENT_TOKEN "$T/run/runs/$runE/mcp.json") "$BOSUNCTL" mcp 2>/dev/null)
like "an expired token: JSON-RPC error, nothing done" "$out" '"id":1,"error":\{"code":-32001,"message":"unauthorized: the agent token has expired"'
stop_daemon
is "daemon stops: exit 0" "$DAEMON_STATUS" 0
echo "1..$_n"
done_testing
