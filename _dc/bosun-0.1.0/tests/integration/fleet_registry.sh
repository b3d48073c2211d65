#!/bin/sh
# The hub's machines registry in the store (schema 6: machines and
# machine_registrations, bosun-fleet(7)), driven at the bus level as the
# http plugin relays /fleet frames (fleet.link.in):
# - an upgraded hub's state_dir/fleet.json is imported once into an empty
#   store and renamed fleet.json.imported (logged at notice): its machines
#   (offline, with their last_seen), tokens and revocations hold;
# - a trade, a new registration token and a revocation, each answered, and
#   a heartbeat's last_seen (coalesced, written within a few seconds)
#   survive a kill -9 of the hub; a clean restart keeps offline machines
#   with their last_seen; nothing is imported a second time;
# - cmd.store.machines.put refuses malformed rows, naming them;
# - store_rewind 5 undoes schema 6, and the next start migrates again.
. "$top_srcdir/tests/integration/lib.sh"
. "$top_srcdir/tests/integration/fleet_bus_lib.sh"
BOSUN_PLUGIN_PATH="$top_builddir/plugins/fleet:${BOSUN_PLUGIN_PATH:-}"
export BOSUN_PLUGIN_PATH
command -v sqlite3 >/dev/null || { echo "1..0 # SKIP the sqlite3 command is not installed (it reads the store)"; exit 77; }
plan 26
db() { sqlite3 "$T/state/bosun.db" "$1"; }
sha() { printf '%s' "$1" | sha256sum | cut -d' ' -f1; }
near() { awk -v a="$1" -v b="$2" 'BEGIN { d = a - b; exit !(a != "" && d < 0.01 && d > -0.01) }'; }

write_config <<'EOF2'
  plugins: [sqlite, fleet]
fleet:
  heartbeat_timeout: 60s
EOF2

# The registry an older hub left (fleet.json, format version 1).
T1=bsn_mch_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA
T2=bsn_mch_BBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBB
R1=bsn_reg_CCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCC
now=$(date +%s)
cat > "$T/state/fleet.json" <<EOF2
{"version": 1,
 "registrations": [
  {"id": "reg_00000000000000a1", "name": "spare", "hash": "$(sha $R1)", "created_at": $now,
   "expires_at": $((now + 3600)), "used_at": null, "used_by": null},
  {"id": "reg_00000000000000a2", "name": "used", "hash": "$(sha x)", "created_at": $now,
   "expires_at": $((now + 3600)), "used_at": $now, "used_by": "m-old"}],
 "machines": [
  {"id": "m-old", "name": "old box", "status": "online", "first_seen": 1700000000.25,
   "last_seen": 1700000000.5, "version": "0.8", "address": "127.0.0.1:4000",
   "revoked": false, "token_hash": "$(sha $T1)"},
  {"id": "m-rev", "name": null, "status": "offline", "first_seen": 1700000000.25,
   "last_seen": 1700000001.5, "version": null, "address": null,
   "revoked": true, "token_hash": "$(sha $T2)"}]}
EOF2
chmod 600 "$T/state/fleet.json"
start_daemon || exit 1

like "fleet.json imported into the empty store, logged at notice" "$(cat "$T/bosund.log")" \
    "<5>fleet: 2 machines and 2 registration tokens imported from $T/state/fleet.json into the store; the file is now $T/state/fleet.json.imported"
check "  and renamed fleet.json.imported" sh -c "test ! -e '$T/state/fleet.json' && test -e '$T/state/fleet.json.imported'"
is "  the store has its machines, hashes and revocation" \
    "$(db "SELECT id, token_hash, revoked FROM machines ORDER BY id")" \
    "$(printf 'm-old|%s|0\nm-rev|%s|1' "$(sha $T1)" "$(sha $T2)")"
is "  and its registration tokens" "$(db "SELECT id, name FROM machine_registrations ORDER BY id")" \
    "$(printf 'reg_00000000000000a1|spare\nreg_00000000000000a2|used')"
is "  an imported machine is offline, with its last_seen" \
    "$(ctl --json machine show m-old | jq -c '.machine | [.status, .last_seen, .name]')" '["offline",1700000000.5,"old box"]'
wait_for 8 sh -c "[ \"\$(sqlite3 '$T/state/bosun.db' \"SELECT status FROM machines WHERE id = 'm-old'\")\" = offline ]"
is "  and the store says so too (it said online in the file)" \
    "$(db "SELECT status FROM machines WHERE id = 'm-old'")" offline
like "an imported machine token is good" \
    "$(link 1 machine.register "{\"token\":\"$T1\",\"machine_id\":\"m-old\"}" r.1)" '"ok":true'
like "an imported revocation holds" \
    "$(link 2 machine.register "{\"token\":\"$T2\",\"machine_id\":\"m-rev\"}" r.1)" '"code":"token_revoked"'
out=$(link 3 machine.register "{\"token\":\"$R1\",\"machine_id\":\"m-new\",\"name\":\"new box\"}" r.1)
like "an imported registration token is traded" "$out" '"machine_token":"bsn_mch_'
M3=$(printf '%s' "$out" | jq -r .data.frames[0].data.machine_token)
is "  the answer came after its hash was committed" \
    "$(db "SELECT token_hash FROM machines WHERE id = 'm-new'")" "$(sha "$M3")"

# The store checks what it is asked to write, and writes nothing then.
put() { ctl --json request cmd.store.machines.put "$1" | jq -c '.data.error | [.code, .message]'; }
like "a put with a bad token_hash: bad_request naming the row and field" \
    "$(put '{"machines":[{"id":"m-x","token_hash":"00"}]}')" '"bad_request","machines\[0\]\.token_hash: 64 lowercase hex'
like "a put with an unknown column: bad_request" \
    "$(put '{"registrations":[{"id":"r1","hash":"'"$(sha y)"'","colour":"red"}]}')" '"bad_request",.*colour'
is "  nothing written" "$(db "SELECT count(*) FROM machines WHERE id = 'm-x'")$(db "SELECT count(*) FROM machine_registrations WHERE id = 'r1'")" 00

# Answered changes, then a kill -9.
R2=$(ctl machine token create --name late 2>/dev/null)
is "a new registration token is in the store once shown" \
    "$(db "SELECT hash FROM machine_registrations WHERE name = 'late'")" "$(sha "$R2")"
is "revoke m-old" "$(ctl machine revoke m-old)" "revoked m-old"
is "  in the store once answered" "$(db "SELECT revoked FROM machines WHERE id = 'm-old'")" 1
link 3 machine.heartbeat '{"version":"2.0"}' >/dev/null
seen=$(ctl --json machine show m-new | jq .machine.last_seen)
if wait_for 8 sh -c "awk -v a=\"\$(sqlite3 '$T/state/bosun.db' \"SELECT last_seen FROM machines WHERE id = 'm-new'\")\" -v b='$seen' 'BEGIN { d = a - b; exit !(d < 0.01 && d > -0.01) }'"; then
    ok "a heartbeat's last_seen reaches the store within $(printf %s 5) s (coalesced)"
else
    fail "a heartbeat's last_seen reaches the store within 5 s (coalesced)" "$(db "SELECT * FROM machines")"
fi
kill -KILL "$DAEMON_PID"
wait "$DAEMON_PID" 2>/dev/null
start_daemon || exit 1
is "after kill -9: nothing imported again" "$(grep -c 'imported from' "$T/bosund.log")" 1
is "  m-old still revoked" "$(ctl --json machine show m-old | jq -c '.machine | [.revoked, .status]')" '[true,"offline"]'
check "  m-new known, offline, with the heartbeat's last_seen" \
    near "$(ctl --json machine show m-new | jq .machine.last_seen)" "$seen"
like "  m-new's machine token is good" \
    "$(link 4 machine.register "{\"token\":\"$M3\",\"machine_id\":\"m-new\"}" r.1)" '"ok":true'
like "  the token made before the kill is good" \
    "$(link 5 machine.register "{\"token\":\"$R2\",\"machine_id\":\"m-late\"}" r.1)" '"machine_token":"bsn_mch_'
like "  m-old's token is refused" \
    "$(link 6 machine.register "{\"token\":\"$T1\",\"machine_id\":\"m-old\"}" r.1)" '"code":"token_revoked"'

# A clean restart: offline machines stay, with their last_seen.
seen=$(ctl --json machine show m-late | jq .machine.last_seen)
stop_daemon
start_daemon || exit 1
is "after a restart: all four machines, offline" \
    "$(ctl --json machine list | jq -c '[.[] | [.id, .status]] | sort')" \
    '[["m-late","offline"],["m-new","offline"],["m-old","offline"],["m-rev","offline"]]'
check "  m-late with its last_seen" near "$(ctl --json machine show m-late | jq .machine.last_seen)" "$seen"
stop_daemon

# store_rewind undoes schema 6; the next start migrates it again.
store_rewind "$T/state/bosun.db" 5
start_daemon || exit 1
like "a schema-5 store is migrated to 6" "$(cat "$T/bosund.log")" \
    "sqlite: $T/state/bosun.db migrated from schema version 5 to 6"
stop_daemon
done_testing
