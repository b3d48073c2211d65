#!/bin/sh
# Reload of the http section: a new address is opened, a removed one is
# closed with its connections, a connection on a kept listener survives,
# new limits apply to new connections, and a reload that cannot open an
# address changes nothing.
. "$top_srcdir/tests/integration/lib.sh"
. "$top_srcdir/tests/integration/http_lib.sh"
plan 14

# Two ports the kernel picks, then names in the config.
free_port() {
    /usr/bin/python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}
PA=$(free_port)
PB=$(free_port)
PC=$(free_port)
conf() {
    write_config <<EOF2
  plugins: [http]
http:
  listen: [$1]
  limits:
    idle_timeout: 30s
    header_count_max: $2
EOF2
}
conf "\"127.0.0.1:$PA\", \"127.0.0.1:$PB\"" 50
start_daemon || exit 1
wait_for 10 http_ready 127.0.0.1
code() { curl -s --max-time 5 -o /dev/null -w '%{http_code}' "http://127.0.0.1:$1/health"; }
is "A answers" "$(code "$PA")" 200
is "B answers" "$(code "$PB")" 200

# A connection on A (kept) and one on B (removed) stay open across the reload.
hold() {
    /usr/bin/python3 - "$1" <<'EOP'
import socket, sys, time
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
req = b"GET /health HTTP/1.1\r\nHost: x\r\n\r\n"
s.sendall(req)
print("first", s.recv(4096).split(b"\r\n")[0].decode(), flush=True)
time.sleep(3)
try:
    s.sendall(req)
    r = s.recv(4096)
    print("second", r.split(b"\r\n")[0].decode() if r else "closed", flush=True)
except OSError as e:
    print("second closed", e, flush=True)
EOP
}
hold "$PA" > "$T/onA" &
ha=$!
hold "$PB" > "$T/onB" &
hb=$!
wait_for 10 grep -q first "$T/onA"
wait_for 10 grep -q first "$T/onB"

conf "\"127.0.0.1:$PA\", \"127.0.0.1:$PC\"" 3
out=$(ctl reload 2>&1)
is "reload B -> C: accepted" "$out" "configuration reloaded"
is "C answers" "$(code "$PC")" 200
is "B no longer answers" "$(code "$PB")" 000
is "A still answers" "$(code "$PA")" 200
like "the log names the closed and the opened listener" "$(cat "$T/bosund.log")" "no longer listening on 127\.0\.0\.1:$PB"
like "  and the new one" "$(cat "$T/bosund.log")" "listening on 127\.0\.0\.1:$PC"
wait $ha $hb
like "a connection on the kept listener survived the reload" "$(cat "$T/onA")" 'second HTTP/1.1 200'
like "a connection on the removed listener was closed" "$(cat "$T/onB")" 'second closed'

# The new header_count_max (3) applies to new connections.
out=$($PROBE send 127.0.0.1 "$PA" 'GET /health HTTP/1.1\r\nHost: x\r\nA: 1\r\nB: 2\r\nC: 3\r\n\r\n' --wait 2)
is "new limits apply to new connections" "$(probe_field "$out" status)" 431

# An address in use elsewhere: the reload is refused, nothing changes.
/usr/bin/python3 - "$PB" > "$T/squat" <<'EOP' &
import socket, sys, time
s = socket.socket()
s.bind(("127.0.0.1", int(sys.argv[1])))
s.listen(1)
print("bound", flush=True)
time.sleep(4)
EOP
squat=$!
wait_for 10 grep -q bound "$T/squat"
conf "\"127.0.0.1:$PB\"" 50
out=$(ctl reload 2>&1)
like "an address that cannot be opened: reload refused, said why" "$out" "cannot listen on 127\.0\.0\.1:$PB: Address already in use"
is "  A still answers" "$(code "$PA")" 200
is "  C still answers" "$(code "$PC")" 200
wait $squat
stop_daemon
done_testing
