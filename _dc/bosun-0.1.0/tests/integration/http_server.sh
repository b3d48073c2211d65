#!/bin/sh
# The http plugin's server core: /health, routing errors, keep-alive and
# pipelining, every request limit with its status and notice, the read
# deadlines (slowloris) and the idle timeout, IPv6, the access log, 503
# while stopping, configuration errors, and bosun.yaml(5) covering every key.
. "$top_srcdir/tests/integration/lib.sh"
. "$top_srcdir/tests/integration/http_lib.sh"
plan 67

write_config <<'EOF2'
  plugins: [exec, http]
http:
  listen: ["127.0.0.1:0", "[::1]:0"]
  trusted_proxies: ["127.0.0.1", "10.0.0.0/8"]
  limits:
    request_line_max: 1K
    header_bytes_max: 2K
    header_count_max: 20
    body_max: 1K
    header_timeout: 1s
    body_timeout: 1s
    idle_timeout: 1500ms
    send_queue_max: 4K
agents:
  stubborn:
    command: [/bin/sh, -c, 'trap "" TERM; while :; do sleep 0.1; done']
    autostart: true
    stop_timeout: 4s
EOF2
start_daemon || exit 1
wait_for 10 http_ready 127.0.0.1
P=$(port_of 127.0.0.1)
P6=$(port_of '\[::1\]')
U="http://127.0.0.1:$P"
like "listening on 127.0.0.1 with a chosen port" "$P" '^[0-9]+$'
like "and on [::1]" "$P6" '^[0-9]+$'

# --- /health
out=$(curl -s -w '\n%{http_code} %{content_type}' "$U/health")
is "/health: 200 JSON" "$(printf '%s' "$out" | tail -1)" "200 application/json"
h=$(printf '%s' "$out" | head -1)
is "/health: status ok" "$(printf '%s' "$h" | jq -r .status)" ok
is "/health: machine" "$(printf '%s' "$h" | jq -r .machine)" test-machine
like "/health: version" "$(printf '%s' "$h" | jq -r .version)" '^[0-9]+\.[0-9]+'
like "/health: uptime in seconds" "$(printf '%s' "$h" | jq -r '.uptime | type')" '^number$'
out=$(curl -s -I "$U/health")
like "HEAD /health: 200 with the GET's length" "$out" 'Content-Length: [1-9]'
like "HEAD /health: status line" "$out" '^HTTP/1.1 200'
out=$(curl -s -g -w '\n%{http_code}' "http://[::1]:$P6/health")
is "/health over IPv6 ::1" "$(printf '%s' "$out" | tail -1)" 200

# --- routing errors
out=$(curl -s -w '\n%{http_code}' "$U/no/such/route")
is "unknown route: 404" "$(printf '%s' "$out" | tail -1)" 404
is "unknown route: error code" "$(printf '%s' "$out" | head -1 | jq -r .error.code)" not_found
out=$(curl -s -i -X POST "$U/health")
like "wrong method: 405" "$out" '^HTTP/1.1 405'
like "wrong method: Allow names GET and HEAD" "$out" 'Allow: GET, HEAD'
like "wrong method: JSON error" "$out" '"code":"method_not_allowed"'

# --- keep-alive and pipelining
out=$(curl -sv "$U/health" "$U/health" 2>&1 >/dev/null)
like "keep-alive: curl reuses the connection" "$out" 'Re-using existing connection'
out=$($PROBE send 127.0.0.1 "$P" 'GET /health HTTP/1.1\r\nHost: x\r\n\r\nGET /nope HTTP/1.1\r\nHost: x\r\n\r\nPOST /nope HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhelloHEAD /health HTTP/1.1\r\nHost: x\r\n\r\nDELETE /health HTTP/1.1\r\nHost: x\r\n\r\n' --wait 1)
is "pipelined requests answered in order" "$(probe_field "$out" status)" "200 404 404 200 405"
is "pipelined: the connection stays open" "$(probe_field "$out" closed)" no
many=$(i=0; while [ $i -lt 100 ]; do printf 'GET /health HTTP/1.1\\r\\nHost: x\\r\\n\\r\\n'; i=$((i + 1)); done)
out=$($PROBE send 127.0.0.1 "$P" "$many" --wait 2)
is "100 pipelined requests (past the send queue and read-ahead bounds): all answered" \
    "$(probe_field "$out" status | wc -w | tr -d ' ')" 100
b900=$(head -c 900 /dev/zero | tr '\0' d)
out=$($PROBE send 127.0.0.1 "$P" "POST /nope HTTP/1.1\\r\\nHost: x\\r\\nContent-Length: 900\\r\\n\\r\\n${b900}POST /nope HTTP/1.1\\r\\nHost: x\\r\\nContent-Length: 900\\r\\n\\r\\n${b900}GET /health HTTP/1.1\\r\\nHost: x\\r\\n\\r\\n" --wait 1)
is "pipelined bodies (read one at a time past body_max): answered in order" "$(probe_field "$out" status)" "404 404 200"
out=$($PROBE send 127.0.0.1 "$P" 'GET /health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\nGET /health HTTP/1.1\r\nHost: x\r\n\r\n' --wait 3)
is "Connection: close: one answer, then closed" "$(probe_field "$out" status) $(probe_field "$out" closed)" "200 yes"
out=$($PROBE send 127.0.0.1 "$P" 'GET /health HTTP/1.0\r\n\r\n' --wait 3)
is "HTTP/1.0 without keep-alive: answered and closed" "$(probe_field "$out" status) $(probe_field "$out" closed)" "200 yes"

# --- limits: status, closed, notice
long=$(head -c 1100 /dev/zero | tr '\0' a)
out=$($PROBE send 127.0.0.1 "$P" "GET /$long HTTP/1.1\\r\\nHost: x\\r\\n\\r\\n" --wait 3)
is "request line over request_line_max: 414 and closed" "$(probe_field "$out" status) $(probe_field "$out" closed)" "414 yes"
big=$(head -c 2100 /dev/zero | tr '\0' b)
out=$($PROBE send 127.0.0.1 "$P" "GET /health HTTP/1.1\\r\\nHost: x\\r\\nX-Big: $big\\r\\n\\r\\n" --wait 3)
is "headers over header_bytes_max: 431" "$(probe_field "$out" status) $(probe_field "$out" closed)" "431 yes"
hdrs=$(i=0; while [ $i -lt 25 ]; do printf 'X-H%d: v\\r\\n' $i; i=$((i + 1)); done)
out=$($PROBE send 127.0.0.1 "$P" "GET /health HTTP/1.1\\r\\nHost: x\\r\\n$hdrs\\r\\n" --wait 3)
is "header lines over header_count_max: 431" "$(probe_field "$out" status)" 431
out=$($PROBE send 127.0.0.1 "$P" 'POST /nope HTTP/1.1\r\nHost: x\r\nContent-Length: 2000\r\n\r\n' --wait 3)
is "Content-Length over body_max: 413 before the body" "$(probe_field "$out" status) $(probe_field "$out" closed)" "413 yes"
chunk=$(head -c 600 /dev/zero | tr '\0' c)
out=$($PROBE send 127.0.0.1 "$P" "POST /nope HTTP/1.1\\r\\nHost: x\\r\\nTransfer-Encoding: chunked\\r\\n\\r\\n258\\r\\n$chunk\\r\\n258\\r\\n$chunk\\r\\n0\\r\\n\\r\\n" --wait 3)
is "chunked body passing body_max: 413" "$(probe_field "$out" status)" 413
out=$($PROBE send 127.0.0.1 "$P" 'POST /nope HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\nX-Trailer: one\r\nX-Other: two\r\n\r\nGET /health HTTP/1.1\r\nHost: x\r\nX-After: 1\r\n\r\n' --wait 1)
is "trailers after a chunked body: read past, the next request served" "$(probe_field "$out" status)" "404 200"
out=$($PROBE send 127.0.0.1 "$P" 'GET /health HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\nabc' --wait 3)
is "a body to a route that takes none: 413" "$(probe_field "$out" status)" 413
out=$(curl -s -o /dev/null -w '%{http_code}' -X POST --data-binary "@/dev/null" "$U/nope")
is "an empty body is fine (404 from the router)" "$out" 404
out=$($PROBE send 127.0.0.1 "$P" 'HELLO WORLD\r\n\r\n' --wait 3)
is "garbage: 400 and closed" "$(probe_field "$out" status) $(probe_field "$out" closed)" "400 yes"
out=$($PROBE send 127.0.0.1 "$P" 'GET /health HTTP/1.1\r\n\r\n' --wait 3)
is "HTTP/1.1 without Host: 400" "$(probe_field "$out" status)" 400
out=$($PROBE send 127.0.0.1 "$P" 'GET /a%zzb HTTP/1.1\r\nHost: x\r\n\r\n' --wait 3)
is "bad percent-encoding: 400" "$(probe_field "$out" status)" 400
out=$($PROBE send 127.0.0.1 "$P" 'GET /a%00b HTTP/1.1\r\nHost: x\r\n\r\n' --wait 3)
is "%00 in the path: 400" "$(probe_field "$out" status)" 400
out=$($PROBE send 127.0.0.1 "$P" 'GET /health HTTP/2.0\r\nHost: x\r\n\r\n' --wait 3)
like "HTTP/2.0 request line: refused" "$(probe_field "$out" status)" '^(400|505)$'
out=$($PROBE send 127.0.0.1 "$P" 'POST /nope HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\nExpect: 100-continue\r\n\r\n' 'abcd' --gap 0.5 --wait 1)
is "Expect: 100-continue: 100, then the answer" "$(probe_field "$out" status)" "100 404"
log=$(cat "$T/bosund.log")
like "414 logged at notice" "$log" '^<5>http: 127\.0\.0\.1: 414, request line too long'
like "431 logged at notice" "$log" '^<5>http: 127\.0\.0\.1: 431, (headers too large|too many header lines)'
like "413 logged at notice" "$log" '^<5>http: 127\.0\.0\.1: 413, body too large'
like "400 logged at notice" "$log" '^<5>http: 127\.0\.0\.1: 400'

# --- deadlines
out=$($PROBE send 127.0.0.1 "$P" 'GET /health HTTP/1.1\r\nHost: x\r\n' --wait 5)
is "headers not finished in header_timeout: 408 and closed" "$(probe_field "$out" status) $(probe_field "$out" closed)" "408 yes"
out=$($PROBE trickle 127.0.0.1 "$P" 'GET /health HTTP/1.1\r\nHost: x\r\nX-Slow: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\r\n\r\n' --every 0.1)
is "slowloris (a byte every 0.1 s): 408, the deadline counts from the first byte" "$(probe_field "$out" status)" 408
out=$($PROBE send 127.0.0.1 "$P" 'POST /nope HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\nabc' --wait 5)
is "body not finished in body_timeout: 408" "$(probe_field "$out" status) $(probe_field "$out" closed)" "408 yes"
like "408 logged at notice" "$(cat "$T/bosund.log")" '^<5>http: 127\.0\.0\.1: 408, request (headers|body) not received in time'
out=$($PROBE idle 127.0.0.1 "$P" --wait 5)
like "idle keep-alive connection closed after idle_timeout" "$out" '^closed after [0-9.]+'
secs=$(printf '%s' "$out" | sed 's/closed after //')
like "  not before it (1.5 s)" "$(awk "BEGIN { print ($secs >= 1.3) ? \"yes\" : \"no: $secs\" }")" '^yes$'
out=$($PROBE idle 127.0.0.1 "$P" --wait 0.5)
is "a connection idle less than idle_timeout stays open" "$out" open

# --- one slow client stalls nobody
$PROBE trickle 127.0.0.1 "$P" 'GET /health HTTP/1.1\r\nHost: x\r\nX-Slow: aaaaaaaaaaaaaaaaaaaa\r\n\r\n' --every 0.05 > "$T/slow.out" &
slow=$!
$PROBE send 127.0.0.1 "$P" 'GET /health HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nab' --wait 0.2 > /dev/null &
half=$!
out=$(curl -s --max-time 5 -o /dev/null -w '%{http_code}' "$U/health")
is "a slow and a half-sent request do not stall another client" "$out" 200
wait $slow $half

# --- access log: no query, no credentials
curl -s -o /dev/null -H 'Authorization: Bearer bsn_adm_SEKRIT' "$U/nope?token=SEKRIT2&x=1"
log=$(cat "$T/bosund.log")
like "access log: method, path, status, bytes, duration, principal" "$log" '^<6>http: 127\.0\.0\.1 "GET /nope" 404 [0-9]+ [0-9.]+ms anonymous -'
unlike "access log: never the query or a token" "$log" 'SEKRIT'
curl -s -o /dev/null "$U/a%0ab%22c"
like "access log: control characters escaped" "$(cat "$T/bosund.log")" '"GET /a\\x0ab\\x22c" 404'

# --- X-Forwarded-For from trusted proxies only
curl -s -o /dev/null -H 'X-Forwarded-For: 198.51.100.7, 10.1.2.3' "$U/xff-chain"
like "a trusted proxy's X-Forwarded-For: the address before the trusted ones" "$(cat "$T/bosund.log")" '^<6>http: 198\.51\.100\.7 "GET /xff-chain" 404'
curl -s -o /dev/null -H 'X-Forwarded-For: 203.0.113.9, 198.51.100.7' "$U/xff-last"
like "  only the last untrusted one counts (the rest is the client's to forge)" "$(cat "$T/bosund.log")" '^<6>http: 198\.51\.100\.7 "GET /xff-last" 404'
curl -s -o /dev/null -H 'X-Forwarded-For: not-an-address' "$U/xff-junk"
like "  a value that is no address is not believed" "$(cat "$T/bosund.log")" '^<6>http: 127\.0\.0\.1 "GET /xff-junk" 404'
curl -s -o /dev/null --interface 127.0.0.2 -H 'X-Forwarded-For: 198.51.100.7' "$U/xff-untrusted"
like "from a peer that is not a trusted proxy the header is ignored" "$(cat "$T/bosund.log")" '^<6>http: 127\.0\.0\.2 "GET /xff-untrusted" 404'

# --- configuration errors
cfg_check() {
    cat > "$T/bad.yaml"
    "$BOSUND" --check-config -c "$T/bad.yaml" 2>&1
}
head_cfg="daemon:
  state_dir: $T/state2
  runtime_dir: $T/run2
  plugins: [http]"
out=$(printf '%s\nhttp:\n  listen: ["localhost:80"]\n' "$head_cfg" | cfg_check)
like "a host name in listen: FILE:LINE:COL error" "$out" 'bad\.yaml:6:12: http\.listen: .localhost:80.: .localhost. is not a numeric'
out=$(printf '%s\nhttp:\n  listen: ["127.0.0.1:1", "127.0.0.1:1"]\n' "$head_cfg" | cfg_check)
like "an address twice: refused" "$out" 'listed twice'
out=$(printf '%s\nhttp:\n  listen: "::1:80"\n' "$head_cfg" | cfg_check)
like "IPv6 without brackets: refused" "$out" 'IPv6 address in brackets'
out=$(printf '%s\nhttp:\n  limits: {body_max: 2G, bogus: 1}\n' "$head_cfg" | cfg_check)
like "a limit out of range: named" "$out" 'body_max'
like "an unknown limit: named" "$out" "unknown key 'bogus'"
out=$(printf '%s\nhttp:\n  tls: {cert: %s/none.pem, key: %s/none.key}\n' "$head_cfg" "$T" "$T" | cfg_check)
like "a missing certificate: the file is named" "$out" "http\.tls\.cert: $T/none\.pem: No such file"
out=$(printf '%s\nhttp:\n  trusted_proxies: ["10.0.0.0/33"]\n' "$head_cfg" | cfg_check)
like "a bad CIDR in trusted_proxies: refused" "$out" 'trusted_proxies: .10\.0\.0\.0/33.'

# --- bosun.yaml(5) documents every key
missing=
keys=$(sed -n 's/^ *S(\([a-z_]*\),.*/\1/p' "$top_srcdir/plugins/http/http_config.c")
keys="$keys $(sed -n '/http_keys\[\] = {/,/NULL}/p' "$top_srcdir/plugins/http/http_config.c" | grep -o '"[a-z_]*"' | tr -d '"')"
for k in $keys cert key; do
    grep -q "^\.It Cm $k " "$top_srcdir/man/bosun.yaml.5" || missing="$missing $k"
done
like "the keys were found in http_config.c" "$(echo $keys)" 'request_line_max.*trusted_proxies'
is "bosun.yaml(5) documents every http key" "$missing" ""

# --- stopping: /health says 503 while the runs stop
wait_for 10 state_is stubborn RUNNING
kill -TERM "$DAEMON_PID"
wait_for 3 sh -c "curl -s '$U/health' | grep -q stopping"
out=$(curl -s -w '\n%{http_code}' "$U/health")
is "while stopping: /health 503" "$(printf '%s' "$out" | tail -1)" 503
is "while stopping: status stopping" "$(printf '%s' "$out" | head -1 | jq -r .status)" stopping
stop_daemon
is "the daemon stops cleanly" "$DAEMON_STATUS" 0
done_testing
