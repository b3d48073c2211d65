#!/bin/sh
# TLS on the http plugin: a CA made here with openssl req signs the
# server's certificate; curl verifies it; TLS 1.1 is refused while 1.2
# works; keep-alive over TLS; a plain client and a silent one are dropped
# without harm; a reload re-reads the files (new connections get the new
# certificate, an open one keeps working); bad files are errors naming them.
. "$top_srcdir/tests/integration/lib.sh"
. "$top_srcdir/tests/integration/http_lib.sh"
plan 21

# mkcert NAME CN: NAME.pem (the certificate, then the CA's) and NAME.key,
# signed by the test CA, valid for 127.0.0.1 and localhost.
openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=bosun test CA" \
    -keyout "$T/ca.key" -out "$T/ca.pem" >/dev/null 2>&1
mkcert() {
    openssl req -newkey rsa:2048 -nodes -subj "/CN=$2" -keyout "$T/$1.key" -out "$T/$1.csr" \
        >/dev/null 2>&1
    printf 'subjectAltName=IP:127.0.0.1,DNS:localhost\n' > "$T/$1.ext"
    openssl x509 -req -in "$T/$1.csr" -CA "$T/ca.pem" -CAkey "$T/ca.key" -CAcreateserial \
        -days 2 -extfile "$T/$1.ext" -out "$T/$1.crt" >/dev/null 2>&1
    cat "$T/$1.crt" "$T/ca.pem" > "$T/$1.pem"
    chmod 600 "$T/$1.key"
}
mkcert one "bosun one"
mkcert two "bosun two"
check "the test CA signed two server certificates" test -s "$T/one.pem" -a -s "$T/two.pem"
cp "$T/one.pem" "$T/server.pem"
cp "$T/one.key" "$T/server.key"

write_config <<EOF2
  plugins: [http]
http:
  listen: "127.0.0.1:0"
  tls: {cert: $T/server.pem, key: $T/server.key}
  limits:
    header_timeout: 1s
EOF2
start_daemon || exit 1
wait_for 10 http_ready 127.0.0.1
P=$(port_of 127.0.0.1)
U="https://127.0.0.1:$P"
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
done_testing
