#!/bin/sh
# How `bosunctl mcp` carries a session: its stdin and stdout handed over to
# bosund (SCM_RIGHTS) when they are pipes or sockets, relayed line by line
# otherwise or with --relay.  Both serve the SDK client alike; add_artifact
# paths are read by bosunctl; the session ends cleanly when stdin closes,
# when bosunctl is killed, and when the daemon stops.
. "$top_srcdir/tests/integration/lib.sh"

MCP_RUN_DIR=mcp-run-stdio
. "$top_srcdir/tests/integration/mcp_lib.sh"

idle_mcp_daemon || exit 1

j=$(ctl task create --title "stdio" --agent idle --json)
task=$(echo "$j" | jq -r .task); run=$(echo "$j" | jq -r .run)
cfg="$T/run/runs/$run/mcp.json"
wait_for 10 test -s "$cfg"
export BOSUN_SOCKET="$T/run/bosund.sock"
BOSUN_AGENT_TOKEN=$(jq -r .mcpServers.bosun.env.BOSUN_AGENT_TOKEN "$cfg"); export BOSUN_AGENT_TOKEN
BOSUN_RUN_ID=$run; export BOSUN_RUN_ID

printf 'notes from a file\n' > "$T/text.txt"
head -c 3000 /dev/urandom > "$T/blob.bin"
printf '\377\000' >> "$T/blob.bin"
base=$(ctl status --json | jq '.subscriptions')
clients=$(ctl status --json | jq '.control_clients')

handed() { grep -c "MCP session .* (stdio handed over)" "$T/bosund.log"; }
node_tap stdio_test.mjs "$cfg" handover "$T/text.txt" "$T/blob.bin"
is "the SDK client's pipes were handed over to the daemon" "$(handed)" 1
node_tap stdio_test.mjs "$cfg" relay "$T/text.txt" "$T/blob.bin"
is "--relay keeps relaying" "$(handed)" 1

for mode in handover relay; do
    is "$mode: the file's text is the artifact" "$(ctl artifact get "$task" "$mode.txt")" "notes from a file"
    ctl artifact get "$task" "$mode.bin" > "$T/$mode.bin"
    check "$mode: a binary file is stored byte for byte" cmp -s "$T/blob.bin" "$T/$mode.bin"
done
errs=$(ctl events --subject "evt.run.idle.$run.tool_call" --json | grep -c '"outcome":"error".*cannot read /nonexistent/bosun-test')
is "an unreadable path is a tool_call event with its reason, both ways" "$errs" 2
wait_for 10 sh -c "[ \$(\"$BOSUNCTL\" -s \"$BOSUN_SOCKET\" status --json | jq '.subscriptions') -le $base ]"
is "closed sessions leave no subscription" "$(ctl status --json | jq '.subscriptions')" "$base"
is "nor a control client" "$(ctl status --json | jq '.control_clients')" "$clients"

# --- stdin closes: a clean exit, both ways
INIT='{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-11-25","capabilities":{},"clientInfo":{"name":"sh","version":"1"}}}'
PING='{"jsonrpc":"2.0","id":2,"method":"ping"}'
printf '%s\n%s\n' "$INIT" "$PING" > "$T/two.jsonl"
n0=$(handed)
{ timeout 20 "$BOSUNCTL" mcp < "$T/two.jsonl"; echo $? > "$T/rc.pipe"; } | cat > "$T/out.pipe"
like "stdin a file: both answered" "$(tr '\n' ' ' < "$T/out.pipe")" '"id":1,"result".*"id":2,"result":\{\}'
is "stdin a file: exit 0 at its end" "$(cat "$T/rc.pipe")" 0
is "stdin a file: relayed, not handed over" "$(handed)" "$n0"
cat "$T/two.jsonl" | timeout 20 "$BOSUNCTL" mcp > "$T/out.file"; rc=$?
is "stdout a file: exit 0" "$rc" 0
is "stdout a file: relayed, not handed over" "$(handed)" "$n0"
like "stdout a file: both answered" "$(tr '\n' ' ' < "$T/out.file")" '"id":1,"result".*"id":2,"result":\{\}'
cat "$T/two.jsonl" | { timeout 20 "$BOSUNCTL" mcp; echo $? > "$T/rc.hand"; } | cat > "$T/out.hand"
is "both pipes are handed over" "$(handed)" $((n0 + 1))
like "handed over: both answered" "$(tr '\n' ' ' < "$T/out.hand")" '"id":1,"result".*"id":2,"result":\{\}'
is "handed over: exit 0 when stdin closes" "$(cat "$T/rc.hand")" 0
is "nothing but JSON-RPC on stdout" "$(grep -vc '^{"jsonrpc":"2.0"' "$T/out.hand")" 0

# --- bosunctl killed: the daemon lets go of the agent's pipes
mkfifo "$T/in" "$T/out"
"$BOSUNCTL" mcp < "$T/in" > "$T/out" 2>/dev/null & # killed below
BPID=$!
timeout 60 cat "$T/out" > "$T/killed.out" &
CATPID=$!
exec 3<>"$T/in"
printf '%s\n' "$INIT" >&3
wait_for 10 grep -q '"id":1' "$T/killed.out"
like "a session over FIFOs answers" "$(cat "$T/killed.out")" '"id":1,"result"'
kill -9 $BPID
wait $BPID 2>/dev/null
check "killing bosunctl ends the session: the agent's stdout reaches end of file" wait_for 10 sh -c "! kill -0 $CATPID 2>/dev/null"
exec 3>&-
wait_for 10 sh -c "[ \$(\"$BOSUNCTL\" -s \"$BOSUN_SOCKET\" status --json | jq '.control_clients') -le $clients ]"
is "and its control connection" "$(ctl status --json | jq '.control_clients')" "$clients"

# --- the control socket refuses a handover without descriptors
cat > "$M/nofds.mjs" <<'EOF2'
import { connect } from 'node:net';
const s = connect(process.argv[2], () => s.write(JSON.stringify({ id: 1, op: 'mcp', token: process.argv[3], stdio: true }) + '\n'));
s.on('data', (d) => { process.stdout.write(d); s.end(); });
EOF2
like "\"stdio\" without passed descriptors: a clear error" "$(cd "$M" && timeout 10 node nofds.mjs "$BOSUN_SOCKET" "$BOSUN_AGENT_TOKEN")" '"ok":false,"error":\{"code":"bad_request","message":"\\"stdio\\" needs the agent.s stdin and stdout passed'

# --- the daemon stops under an open session: bosunctl says so and exits 1
timeout 60 "$BOSUNCTL" mcp < "$T/in" 2>"$T/gone.err" | cat > "$T/gone.out" &
exec 3<>"$T/in"
printf '%s\n' "$INIT" >&3
wait_for 10 grep -q '"id":1' "$T/gone.out"
stop_daemon
is "daemon stops: exit 0" "$DAEMON_STATUS" 0
wait_for 10 grep -q "closed the session" "$T/gone.err"
like "bosunctl mcp tells why on stderr" "$(cat "$T/gone.err")" "bosunctl mcp: the daemon closed the session"
exec 3>&-
wait
echo "1..$_n"
done_testing
