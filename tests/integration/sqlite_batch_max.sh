#!/bin/sh
# The store's batch_max bounds a transaction: a backlog larger than it (one
# cmd.store.append_remote of 256 events with batch_max 100) is committed in
# parts of at most batch_max, every event once and in order, and the request
# is answered once the last part is committed.
. "$top_srcdir/tests/integration/lib.sh"
command -v jq >/dev/null 2>&1 || { echo "1..0 # SKIP jq not installed"; exit 77; }
plan 6

write_config <<'EOF2'
  plugins: [sqlite]
sqlite:
  batch_max: 100
EOF2
start_daemon || exit 1

q() { ctl --json request "$1" "$2" | jq -c ".data | ${3:-.}"; }
ev() { printf '{"seq":%s,"subject":"evt.batchtest.a","time":1700000000.5,"data":{"n":%s}}' "$1" "$1"; }
c0=$(q cmd.store.status '{}' '.commits')
n0=$(q cmd.store.status '{}' '.events')
all=$(seq 1 256 | while read -r i; do ev "$i"; echo; done | paste -sd, -)
# Too large for one argument of bosunctl: straight to the control socket.
out=$(echo "{\"machine\":\"m1\",\"events\":[$all]}" |
    /usr/bin/python3 "$top_srcdir/tests/helpers/ctl_request.py" "$T/run/bosund.sock" cmd.store.append_remote 20)
like "256 events answered with the last one's seq" "$out" '"acked_seq": *256'
is "all 256 stored" "$(q cmd.store.status '{}' '.events')" "$((n0 + 256))"
c1=$(q cmd.store.status '{}' '.commits')
check "in at least 3 transactions of at most 100 (commits $c0 -> $c1)" test "$((c1 - c0))" -ge 3
seqs=$(q cmd.store.events '{"machine":"m1","subject":"evt.batchtest.>","limit":1000}' '[.events[].machine_seq]')
is "each once and in order" "$seqs" "$(seq 1 256 | paste -sd, - | sed 's/^/[/; s/$/]/')"
is "no store error logged" "$(grep -c '^<[0-3]>sqlite' "$T/bosund.log")" 0
stop_daemon
is "the daemon stops cleanly" "$DAEMON_STATUS" 0
done_testing
