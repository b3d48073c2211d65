#!/bin/sh
# The hub side of the fleet (the fleet plugin), driven through its bus
# interface: registration tokens made by `bosunctl machine token create`
# (shown once, stored hashed, single use, expiring), the link protocol of
# bosun-http(7) "/fleet" as relayed on fleet.link.in (register first, a
# bsn_reg_ traded for a bsn_mch_, refusals by code, heartbeats -> last_seen,
# a second link replacing the first, missed heartbeats -> offline, revoke),
# the machine events, the registry surviving a restart (the store's
# machines tables, read here with sqlite3), and the fleet: config section's
# errors with FILE:LINE:COL.
. "$top_srcdir/tests/integration/lib.sh"
. "$top_srcdir/tests/integration/fleet_bus_lib.sh"
command -v sqlite3 >/dev/null || { echo "1..0 # SKIP the sqlite3 command is not installed (it reads the store)"; exit 77; }
plan 45
db() { sqlite3 "$T/state/bosun.db" "$1"; }

write_config <<'EOF2'
  plugins: [sqlite, fleet]
fleet:
  heartbeat_timeout: 1.5s
EOF2
start_daemon || exit 1


reg=$(ctl machine token create --name "build box" --ttl 10m 2>"$T/create.err")
like "token create prints a bsn_reg_ token of 43 base64url characters" "$reg" '^bsn_reg_[A-Za-z0-9_-]{43}$'
like "token create says it is shown once" "$(cat "$T/create.err")" \
    'registration token reg_[0-9a-f]{16} created, single use, expires .*shown only now'
check "no fleet.json: the store holds the registry" test ! -e "$T/state/fleet.json"
hash=$(printf '%s' "$reg" | sha256sum | cut -d' ' -f1)
is "the store holds the token's SHA-256, committed before it is shown" \
    "$(db "SELECT name, hash FROM machine_registrations")" "build box|$hash"
if grep -q "$reg" "$T/state/"bosun.db*; then fail "the store holds no token"; else ok "the store holds no token"; fi
is "no machine yet" "$(ctl --json machine list)" "[]"

out=$(link 1 machine.heartbeat '{}')
like "a frame before register is refused" "$out" '"code":"unauthorized".*register must come first'
like "and the link is closed with 1008" "$out" '"close":1008'

out=$(link 2 machine.register '{"token":"bsn_reg_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA","machine_id":"m1"}' r.1)
like "an unknown registration token: token_invalid" "$out" '"subject":"r.1".*"ok":false.*"code":"token_invalid"'
like "a refused register closes the link" "$out" '"close":1008'
out=$(link 2 machine.register '{"token":"nope","machine_id":"m1"}' r.1)
like "a malformed token: token_invalid" "$out" '"code":"token_invalid"'
out=$(link 2 machine.register "{\"token\":\"$reg\",\"machine_id\":\"bad id\"}" r.1)
like "a bad machine id: bad_request" "$out" '"code":"bad_request"'

ctl sub 'evt.machine.>' > "$T/events" 2>&1 &
SUB=$!
wait_subs 8
out=$(link 3 machine.register "{\"token\":\"$reg\",\"machine_id\":\"m1\",\"name\":\"box one\",\"version\":\"0.9\",\"agents\":[{\"name\":\"a\",\"type\":\"exec\"}]}" r.7)
like "register with the reg token: ok, on the reply subject" "$out" '"subject":"r.7".*"ok":true'
like "it trades it for a bsn_mch_ token" "$out" '"machine_token":"bsn_mch_[A-Za-z0-9_-]{43}"'
like "with acked_seq" "$out" '"acked_seq":0'
like "and keeps the link open" "$out" '"close":0'
mch=$(printf '%s' "$out" | sed -n 's/.*"machine_token":"\(bsn_mch_[^"]*\)".*/\1/p')
mhash=$(printf '%s' "$mch" | sha256sum | cut -d' ' -f1)
is "the store holds m1 with the machine token's hash" \
    "$(db "SELECT id, name, token_hash, revoked FROM machines")" "m1|box one|$mhash|0"
if grep -q "$mch" "$T/state/"bosun.db*; then fail "the store holds no machine token"; else ok "the store holds no machine token"; fi

out=$(link 4 machine.register "{\"token\":\"$reg\",\"machine_id\":\"m2\"}" r.1)
like "the reg token again: token_used" "$out" '"code":"token_used"'

list=$(ctl machine list)
like "machine list: m1 online with name and version" "$list" 'm1 +box one +online .* 0\.9'
show=$(ctl machine show m1)
like "machine show: the peer address" "$show" 'address: +127\.0\.0\.1:53'
unlike "list and show give no token or hash" "$list$show$(ctl --json machine list)" "bsn_mch_|$mhash|token_hash"
wait_for 5 grep -q 'evt.machine.m1.online' "$T/events"
like "evt.machine.m1.online with the agents" "$(cat "$T/events")" 'evt.machine.m1.online.*"agents":\[\{"name":"a"'

seen1=$(ctl --json machine show m1 | jq .machine.last_seen)
sleep 0.3
out=$(link 3 machine.heartbeat '{"agents_running":0,"load":[0,0,0],"version":"1.0"}' | jq -c .data)
is "a heartbeat has no answer" "$out" '{"frames":[],"close":0}'
seen2=$(ctl --json machine show m1 | jq .machine.last_seen)
check "a heartbeat moves last_seen" awk "BEGIN { exit !($seen2 > $seen1) }"
like "and the version" "$(ctl machine show m1)" 'version: +1\.0'
wait_for 5 grep -q 'evt.machine.m1.heartbeat' "$T/events"
like "evt.machine.m1.heartbeat" "$(cat "$T/events")" 'evt.machine.m1.heartbeat.*"agents_running":0'

out=$(link 3 machine.bogus '{}' r.9)
like "an unknown subject after register: bad_request, link kept" "$out" '"code":"bad_request".*"close":0'

# A second link for m1, with its permanent token, replaces the first.
ctl sub 'fleet.link.out' > "$T/out" 2>&1 &
SUB2=$!
wait_subs 9
out=$(link 5 machine.register "{\"token\":\"$mch\",\"machine_id\":\"m1\"}" r.2)
like "register with the bsn_mch_ token: ok, no new token" "$out" '"ok":true'
unlike "no machine_token the second time" "$out" 'machine_token'
wait_for 5 grep -q '"conn":"3"' "$T/out"
like "the first link is told it was replaced, and closed" "$(cat "$T/out")" '"conn":"3".*"reason":"replaced".*"close":1008'
like "the replacement is logged" "$(cat "$T/bosund.log")" 'machine m1: link 5 replaces link 3'
out=$(link 6 machine.register "{\"token\":\"$mch\",\"machine_id\":\"m9\"}" r.2)
like "a machine token for another id: token_invalid" "$out" '"code":"token_invalid"'

# Missed heartbeats: heartbeat_timeout (1.5 s here) without a frame.
if wait_for 6 sh -c "\"$BOSUNCTL\" -s \"$T/run/bosund.sock\" machine list | grep -q 'm1 .* offline'"; then
    ok "a silent machine goes offline"
else
    fail "a silent machine goes offline" "$(ctl machine list)"
fi
like "evt.machine.m1.offline" "$(cat "$T/events")" 'evt.machine.m1.offline'
like "its link is closed" "$(cat "$T/out")" '"conn":"5".*"reason":"heartbeat timeout"'
out=$(link 5 machine.heartbeat '{}')
like "the dead link is a stranger again" "$out" '"code":"unauthorized"'

# An expired registration token.
reg2=$(ctl machine token create --ttl 1s 2>/dev/null)
sleep 1.2
out=$(link 7 machine.register "{\"token\":\"$reg2\",\"machine_id\":\"m3\"}" r.1)
like "an expired registration token: token_expired" "$out" '"code":"token_expired"'

# Revoke: the machine token is refused from then on, across a restart.
link 8 machine.register "{\"token\":\"$mch\",\"machine_id\":\"m1\"}" r.1 >/dev/null
is "revoke says so" "$(ctl machine revoke m1)" "revoked m1"
wait_for 5 grep -q '"conn":"8"' "$T/out"
like "revoke closes the machine's link" "$(cat "$T/out")" '"conn":"8".*"reason":"revoked"'
kill "$SUB" "$SUB2" 2>/dev/null
stop_daemon
start_daemon || exit 1
like "after a restart m1 is known, offline and revoked" "$(ctl machine list)" 'm1 +box one +revoked'
out=$(link 9 machine.register "{\"token\":\"$mch\",\"machine_id\":\"m1\"}" r.1)
like "a revoked machine token: token_revoked" "$out" '"code":"token_revoked"'
like "machine show of an unknown id: not_found" "$(ctl machine show nope 2>&1)" 'not_found'
stop_daemon

# fleet: config errors name FILE:LINE:COL.
write_config <<'EOF2'
  plugins: [sqlite, fleet]
fleet:
  heartbeat_timeout: soon
  colour: red
EOF2
out=$("$BOSUND" --check-config -c "$T/bosun.yaml" 2>&1)
like "a bad fleet.heartbeat_timeout names its position" "$out" 'bosun.yaml:10:22: .*heartbeat_timeout'
like "an unknown fleet key names its position" "$out" "bosun.yaml:11:3: .*unknown key 'colour'"
done_testing
