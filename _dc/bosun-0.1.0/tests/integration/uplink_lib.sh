# Shared by the uplink tests, after lib.sh and http_lib.sh: a scripted hub
# (tests/helpers/uplink_hub.py, TLS from a test CA) and one machine bosund
# (sqlite, exec, uplink) in $T.
#
#   hub_start [NAME [PORT]]   the scripted hub NAME (default "hub") in
#                             $T/NAME on PORT (0: any), wss:// with $T/hub.pem;
#                             its port in HUB_PORT, its URL in HUB_URL
#   hub_stop [NAME]           SIGTERM, then SIGKILL
#   hubctl JSON [NAME]        one control request, its JSON answer
#   hubst FILTER [NAME]       jq FILTER of the hub's status
#   machine_config [LINES...] $T/bosun.yaml: LINES go under "uplink:" after
#                             hub ($UPLINK_HUB or HUB_URL), ca_file, heartbeat
#                             1s, reconnect_splay 0s (unless LINES set
#                             them); agents from $AGENTS when set
#   reg_token NAME            a fresh bsn_reg_ token the hub NAME accepts
#   all_local_seqs            every seq in the machine's store (JSON array)
#   hub_seqs [NAME]           the seqs the hub stored for the machine
#   hub_t EV N / n_ev EV      the hub's own time of its Nth EV event (its
#                             log: accept, cut...) / how many it logged
#   log_waits FROM            the waits the daemon logged after line FROM of
#                             its log ("reconnecting in" / "trying again in")
BOSUN_PLUGIN_PATH="$top_builddir/plugins/uplink:$top_builddir/plugins/sqlite:$top_builddir/plugins/exec:$BOSUN_PLUGIN_PATH"
export BOSUN_PLUGIN_PATH
if ! ls "$top_builddir/plugins/uplink/"*.la >/dev/null 2>&1; then
    echo "1..0 # SKIP the uplink plugin is not built"
    exit 0
fi
if ! /usr/bin/python3 -c 'import websockets' 2>/dev/null; then
    echo "1..0 # SKIP /usr/bin/python3 has no websockets module (python3-websockets)"
    exit 0
fi
HUB_PY="/usr/bin/python3 $top_srcdir/tests/helpers/uplink_hub.py"
HUBS=

uplink_cleanup() {
    for _h in $HUBS; do
        _pid=$(cat "$T/$_h.pid" 2>/dev/null)
        [ -n "$_pid" ] && kill -TERM "$_pid" 2>/dev/null
    done
    for _p in $(cat "$T"/proxy.*.pid 2>/dev/null); do kill -TERM "$_p" 2>/dev/null; done
    cleanup
}
trap uplink_cleanup EXIT

test_ca
mkcert hub "bosun scripted hub"

hub_start() {
    _h=${1:-hub}
    mkdir -p "$T/$_h"
    rm -f "$T/$_h/port"
    case " $HUBS " in *" $_h "*) ;; *) HUBS="$HUBS $_h" ;; esac
    $HUB_PY serve "$T/$_h" "${2:-0}" "$T/hub.pem" "$T/hub.key" >> "$T/$_h.out" 2>&1 &
    echo $! > "$T/$_h.pid"
    wait_for 20 test -s "$T/$_h/port" || { echo "# hub $_h did not start:"; sed 's/^/#   /' "$T/$_h.out"; return 1; }
    HUB_PORT=$(cat "$T/$_h/port")
    HUB_URL="wss://127.0.0.1:$HUB_PORT"
}
hub_stop() {
    _pid=$(cat "$T/${1:-hub}.pid" 2>/dev/null)
    [ -n "$_pid" ] || return 0
    kill -TERM "$_pid" 2>/dev/null
    for _i in $(seq 1 50); do kill -0 "$_pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$_pid" 2>/dev/null
    wait "$_pid" 2>/dev/null
    rm -f "$T/${1:-hub}.pid"
}
hubctl() { $HUB_PY ctl "$T/${2:-hub}" "$1"; }
hubst() { hubctl '{"op":"status"}' "${2:-}" | jq -r "$1"; }
hub_linked() { [ "$(hubst .linked "${1:-}")" = true ]; }

machine_config() {
    {
        echo "  plugins: [sqlite, exec, uplink]"
        echo "uplink:"
        echo "  hub: ${UPLINK_HUB:-$HUB_URL}"
        echo "  ca_file: $T/ca.pem"
        _hb=no _sp=no
        for _l in "$@"; do
            case $_l in heartbeat:*) _hb=yes ;; reconnect_splay:*) _sp=yes ;; esac
            echo "  $_l"
        done
        [ "$_hb" = yes ] || echo "  heartbeat: 1s"
        # The tests of the back-off measure it from the loss: no splay
        # unless a test asks for one (uplink_splay.sh).
        [ "$_sp" = yes ] || echo "  reconnect_splay: 0s"
        [ -z "${AGENTS:-}" ] || printf '%s\n' "$AGENTS"
    } | write_config
}

reg_token() {
    _t="bsn_reg_$(head -c 32 /dev/urandom | base64 | tr '+/' '-_' | tr -d '=\n')"
    echo "$_t" >> "$T/${1:-hub}/reg_tokens"
    echo "$_t"
}

# all_local_seqs: every seq of the machine's store, a JSON array (paged:
# a query answers 10000 at most).
all_local_seqs() {
    : > "$T/local.seqs"
    _since=0
    for _p in $(seq 1 100); do
        _o=$(ctl request cmd.store.events "{\"since\":$_since,\"limit\":10000}" --json)
        printf '%s' "$_o" | jq -r '.data.events[].seq' >> "$T/local.seqs"
        [ "$(printf '%s' "$_o" | jq -r .data.more)" = true ] || break
        _since=$(tail -1 "$T/local.seqs")
    done
    jq -cs . "$T/local.seqs"
}
local_last() { ctl request cmd.store.events '{"tail":1}' --json | jq '.data.events[-1].seq'; }
hub_seqs() { hubctl '{"op":"seqs","machine":"test-machine"}' "${1:-}" | jq -c .seqs; }
hub_last() { hubst '.stored_last["test-machine"] // 0' "${1:-}"; }
# hub_has_all: the hub stored up to the machine's last seq (then the
# caller compares the lists once).
hub_has_all() { [ "$(hub_last "${1:-}")" = "$(local_last)" ]; }
log_has() { grep -Eq -- "$1" "$T/bosund.log"; }

# The times of the hub's own log and the waits of the daemon's: the tests
# that measure the back-off use no clock of their own (a loaded machine
# delays the test's commands by more than the jitter).
hub_t() { jq -r --arg e "$1" 'select(.ev == $e) | .t' "$T/${3:-hub}/log" | sed -n "${2}p"; }
n_ev() { jq -r --arg e "$1" 'select(.ev == $e) | .t' "$T/${2:-hub}/log" | wc -l; }
log_waits() {
    tail -n +"$(($1 + 1))" "$T/bosund.log" |
        grep -Eo '(trying again|reconnecting) in [0-9.]+ s' | awk '{ print $(NF - 1) }'
}
