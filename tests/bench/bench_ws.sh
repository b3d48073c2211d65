#!/usr/bin/env bash
# WebSocket benchmark of /ws (see tests/bench/README): the same client
# (ws_client, C with libev + wslay) against bosund and against a Node `ws`
# server doing the same thing (ws_peer.mjs), interleaved round by round:
#   (a) BENCH_WS_CONNS (10,000) idle authenticated connections with server
#       pings: the server's RSS growth per connection;
#   (b) fan-out: BENCH_FANOUT_CLIENTS (1,000) subscribers, BENCH_EVENTS (100)
#       events of 64 bytes published back to back: deliveries/s;
#   (c) an agent's output line to a WS client: BENCH_LAT_LINES (1,000)
#       lines, one every BENCH_LAT_INTERVAL (0.005) s, p50 and p99.
#
#   bench_ws.sh [BUILD_DIR] [idle|fanout|latency|all]
#
# BENCH_ROUNDS (2) rounds per part; BENCH_PEERS ("bosund node") who runs; BENCH_PING (5 s) is both servers' ping
# interval, BENCH_HOLD (12 s) how long the idle connections are held.
# BENCH_COMMIT_DELAY sets bosund's sqlite commit_delay (default: the
# plugin's, 10 ms), which /ws deliveries wait for.
# BENCH_PERF=1 adds one more bosund fan-out round under `perf record -g`
# (not counted) and prints the top symbols.
set -u
here=$(cd "$(dirname "$0")" && pwd)
BUILD=$(cd "${1:-$here/../..}" && pwd) || exit 2
PART=${2:-all}
case $PART in idle | fanout | latency | all) ;; *) echo "usage: $0 [BUILD_DIR] [idle|fanout|latency|all]" >&2; exit 64 ;; esac
ROUNDS=${BENCH_ROUNDS:-2}
CONNS=${BENCH_WS_CONNS:-10000}
FAN=${BENCH_FANOUT_CLIENTS:-1000}
EVENTS=${BENCH_EVENTS:-100}
LAT_LINES=${BENCH_LAT_LINES:-1000}
LAT_INTERVAL=${BENCH_LAT_INTERVAL:-0.005}
PING=${BENCH_PING:-5}
HOLD=${BENCH_HOLD:-12}
SENDQ=16777216 # both servers' send queue bound per client
PEERS=${BENCH_PEERS:-bosund node}
. "$here/bench_lib.sh"
raise_nofile 20000
command -v node >/dev/null 2>&1 || { log "bench: node is missing"; exit 2; }

# The client: built by make (make bench), else compiled here.
CLIENT="$BUILD/tests/bench/ws_client"
if ! [ -x "$CLIENT" ] || [ "$CLIENT" -ot "$here/ws_client.c" ]; then
    CLIENT="$T/ws_client"
    cc -O2 -o "$CLIENT" "$here/ws_client.c" -lev -lwslay ||
        { log "bench: cannot build ws_client (libev-dev, libwslay-dev)"; exit 2; }
fi

# The Node peer with its pinned `ws` (package-lock.json), installed here
# unless tests/bench/node_modules has it.
NODE_DIR="$T/node"
mkdir -p "$NODE_DIR"
cp "$here/ws_peer.mjs" "$here/package.json" "$here/package-lock.json" "$NODE_DIR/"
if [ -d "$here/node_modules/ws" ]; then
    ln -s "$here/node_modules" "$NODE_DIR/node_modules"
else
    (cd "$NODE_DIR" && timeout 300 npm ci --no-audit --no-fund >"$T/npm.log" 2>&1) ||
        { log "bench: npm ci failed: $(tail -3 "$T/npm.log")"; exit 2; }
fi

# An agent printing "BENCHTS <CLOCK_REALTIME ns> <i>" lines, flushed each.
cat >"$T/tick.py" <<'EOF'
import sys, time
n, iv = int(sys.argv[1]), float(sys.argv[2])
for i in range(n):
    print("BENCHTS %d %d" % (time.time_ns(), i), flush=True)
    time.sleep(iv)
EOF
PY=/usr/bin/python3
[ -x "$PY" ] || PY=$(command -v python3)

# Every client run binds a new source address in 127.0.0.0/8, so that the
# 4-tuples of one run's closed connections (TIME_WAIT) never collide with
# the next run's.
SRC_N=0
next_src() {
    SRC_N=$((SRC_N + 1))
    SRC="127.0.$((1 + SRC_N / 250)).$((1 + SRC_N % 250))"
}

# order ROUND: the peers in this round's order (swapped every round).
order() {
    local p
    for p in $([ $(($1 % 2)) = 1 ] && echo bosund node || echo node bosund); do
        case " $PEERS " in *" $p "*) echo "$p" ;; esac
    done
}

# wait_line FILE REGEX SECONDS: until a line of FILE matches.
wait_line() {
    for _ in $(seq 1 $(($3 * 10))); do grep -Eq -- "$2" "$1" 2>/dev/null && return 0; sleep 0.1; done
    return 1
}

# ------------------------------------------------------------ the peers

# start_peer bosund|node DIR [AGENTS_YAML]: a fresh server on a free port;
# sets PORT, SPID (its PID) and TOKEN (a file holding an admin token).
start_peer() {
    local who=$1 d=$2
    mkdir -p "$d"
    PORT=$(free_port)
    TOKEN="$d/token"
    if [ "$who" = bosund ]; then
        bosund_config "$d" "$PORT" "  limits: {conns_per_ip: 20000, conns_max: 20000, ping_interval: $PING, send_queue_max: $SENDQ}" \
            <<EOF
${BENCH_COMMIT_DELAY:+sqlite: {commit_delay: $BENCH_COMMIT_DELAY\}}
agents:
  ticker:
    command: [$PY, $T/tick.py, "$LAT_LINES", "$LAT_INTERVAL"]
    start_secs: 0
    restart: never
EOF
        bosund_start "$d" || return 1
        SPID=$DPID
        admin_token "$TOKEN" || return 1
    else
        (umask 077 && printf 'bsn_adm_%s\n' "$(head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n')" >"$TOKEN")
        rm -f "$d/in"
        mkfifo "$d/in"
        exec 8<>"$d/in" # held open: the peer's stdin never sees EOF
        node "$NODE_DIR/ws_peer.mjs" "$PORT" "$TOKEN" "$PING" "$SENDQ" <"$d/in" >"$d/out" 2>"$d/err" &
        SPID=$!
        PIDS+=("$SPID")
        NODE_OUT="$d/out"
        wait_line "$d/out" '^listening' 20 || { log "bench: the node peer did not start: $(cat "$d/err")"; return 1; }
    fi
}

stop_peer() {
    stop_pid "$SPID"
    [ "$1" = node ] && exec 8>&-
    return 0
}

# start_both PREFIX: both peers (those in BENCH_PEERS) at once, for the
# parts that keep them across rounds; use_peer WHO points PORT and TOKEN
# at one; stop_both.
start_both() {
    BPORT= BPID= BTOKEN= NPORT= NPID2= NTOKEN=
    if [[ " $PEERS " = *" bosund "* ]]; then
        start_peer bosund "$1.bosund" || return 1
        BPORT=$PORT BPID=$SPID BTOKEN=$TOKEN
    fi
    if [[ " $PEERS " = *" node "* ]]; then
        start_peer node "$1.node" || return 1
        NPORT=$PORT NPID2=$SPID NTOKEN=$TOKEN
    fi
}
use_peer() {
    if [ "$1" = bosund ]; then PORT=$BPORT TOKEN=$BTOKEN SPID=$BPID; else PORT=$NPORT TOKEN=$NTOKEN SPID=$NPID2; fi
}
stop_both() {
    [ -z "$NPID2" ] || SPID=$NPID2 stop_peer node
    [ -z "$BPID" ] || SPID=$BPID stop_peer bosund
}

# node_cmd LINE REPLY_REGEX: a command to the node peer, waiting up to 60 s
# for its answer.
node_cmd() {
    local before
    before=$(wc -l <"$NODE_OUT")
    echo "$1" >&8
    for _ in $(seq 1 600); do
        tail -n +$((before + 1)) "$NODE_OUT" | grep -Eq -- "$2" && return 0
        sleep 0.1
    done
    log "bench: the node peer did not answer '$1'"
    return 1
}

# publish_bosund COUNT SUBJECT: COUNT pub ops back to back on one control
# connection, each with the same 64 bytes of data as ws_peer.mjs makes.
publish_bosund() {
    "$PY" - "$SOCK" "$1" "$2" <<'EOF'
import json, socket, sys, time
sock, count, subject = sys.argv[1], int(sys.argv[2]), sys.argv[3]
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.connect(sock)
out = []
for n in range(1, count + 1):
    head = '{"n":%d,"pubns":%d,"pad":"' % (n, time.time_ns())
    data = head + "x" * (64 - len(head) - 2) + '"}'
    out.append('{"id":%d,"op":"pub","subject":%s,"data":%s}\n' % (n, json.dumps(subject), data))
    if len(out) == 64 or n == count:  # written as produced, not all at the end
        s.sendall("".join(out).encode())
        out = []
f = s.makefile("rb")
for _ in range(count):
    r = json.loads(f.readline())
    if not r.get("ok"):
        sys.exit("pub failed: %s" % r)
EOF
}

# conclude WHAT UNIT OP TARGET NAME: the medians of the caller's b (bosund)
# and n (node) figures, their ratio and its verdict in SUMMARY.
conclude() {
    local mb mn ratio=n/a
    mb=$(median "${b[@]}")
    mn=$(median "${n[@]}")
    echo " median $1: bosund $mb$2, node $mn$2"
    [ "$mb" != n/a ] && [ "$mn" != n/a ] && ratio=$(exact "$mb / $mn")
    SUMMARY+=("$(verdict "$5" "$ratio" "$3" "$4")")
}

# ------------------------------------------------------------ (a) idle

idle_round() {
    local who=$1 d="$T/idle.$1.$2" r0 r1 r2 out pid
    start_peer "$who" "$d" || return 1
    next_src
    "$CLIENT" idle -p "$PORT" -T "$TOKEN" -b "$SRC" -n 10 -w 1 >/dev/null ||
        { log "bench: $who: warm-up connections failed"; return 1; }
    sleep 1
    machine_load "$who"
    r0=$(rss_kb "$SPID")
    next_src
    out="$d/client.out"
    "$CLIENT" idle -p "$PORT" -T "$TOKEN" -b "$SRC" -n "$CONNS" -w "$HOLD" >"$out" 2>"$d/client.err" &
    pid=$!
    PIDS+=("$pid")
    if ! wait_line "$out" '^ready' 150; then
        log "bench: $who: $CONNS connections not set up: $(head -5 "$d/client.err")"
        stop_pid "$pid"
        stop_peer "$who"
        return 1
    fi
    r1=$(rss_kb "$SPID")
    sleep $((HOLD - 1)) # RSS again just before the client lets go
    r2=$(rss_kb "$SPID")
    wait "$pid"
    local rc=$?
    read -r _ _ setup <"$out"
    local pings closed
    pings=$(sed -n 's/^pings \([0-9]*\) closed \([0-9]*\)/\1/p' "$out")
    closed=$(sed -n 's/^pings \([0-9]*\) closed \([0-9]*\)/\2/p' "$out")
    GROWTH=$(calc "($r2 - $r0) * 1024 / $CONNS" 0)
    printf '  %-7s RSS %s kB before (started, 10 warm-up connections closed), %s kB when all %s were\n' "$who" "$r0" "$r1" "$CONNS"
    printf '          authenticated (set up in %s s), %s kB after %s s held (%s pings answered, %s closed):\n' \
        "$setup" "$r2" "$((HOLD - 1))" "${pings:-?}" "${closed:-?}"
    printf '          growth %s bytes per connection\n' "$GROWTH"
    stop_peer "$who"
    [ "$rc" = 0 ] || { log "bench: $who: the idle client failed ($(head -3 "$d/client.err"))"; GROWTH=n/a; }
}

part_idle() {
    local r b=() n=()
    echo
    echo "== (a) $CONNS idle authenticated connections, server pings every $PING s, held $HOLD s"
    for r in $(seq 1 "$ROUNDS"); do
        echo " round $r"
        for who in $(order "$r"); do
            idle_round "$who" "$r" || GROWTH=n/a
            [ "$GROWTH" != n/a ] && { [ "$who" = bosund ] && b+=("$GROWTH") || n+=("$GROWTH"); }
        done
    done
    conclude "growth per connection (RSS after the hold minus before)" " B" "<=" 0.25 \
        "(a) RSS per idle connection bosund/node"
}

# ------------------------------------------------------------ (b) fan-out

fanout_round() {
    local who=$1 r=$2 out pid rc
    out="$T/fanout.$who.$r.out"
    next_src
    "$CLIENT" fanout -p "$PORT" -T "$TOKEN" -b "$SRC" -n "$FAN" -s evt.bench.fan -k "$EVENTS" -w 120 \
        >"$out" 2>"$out.err" &
    pid=$!
    PIDS+=("$pid")
    RATE=n/a
    wait_line "$out" '^ready' 60 || { log "bench: $who: subscribers not set up: $(head -3 "$out.err")"; stop_pid "$pid"; return 1; }
    sleep 0.5
    machine_load "$who"
    local c0 c1 cpu
    c0=$(cpu_ticks "$SPID")
    if [ "$who" = bosund ]; then
        publish_bosund "$EVENTS" evt.bench.fan || { log "bench: publishing to bosund failed"; }
    else
        node_cmd "pub $EVENTS evt.bench.fan" '^published'
    fi
    wait "$pid"
    rc=$?
    c1=$(cpu_ticks "$SPID")
    cpu=$(calc "($c1 - $c0) / $CLK_TCK" 2)
    local line
    line=$(grep '^deliveries' "$out")
    printf '  %-7s %s\n          server CPU %s s = %s deliveries per CPU-s\n' "$who" "$line" "$cpu" \
        "$(awk "BEGIN { printf \"%.0f\", ($cpu > 0 ? $FAN * $EVENTS / $cpu : 0) }")"
    [ "$rc" = 0 ] && RATE=$(echo "$line" | awk '{ print $8 }') ||
        log "bench: $who: not every delivery arrived ($(head -3 "$out.err"))"
}

part_fanout() {
    local r b=() n=()
    echo
    echo "== (b) fan-out: $FAN subscribers, $EVENTS events of 64 bytes published back to back"
    echo "   (deliveries/s = deliveries / (last delivery - first event's publish time))"
    start_both "$T/fan" || return 1
    for r in $(seq 1 "$ROUNDS"); do
        echo " round $r"
        for who in $(order "$r"); do
            use_peer "$who"
            fanout_round "$who" "$r"
            [ "$RATE" != n/a ] && { [ "$who" = bosund ] && b+=("$RATE") || n+=("$RATE"); }
        done
    done
    if [ -n "$BPID" ] && perf_begin "$BPID" fanout; then
        use_peer bosund
        fanout_round bosund perf >/dev/null
        perf_end fanout
    fi
    stop_both
    conclude "deliveries/s" "" ">=" 2 "(b) fan-out deliveries/s bosund/node"
}

# ------------------------------------------------------------ (c) latency

latency_round() {
    local who=$1 r=$2 out pid rc
    out="$T/latency.$who.$r.out"
    next_src
    "$CLIENT" latency -p "$PORT" -T "$TOKEN" -b "$SRC" -n 1 -s 'evt.run.ticker.*.output' \
        -k "$LAT_LINES" -w 120 >"$out" 2>"$out.err" &
    pid=$!
    PIDS+=("$pid")
    wait_line "$out" '^ready' 30 || { log "bench: $who: latency client not set up: $(head -3 "$out.err")"; stop_pid "$pid"; return 1; }
    machine_load "$who"
    local exited0
    [ "$who" = node ] && exited0=$(grep -c '^exited' "$NODE_OUT")
    if [ "$who" = bosund ]; then
        ctl start ticker >/dev/null || log "bench: cannot start the ticker agent"
    else
        node_cmd "spawn ticker $PY $T/tick.py $LAT_LINES $LAT_INTERVAL" '^spawned'
    fi
    wait "$pid"
    rc=$?
    local line
    line=$(grep '^samples' "$out")
    printf '  %-7s %s\n' "$who" "$line"
    [ "$rc" = 0 ] || log "bench: $who: not every line arrived ($(head -3 "$out.err"))"
    P50=$(echo "$line" | awk '{ print $4 }')
    P99=$(echo "$line" | awk '{ print $6 }')
    # The agent must be gone before the next round starts it again.
    [ "$who" = node ] && for _ in $(seq 1 300); do
        [ "$(grep -c '^exited' "$NODE_OUT")" -gt "$exited0" ] && break
        sleep 0.1
    done
    return 0
}

part_latency() {
    local r b50=() b99=() n50=() n99=()
    echo
    echo "== (c) agent output line -> WS client: $LAT_LINES lines, one every $LAT_INTERVAL s (us, CLOCK_REALTIME)"
    start_both "$T/lat" || return 1
    for r in $(seq 1 "$ROUNDS"); do
        echo " round $r"
        for who in $(order "$r"); do
            use_peer "$who"
            P50= P99=
            latency_round "$who" "$r"
            [ -n "$P50" ] || continue
            if [ "$who" = bosund ]; then b50+=("$P50") b99+=("$P99"); else n50+=("$P50") n99+=("$P99"); fi
            [ "$who" = bosund ] && sleep 1 # the run's exit is recorded before the next start
        done
    done
    stop_both
    SUMMARY+=("  (c) output line -> WS client: bosund p50 $(median "${b50[@]}") us p99 $(median "${b99[@]}") us;" \
        "      node (no store) p50 $(median "${n50[@]}") us p99 $(median "${n99[@]}") us (no target)")
}

echo "WebSocket benchmark: bosund ($BUILD) vs node $(node --version) with ws $(sed -n 's/.*"ws": *"\(.*\)".*/\1/p' "$here/package.json")"
run_parts "$PART" idle fanout latency
