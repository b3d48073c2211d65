#!/bin/bash
# bench_storm.sh — the control socket during a restart storm (issue 18,
# item 2): BENCH_CRASHERS (100) agents that exit at once
# (sh -c 'echo x >> FILE; exit 1'), restart always, backoff_base 0,
# start_secs 0, while BENCH_CALLS (200) `bosunctl ps --json` and
# `bosunctl status --json` calls (in turn) are timed one after the other.
#
#   bench_storm.sh [BUILD_DIR]
#
# Each rep (BENCH_REPS, 3) measures the same calls on two fresh daemons:
# one with BENCH_CRASHERS agents of `sleep 3600` (the baseline: what the
# machine gives a bosunctl call now), and one in the storm.  A call is the
# wall time of the bosunctl process, fork to exit (its own start is part of
# what a user waits for); a call without an answer (bosunctl's own 10 s
# timeout) counts as 10 s.  Reported per rep and kind: p50, p90, p99
# (nearest rank), max; then the median and range of the p99s over the
# reps, the starts per second the storm made meanwhile, and whether the
# store holds an "exited" event for every process started.  Target: p99
# <= 100 ms in the storm, on the exact figure.  Every wait has a deadline;
# the daemons are stopped by their PIDs (they stop their agents).
set -u
export LC_ALL=C
here=$(cd "$(dirname "$0")" && pwd)
BUILD=$(cd "${1:-$here/../..}" && pwd) || exit 2
. "$here/bench_lib.sh"

N=${BENCH_CRASHERS:-100}
CALLS=${BENCH_CALLS:-200}
REPS=${BENCH_REPS:-3}
for p in sqlite exec; do
    [ -e "$BUILD/plugins/$p/$p.la" ] || { log "bench: plugin $p not built in $BUILD"; exit 2; }
done
SLEEP_BIN="$T/sleep"
cp "$(command -v sleep)" "$SLEEP_BIN"

# storm_config DIR KIND: N agents, crashers (crash) or sleepers (base).
storm_config() {
    local d=$1 kind=$2 i
    mkdir -p "$d/state" "$d/run"
    {
        printf 'daemon:\n  machine_id: bench\n  state_dir: %s/state\n  runtime_dir: %s/run\n' "$d" "$d"
        printf '  plugin_path: [%s/plugins/sqlite, %s/plugins/exec]\n' "$BUILD" "$BUILD"
        printf '  plugins: [sqlite, exec]\nagents:\n'
        for ((i = 1; i <= N; i++)); do
            if [ "$kind" = crash ]; then
                printf '  c%03d:\n    command: [sh, -c, "echo x >> %s/starts; exit 1"]\n' "$i" "$d"
                printf '    restart: always\n    backoff_base: 0\n    max_restarts: unlimited\n'
            else
                printf '  c%03d:\n    command: [%s, "3600"]\n' "$i" "$SLEEP_BIN"
            fi
            printf '    autostart: true\n    start_secs: 0\n'
        done
    } >"$d/bosun.yaml"
}

starts() { if [ -f "$1/starts" ]; then wc -l <"$1/starts" | tr -d ' '; else echo 0; fi; }

# timed_calls DIR: CALLS calls, ps and status in turn, into DIR/ps.lat and
# DIR/status.lat (seconds, one a line).
timed_calls() {
    local d=$1 k t0 t1 cmd
    : >"$d/ps.lat"
    : >"$d/status.lat"
    for ((k = 0; k < CALLS; k++)); do
        if ((k % 2)); then cmd=status; else cmd=ps; fi
        t0=$EPOCHREALTIME
        if "$BOSUNCTL" -s "$d/run/bosund.sock" "$cmd" --json >/dev/null 2>>"$d/calls.err"; then
            t1=$EPOCHREALTIME
            awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.6f\n", b - a }' >>"$d/$cmd.lat"
        else
            echo 10 >>"$d/$cmd.lat"
        fi
    done
}

# pcts FILE: "p50 p90 p99 max n" of the seconds in FILE (nearest rank).
pcts() {
    sort -g "$1" | awk '{ v[NR] = $1 }
        function at(q,  i) { i = int(q * NR); if (i < q * NR) i++; if (i < 1) i = 1; return v[i] }
        END { printf "%.6f %.6f %.6f %.6f %d", at(0.5), at(0.9), at(0.99), v[NR], NR }'
}
ms() { awk -v s="$1" 'BEGIN { printf "%.1f", s * 1000 }'; }
show() { # LABEL "p50 p90 p99 max n"
    local label=$1
    set -- $2
    echo "    $label: p50 $(ms "$1") ms, p90 $(ms "$2") ms, p99 $(ms "$3") ms, max $(ms "$4") ms ($5 calls)"
}

declare -A L # lists of figures, one a rep
add() { L[$1]="${L[$1]:+${L[$1]} }$2"; }
range() { printf '%s\n' $1 | sort -g | awk 'NR == 1 { lo = $1 } { hi = $1 } END { printf "%s-%s", lo, hi }'; }

# stored_counts DB: "spawn_started exited", the crashers' stored events.
stored_counts() {
    python3 - "$1" <<'PY'
import sqlite3, sys
db = sqlite3.connect(sys.argv[1])
n = lambda kind: db.execute("SELECT count(*) FROM events WHERE subject GLOB ?",
                            ("evt.run.c[0-9][0-9][0-9].*." + kind,)).fetchone()[0]
print(n("spawn_started"), n("exited"))
PY
}

# under_way DIR KIND: the storm has made 3 starts a crasher, or every
# sleeper is RUNNING.
under_way() {
    if [ "$2" = crash ]; then
        [ "$(starts "$1")" -ge $((N * 3)) ]
    else
        [ "$(ctl ps --json 2>/dev/null | grep -o '"state":"RUNNING"' | wc -l)" -ge "$N" ]
    fi
}

rep() {
    local r=$1 d s0 s1 w0 w1 rss0 rss1 c0 c1 ok st ex kind secs
    for kind in base crash; do
        d="$T/$r.$kind"
        storm_config "$d" "$kind"
        machine_load "rep $r, $kind"
        "$BOSUND" -c "$d/bosun.yaml" 2>"$d/bosund.log" &
        DPID=$!
        PIDS+=("$DPID")
        SOCK="$d/run/bosund.sock"
        ok=0
        for _ in $(seq 1 300); do
            under_way "$d" "$kind" && { ok=1; break; }
            sleep 0.1
        done
        [ "$ok" = 1 ] || { log "bench: rep $r $kind: not under way after 30 s"; stop_pid "$DPID"; return 1; }
        s0=$(starts "$d") w0=$EPOCHREALTIME rss0=$(rss_kb "$DPID") c0=$(cpu_ticks "$DPID")
        timed_calls "$d"
        s1=$(starts "$d") w1=$EPOCHREALTIME rss1=$(rss_kb "$DPID") c1=$(cpu_ticks "$DPID")
        stop_pid "$DPID"
        if [ "$kind" = crash ]; then echo "  rep $r, storm of $N crashers:"; else echo "  rep $r, baseline ($N sleepers):"; fi
        show "ps --json    " "$(pcts "$d/ps.lat")"
        show "status --json" "$(pcts "$d/status.lat")"
        set -- $(pcts "$d/ps.lat")
        add "${kind}_ps" "$3"
        set -- $(pcts "$d/status.lat")
        add "${kind}_st" "$3"
        if [ "$kind" = crash ]; then
            secs=$(calc "$w1 - $w0" 3)
            add rate "$(calc "($s1 - $s0) / $secs" 1)"
            set -- $(stored_counts "$d/state/bosun.db")
            st=${1:-0} ex=${2:-?}
            echo "    meanwhile $(calc "($s1 - $s0) / $secs" 1) starts/s over $(calc "$secs" 1) s," \
                "daemon CPU $(calc "($c1 - $c0) / $CLK_TCK / $secs * 100" 0) %, RSS (VmRSS) at the first call $rss0 kB, after the last $rss1 kB;" \
                "stored after the stop: $st spawn_started, $ex exited; $(starts "$d") starts made"
            # A start killed by the stop before its echo is stored, not counted.
            { [ "$st" = "$ex" ] && [ "$st" -ge "$(starts "$d")" ]; } || add lost "rep$r"
        fi
        [ -s "$d/calls.err" ] && log "bench: rep $r $kind: failed calls: $(sort "$d/calls.err" | uniq -c | head -3)"
        rm -rf "$d"
    done
}

echo "== control latency during a restart storm: $N crashers, $CALLS calls (ps and status in turn), $REPS reps"
echo "load at start: $(cut -d' ' -f1-3 /proc/loadavg); $(nproc) CPUs"
for ((i = 1; i <= REPS; i++)); do rep "$i" || exit 1; done
echo
echo "  over $REPS reps: median [each rep]"
for k in base_ps base_st crash_ps crash_st; do
    echo "    p99 $k: $(ms "$(median ${L[$k]})") ms [$(for x in ${L[$k]}; do ms "$x"; echo; done | tr '\n' ' ' | sed 's/ $//')]"
done
echo "    storm starts/s: $(median ${L[rate]}) [$(range "${L[rate]}")]"
echo "    every exit stored: $([ -z "${L[lost]:-}" ] && echo yes || echo "NO (${L[lost]})")"
for k in crash_ps crash_st; do
    v=$(median ${L[$k]})
    if awk -v x="$v" 'BEGIN { exit !(x <= 0.100) }'; then res=PASS; else res=FAIL; fi
    echo "  verdict: $k p99 (median of the reps) $(calc "$v" 4) s, target <= 0.100 s: $res"
    echo "result: storm_${k}_p99 $v <= 0.100"
done
for k in base_ps base_st; do echo "result: storm_${k}_p99 $(median ${L[$k]}) s"; done
echo "result: storm_starts_per_s $(median ${L[rate]}) starts/s"
echo "load at end: $(cut -d' ' -f1-3 /proc/loadavg)"
