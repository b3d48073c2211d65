#!/bin/sh
# The hub writes its registry once for a burst of first registrations and
# answers none of them before the store has committed its machine's token
# hash (plugins/fleet: the answers wait for one cmd.store.machines.put).
# Driven at the bus level (fleet.link.in, as the http plugin relays /fleet
# frames): twenty machines registering at once all get their permanent
# token, each in the store's machines table.  When the store cannot write
# (another process holds the database's write lock), a registration is
# refused (bad_request, close 1008), the hub logs why, the machine is not
# kept, the machines already online stay so, and its registration token is
# still good once the store can write again, across a restart too.
. "$top_srcdir/tests/integration/lib.sh"
BOSUN_PLUGIN_PATH="$top_builddir/plugins/fleet:${BOSUN_PLUGIN_PATH:-}"
export BOSUN_PLUGIN_PATH
command -v sqlite3 >/dev/null || { echo "1..0 # SKIP the sqlite3 command is not installed (it reads the store)"; exit 77; }
plan 11
db() { sqlite3 "$T/state/bosun.db" "$1"; }

write_config <<'EOF2'
  plugins: [sqlite, fleet]
fleet:
  heartbeat_timeout: 60s
EOF2
start_daemon || exit 1

link() { # CONN TOKEN ID: a register on link CONN, the hub's answer
    ctl --json request fleet.link.in \
        "{\"conn\":\"$1\",\"peer\":\"127.0.0.1:$1\",\"frame\":{\"subject\":\"machine.register\",\"reply\":\"r.1\",\"data\":{\"token\":\"$2\",\"machine_id\":\"$3\",\"name\":\"$3\"}}}"
}
for i in $(seq 1 21); do ctl machine token create --name "m$i" 2>/dev/null > "$T/reg.$i"; done
pids=
for i in $(seq 1 20); do
    link "$i" "$(cat "$T/reg.$i")" "m$i" > "$T/ans.$i" 2>&1 &
    pids="$pids $!"
done
for p in $pids; do wait "$p"; done
n=$(cat "$T"/ans.* | jq -s '[.[].data.frames[0].data | select(.ok == true and (.machine_token | startswith("bsn_mch_")))] | length')
is "twenty registrations at once: each gets its machine token" "$n" 20
is "  twenty distinct tokens" "$(cat "$T"/ans.* | jq -r '.data.frames[0].data.machine_token' | sort -u | wc -l)" 20
is "  the store holds the twenty machines' hashes" "$(db "SELECT count(DISTINCT token_hash) FROM machines")" 20
mine=$(cat "$T/ans.7" | jq -r '.data.frames[0].data.machine_token' | tr -d '\n' | sha256sum | cut -d' ' -f1)
is "  m7's hash is its token's" "$(db "SELECT token_hash FROM machines WHERE id = 'm7'")" "$mine"
is "  all online" "$(ctl --json machine list | jq '[.[] | select(.status == "online")] | length')" 20

# The write fails: another process holds the write lock longer than the
# store waits for it (1 s).
/usr/bin/python3 -c '
import sqlite3, sys, time
c = sqlite3.connect(sys.argv[1], isolation_level=None, timeout=5)
c.execute("BEGIN IMMEDIATE")
open(sys.argv[2], "w").close()
time.sleep(4)
c.execute("ROLLBACK")
' "$T/state/bosun.db" "$T/locked" &
LOCKER=$!
wait_for 5 test -e "$T/locked"
out=$(link 21 "$(cat "$T/reg.21")" m21)
is "a registration the hub cannot write is refused" \
    "$(printf '%s' "$out" | jq -c '[.data.frames[0].data.error.code, .data.close]')" '["bad_request",1008]'
like "  the hub logs why" "$(cat "$T/bosund.log")" '<3>fleet: cannot store the machines registry: .*locked'
is "  the machine is not kept" "$(ctl --json machine list | jq '[.[] | select(.id == "m21")] | length')" 0
is "  the others stay online" "$(ctl --json machine list | jq '[.[] | select(.status == "online")] | length')" 20
wait "$LOCKER"
out=$(link 22 "$(cat "$T/reg.21")" m21)
is "once the store can write again, the same registration token is good" \
    "$(printf '%s' "$out" | jq -r '.data.frames[0].data.ok')" true
stop_daemon
start_daemon || exit 1
like "  and m21 is known after a restart" "$(ctl machine list)" 'm21 '
done_testing
