#!/bin/bash
# bench_output_cpu.sh — output lines to the store, per thread (issue 18,
# item 3): bosund's CPU per 1,000 stored lines on its loop thread and on
# the sqlite writer thread, beside the same-shape SQLite limit.
#
#   bench_output_cpu.sh BUILD_A [BUILD_B] [ROUNDS] [N]
#
# Each round runs one agent printing N (1,000,000) lines of 100 bytes
# (print_lines) under bosund from BUILD_A, then from BUILD_B (two builds,
# e.g. before and after a change, taking turns), then output_limit with
# the mean transaction the last bosund run had (cmd.store.status events /
# commits).  For each bosund run: the load average before it, lines/s from
# the run's started_at to the last stored line (cmd.store.events tail 1,
# polled every 0.1 s), utime+stime of the loop thread (the daemon's main
# thread) and of the writer thread (its only other thread with the
# sqlite and exec plugins) from /proc/PID/task/TID/stat, in ms per 1,000
# lines, the mean transaction, VmHWM, and sqlite_insert count's check of
# the stored rows (every line once, intact).  On a busy machine lines/s
# is the scheduler's; the CPU per line is the figure to compare.
# BENCH_PERF=DIR records each bosund run with perf (call graphs) into DIR.
set -u
BUILD_A=${1:?usage: bench_output_cpu.sh BUILD_A [BUILD_B] [ROUNDS] [N]}
BUILD_B=${2:-}
ROUNDS=${3:-2}
N=${4:-1000000}
HERE=$(cd "$(dirname "$0")" && pwd)
T=$(mktemp -d /tmp/bench_output_cpu.XXXXXX)
BOS_PID=
cleanup() {
    [ -n "$BOS_PID" ] && kill -KILL "$BOS_PID" 2>/dev/null
    rm -rf "$T"
}
trap cleanup EXIT
mkdir -p "$T/bin"
for h in print_lines sqlite_insert output_limit; do
    extra=
    [ "$h" = print_lines ] || extra=$(pkg-config --libs sqlite3 2>/dev/null || echo -lsqlite3)
    # shellcheck disable=SC2086
    cc -O2 -o "$T/bin/$h" "$HERE/$h.c" $extra || exit 1
done

load() { cut -d' ' -f1 /proc/loadavg; }
now() { date +%s.%N; }
ticks() { awk '{ sub(/^[^)]*\) /, ""); print $12 + $13 }' "/proc/$BOS_PID/task/$1/stat"; }

# one_run BUILD LABEL: prints one line of figures; sets TXN.
one_run() {
    local build=$1 label=$2 d bosund ctl
    d=$(mktemp -d "$T/run.XXXXXX")
    bosund=$build/.libs/bosund
    [ -x "$bosund" ] || bosund=$build/bosund
    ctl=$build/.libs/bosunctl
    [ -x "$ctl" ] || ctl=$build/bosunctl
    mkdir -p "$d/state" "$d/run"
    cat >"$d/bosun.yaml" <<EOF
daemon:
  machine_id: bench
  state_dir: $d/state
  runtime_dir: $d/run
  plugins: [sqlite, exec]
agents:
  printer:
    command: [$T/bin/print_lines, "$N"]
    start_secs: 0
    restart: never
EOF
    export LD_LIBRARY_PATH=$build/core/lib/.libs:$build/.libs
    export BOSUN_PLUGIN_PATH="$build/plugins/sqlite:$build/plugins/exec"
    bctl() { timeout 60 "$ctl" -s "$d/run/bosund.sock" "$@"; }
    "$bosund" -c "$d/bosun.yaml" 2>>"$d/bosund.log" &
    BOS_PID=$!
    local tries=0 wr='' perf_pid='' l0 w0 ld run last=0 end t1 l1 w1 st ev cm ts hwm cnt task
    until bctl status >/dev/null 2>&1; do
        tries=$((tries + 1))
        if [ $tries -gt 2000 ] || ! kill -0 "$BOS_PID" 2>/dev/null; then
            echo "$label: bosund did not come up: $(tail -3 "$d/bosund.log")"
            kill -KILL "$BOS_PID" 2>/dev/null
            BOS_PID=
            return 1
        fi
        sleep 0.01
    done
    # The writer: the one other thread at this point (the spawn pool's
    # workers come with the first spawn).
    for task in "/proc/$BOS_PID/task/"*; do
        [ "${task##*/}" = "$BOS_PID" ] || wr=${task##*/}
    done
    if [ -n "${BENCH_PERF:-}" ]; then
        mkdir -p "$BENCH_PERF"
        perf record -F 499 --call-graph dwarf,16384 -p "$BOS_PID" -o "$BENCH_PERF/$label.data" >/dev/null 2>&1 &
        perf_pid=$!
        sleep 1
    fi
    ld=$(load)
    l0=$(ticks "$BOS_PID") w0=$(ticks "$wr")
    run=$(bctl start printer)
    end=$(($(date +%s) + 300))
    while [ "$(date +%s)" -lt $end ]; do
        last=$(bctl request cmd.store.events "{\"run\":\"$run\",\"subject\":\"evt.run.*.*.output\",\"tail\":1}" --json 2>/dev/null |
            grep -o '"n":[0-9]*' | head -1 | cut -d: -f2)
        [ "${last:-0}" -ge "$N" ] && break
        sleep 0.1
    done
    t1=$(now)
    [ -n "$perf_pid" ] && { kill -INT "$perf_pid"; wait "$perf_pid"; }
    l1=$(ticks "$BOS_PID") w1=$(ticks "$wr")
    st=$(bctl request cmd.store.status '{}' --json 2>/dev/null)
    ev=$(printf '%s' "$st" | grep -o '"events":[0-9]*' | cut -d: -f2)
    cm=$(printf '%s' "$st" | grep -o '"commits":[0-9]*' | cut -d: -f2)
    ts=$(bctl ps --json | grep -o "{\"run\":\"$run\"[^}]*}" | grep -o '"started_at":[0-9.]*' | cut -d: -f2)
    hwm=$(awk '/VmHWM/ { print $2 }' "/proc/$BOS_PID/status")
    kill -TERM "$BOS_PID"
    wait "$BOS_PID"
    BOS_PID=
    cnt=$("$T/bin/sqlite_insert" count "$d/state/bosun.db" "$run" | tr '\n' ' ')
    TXN=$((ev / (cm > 0 ? cm : 1)))
    if [ "${last:-0}" -lt "$N" ]; then
        echo "$label load $ld: only ${last:-0} lines stored after 300 s"
    else
        awk -v L="$label" -v n="$N" -v t1="$t1" -v ts="$ts" -v l="$((l1 - l0))" -v w="$((w1 - w0))" \
            -v hz="$(getconf CLK_TCK)" -v txn="$TXN" -v ld="$ld" -v hwm="$hwm" -v cnt="$cnt" 'BEGIN {
            printf "%s load %s: %.0f lines/s, loop %.3f ms, writer %.3f ms CPU per 1,000 lines, txn %d, VmHWM %d kB | %s\n",
                L, ld, n / (t1 - ts), l * 1000 / hz / (n / 1000), w * 1000 / hz / (n / 1000), txn, hwm, cnt }'
    fi
    rm -rf "$d"
}

for r in $(seq 1 "$ROUNDS"); do
    one_run "$BUILD_A" "A$r"
    [ -n "$BUILD_B" ] && one_run "$BUILD_B" "B$r"
    echo "L$r load $(load): $("$T/bin/output_limit" "$T/limit.db" "$N" "${TXN:-10000}")"
    rm -f "$T"/limit.db*
done
