#!/bin/sh
# Approval requests over REST and bosunctl --url: GET /api/v1/approvals
# lists what waits, POST /api/v1/approvals/{id}/allow|deny decides (admins
# only: no token is 401), and bosunctl approval list|allow|deny --url gives
# what it gives over the control socket.
. "$top_srcdir/tests/integration/lib.sh"
BOSUN_PLUGIN_PATH="$BOSUN_PLUGIN_PATH:$top_builddir/plugins/http"
plan 10

command -v curl >/dev/null || { echo "1..0 # SKIP curl is not installed"; exit 0; }
PORT=$(/usr/bin/python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
U="http://127.0.0.1:$PORT"
write_config <<EOF2
  plugins: [sqlite, exec, http]
http:
  listen: ["127.0.0.1:$PORT"]
approvals:
  default: ask
EOF2
start_daemon || exit 1
wait_for 10 curl -s -o /dev/null "$U/health" || fail "the listener is up"
ctl token create --name approvals > "$T/token" 2>/dev/null
chmod 600 "$T/token"
TOKEN=$(cat "$T/token")
api() { curl -s -H "Authorization: Bearer $TOKEN" -H 'Content-Type: application/json' "$@"; }
url() { "$BOSUNCTL" --url "$U" --token-file "$T/token" "$@"; }
req() { ctl request cmd.approval.request "$1" --json --timeout 60 > "$2" 2>&1 & }
one() { wait_for 10 sh -c "\"$BOSUNCTL\" -s \"$T/run/bosund.sock\" approval list --json | jq -e 'length == 1' >/dev/null"; }

req '{"agent":"claude-code:attached","tool":"Bash","input":{"command":"make"}}' "$T/r1"
one
list=$(api "$U/api/v1/approvals")
is "GET /api/v1/approvals lists the request" "$(printf '%s\n' "$list" | jq -r '.approvals[0].input.command')" make
id=$(printf '%s\n' "$list" | jq -r '.approvals[0].id')
is "GET /api/v1/approvals/{id} shows it" "$(api "$U/api/v1/approvals/$id" | jq -r .tool)" Bash
is "without a token: 401" "$(curl -s -o /dev/null -w '%{http_code}' -X POST "$U/api/v1/approvals/$id/allow")" 401
out=$(api -X POST -d '{"message":"no make today"}' "$U/api/v1/approvals/$id/deny")
is "POST .../deny decides" "$(printf '%s\n' "$out" | jq -r .decision)" deny
wait_for 10 test -s "$T/r1"
like "the held reply carries the message" "$(cat "$T/r1")" '"behavior":"deny".*"message":"no make today"'
is "a decided request is 404" "$(api -o /dev/null -w '%{http_code}' -X POST -d '{}' "$U/api/v1/approvals/$id/allow")" 404

req '{"agent":"claude-code:attached","tool":"Read","input":{"file_path":"/x"}}' "$T/r2"
one
id=$(ctl approval list --json | jq -r '.[0].id')
like "bosunctl --url approval list" "$(url approval list)" "$id +claude-code:attached"
like "bosunctl --url approval allow --always" "$(url approval allow "$id" --always)" "allowed $id; from now on Read\(/x\)"
wait_for 10 test -s "$T/r2"
like "the held reply allows" "$(cat "$T/r2")" '"behavior":"allow"'
stop_daemon
is "bosund stops cleanly" "$DAEMON_STATUS" 0
done_testing
