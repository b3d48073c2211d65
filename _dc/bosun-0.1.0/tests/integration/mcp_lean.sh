#!/bin/sh
# bosun-mcp, the MCP server bosund writes into every run's mcp.json by
# default: `bosunctl mcp` without libbosun, libcrypto, libyaml, libjwt and
# libev mapped (an agent's CLI keeps one per session for the whole run).
# The official SDK client's sessions through it, handed over and relayed;
# a clear JSON-RPC error without a socket or a daemon; usage errors.
. "$top_srcdir/tests/integration/lib.sh"

MCP_RUN_DIR=mcp-run-lean
. "$top_srcdir/tests/integration/mcp_lib.sh"
MCP="$top_builddir/bosun-mcp"

write_config <<EOF2
  plugins: [sqlite, exec, mcp]
agents:
  idle:
    command: [sleep, "3600"]
    start_secs: 0
EOF2
# The default mcp_command is the installed bosun-mcp; the tests name the
# built one.
sed -i "s|^  mcp_command: .*|  mcp_command: $MCP|" "$T/bosun.yaml"
start_daemon || exit 1

j=$(ctl task create --title "lean" --agent idle --json)
task=$(echo "$j" | jq -r .task); run=$(echo "$j" | jq -r .run)
cfg="$T/run/runs/$run/mcp.json"
wait_for 10 test -s "$cfg"
is "mcp.json runs bosun-mcp mcp" "$(jq -c '.mcpServers.bosun | [.command, .args]' "$cfg")" "[\"$MCP\",[\"mcp\"]]"

printf 'notes from a file\n' > "$T/text.txt"
head -c 3000 /dev/urandom > "$T/blob.bin"
handed() { grep -c "MCP session .* (stdio handed over)" "$T/bosund.log"; }
node_tap stdio_test.mjs "$cfg" handover "$T/text.txt" "$T/blob.bin"
is "the SDK client's pipes were handed over to the daemon" "$(handed)" 1
node_tap stdio_test.mjs "$cfg" relay "$T/text.txt" "$T/blob.bin"
is "--relay after mcp keeps relaying" "$(handed)" 1
is "add_artifact's file was read by bosun-mcp" "$(ctl artifact get "$task" handover.txt)" "notes from a file"

# A session held open on FIFOs: what the process maps, and its peak.
export BOSUN_SOCKET="$T/run/bosund.sock"
BOSUN_AGENT_TOKEN=$(jq -r .mcpServers.bosun.env.BOSUN_AGENT_TOKEN "$cfg"); export BOSUN_AGENT_TOKEN
BOSUN_RUN_ID=$run; export BOSUN_RUN_ID
INIT='{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-11-25","capabilities":{},"clientInfo":{"name":"sh","version":"1"}}}'
mkfifo "$T/in" "$T/out"
"$MCP" mcp < "$T/in" > "$T/out" 2>"$T/lean.err" &
MPID=$!
timeout 60 cat "$T/out" > "$T/lean.out" &
CATPID=$!
exec 3<>"$T/in"
printf '%s\n' "$INIT" >&3
wait_for 10 grep -q '"id":1' "$T/lean.out"
like "a session answers initialize" "$(cat "$T/lean.out")" '"id":1,"result":\{.*"serverInfo":\{"name":"bosun"'
maps=$(awk 'NF >= 6 { print $6 }' "/proc/$MPID/maps" 2>/dev/null | sort -u)
like "it is running (libjansson mapped)" "$maps" 'libjansson'
unlike "it maps no libbosun, libcrypto, libyaml, libjwt or libev" "$maps" 'libbosun|libcrypto|libyaml|libjwt|libev\.'
echo "# bosun-mcp in a session: $(grep VmHWM "/proc/$MPID/status" | tr -s ' \t' ' ')"
exec 3>&-
wait_for 10 sh -c "! kill -0 $MPID 2>/dev/null"
wait "$MPID"; rc=$?
is "it exits 0 when its stdin closes" "$rc" 0
wait "$CATPID" 2>/dev/null

# Without a daemon to talk to: every request answered with the reason.
printf '%s\n' "$INIT" > "$T/one.jsonl"
out=$(env -u BOSUN_SOCKET timeout 10 "$MCP" mcp < "$T/one.jsonl" 2>"$T/nosock.err"); rc=$?
like "no socket: initialize gets a JSON-RPC error" "$out" '"id":1,"error":\{"code":-32001,"message":"no control socket'
is "no socket: exit 64" "$rc" 64
out=$(timeout 10 "$MCP" -s "$T/nonexistent.sock" < "$T/one.jsonl" 2>"$T/down.err"); rc=$?
like "no daemon: the reason, as an error" "$out" '"id":1,"error":\{"code":-32001,"message":"bosund is not running"'
is "no daemon: exit 69" "$rc" 69
out=$("$MCP" frob 2>&1 < /dev/null); rc=$?
is "an unknown word is a usage error" "$rc" 64
like "naming the usage" "$out" '^Usage: bosun-mcp'
echo "1..$_n"
done_testing
