#!/bin/sh
# Approval requests over REST and bosunctl --url: GET /api/v1/approvals
# lists what waits ({"items","next"}, paged by id), GET .../{id} shows one
# (404 when unknown or decided), POST /api/v1/approvals/{id}/allow|deny
# decides (admins: no token is 401, a viewer's session 403; an unknown id
# 404, a decided one 409), --always sticks to that exact call, and
# bosunctl approval list|allow|deny --url gives what it gives over the
# control socket.
. "$top_srcdir/tests/integration/lib.sh"
BOSUN_PLUGIN_PATH="$BOSUN_PLUGIN_PATH:$top_builddir/plugins/http"
plan 29

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
VIEWER=$(/usr/bin/python3 "$top_srcdir/tests/helpers/jwt_forge.py" "$T/state/http_jwt.key" viewer user:ann)
api() { curl -s -H "Authorization: Bearer $TOKEN" -H 'Content-Type: application/json' "$@"; }
code() { curl -s -o "$T/body" -w '%{http_code}' -H 'Content-Type: application/json' "$@"; }
url() { "$BOSUNCTL" --url "$U" --token-file "$T/token" "$@"; }
req() { ctl request cmd.approval.request "$1" --json --timeout 60 > "$2" 2>&1 & }
n_open() { wait_for 10 sh -c "\"$BOSUNCTL\" -s \"$T/run/bosund.sock\" approval list --json | jq -e 'length == $1' >/dev/null"; }
UNKNOWN=01ZZZZZZZZZZZZZZZZZZZZZZZZ

req '{"agent":"claude-code:attached","tool":"Bash","input":{"command":"make"}}' "$T/r1"
n_open 1
list=$(api "$U/api/v1/approvals")
is "GET /api/v1/approvals lists the request as items" "$(printf '%s\n' "$list" | jq -r '.items[0].input.command')" make
is "  with next null (one page)" "$(printf '%s\n' "$list" | jq -c '.next')" null
id=$(printf '%s\n' "$list" | jq -r '.items[0].id')
is "GET /api/v1/approvals/{id} shows it" "$(api "$U/api/v1/approvals/$id" | jq -r .tool)" Bash
is "GET of an unknown id: 404" "$(code -H "Authorization: Bearer $TOKEN" "$U/api/v1/approvals/$UNKNOWN")" 404
is "  with the usual error body" "$(jq -r .error.code "$T/body")" not_found
is "allow of an unknown id: 404" "$(code -H "Authorization: Bearer $TOKEN" -X POST -d '{}' "$U/api/v1/approvals/$UNKNOWN/allow")" 404
is "a bad limit: 400" "$(code -H "Authorization: Bearer $TOKEN" "$U/api/v1/approvals?limit=0")" 400
is "without a token: 401" "$(curl -s -o /dev/null -w '%{http_code}' -X POST "$U/api/v1/approvals/$id/allow")" 401
is "a viewer lists approvals" "$(code -H "Authorization: Bearer $VIEWER" "$U/api/v1/approvals")" 200
is "  and sees this one" "$(jq -r '.items[0].id' "$T/body")" "$id"
is "  and shows it" "$(code -H "Authorization: Bearer $VIEWER" "$U/api/v1/approvals/$id")" 200
is "a viewer may not allow: 403" "$(code -H "Authorization: Bearer $VIEWER" -X POST -d '{}' "$U/api/v1/approvals/$id/allow")" 403
is "  nor deny: 403" "$(code -H "Authorization: Bearer $VIEWER" -X POST -d '{}' "$U/api/v1/approvals/$id/deny")" 403
out=$(api -X POST -d '{"message":"no make today"}' "$U/api/v1/approvals/$id/deny")
is "an admin's POST .../deny decides" "$(printf '%s\n' "$out" | jq -r .decision)" deny
wait_for 10 test -s "$T/r1"
like "the held reply carries the message" "$(cat "$T/r1")" '"behavior":"deny".*"message":"no make today"'
is "allow of a decided request: 409" "$(code -H "Authorization: Bearer $TOKEN" -X POST -d '{}' "$U/api/v1/approvals/$id/allow")" 409
is "  not_pending" "$(jq -r .error.code "$T/body")" not_pending
is "deny of it: 409 too" "$(code -H "Authorization: Bearer $TOKEN" -X POST -d '{}' "$U/api/v1/approvals/$id/deny")" 409
is "GET of a decided request: 404" "$(code -H "Authorization: Bearer $TOKEN" "$U/api/v1/approvals/$id")" 404

# Paging: two open, one a page.
req '{"agent":"claude-code:attached","tool":"Bash","input":{"command":"one"}}' "$T/p1"
n_open 1
req '{"agent":"claude-code:attached","tool":"Bash","input":{"command":"two"}}' "$T/p2"
n_open 2
page=$(api "$U/api/v1/approvals?limit=1")
is "limit=1: the newest" "$(printf '%s\n' "$page" | jq -r '.items | map(.input.command) | join(",")')" two
next=$(printf '%s\n' "$page" | jq -r .next)
is "  next is its id" "$next" "$(printf '%s\n' "$page" | jq -r '.items[0].id')"
page=$(api "$U/api/v1/approvals?limit=1&cursor=$next")
is "the cursor gives the next page" "$(printf '%s\n' "$page" | jq -r '.items | map(.input.command) | join(",")')" one
like "bosunctl --url approval list follows the pages" "$(url approval list)" "Bash.*two.*
.*Bash.*one"
for f in p1 p2; do
    pid=$(ctl approval list --json | jq -r '.[0].id')
    url approval deny "$pid" >/dev/null
done

# --always sticks to that exact call: an argument with a glob in it is not one.
req '{"agent":"claude-code:attached","task":"T1","tool":"Bash","input":{"command":"rm -rf *"}}' "$T/r2"
n_open 1
id=$(ctl approval list --json | jq -r '.[0].id')
like "bosunctl --url approval list" "$(url approval list)" "$id +claude-code:attached"
like "bosunctl --url approval allow --always" "$(url approval allow "$id" --always)" "allowed $id; from now on =Bash\(rm -rf \*\)"
wait_for 10 test -s "$T/r2"
like "the held reply allows" "$(cat "$T/r2")" '"behavior":"allow"'
chk() { ctl request cmd.approval.check "{\"agent\":\"claude-code:attached\",\"task\":\"T1\",\"tool\":\"Bash\",\"input\":{\"command\":\"$1\"}}" --json; }
like "the same call is allowed by the sticky rule" "$(chk 'rm -rf *')" '"decision":"allow","rule":"=Bash\(rm -rf \*\)","source":"sticky"'
like "  another rm -rf is asked about" "$(chk 'rm -rf /')" '"decision":"ask"'
stop_daemon
is "bosund stops cleanly" "$DAEMON_STATUS" 0
done_testing
