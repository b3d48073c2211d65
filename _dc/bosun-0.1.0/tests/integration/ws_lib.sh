# Shared by the /ws tests, after lib.sh: a daemon with the http plugin on a
# free port, an admin token (the bootstrap file), and the two clients:
# node_ws CASE ARGS... (tests/ws/ws_test.mjs, Node's ws, run from a copy in
# $T next to its node_modules: the source tree may be read-only) and
# py_ws CASE ARGS... (tests/ws/ws_py.py, Debian's python3-websockets).
if ! command -v node >/dev/null; then
    echo "1..1"; echo "not ok 1 - node is installed (apt-get install nodejs)"; exit 1
fi
W="$T/ws-run"
mkdir -p "$W"
cp "$top_srcdir"/tests/ws/*.mjs "$top_srcdir"/tests/ws/ws_py.py "$top_srcdir"/tests/ws/package.json \
    "$top_srcdir"/tests/ws/package-lock.json "$W/"
if [ -d "$top_srcdir/tests/ws/node_modules/ws" ]; then
    ln -sfn "$top_srcdir/tests/ws/node_modules" "$W/node_modules"
elif [ ! -d "$W/node_modules/ws" ]; then
    (cd "$W" && npm ci --no-audit --no-fund >/dev/null 2>&1) || { echo "1..1"; echo "not ok 1 - npm ci in tests/ws"; exit 1; }
fi
BOSUN_PLUGIN_PATH="$BOSUN_PLUGIN_PATH:$top_builddir/plugins/http"
PORT=$(/usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
U="ws://127.0.0.1:$PORT/ws"
H="http://127.0.0.1:$PORT"
head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n' > "$T/boot.tok"
chmod 600 "$T/boot.tok"
TOK=$(cat "$T/boot.tok")
# ws_config LIMITS...: the http section with the bootstrap token and the
# given "key: value" limits, for write_config's stdin; with WS_TLS set
# (a flow mapping {cert: F, key: F}) on TLS.
ws_config() {
    echo "http:"
    echo "  listen: \"127.0.0.1:$PORT\""
    echo "  bootstrap_token_file: $T/boot.tok"
    [ -z "${WS_TLS:-}" ] || echo "  tls: $WS_TLS"
    echo "  limits:"
    for _l in "$@"; do echo "    $_l"; done
}
# Each waits WS_DEADLINE seconds at most for what it expects: generous, as
# the suite may run beside a loaded machine's other work.
WS_DEADLINE=${WS_DEADLINE:-240}
export WS_DEADLINE
node_ws() { timeout $((WS_DEADLINE + 60)) node "$W/ws_test.mjs" "$@" 2>>"$T/node.err"; }
py_ws() { timeout $((WS_DEADLINE + 60)) /usr/bin/python3 "$W/ws_py.py" "$@" 2>>"$T/py.err"; }
# jf JSON FILTER: a jq filter over a client's output.
jf() { printf '%s\n' "$1" | jq -c "$2" 2>/dev/null; }
# ws_auth_checks: 7 checks of auth on $U, with both clients: Bearer at the
# upgrade, the first frame, a bad token, none (ws_auth_timeout); the last
# client's output left in $out.
ws_auth_checks() {
    out=$(node_ws sub "$U" "$TOK" 'evt.>')
    is "node, Bearer at the upgrade: ready as admin" "$(jf "$out" .ready.kind)" '"admin"'
    is "  and subscribed" "$(jf "$out" .frame.op)" '"subscribed"'
    out=$(py_ws first "$U" "$TOK")
    is "python, first-frame auth: ready" "$(jf "$out" .frame.op)" '"ready"'
    is "  with the principal" "$(jf "$out" .frame.principal)" '{"kind":"admin","id":"bootstrap","role":"admin"}'
    out=$(py_ws first "$U" bsn_adm_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA)
    is "a bad token in the first frame: 1008" "$(jf "$out" .code)" 1008
    out=$(py_ws silent "$U" -)
    is "no credential and no frame: 1008" "$(jf "$out" .code)" 1008
    is "  saying why" "$(jf "$out" .reason)" '"authentication timeout"'
}
# ws_follow_three PREFIX PRE LIVE MID: a producer of LIVE events
# PREFIX.b.eN and, at once, three followers of PREFIX.> that must get
# PRE + LIVE events (node and python from 0) or 10 fewer (node from MID),
# into $T/node0.out, nodemid.out, py0.out; then 2 checks for each.
ws_follow_three() {
    (for i in $(seq 1 "$3"); do ctl pub "$1.b.e$i" "{\"i\":$i}" >/dev/null; sleep 0.01; done) &
    _prod=$!
    node_ws follow "$U" "$TOK" "$1.>" 0 $(($2 + $3)) > "$T/node0.out" &
    _n0=$!
    node_ws follow "$U" "$TOK" "$1.>" "$4" $(($2 + $3 - 10)) > "$T/nodemid.out" &
    _n1=$!
    py_ws follow "$U" "$TOK" "$1.>" 0 $(($2 + $3)) > "$T/py0.out" &
    _p0=$!
    wait "$_prod" "$_n0" "$_n1" "$_p0"
    for _c in node0 nodemid py0; do
        out=$(cat "$T/$_c.out")
        _want=$([ "$_c" = nodemid ] && echo $(($2 + $3 - 10)) || echo $(($2 + $3)))
        is "$_c: all $_want events" "$(jf "$out" .n)" "$_want"
        is "$_c: exactly the stored ones, in order (no gap, no duplicate)" "$(jf "$out" .got)" "$(jf "$out" .stored)"
    done
}
