#!/bin/sh
# Every limit of http.limits, one at a time on a real bosund: the status or
# WebSocket close code the client gets and the notice-level line the log
# gets for it.  Notices of one kind are logged at most once a second, so
# the checks of one kind are a second apart.  (conns_per_ip and conns_max:
# http_conns.sh, also over TLS in http_tls.sh; send_queue_max on /ws,
# 1013: ws_slow.sh; ws_auth_timeout and ws_subs_max, which need a store:
# ws.sh.)  request_timeout is reached
# with a store that answers the runs query after 3 s
# (tests/plugins/slow_store.c).
. "$top_srcdir/tests/integration/lib.sh"
. "$top_srcdir/tests/integration/http_lib.sh"
. "$top_srcdir/tests/integration/ws_lib.sh"
plan 28

write_config <<EOF2
  plugins: [slow_store, http]
slow_store:
  delay: 3s
$(ws_config "request_line_max: 1K" "header_bytes_max: 2K" "header_count_max: 20" "body_max: 1K" \
    "header_timeout: 1s" "body_timeout: 1s" "idle_timeout: 1500ms" "send_queue_max: 64K" \
    "ws_frame_max: 65536" "ws_message_max: 131072" "ws_subs_max: 2" "ping_interval: 1" \
    "request_timeout: 1s")
EOF2
start_daemon || exit 1
wait_for 10 curl -s -o /dev/null "$H/health"
# notice REGEX: the log has a notice-level line matching it.
notice() { grep -Eq "^<5>$1" "$T/bosund.log"; }
pause() { sleep 1.2; } # between two notices of one kind

# --- request line, headers, body
long=$(head -c 1100 /dev/zero | tr '\0' a)
out=$($PROBE send 127.0.0.1 "$PORT" "GET /$long HTTP/1.1\\r\\nHost: x\\r\\n\\r\\n" --wait 3)
is "request_line_max: 414, closed" "$(probe_field "$out" status) $(probe_field "$out" closed)" "414 yes"
check "  notice" notice 'http: 127\.0\.0\.1: 414, request line too long'
big=$(head -c 2100 /dev/zero | tr '\0' b)
out=$($PROBE send 127.0.0.1 "$PORT" "GET /health HTTP/1.1\\r\\nHost: x\\r\\nX-Big: $big\\r\\n\\r\\n" --wait 3)
is "header_bytes_max: 431, closed" "$(probe_field "$out" status) $(probe_field "$out" closed)" "431 yes"
check "  notice" notice 'http: 127\.0\.0\.1: 431, headers too large'
pause
hdrs=$(i=0; while [ $i -lt 25 ]; do printf 'X-H%d: v\\r\\n' $i; i=$((i + 1)); done)
out=$($PROBE send 127.0.0.1 "$PORT" "GET /health HTTP/1.1\\r\\nHost: x\\r\\n$hdrs\\r\\n" --wait 3)
is "header_count_max: 431, closed" "$(probe_field "$out" status) $(probe_field "$out" closed)" "431 yes"
check "  notice" notice 'http: 127\.0\.0\.1: 431, too many header lines'
out=$($PROBE send 127.0.0.1 "$PORT" 'POST /api/v1/tasks HTTP/1.1\r\nHost: x\r\nContent-Length: 2000\r\n\r\n' --wait 3)
is "body_max on a JSON route: 413 before the body, closed" "$(probe_field "$out" status) $(probe_field "$out" closed)" "413 yes"
check "  notice" notice 'http: 127\.0\.0\.1: 413, body too large'
pause
: > "$T/bosund.log"
out=$($PROBE send 127.0.0.1 "$PORT" 'GET /health HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\nabc' --wait 3)
is "a body on a route that takes none: 413" "$(probe_field "$out" status)" 413
check "  notice" notice 'http: 127\.0\.0\.1: 413, body too large'

# --- deadlines
out=$($PROBE send 127.0.0.1 "$PORT" 'GET /health HTTP/1.1\r\nHost: x\r\n' --wait 5)
is "header_timeout: 408, closed" "$(probe_field "$out" status) $(probe_field "$out" closed)" "408 yes"
check "  notice" notice 'http: 127\.0\.0\.1: 408, request headers not received in time'
pause
out=$($PROBE send 127.0.0.1 "$PORT" 'POST /api/v1/tasks HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\nabc' --wait 5)
is "body_timeout: 408, closed" "$(probe_field "$out" status) $(probe_field "$out" closed)" "408 yes"
check "  notice" notice 'http: 127\.0\.0\.1: 408, request body not received in time'
out=$($PROBE idle 127.0.0.1 "$PORT" --wait 5)
like "idle_timeout: an idle keep-alive connection is closed" "$out" '^closed after [0-9.]+'
check "  notice" notice 'http: 127\.0\.0\.1: idle for 1\.5 s \(idle_timeout\): closed'

# --- send_queue_max over HTTP: a client that sends and never reads is
# not read past the bound, then closed once nothing was taken for
# idle_timeout.
out=$(/usr/bin/python3 - "$PORT" <<'EOP'
import socket, sys, time
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
s.connect(("127.0.0.1", int(sys.argv[1])))
s.setblocking(False)
req = b"GET /health HTTP/1.1\r\nHost: x\r\n\r\n" * 100
t0 = time.monotonic()
while time.monotonic() - t0 < 30:
    try:
        s.send(req)
    except BlockingIOError:
        time.sleep(0.05)
    except OSError as e:
        print("closed by the server: %s" % e.__class__.__name__)
        break
else:
    print("still open")
EOP
)
like "send_queue_max: a client that sends and never reads is closed" "$out" '^closed by the server'
check "  once nothing was taken for idle_timeout, notice" notice 'http: 127\.0\.0\.1: client does not read its responses'

# --- request_timeout: the store answers the runs query after 3 s
out=$(curl -s --max-time 10 -H "Authorization: Bearer $TOK" -w '\n%{http_code}' "$H/api/v1/runs")
is "request_timeout: 504" "$(printf '%s' "$out" | tail -1)" 504
is "  error timeout" "$(printf '%s' "$out" | head -1 | jq -r .error.code)" timeout
check "  notice" notice 'http: 127\.0\.0\.1: 504, no reply to cmd\.store\.runs within request_timeout'

# --- WebSocket
out=$(node_ws frame "$U" "$TOK" 70000)
is "ws_frame_max: 1009" "$(jf "$out" .code)" 1009
out=$(py_ws fragmented "$U" "$TOK" 3 60000)
is "ws_message_max: 1009" "$(jf "$out" .code)" 1009
is "  both at notice" "$(grep -c '^<5>http: /ws .*closed for breaking the protocol: 1009' "$T/bosund.log")" 2
out=$(node_ws nopong "$U" "$TOK")
is "ping_interval: no pong, 1001" "$(jf "$out" .code)" 1001
is "  saying why" "$(jf "$out" .reason)" '"no pong"'
check "  notice" notice 'http: /ws 127\.0\.0\.1 \(admin bootstrap\): no pong within ping_interval \(1 s\)'
stop_daemon
is "the daemon stops cleanly" "$DAEMON_STATUS" 0
