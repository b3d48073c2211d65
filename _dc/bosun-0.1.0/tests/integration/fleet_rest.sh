#!/bin/sh
# The REST routes of a fleet hub's machines, with curl against a real hub
# bosund (sqlite, http, fleet): POST /api/v1/machines/registrations (201,
# the bsn_reg_ token once, only its hash kept; bad bodies 400), GET
# /api/v1/machines[/{id}] from the hub's registry (paged by id), DELETE
# /api/v1/machines/{id} (revoked, its link told with machine.close and
# closed), a viewer's 403 on POST and DELETE but 200 on GET, and without the
# fleet plugin the machine list is this machine alone.
. "$top_srcdir/tests/integration/lib.sh"
. "$top_srcdir/tests/integration/http_lib.sh"
. "$top_srcdir/tests/integration/fleet_bus_lib.sh"
FORGE="/usr/bin/python3 $top_srcdir/tests/helpers/jwt_forge.py"
command -v sqlite3 >/dev/null || { echo "1..0 # SKIP the sqlite3 command is not installed (it reads the store)"; exit 77; }
plan 27

http_boot
hub_daemon "sqlite, http, fleet" || exit 1
wait_for 10 curl -s -o /dev/null "$U/health"
VIEW=$($FORGE "$T/state/http_jwt.key" viewer)

# code WHO METHOD PATH [BODY]: the status; the body in $T/body.
code() {
    _tok=$BOOT
    [ "$1" = viewer ] && _tok=$VIEW
    curl -s -o "$T/body" -w '%{http_code}' -X "$2" -H "Authorization: Bearer $_tok" \
        ${4:+-H 'Content-Type: application/json' --data "$4"} "$U$3"
}
body() { jq -c "$1" "$T/body"; }

is "viewer session: control, GET /auth/me" "$(code viewer GET /api/v1/auth/me)" 200
is "POST /machines/registrations: 201" "$(code admin POST /api/v1/machines/registrations '{"name":"build-1","ttl":600}')" 201
reg=$(jq -r .token "$T/body")
like "  the bsn_reg_ token" "$reg" '^bsn_reg_[A-Za-z0-9_-]{43}$'
like "  its record: name, expiry in 600 s" "$(body '[.registration.name, (.registration.expires_at - .registration.created_at | round)]')" '\["build-1",600\]'
hash=$(printf '%s' "$reg" | sha256sum | cut -d' ' -f1)
like "the hub keeps its SHA-256 in the store" "$(sqlite3 "$T/state/bosun.db" 'SELECT hash FROM machine_registrations')" "$hash"
if grep -q "$reg" "$T/state/"bosun.db* "$T/bosund.log"; then fail "the token is in no file and no log line"; else ok "the token is in no file and no log line"; fi
is "POST with {} (name and ttl optional): 201" "$(code admin POST /api/v1/machines/registrations '{}')" 201
is "  expiring in an hour" "$(body '(.registration.expires_at - .registration.created_at | round)')" 3600
is "an unknown key: 400" "$(code admin POST /api/v1/machines/registrations '{"colour":"red"}')" 400
is "ttl not seconds: 400" "$(code admin POST /api/v1/machines/registrations '{"ttl":"1h"}')" 400
like "  naming ttl" "$(body .error.message)" ttl
is "ttl over 30 days: 400" "$(code admin POST /api/v1/machines/registrations '{"ttl":9999999}')" 400
is "a viewer may not make one: 403" "$(code viewer POST /api/v1/machines/registrations '{}')" 403

# Two machines register on links of the bus.
link c1 machine.register "{\"token\":\"$reg\",\"machine_id\":\"m-b\",\"name\":\"build-1\",\"version\":\"0.9\"}" r.1 >/dev/null
reg2=$(ctl machine token create 2>/dev/null)
link c2 machine.register "{\"token\":\"$reg2\",\"machine_id\":\"m-a\",\"name\":\"other\"}" r.1 >/dev/null
is "GET /machines: 200" "$(code admin GET /api/v1/machines)" 200
is "  the registry, by id" "$(body '[.items[] | [.id, .status]]')" '[["m-a","online"],["m-b","online"]]'
unlike "  no hash, no token" "$(cat "$T/body")" 'hash|bsn_'
is "GET /machines?limit=1: one, and a cursor" "$(code admin GET '/api/v1/machines?limit=1'; body '[.items[].id, .next]')" '200["m-a","m-a"]'
is "  the next page" "$(code admin GET '/api/v1/machines?limit=1&cursor=m-a'; body '[.items[].id, .next]')" '200["m-b",null]'
is "a viewer may list: 200" "$(code viewer GET /api/v1/machines)" 200
is "GET /machines/m-b: the machine" "$(code viewer GET /api/v1/machines/m-b; body '[.machine.name, .machine.version, .machine.address]')" '200["build-1","0.9","127.0.0.1:5c1"]'
is "GET /machines/nope: 404" "$(code admin GET /api/v1/machines/nope)" 404

watch_link_out
is "a viewer may not revoke: 403" "$(code viewer DELETE /api/v1/machines/m-b)" 403
is "DELETE /machines/m-b: 200, revoked" "$(code admin DELETE /api/v1/machines/m-b; body .revoked)" 200true
wait_for 5 grep -q '"conn":"c1"' "$T/out"
like "  its link is told (machine.close, revoked) and closed" "$(cat "$T/out")" '"conn":"c1".*"machine.close".*"reason":"revoked".*"close":1008'
is "  and it shows revoked, offline" "$(code admin GET /api/v1/machines/m-b; body '[.machine.revoked, .machine.status]')" '200[true,"offline"]'
is "DELETE of an unknown machine: 404" "$(code admin DELETE /api/v1/machines/nope)" 404
kill "$SUB" 2>/dev/null
stop_daemon

# Without the fleet plugin: this machine alone, and no registrations.
hub_daemon "sqlite, http" || exit 1
wait_for 10 curl -s -o /dev/null "$U/health"
is "no fleet: GET /machines is this machine" "$(code admin GET /api/v1/machines; body '[.items[] | [.id, .this]]')" '200[["test-machine",true]]'
stop_daemon
done_testing
