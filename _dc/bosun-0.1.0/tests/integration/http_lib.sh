# Helpers for the http plugin's tests, after lib.sh: the plugin on the
# search path, the raw client, and the ports the daemon chose.
BOSUN_PLUGIN_PATH="$top_builddir/plugins/http:$BOSUN_PLUGIN_PATH"
export BOSUN_PLUGIN_PATH
PROBE="/usr/bin/python3 $top_srcdir/tests/helpers/http_probe.py"

# port_of ADDRESS: the port of the listener on ADDRESS ("127.0.0.1",
# "\[::1\]"), from the last "listening on" line of the log.
port_of() {
    sed -n "s/.*http: listening on $1:\([0-9][0-9]*\).*/\1/p" "$T/bosund.log" | tail -1
}
# http_ready ADDRESS: a listener on ADDRESS is logged.
http_ready() { [ -n "$(port_of "$1")" ]; }
# probe_field OUTPUT NAME: a line "NAME: value" of http_probe.py's output.
probe_field() { printf '%s\n' "$1" | sed -n "s/^$2: //p"; }
# http_boot: a free loopback port in PORT (U: its http:// URL) and a
# bootstrap token, 64 hex characters, in $T/boot.tok (0600) and BOOT.
http_boot() {
    PORT=$(/usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
    U="http://127.0.0.1:$PORT"
    head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n' > "$T/boot.tok"
    chmod 600 "$T/boot.tok"
    BOOT=$(cat "$T/boot.tok")
}
# test_ca: a CA made here with openssl req, $T/ca.pem and $T/ca.key.
test_ca() {
    openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=bosun test CA" \
        -keyout "$T/ca.key" -out "$T/ca.pem" >/dev/null 2>&1
}
# mkcert NAME CN [SAN]: NAME.pem (the certificate, then the CA's) and
# NAME.key, signed by the test CA, valid for 127.0.0.1 and localhost (and
# SAN, e.g. IP:10.1.2.3, when given).
mkcert() {
    openssl req -newkey rsa:2048 -nodes -subj "/CN=$2" -keyout "$T/$1.key" -out "$T/$1.csr" \
        >/dev/null 2>&1
    printf 'subjectAltName=IP:127.0.0.1,DNS:localhost%s\n' "${3:+,$3}" > "$T/$1.ext"
    openssl x509 -req -in "$T/$1.csr" -CA "$T/ca.pem" -CAkey "$T/ca.key" -CAcreateserial \
        -days 2 -extfile "$T/$1.ext" -out "$T/$1.crt" >/dev/null 2>&1
    cat "$T/$1.crt" "$T/ca.pem" > "$T/$1.pem"
    chmod 600 "$T/$1.key"
}
