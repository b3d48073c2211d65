#!/usr/bin/env bash
# Fleet benchmark (see tests/bench/README): BENCH_FLEET_N (1,000) simulated
# machines (fleet_sim.mjs, Node `ws`) against one hub bosund (sqlite, http,
# fleet) on loopback, 10 agents each.  Reports the time to register all,
# the hub's RSS (idle, per link), its CPU at steady heartbeat and with each
# machine forwarding 10 events/s, the events/s it stores from all links
# (against the store's own batched-insert limit, sqlite_insert, in the same
# run), and after a restart of the hub the time until all are back online
# and the peak share of connection attempts in one second.
#
#   bench_fleet.sh [BUILD_DIR]
#
# The links are ws:// (TLS would add the handshakes, not the hub's work).
# SIM_* variables (fleet_sim.mjs) tune the phases; BENCH_FLEET_LINES are
# extra lines under the hub's fleet: section (e.g. its limits).
set -u
here=$(cd "$(dirname "$0")" && pwd)
BUILD=$(cd "${1:-$here/../..}" && pwd) || exit 2
N=${BENCH_FLEET_N:-1000}
. "$here/bench_lib.sh"
raise_nofile $((N * 3 + 1000))
command -v node >/dev/null 2>&1 || { log "bench: node is missing"; exit 2; }
[ -e "$BUILD/plugins/fleet/fleet.la" ] || { log "bench: the fleet plugin is not built in $BUILD"; exit 2; }

# The store's own limit: sqlite_insert's "machines" mode, rows shaped as the
# hub stores forwarded events (schema 5, the same cache_size, the hub's
# mean transaction), run by the simulator after each flood (limit.sh TXN),
# so that the limit and the hub take turns on the loaded machine.
INS="$BUILD/tests/bench/sqlite_insert"
if ! [ -x "$INS" ]; then
    INS="$T/sqlite_insert"
    # shellcheck disable=SC2046 # the flags are words
    cc -O2 -o "$INS" "$here/sqlite_insert.c" $(pkg-config --cflags --libs sqlite3 2>/dev/null || echo -lsqlite3) ||
        { log "bench: cannot build sqlite_insert"; exit 2; }
fi
CACHE_KB=${BENCH_FLEET_CACHE_KB:-512}
cat >"$T/limit.sh" <<EOF
echo "load \$(cut -d' ' -f1-3 /proc/loadavg | tr ' ' ,)"
"$INS" machines "$T/limit.db" "${BENCH_FLEET_INSERT_ROWS:-500000}" "\$1" "$N" "$CACHE_KB" || exit 1
echo "txn \$1"
rm -f "$T/limit.db" "$T/limit.db-wal" "$T/limit.db-shm"
EOF

# The simulator with the pinned ws (package-lock.json).
NODE_DIR="$T/node"
mkdir -p "$NODE_DIR"
cp "$here/fleet_sim.mjs" "$here/package.json" "$here/package-lock.json" "$NODE_DIR/"
if [ -d "$here/node_modules/ws" ]; then
    ln -s "$here/node_modules" "$NODE_DIR/node_modules"
else
    (cd "$NODE_DIR" && timeout 300 npm ci --no-audit --no-fund >"$T/npm.log" 2>&1) ||
        { log "bench: npm ci failed: $(tail -3 "$T/npm.log")"; exit 2; }
fi

PORT=$(free_port)
D="$T/hub"
head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n' >"$T/boot.tok"
chmod 600 "$T/boot.tok"
# All links come from 127.0.0.1: the per-address cap must let N through.
bosund_config "$D" "$PORT" "  bootstrap_token_file: $T/boot.tok
  limits: {conns_per_ip: $((N + 100)), conns_max: $((N + 1000))}" <<EOF
sqlite:
  cache_size: ${CACHE_KB}K
fleet:
  heartbeat_timeout: 120s
${BENCH_FLEET_LINES:-}
EOF
sed -i "s|plugin_path: \[|plugin_path: [$BUILD/plugins/fleet, |; s|plugins: \[sqlite, exec, http\]|plugins: [sqlite, http, fleet]|" \
    "$D/bosun.yaml"
bosund_start "$D" || exit 2
echo "$DPID" >"$T/hub.pid"
wait_http "http://127.0.0.1:$PORT/health" || exit 2

# The restart the simulator asks for: SIGTERM, wait, the same config again.
cat >"$T/restart.sh" <<EOF
p=\$(cat "$T/hub.pid")
kill -TERM "\$p"
for _ in \$(seq 1 300); do kill -0 "\$p" 2>/dev/null || break; sleep 0.1; done
kill -KILL "\$p" 2>/dev/null
setsid "$BOSUND" -c "$D/bosun.yaml" 2>>"$D/bosund.log" </dev/null &
echo \$! >"$T/hub.pid"
for _ in \$(seq 1 200); do
    [ "\$(curl -s -o /dev/null -w '%{http_code}' --max-time 2 http://127.0.0.1:$PORT/health)" = 200 ] && exit 0
    sleep 0.1
done
exit 1
EOF
# The registration tokens through the hub's real command, timed (each one
# is a registry write the hub makes before it answers).
SOCK="$D/run/bosund.sock"
tk0=$(date +%s.%N)
(umask 077 && for i in $(seq 0 $((N - 1))); do
    ctl machine token create --name "sim-$i" --ttl 1h 2>/dev/null || exit 1
done >"$T/reg.tokens") || { log "bench: machine token create failed"; exit 2; }
tk1=$(date +%s.%N)
[ "$(grep -c '^bsn_reg_' "$T/reg.tokens")" -eq "$N" ] || { log "bench: not $N registration tokens"; exit 2; }
# What the hub's store committed: its cmd.store.status, "EVENTS COMMITS".
# Beside it, into cpu.log: "EVENTS LOOP WRITER", the hub's CPU ticks
# (utime+stime, 1/100 s) of its loop thread (TID = PID) and of all its
# other threads (the store's writer), so that each flood's CPU per stored
# event is known per thread: the figure a busy machine distorts least.
cat >"$T/count.sh" <<EOF
p=\$(cat "$T/hub.pid")
c=\$("$BOSUNCTL" -s "$SOCK" --json status | jq -r '"\\(.store.events) \\(.store.commits)"') || exit 1
echo "\$c"
lo=0 wr=0
for t in /proc/\$p/task/*; do
    s=\$(sed 's/.*) //' "\$t/stat" 2>/dev/null) || continue
    n=\$(echo "\$s" | awk '{ print \$12 + \$13 }')
    if [ "\${t##*/}" = "\$p" ]; then lo=\$((lo + n)); else wr=\$((wr + n)); fi
done
echo "\${c%% *} \$lo \$wr" >>"$T/cpu.log"
EOF
machine_load "the simulator"
SIM_COUNT_CMD="sh $T/count.sh" SIM_LIMIT_CMD="sh $T/limit.sh" SIM_N=$N timeout "${BENCH_FLEET_DEADLINE:-2000}" node "$NODE_DIR/fleet_sim.mjs" "http://127.0.0.1:$PORT" \
    "$T/reg.tokens" "$T/hub.pid" "sh $T/restart.sh" >"$T/sim.out" 2>"$T/sim.err"
rc=$?
# The restarted hub is not our child: stopped by its PID from the file.
stop_pid "$(cat "$T/hub.pid")"
sed 's/^/  /' "$T/sim.out"
[ "$rc" -eq 0 ] || { log "bench: the simulator failed ($rc): $(tail -5 "$T/sim.err")"; tail -20 "$D/bosund.log" >&2; exit 1; }
v() { awk -v k="$1" '$1 == k { print $2 }' "$T/sim.out"; }
reps=$(awk '$1 ~ /^flood_[0-9]+_load$/' "$T/sim.out" | wc -l)
stored=() limits=() ratios=()
for r in $(seq 1 "$reps"); do
    st=$(v "flood_${r}_stored_per_sec") li=$(v "limit_${r}_rows_per_sec")
    [ -n "$st" ] && [ -n "$li" ] || continue
    stored+=("$st") limits+=("$li") ratios+=("$(exact "$st / $li")")
done
range() { printf '%s\n' "$@" | sort -g | sed -n '1p;$p' | paste -sd- -; }
echo "== fleet, $N machines x ${SIM_AGENTS:-10} agents"
echo "  $N registration tokens made (bosunctl machine token create): $(calc "$tk1 - $tk0" 2) s"
echo "  registered all: $(v register_all_secs) s (target <= 5)"
echo "  hub RSS idle: $(v hub_rss_kb_idle) kB, $(v hub_rss_kb_per_link) kB per link (target <= 65536 kB)"
echo "  hub CPU: $(v hub_cpu_pct_idle) % at steady heartbeat, $(v hub_cpu_pct_forwarding) % with 10 events/s each"
if [ "$(v events_acked)" = 1 ]; then
    for r in $(seq 1 "$reps"); do
        echo "  flood $r (load $(v "flood_${r}_load")): stored $(v "flood_${r}_stored_per_sec") events/s" \
            "(hub store, $(v "flood_${r}_events_stored") in $(v "flood_${r}_commits") commits, mean $(v "flood_${r}_txn_mean")" \
            "a commit; acked $(v "flood_${r}_acked_per_sec")/s); limit (load $(v "limit_${r}_load")):" \
            "$(v "limit_${r}_rows_per_sec") rows/s at $(v "limit_${r}_txn") a transaction"
    done
    echo "  stored from all links: median $(median "${stored[@]}") events/s (range $(range "${stored[@]}"));" \
        "store's own limit: median $(median "${limits[@]}") rows/s (range $(range "${limits[@]}"));" \
        "ratio per round $(printf '%.3f ' "${ratios[@]}")(range $(range $(printf '%.3f ' "${ratios[@]}")))"
else
    echo "  stored from all links: none acknowledged (the hub stores no machine.events)"
fi
# The hub's CPU per 1,000 stored events in each flood (count.sh's lines
# before and after it), the loop thread and the writer apart.
if [ -s "$T/cpu.log" ]; then
    awk 'NR % 2 == 1 { e = $1; l = $2; w = $3; next }
        $1 > e { printf "  flood %d hub CPU per 1,000 stored events: loop thread %.4f s, writer %.4f s (%d events)\n",
            NR / 2, ($2 - l) / 100 / (($1 - e) / 1000), ($3 - w) / 100 / (($1 - e) / 1000), $1 - e }' "$T/cpu.log"
fi
echo "  back online after a hub restart: $(v back_online_secs) s; attempts seen by the hub: $(v reconnect_seen_attempts), peak $(v reconnect_seen_peak_per_sec)/s"
SUMMARY+=("$(verdict "register all within 5 s (5 / secs)" "$(exact "5 / $(v register_all_secs)")" ">=" 1)")
SUMMARY+=("$(verdict "hub RSS with $N idle links <= 64 MiB (65536 / kB)" "$(exact "65536 / $(v hub_rss_kb_idle)")" ">=" 1)")
if [ "$(v events_acked)" = 1 ] && [ "${#ratios[@]}" -gt 0 ]; then
    SUMMARY+=("$(verdict "stored forwarded events / batched-insert limit (median of ${#ratios[@]} rounds' ratios)" "$(median "${ratios[@]}")" ">=" 0.5)")
fi
SUMMARY+=("$(verdict "peak second's share of the reconnection attempts the hub sees" "$(v reconnect_seen_peak_share)" "<=" 0.25)")
echo
echo "== verdicts"
printf '%s\n' "${SUMMARY[@]}"
