#!/bin/sh
# Connection limits of the http plugin: per client address (429) and in
# all (503), counted back down as connections close; 2000 connections at
# once; out of descriptors, no spinning and a bounded complaint.
. "$top_srcdir/tests/integration/lib.sh"
. "$top_srcdir/tests/integration/http_lib.sh"
plan 14

write_config <<'EOF2'
  plugins: [http]
http:
  listen: "127.0.0.1:0"
  limits:
    conns_per_ip: 5
    conns_max: 8
EOF2
start_daemon || exit 1
wait_for 10 http_ready 127.0.0.1
P=$(port_of 127.0.0.1)

# --- per address: 5 of 10 served, 5 refused with 429
out=$($PROBE conns 127.0.0.1 "$P" 10 --hold 0)
is "conns_per_ip 5: 10 at once from one address" "$out" "200=5 429=5 503=0 none=0"
like "429 logged at notice" "$(cat "$T/bosund.log")" '^<5>http: 127\.0\.0\.1: 429, 5 connections from it'
out=$($PROBE conns 127.0.0.1 "$P" 5 --hold 0)
is "closed connections are counted back down" "$out" "200=5 429=0 503=0 none=0"

# --- in all: 5 from one address held, then 5 from another: 3 fit
$PROBE conns 127.0.0.1 "$P" 5 --hold 4 > "$T/first" &
first=$!
wait_for 10 test -s "$T/first"
is "first address: 5 held" "$(cat "$T/first")" "200=5 429=0 503=0 none=0"
out=$($PROBE conns 127.0.0.1 "$P" 5 --hold 0 --src 127.0.0.2)
is "conns_max 8: the second address gets 3, then 503" "$out" "200=3 429=0 503=2 none=0"
like "503 logged at notice" "$(cat "$T/bosund.log")" '^<5>http: 127\.0\.0\.2: 503, 8 connections \(conns_max\)'
wait $first
wait_for 10 sh -c "$PROBE conns 127.0.0.1 $P 5 | grep -q '200=5'"
out=$($PROBE conns 127.0.0.1 "$P" 5 --hold 0)
is "after they close, all fit again" "$out" "200=5 429=0 503=0 none=0"
stop_daemon

# --- many at once
# roomy: a config with room for thousands of connections from one address.
roomy() {
    write_config <<'EOF2'
  plugins: [http]
http:
  listen: "127.0.0.1:0"
  limits:
    conns_per_ip: 5000
EOF2
    : > "$T/bosund.log"
}
roomy
start_daemon || exit 1
wait_for 10 http_ready 127.0.0.1
P=$(port_of 127.0.0.1)
$PROBE conns 127.0.0.1 "$P" 2000 --hold 3 > "$T/many" &
many=$!
wait_for 60 test -s "$T/many"
is "2000 connections at once: every one answered" "$(cat "$T/many")" "200=2000 429=0 503=0 none=0"
out=$(curl -s --max-time 10 -o /dev/null -w '%{http_code}' "http://127.0.0.1:$P/health")
is "and another client is served meanwhile" "$out" 200
wait $many
stop_daemon
is "the daemon stops cleanly after them" "$DAEMON_STATUS" 0

# --- out of descriptors: accept pauses, the complaint is bounded
roomy
(ulimit -n 64 && exec "$BOSUND" -c "$T/bosun.yaml" 2>>"$T/bosund.log") &
DAEMON_PID=$!
wait_for 20 ctl status || { sed 's/^/#   /' "$T/bosund.log"; exit 1; }
wait_for 10 http_ready 127.0.0.1
P=$(port_of 127.0.0.1)
out=$($PROBE conns 127.0.0.1 "$P" 150 --hold 2)
like "150 connections with 64 descriptors: some served" "$out" '^200=[1-9]'
n=$(grep -c 'accept failed: Too many open files' "$T/bosund.log")
like "descriptors out: the warning was logged" "$n" '^[1-9]'
like "  at a bounded rate (not once per attempt)" "$(awk "BEGIN { print ($n <= 10) ? \"yes\" : \"no: $n\" }")" '^yes$'
wait_for 10 sh -c "curl -s --max-time 2 http://127.0.0.1:$P/health | grep -q ok"
out=$(curl -s --max-time 5 -o /dev/null -w '%{http_code}' "http://127.0.0.1:$P/health")
is "served again once they are closed" "$out" 200
stop_daemon
done_testing
