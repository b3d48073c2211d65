#!/bin/sh
# One JSON reading rule on every door: a control-socket request and an MCP
# message with a key twice are both refused, with the same words naming the
# key, and the connection or session goes on; bosunctl refuses such data
# before sending it.  Positive controls on each door show that the same
# texts without the duplicate are taken.
. "$top_srcdir/tests/integration/lib.sh"
plan 15

idle_mcp_daemon || exit 1

# --- the control socket
out=$(printf '%s\n' '{"id":1,"op":"ping","x":1,"x":2}' \
          '{"id":2,"op":"pub","subject":"test.a","data":{"n":1,"m":{"k":1,"k":2}}}' \
          '{"id":3,"op":"ping","x":1,"y":2}' |
      "$top_builddir/tests/helpers/unix_send" "$T/run/bosund.sock" 10)
like "ctl: a duplicate key is bad_json, naming the key" "$out" \
    '"id":null,"ok":false,"error":\{"code":"bad_json","message":"invalid JSON at column 27: duplicate object key \\"x\\""'
like "ctl: one deep inside the data too" "$out" \
    '"code":"bad_json","message":"invalid JSON at column [0-9]+: duplicate object key \\"k\\""'
like "ctl: the same request without the duplicate is answered" "$out" '"id":3,"ok":true,"result":\{"pong":true\}'
ctl_why=$(printf '%s\n' "$out" | head -1 | sed -n 's/.*column [0-9]*: \(duplicate object key [^}]*\)"}.*/\1/p')

# --- bosunctl refuses it before it reaches the daemon
out=$(ctl pub test.a '{"n":1,"n":2}' 2>&1); st=$?
is "bosunctl pub with a duplicate key: exit 64" "$st" 64
like "bosunctl names the key" "$out" 'duplicate object key "n"'
out=$(ctl pub test.a '{"n":1,"m":2}' 2>&1); st=$?
is "bosunctl pub without it: exit 0" "$st" 0

# --- an agent's MCP session
run=$(ctl task create --title dup --agent idle --json | jq -r .run)
cfg="$T/run/runs/$run/mcp.json"
check "bosund wrote the run's MCP config" test -s "$cfg"
# bosunctl mcp with the run's environment, driven one message at a time
# (a reply is awaited before the next line goes out, 10 s at most each).
out=$(/usr/bin/python3 - "$cfg" <<'EOF2'
import json, os, select, subprocess, sys
server = json.load(open(sys.argv[1]))["mcpServers"]["bosun"]
env = dict(os.environ, **server["env"])
p = subprocess.Popen([server["command"]] + server["args"], env=env,
                     stdin=subprocess.PIPE, stdout=subprocess.PIPE)
def exchange(line, want_reply=True):
    p.stdin.write(line.encode() + b"\n")
    p.stdin.flush()
    if not want_reply:
        return
    r, _, _ = select.select([p.stdout], [], [], 10)
    print(p.stdout.readline().decode().strip() if r else "TIMEOUT", flush=True)
exchange('{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":'
         '"2025-06-18","capabilities":{},"clientInfo":{"name":"dup","version":"1"}}}')
exchange('{"jsonrpc":"2.0","method":"notifications/initialized"}', False)
exchange('{"jsonrpc":"2.0","id":2,"method":"ping","x":1,"x":2}')
exchange('{"jsonrpc":"2.0","id":3,"method":"tools/call","params":{"name":"report_status",'
         '"arguments":{"state":"working","message":"a","message":"b"}}}')
exchange('{"jsonrpc":"2.0","id":4,"method":"ping","x":1,"y":2}')
exchange('{"jsonrpc":"2.0","id":5,"method":"tools/call","params":{"name":"report_status",'
         '"arguments":{"state":"working","message":"once"}}}')
p.stdin.close()
p.wait(timeout=10)
EOF2
)
like "mcp: initialize answered" "$(printf '%s\n' "$out" | sed -n 1p)" '"id":1,"result":\{'
like "mcp: a duplicate key is -32700 with id null, naming the key" "$(printf '%s\n' "$out" | sed -n 2p)" \
    '"id":null,"error":\{"code":-32700,"message":"parse error at column 47: duplicate object key \\"x\\""'
like "mcp: one deep inside the arguments too" "$(printf '%s\n' "$out" | sed -n 3p)" \
    '"code":-32700,"message":"parse error at column [0-9]+: duplicate object key \\"message\\""'
like "mcp: the same message without the duplicate is answered" "$(printf '%s\n' "$out" | sed -n 4p)" '"id":4,"result":\{\}'
like "mcp: the tool call without it is taken" "$(printf '%s\n' "$out" | sed -n 5p)" '"id":5,"result":\{'
mcp_why=$(printf '%s\n' "$out" | sed -n 2p | sed -n 's/.*column [0-9]*: \(duplicate object key [^}]*\)"}.*/\1/p')
check "both doors gave a reason ($ctl_why)" test -n "$ctl_why"
is "both doors refuse it in the same words" "$mcp_why" "$ctl_why"
statuses=$(ctl events --subject "evt.run.idle.$run.status" --json)
unlike "the refused report_status left no event" "$statuses" '"message":"(a|b)"'
done_testing
