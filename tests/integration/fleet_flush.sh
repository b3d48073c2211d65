#!/bin/sh
# The hub writes its registry once for a burst of first registrations and
# answers none of them before the file holds its machine's token hash
# (plugins/fleet: the answers wait for one write).  Driven at the bus level
# (fleet.link.in, as the http plugin relays /fleet frames): twenty machines
# registering at once all get their permanent token, each in the file.
# When the file cannot be written, a registration is refused (bad_request,
# close 1008), the hub logs why, the machine is not kept, the machines
# already online stay so, and its registration token is still good once
# the file can be written again, across a restart too.
. "$top_srcdir/tests/integration/lib.sh"
BOSUN_PLUGIN_PATH="$top_builddir/plugins/fleet:${BOSUN_PLUGIN_PATH:-}"
export BOSUN_PLUGIN_PATH
plan 11

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
f="$T/state/fleet.json"
hashes() { jq '[.machines[].token_hash] | length' "$f"; }
is "  the file holds the twenty machines' hashes" "$(hashes)" 20
mine=$(cat "$T/ans.7" | jq -r '.data.frames[0].data.machine_token' | tr -d '\n' | sha256sum | cut -d' ' -f1)
is "  m7's hash is its token's" "$(jq -r '.machines[] | select(.id == "m7") | .token_hash' "$f")" "$mine"
is "  all online" "$(ctl --json machine list | jq '[.[] | select(.status == "online")] | length')" 20

# The write fails: its temporary file's name taken by a directory.
mkdir -p "$T/state/.fleet.json.$DAEMON_PID.tmp/x"
out=$(link 21 "$(cat "$T/reg.21")" m21)
is "a registration the hub cannot write is refused" \
    "$(printf '%s' "$out" | jq -c '[.data.frames[0].data.error.code, .data.close]')" '["bad_request",1008]'
like "  the hub logs why" "$(cat "$T/bosund.log")" '<3>fleet: cannot write .*fleet.json'
is "  the machine is not kept" "$(ctl --json machine list | jq '[.[] | select(.id == "m21")] | length')" 0
is "  the others stay online" "$(ctl --json machine list | jq '[.[] | select(.status == "online")] | length')" 20
rm -r "$T/state/.fleet.json.$DAEMON_PID.tmp"
out=$(link 22 "$(cat "$T/reg.21")" m21)
is "once the file can be written, the same registration token is good" \
    "$(printf '%s' "$out" | jq -r '.data.frames[0].data.ok')" true
stop_daemon
start_daemon || exit 1
like "  and m21 is known after a restart" "$(ctl machine list)" 'm21 '
done_testing
