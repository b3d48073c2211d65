# Shared by the fleet tests, after lib.sh and http_lib.sh: one hub bosund
# (sqlite, http with TLS from a test CA, fleet) and machine bosunds
# (sqlite, exec, uplink), each a "node" with its own directory $T/NODE
# (bosun.yaml, state/, run/, bosund.log), all on loopback.
#
#   fleet_hub [FLEET_LINES...]         config of node "hub"; PORT, HUB_URL
#   fleet_machine NODE [UPLINK_LINES...]  config of a machine node (agents
#                                      from $AGENTS, a YAML text, if set)
#   node_start NODE / node_stop NODE [SIGNAL] / node_kill9 NODE
#   nctl NODE ARGS...                  bosunctl on that node's socket
#   reg_token [NAME [TTL]]             a bsn_reg_ token made on the hub
#   machine_field ID FIELD             a field of `machine show --json`
#   machine_join NODE [UPLINK_LINES...]  a machine registered with a fresh token, started
#   proxy_start NAME TARGET_PORT / proxy_freeze|proxy_thaw|proxy_cut NAME
#
# Every node is stopped when the test exits (TERM, then KILL after 5 s).
BOSUN_PLUGIN_PATH="$top_builddir/plugins/fleet:$top_builddir/plugins/uplink:$BOSUN_PLUGIN_PATH"
export BOSUN_PLUGIN_PATH
# FLEET_NEEDS: the plugins the test needs (a hub-only test sets "fleet").
for _p in ${FLEET_NEEDS:-fleet uplink}; do
    if ! ls "$top_builddir/plugins/$_p/"*.la >/dev/null 2>&1; then
        echo "1..0 # SKIP the $_p plugin is not built"
        exit 0
    fi
done
FLEET_NODES=
PROXIES=

# Nodes are found by their pid files, not by $FLEET_NODES: node_config runs
# at the end of a pipeline, in a subshell under sh, so what it adds there is
# lost (the daemons outlived the test and held the TAP pipe open).
fleet_cleanup() {
    FLEET_NODES=$(for _f in "$T"/*/pid; do [ -f "$_f" ] && basename "$(dirname "$_f")"; done)
    for _node in $FLEET_NODES; do
        _pid=$(cat "$T/$_node/pid" 2>/dev/null)
        [ -n "$_pid" ] && kill -TERM "$_pid" 2>/dev/null
    done
    # The same for proxies: proxy_start runs inside $(...).
    for _f in "$T"/proxy.*.pid; do
        [ -f "$_f" ] && kill -TERM "$(cat "$_f")" 2>/dev/null
    done
    for _node in $FLEET_NODES; do
        _pid=$(cat "$T/$_node/pid" 2>/dev/null)
        [ -n "$_pid" ] || continue
        for _i in $(seq 1 50); do kill -0 "$_pid" 2>/dev/null || break; sleep 0.1; done
        kill -KILL "$_pid" 2>/dev/null
    done
    cleanup
}
trap fleet_cleanup EXIT

# node_config NODE MACHINE_ID: the daemon section of NODE's config, then
# stdin.  Each node has its own state and runtime directories.
node_config() {
    mkdir -p "$T/$1/state" "$T/$1/run"
    case " $FLEET_NODES " in *" $1 "*) ;; *) FLEET_NODES="$FLEET_NODES $1" ;; esac
    {
        echo "daemon:"
        echo "  machine_id: $2"
        echo "  state_dir: $T/$1/state"
        echo "  runtime_dir: $T/$1/run"
        echo "  log_level: ${LOG_LEVEL:-info}"
        echo "  plugin_path: [$HEARTBEAT_DIR, $TEST_PLUGIN_DIR]"
        echo "  mcp_command: $BOSUNCTL"
        cat
    } > "$T/$1/bosun.yaml"
}

# fleet_hub [LINES...]: the hub's config; LINES go under "fleet:".  The
# port, the bootstrap token and the CA are made once per test.
fleet_hub() {
    if [ -z "${PORT:-}" ]; then
        http_boot
        test_ca
        mkcert hub "bosun fleet hub" ${HUB_ADDR:+"IP:$HUB_ADDR"}
    fi
    HUB_URL="wss://${HUB_ADDR:-127.0.0.1}:$PORT"
    {
        echo "  plugins: [sqlite, http, fleet]"
        echo "http:"
        echo "  listen: \"${HUB_ADDR:-127.0.0.1}:$PORT\""
        echo "  bootstrap_token_file: $T/boot.tok"
        echo "  tls: {cert: $T/hub.pem, key: $T/hub.key}"
        echo "fleet:"
        if [ $# -eq 0 ]; then echo "  heartbeat_timeout: 3s"; fi
        for _l in "$@"; do echo "  $_l"; done
    } | node_config hub hub
}

# fleet_machine NODE [LINES...]: a machine's config, uplink to the hub (or
# to $UPLINK_HUB, e.g. a proxy); LINES go under "uplink:" after the
# defaults (hub, token file in its state dir, the CA, heartbeat 1s,
# reconnect_splay 0s).
fleet_machine() {
    _node=$1; shift
    {
        echo "  plugins: [sqlite, exec, uplink]"
        echo "uplink:"
        echo "  hub: ${UPLINK_HUB:-$HUB_URL}"
        echo "  token_file: $T/$_node/state/machine.tok"
        echo "  ca_file: $T/ca.pem"
        echo "  name: $_node"
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
    } | node_config "$_node" "$_node"
}

nctl() { _nc=$1; shift; "$BOSUNCTL" -s "$T/$_nc/run/bosund.sock" "$@"; }
node_pid() { cat "$T/$1/pid" 2>/dev/null; }

# node_start NODE: starts its bosund, stderr appended to $T/NODE/bosund.log,
# and waits until its control socket answers.
# With $T/NODE/netns (a namespace's name) it runs inside that network
# namespace (ip netns exec execs bosund: $! is its PID).
node_start() {
    if [ -s "$T/$1/netns" ]; then
        ip netns exec "$(cat "$T/$1/netns")" "$BOSUND" -c "$T/$1/bosun.yaml" 2>>"$T/$1/bosund.log" &
    else
        "$BOSUND" -c "$T/$1/bosun.yaml" 2>>"$T/$1/bosund.log" &
    fi
    echo $! > "$T/$1/pid"
    if ! wait_for 20 nctl "$1" status; then
        echo "# $1 did not come up; its log:"
        sed 's/^/#   /' "$T/$1/bosund.log"
        return 1
    fi
}

# node_stop NODE [SIGNAL]: the signal (TERM), then waits 30 s at most;
# the exit status in NODE_STATUS.
node_stop() {
    _pid=$(node_pid "$1")
    [ -n "$_pid" ] || return 0
    kill "-${2:-TERM}" "$_pid" 2>/dev/null
    for _i in $(seq 1 300); do kill -0 "$_pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$_pid" 2>/dev/null
    wait "$_pid" 2>/dev/null
    NODE_STATUS=$?
    rm -f "$T/$1/pid"
}
node_kill9() { node_stop "$1" KILL; }

# reg_token [NAME [TTL]]: a fresh registration token from the hub, through
# its real command (bosunctl machine token create).
reg_token() {
    nctl hub machine token create ${1:+--name "$1"} ${2:+--ttl "$2"} 2>>"$T/hub/ctl.err" |
        grep -o 'bsn_reg_[A-Za-z0-9_-]*' | head -1
}
# machine_join NODE [UPLINK_LINES...]: a machine node that registers with
# a fresh registration token (from a 0600 file), started.
machine_join() {
    _mj=$1; shift
    (umask 077 && reg_token "$_mj" > "$T/$_mj.reg")
    fleet_machine "$_mj" "registration_token_file: $T/$_mj.reg" "$@"
    node_start "$_mj"
}
# machine_field ID FIELD: a field of the hub's record of machine ID.
machine_field() { nctl hub machine show "$1" --json 2>/dev/null | jq -r ".$2 // .machine.$2 // empty"; }
machine_status_is() { [ "$(machine_field "$1" status)" = "$2" ]; }
# hub_events_of ID: the seqs of machine ID's events stored on the hub,
# one a line, in the hub's order (they must be 1..N, each once).
hub_machine_seqs() {
    nctl hub request cmd.store.events "{\"machine\":\"$1\",\"subject\":\"${2:-evt.>}\",\"limit\":10000}" --json |
        jq -r '.data.events[] | (.machine_seq // .data.machine_seq // .seq)'
}
log_of() { cat "$T/$1/bosund.log"; }
# register_frame TOKEN ID: a machine.register frame (reply r.1) presenting
# TOKEN as machine ID, for the raw clients.
register_frame() {
    printf '{"subject":"machine.register","reply":"r.1","data":{"token":"%s","machine_id":"%s","name":"%s","version":"test","agents":[]}}' "$1" "$2" "$2"
}

# --- the TCP proxy (tests/helpers/tcp_proxy.py) between a machine and the hub
proxy_start() {
    rm -f "$T/proxy.$1.port"
    /usr/bin/python3 "$top_srcdir/tests/helpers/tcp_proxy.py" "$T/proxy.$1.port" "$2" 900 \
        > "$T/proxy.$1.log" 2>&1 &
    echo $! > "$T/proxy.$1.pid"
    PROXIES="$PROXIES $1"
    wait_for 10 test -s "$T/proxy.$1.port" || return 1
    cat "$T/proxy.$1.port"
}
proxy_signal() { kill "-$2" "$(cat "$T/proxy.$1.pid")"; }
proxy_freeze() { proxy_signal "$1" USR1; }
proxy_thaw() { proxy_signal "$1" USR2; }
proxy_cut() { proxy_signal "$1" HUP; }
# proxy_accepts NAME: the unix times of the connections it accepted.
proxy_accepts() { sed -n 's/^accept //p' "$T/proxy.$1.log"; }
