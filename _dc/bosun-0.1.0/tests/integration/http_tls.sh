#!/bin/sh
# TLS on the http plugin: a CA made here with openssl req signs the
# server's certificate; curl verifies it; TLS 1.1 is refused while 1.2
# works; keep-alive over TLS; a plain client and a silent one are dropped
# without harm; a reload re-reads the files (new connections get the new
# certificate, an open one keeps working); bad files are errors naming them.
# Over a connection limit a TLS client gets the same 429 / 503 as a plain
# one, after a bounded handshake, and a flood of refused connections that
# never finish theirs holds at most 256 of them for at most header_timeout.
. "$top_srcdir/tests/integration/lib.sh"
. "$top_srcdir/tests/integration/http_lib.sh"
plan 38

test_ca
mkcert one "bosun one"
mkcert two "bosun two"
check "the test CA signed two server certificates" test -s "$T/one.pem" -a -s "$T/two.pem"
# tls_daemon LIMITS...: a daemon on the first certificate, header_timeout
# 1s and the given "key: value" limits; P and U its port and URL.
tls_daemon() {
    cp "$T/one.pem" "$T/server.pem"
    cp "$T/one.key" "$T/server.key"
    { printf '  plugins: [http]\nhttp:\n  listen: "127.0.0.1:0"\n'
      printf '  tls: {cert: %s, key: %s}\n  limits:\n    header_timeout: 1s\n' "$T/server.pem" "$T/server.key"
      for _l in "$@"; do printf '    %s\n' "$_l"; done; } | write_config
    : > "$T/bosund.log"
    start_daemon || exit 1
    wait_for 10 http_ready 127.0.0.1
    P=$(port_of 127.0.0.1)
    U="https://127.0.0.1:$P"
}
tls_daemon
like "the listener says TLS" "$(cat "$T/bosund.log")" "listening on 127\.0\.0\.1:$P \(TLS\)"

out=$(curl -s --cacert "$T/ca.pem" "$U/health")
is "/health over TLS, verified against the test CA" "$(printf '%s' "$out" | jq -r .status)" ok
out=$(curl -s -o /dev/null -w '%{http_code}' "$U/health"; echo " rc=$?")
like "without the CA curl refuses the certificate" "$out" 'rc=60'
out=$(curl -sv --cacert "$T/ca.pem" "$U/health" "$U/health" 2>&1 >/dev/null)
like "keep-alive over TLS" "$out" 'Re-using existing connection'
like "TLS 1.2 or 1.3 negotiated" "$out" 'SSL connection using TLSv1\.[23]'
out=$(curl -s --cacert "$T/ca.pem" --tlsv1.2 --tls-max 1.2 -o /dev/null -w '%{http_code}' "$U/health")
is "TLS 1.2 is accepted" "$out" 200
out=$(echo | openssl s_client -connect "127.0.0.1:$P" -tls1_1 -cipher 'DEFAULT@SECLEVEL=0' 2>&1)
like "TLS 1.1 is refused by the server" "$out" '(protocol version|unsupported protocol|no protocols available)'
out=$(echo | openssl s_client -connect "127.0.0.1:$P" -tls1_2 -cipher 'DEFAULT@SECLEVEL=0' 2>&1)
like "  while the same client with TLS 1.2 connects" "$out" 'Protocol *: TLSv1\.2'
out=$($PROBE send 127.0.0.1 "$P" 'GET /health HTTP/1.1\r\nHost: x\r\n\r\nGET /nope HTTP/1.1\r\nHost: x\r\n\r\n' --tls --wait 1)
is "pipelining over TLS" "$(probe_field "$out" status)" "200 404"

# --- plain text and silence on the TLS port
out=$($PROBE send 127.0.0.1 "$P" 'GET /health HTTP/1.1\r\nHost: x\r\n\r\n' --wait 3)
is "plain HTTP to the TLS port: closed without an answer" "$(probe_field "$out" status) $(probe_field "$out" closed)" " yes"
like "  logged as a failed handshake" "$(cat "$T/bosund.log")" '^<5>http: 127\.0\.0\.1: TLS handshake failed'
out=$($PROBE send 127.0.0.1 "$P" '' --wait 4)
is "a client that never says hello is closed (header_timeout)" "$(probe_field "$out" closed)" yes

# --- reload re-reads the files; an open connection keeps going
serial() {
    echo | openssl s_client -connect "127.0.0.1:$P" -CAfile "$T/ca.pem" 2>/dev/null |
        openssl x509 -noout -subject 2>/dev/null
}
like "the first certificate is served" "$(serial)" 'bosun one'
/usr/bin/python3 - "$P" "$T/ca.pem" > "$T/held" 2>&1 <<'EOP' &
import socket, ssl, sys, time
ctx = ssl.create_default_context(cafile=sys.argv[2])
s = ctx.wrap_socket(socket.create_connection(("127.0.0.1", int(sys.argv[1]))), server_hostname="localhost")
s.sendall(b"GET /health HTTP/1.1\r\nHost: x\r\n\r\n")
first = s.recv(4096).split(b"\r\n")[0].decode()
print("first", first, flush=True)
time.sleep(2)
s.sendall(b"GET /health HTTP/1.1\r\nHost: x\r\n\r\n")
print("second", s.recv(4096).split(b"\r\n")[0].decode(), flush=True)
EOP
held=$!
wait_for 10 grep -q first "$T/held"
cp "$T/two.pem" "$T/server.pem"
cp "$T/two.key" "$T/server.key"
out=$(ctl reload 2>&1)
is "reload with a renewed certificate" "$out" "configuration reloaded"
wait_for 10 sh -c "echo | openssl s_client -connect 127.0.0.1:$P -CAfile '$T/ca.pem' 2>/dev/null | openssl x509 -noout -subject | grep -q 'bosun two'"
like "new connections get it" "$(serial)" 'bosun two'
like "  and the log says so" "$(cat "$T/bosund.log")" "^<5>http: TLS certificate $T/server\\.pem and key $T/server\\.key loaded again"

wait $held
like "a connection opened before the reload keeps working" "$(cat "$T/held")" 'second HTTP/1.1 200'
cp "$T/one.key" "$T/server.key"
out=$(ctl reload 2>&1)
like "a key that does not match: reload refused, the file named" "$out" "http\.tls\.key: $T/server\.key: .*(mismatch|does not match)"
wait_for 10 grep -q 'the TLS files loaded before are kept' "$T/bosund.log"
like "  and the old certificate is still served" "$(serial)" 'bosun two'
like "  the watcher kept it, saying why" "$(cat "$T/bosund.log")" '^<4>http\.tls\.key: .*the TLS files loaded before are kept'
stop_daemon

# --- over the connection limits on a TLS listener: answered too
tls_daemon "conns_per_ip: 2" "conns_max: 3"
# hold N: N kept-alive TLS connections from 127.0.0.1, each answered once,
# held until the file $T/release exists (at most 60 s).
hold() {
    /usr/bin/python3 - "$P" "$T/ca.pem" "$1" "$T/release" <<'EOP'
import os, socket, ssl, sys, time
ctx = ssl.create_default_context(cafile=sys.argv[2])
held, socks = [], []
for _ in range(int(sys.argv[3])):
    s = ctx.wrap_socket(socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=10),
                        server_hostname="localhost")
    s.sendall(b"GET /health HTTP/1.1\r\nHost: x\r\n\r\n")
    held.append(s.recv(4096).split(b"\r\n")[0].decode())
    socks.append(s)
print(" ".join(held), flush=True)
end = time.monotonic() + 60
while not os.path.exists(sys.argv[4]) and time.monotonic() < end:
    time.sleep(0.1)
EOP
}
rm -f "$T/release"
hold 2 > "$T/held2" &
holder=$!
wait_for 20 test -s "$T/held2"
is "two TLS connections held from 127.0.0.1 (conns_per_ip 2)" "$(cat "$T/held2")" "HTTP/1.1 200 OK HTTP/1.1 200 OK"
out=$(curl -s --max-time 10 --cacert "$T/ca.pem" -D "$T/h429" "$U/health")
is "the third gets 429 over TLS, verified by the CA" "$(head -1 "$T/h429" | tr -d '\r')" "HTTP/1.1 429 Too Many Requests"
is "  with the error body" "$(printf '%s' "$out" | jq -r .error.code)" rate_limited
like "  Retry-After" "$(cat "$T/h429")" 'Retry-After: 1'
like "  and Connection: close" "$(cat "$T/h429")" 'Connection: close'
like "  logged at notice" "$(cat "$T/bosund.log")" '^<5>http: 127\.0\.0\.1: 429, 2 connections from it \(conns_per_ip\)'
out=$(curl -s --max-time 10 --cacert "$T/ca.pem" --interface 127.0.0.2 -o /dev/null -w '%{http_code}' "$U/health")
is "another address fits (3 of conns_max)" "$out" 200
out=$(/usr/bin/python3 - "$P" "$T/ca.pem" <<'EOP'
import socket, ssl, sys
ctx = ssl.create_default_context(cafile=sys.argv[2])
conns = []
# 127.0.0.2 fits (conns_max 3 with the two held); the next, from .4, does not.
for src in ("127.0.0.2", "127.0.0.4"):
    raw = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=10, source_address=(src, 0))
    s = ctx.wrap_socket(raw, server_hostname="localhost")
    s.sendall(b"GET /health HTTP/1.1\r\nHost: x\r\n\r\n")
    conns.append(s)
print(" ".join(s.recv(4096).split(b"\r\n")[0].decode() for s in conns))
EOP
)
is "conns_max 3 over TLS: the fourth connection gets 503" "$out" 'HTTP/1.1 200 OK HTTP/1.1 503 Service Unavailable'
like "  logged at notice" "$(cat "$T/bosund.log")" '^<5>http: 127\.0\.0\.4: 503, 3 connections \(conns_max\)'

# A flood of over-limit connections that never say hello: at most 256 are
# kept, each for header_timeout (1 s), the others closed at once.
out=$(/usr/bin/python3 - "$P" <<'EOP'
import selectors, socket, sys, time
sel = selectors.DefaultSelector()
socks = []
for _ in range(400):
    s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=10)
    s.setblocking(False)
    sel.register(s, selectors.EVENT_READ)
    socks.append(s)
t0 = time.monotonic()
closed = {}
while len(closed) < len(socks) and time.monotonic() - t0 < 20:
    for key, _ in sel.select(timeout=1):
        s = key.fileobj
        try:
            data = s.recv(4096)
        except OSError:
            data = b""
        if not data:
            closed[s] = time.monotonic() - t0
            sel.unregister(s)
quick = sum(1 for t in closed.values() if t < 0.5)
kept = sorted(t for t in closed.values() if t >= 0.5)
print("closed=%d quick=%d kept=%d kept_max=%.1f" % (len(closed), quick, len(kept), kept[-1] if kept else 0))
EOP
)
like "400 silent over-limit connections: all closed" "$out" '^closed=400 '
n_kept=$(printf '%s' "$out" | sed -n 's/.* kept=\([0-9]*\) .*/\1/p')
check "  at most 256 of them waited for a handshake ($out)" test "$n_kept" -le 256 -a "$n_kept" -ge 1
kept_max=$(printf '%s' "$out" | sed -n 's/.*kept_max=\([0-9.]*\).*/\1/p')
check "  none for much longer than header_timeout ($kept_max s)" awk "BEGIN { exit !($kept_max < 5) }"
like "  the others closed without an answer, logged at notice" "$(cat "$T/bosund.log")" \
    '^<5>http: 256 refused TLS connections already being answered \(at most 256\)'
like "  the waiting ones' deadline logged" "$(cat "$T/bosund.log")" \
    '^<5>http: refused TLS connection: handshake not done in time'
out=$(curl -s --max-time 10 --cacert "$T/ca.pem" -o /dev/null -w '%{http_code}' "$U/health")
is "after the flood a refused client is answered again" "$out" 429
touch "$T/release"
wait $holder
wait_for 10 sh -c "curl -s --max-time 5 --cacert '$T/ca.pem' -o /dev/null -w '%{http_code}' '$U/health' | grep -q 200"
out=$(curl -s --max-time 10 --cacert "$T/ca.pem" -o /dev/null -w '%{http_code}' "$U/health")
is "the held ones closed, 127.0.0.1 is served again" "$out" 200
stop_daemon
is "the daemon stops cleanly" "$DAEMON_STATUS" 0
done_testing
