#!/bin/sh
# Connection limits of the http plugin: per client address (429) and in
# all (503), counted back down as connections close; 2000 keep-alive HTTP
# and 2000 /ws connections at once, another client served meanwhile, the
# limits at that scale; out of descriptors, no spinning and a bounded
# complaint.
. "$top_srcdir/tests/integration/lib.sh"
. "$top_srcdir/tests/integration/http_lib.sh"
plan 19

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

# --- many at once: 2000 HTTP connections asking three times each
# (keep-alive) and 2000 authenticated /ws ones, each set from one client
# process, while another client is served; then the limits at that scale.
ulimit -n 20000 || { fail "raise the open-file limit to 20000 for 4000 connections"; exit 1; }
head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n' > "$T/boot.tok"
chmod 600 "$T/boot.tok"
write_config <<EOF2
  plugins: [http]
http:
  listen: "127.0.0.1:0"
  bootstrap_token_file: $T/boot.tok
  limits:
    conns_per_ip: 2000
    conns_max: 4100
EOF2
: > "$T/bosund.log"
start_daemon || exit 1
wait_for 10 http_ready 127.0.0.1
P=$(port_of 127.0.0.1)
$PROBE conns 127.0.0.1 "$P" 2000 --requests 3 --hold 25 > "$T/many" &
many=$!
"$top_builddir/tests/bench/ws_client" idle -p "$P" -T "$T/boot.tok" -b 127.0.0.2 -n 2000 -w 25 \
    > "$T/ws.out" 2> "$T/ws.err" &
wsc=$!
codes=
for i in 1 2 3 4 5; do
    codes="$codes $(curl -s --max-time 10 --interface 127.0.0.3 -o /dev/null -w '%{http_code}' "http://127.0.0.1:$P/health")"
    sleep 0.2
done
wait_for 120 sh -c "test -s '$T/many' && grep -q '^ready' '$T/ws.out'"
is "2000 keep-alive connections, 3 requests each: every one answered" "$(cat "$T/many")" \
    "200=2000 429=0 503=0 none=0 answered=6000"
like "2000 /ws connections set up and authenticated meanwhile" "$(cat "$T/ws.out")" '^ready 2000 '
is "another client was served meanwhile, each request within 10 s" "$codes" " 200 200 200 200 200"
out=$($PROBE conns 127.0.0.1 "$P" 10)
is "with 2000 held from it, conns_per_ip 2000 refuses 127.0.0.1 with 429" "$out" "200=0 429=10 503=0 none=0"
out=$($PROBE conns 127.0.0.1 "$P" 200 --src 127.0.0.4)
is "with 4000 held, conns_max 4100 lets 100 more in, then 503" "$out" "200=100 429=0 503=100 none=0"
wait $wsc
is "the /ws client ended well" "$?" 0
like "  none of its connections was closed by the server" "$(cat "$T/ws.out")" 'closed 0$'
wait $many
stop_daemon
is "the daemon stops cleanly after them" "$DAEMON_STATUS" 0

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
