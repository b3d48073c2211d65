# Shared by bench_http.sh and bench_ws.sh (sourced, after BUILD is set):
# the binaries, a temporary directory, processes started and stopped by
# PID, free ports, machine load, a process's RSS and CPU time, bosund with
# an admin token.  Every wait has a deadline.

BOSUND="$BUILD/bosund"
BOSUNCTL="$BUILD/bosunctl"
# The real programs, not libtool's wrappers: their PIDs are the ones whose
# /proc/PID/status and stat are read.
if [ -x "$BUILD/.libs/bosund" ] && [ -x "$BUILD/.libs/bosunctl" ]; then
    BOSUND="$BUILD/.libs/bosund"
    BOSUNCTL="$BUILD/.libs/bosunctl"
    export LD_LIBRARY_PATH="$BUILD/.libs${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
fi
[ -x "$BOSUND" ] && [ -x "$BOSUNCTL" ] || { echo "bench: build first (make)" >&2; exit 2; }
T=$(mktemp -d "${TMPDIR:-/tmp}/bosun-bench.XXXXXX") || exit 2
chmod 700 "$T"
PIDS=() # helpers: SIGTERM then reaped

log() { printf '%s\n' "$*" >&2; }

# stop_pid PID: SIGTERM, up to 10 s, then SIGKILL; reaped.
stop_pid() {
    local p=$1
    [ -n "$p" ] || return 0
    kill -TERM "$p" 2>/dev/null
    for _ in $(seq 1 100); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$p" 2>/dev/null
    wait "$p" 2>/dev/null
    return 0
}

bench_cleanup() {
    local p
    for p in "${PIDS[@]}"; do stop_pid "$p"; done
    [ -n "${BENCH_KEEP:-}" ] && log "kept $T" || rm -rf "$T"
}
trap bench_cleanup EXIT

# The open-file limit for the servers and the client (10,000 connections
# each side): as high as the hard limit allows, 20,000 wanted.
raise_nofile() {
    local hard
    hard=$(ulimit -Hn)
    [ "$hard" = unlimited ] && hard=1048576
    ulimit -n "$hard" 2>/dev/null
    [ "$(ulimit -n)" -ge "${1:-20000}" ] ||
        log "bench: WARNING: open-file limit $(ulimit -n) < ${1:-20000}; raise the hard limit"
}

# free_port: a TCP port free on 127.0.0.1 now (the kernel's choice).
free_port() {
    python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# busy_pct: how busy all CPUs are over one second, in % (from /proc/stat).
busy_pct() {
    local a b
    a=$(head -1 /proc/stat)
    sleep 1
    b=$(head -1 /proc/stat)
    printf '%s\n%s\n' "$a" "$b" | awk '{ idle = $5 + $6; tot = 0; for (i = 2; i <= NF; i++) tot += $i
        if (NR == 1) { i0 = idle; t0 = tot } else printf "%.0f", 100 * (1 - (idle - i0) / (tot - t0)) }'
}

# machine_load LABEL: one line with the load average and how busy the CPUs
# were over the last second, before a measurement.
machine_load() {
    echo "  [load before $1: $(cut -d' ' -f1-3 /proc/loadavg), CPUs $(busy_pct) % busy over 1 s]"
}

rss_kb() { sed -n 's/^VmRSS:[^0-9]*\([0-9]*\).*/\1/p' "/proc/$1/status" 2>/dev/null; }

# cpu_ticks PID...: utime + stime of those processes (all their threads), in
# clock ticks.
cpu_ticks() {
    local p t=0 s
    for p in "$@"; do
        s=$(sed 's/^.*) //' "/proc/$p/stat" 2>/dev/null) || continue
        t=$((t + $(echo "$s" | awk '{ print $12 + $13 }')))
    done
    echo "$t"
}
CLK_TCK=$(getconf CLK_TCK)

# children PID: PIDs of its child processes (nginx's worker).
children() { ps -o pid= --ppid "$1" | tr -d ' '; }

calc() { awk "BEGIN { printf \"%.${2:-3}f\", $1 }"; }
# exact EXPR: EXPR unrounded (the shortest of 15-17 significant digits that
# reads back as the same double), for what a verdict compares; calc rounds
# for display.
AWK_EXACT='function exact(x,  p, s) { for (p = 15; p < 17; p++) { s = sprintf("%." p "g", x); if (s + 0 == x) return s }
    return sprintf("%.17g", x) }'
exact() { awk "$AWK_EXACT BEGIN { printf \"%s\", exact($1) }"; }

ratio3() { if [ "$1" = n/a ]; then echo n/a; else calc "$1" 3; fi; }

# median of the arguments (numbers); "n/a" when none.  Of an even count,
# the mean of the middle two, unrounded (it was printed to one decimal, so
# a median ratio of 0.47 became 0.5 before its verdict).
median() {
    [ $# -gt 0 ] || { echo n/a; return; }
    printf '%s\n' "$@" | sort -g | awk "$AWK_EXACT"'{ v[NR] = $1 } END {
        if (NR % 2) printf "%s", v[(NR + 1) / 2]; else printf "%s", exact((v[NR / 2] + v[NR / 2 + 1]) / 2) }'
}

# verdict NAME RATIO OP TARGET: "ratio R, target OP X: PASS|FAIL", OP ">="
# or "<=", on the exact ratio (printed to 3 places), and the exact ratio in
# a "result:" line for bench_runs.
verdict() {
    local r
    if [ "$2" = n/a ]; then
        echo "  $1: n/a (target $3 $4)"
        return
    fi
    r=$(calc "$2" 3)
    if awk "BEGIN { exit !($2 $3 $4) }"; then
        echo "  $1: ratio $r, target $3 $4: PASS"
    else
        echo "  $1: ratio $r, target $3 $4: FAIL"
    fi
    echo "result: ${1// /_} $2 $3 $4"
}

# bosund_start DIR: runs bosund on DIR/bosun.yaml (written by the caller;
# state and runtime under DIR), logging to DIR/bosund.log; sets DPID and
# SOCK; waits up to 20 s for its control socket.
bosund_start() {
    local d=$1
    [ -e "$BUILD/plugins/http/http.la" ] || { log "bench: the http plugin is not built in $BUILD"; return 1; }
    mkdir -p "$d/state" "$d/run"
    "$BOSUND" -c "$d/bosun.yaml" 2>"$d/bosund.log" &
    DPID=$!
    PIDS+=("$DPID")
    SOCK="$d/run/bosund.sock"
    for _ in $(seq 1 200); do ctl status >/dev/null 2>&1 && return 0; sleep 0.1; done
    log "bench: bosund did not start:"
    tail -20 "$d/bosund.log" >&2
    return 1
}
ctl() { "$BOSUNCTL" -s "$SOCK" "$@"; }

# bosund_config DIR PORT [EXTRA_HTTP_LINES]: a bosund with sqlite, exec and
# http listening on 127.0.0.1:PORT; EXTRA_HTTP_LINES go under http:, the
# caller's stdin after the whole (agents:).
bosund_config() {
    local d=$1 port=$2 extra=${3:-}
    mkdir -p "$d"
    {
        cat <<EOF
daemon:
  machine_id: bench
  state_dir: $d/state
  runtime_dir: $d/run
  log_level: warning
  plugin_path: [$BUILD/plugins/sqlite, $BUILD/plugins/exec, $BUILD/plugins/http]
  plugins: [sqlite, exec, http]
http:
  listen: ["127.0.0.1:$port"]
  access_log: false
EOF
        [ -n "$extra" ] && printf '%s\n' "$extra"
        cat
    } >"$d/bosun.yaml"
}

# admin_token FILE: a new admin token from the daemon at $SOCK (the bus's
# cmd.auth.token.create), its secret written to FILE (0600), never printed.
admin_token() {
    (umask 077 && ctl request cmd.auth.token.create '{"name":"bench"}' --json 2>"$T/token.err" |
        python3 -c 'import json, sys
d = json.load(sys.stdin)
d = d.get("data", d)
print(d["secret"])' >"$1") && [ -s "$1" ] && return 0
    log "bench: could not create an admin token: $(head -c 300 "$T/token.err")"
    return 1
}

# wait_http URL [CURL_ARGS...]: until URL answers 200, up to 20 s.
wait_http() {
    local url=$1
    shift
    for _ in $(seq 1 200); do
        [ "$(curl -s -o /dev/null -w '%{http_code}' --max-time 2 "$@" "$url")" = 200 ] && return 0
        sleep 0.1
    done
    log "bench: $url did not answer 200 within 20 s"
    return 1
}

# need_debian CMD PACKAGE: installs PACKAGE with apt-get when CMD is
# missing and we are root; false when it stays missing.
need_debian() {
    command -v "$1" >/dev/null 2>&1 && return 0
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
        log "bench: installing Debian's $2 (apt-get install -y $2)"
        DEBIAN_FRONTEND=noninteractive timeout 600 apt-get install -y "$2" >"$T/apt.log" 2>&1 ||
            { timeout 600 apt-get update >>"$T/apt.log" 2>&1 &&
                DEBIAN_FRONTEND=noninteractive timeout 600 apt-get install -y "$2" >>"$T/apt.log" 2>&1; }
    fi
    command -v "$1" >/dev/null 2>&1 && return 0
    log "bench: $1 is missing (Debian's $2; needs root and apt-get to install)"
    return 1
}

# perf_begin PID NAME: with BENCH_PERF=1, `perf record -g` of PID until
# perf_end NAME, which prints the top symbols by self time; false (nothing
# recorded) without BENCH_PERF or perf.
perf_begin() {
    PERF_PID=
    [ -n "${BENCH_PERF:-}" ] || return 1
    command -v perf >/dev/null 2>&1 || { log "bench: perf is missing"; return 1; }
    perf record -g -o "$T/perf.$2.data" -p "$1" >"$T/perf.$2.log" 2>&1 &
    PERF_PID=$!
    sleep 0.5
}
perf_end() {
    [ -n "${PERF_PID:-}" ] || return 0
    kill -INT "$PERF_PID" 2>/dev/null
    wait "$PERF_PID" 2>/dev/null
    PERF_PID=
    echo "  perf record -g of bosund ($1, one more run, not counted), top symbols by self time:"
    perf report -i "$T/perf.$1.data" --stdio --no-children --sort dso,symbol -g none 2>/dev/null |
        awk '/^ +[0-9]+\.[0-9]+%/ { printf "    %s", $1; for (i = 2; i <= NF && $i != "-"; i++) printf " %s", $i; print "" }' |
        head -"${BENCH_PERF_TOP:-25}"
}

# run_parts PART NAME...: part_NAME for each NAME (PART "all") or for PART
# alone, then the verdicts collected in SUMMARY; exits 1 when a part failed.
SUMMARY=()
run_parts() {
    local part=$1 p rc=0
    shift
    echo "load at start: $(cut -d' ' -f1-3 /proc/loadavg); $(nproc) CPUs; open files $(ulimit -n)"
    for p in "$@"; do
        [ "$part" = all ] || [ "$part" = "$p" ] || continue
        "part_$p" || { rc=1; log "bench: part $p failed (see above)"; }
    done
    echo
    echo "== verdicts (exact ratios of the medians)"
    printf '%s\n' "${SUMMARY[@]}"
    echo "load at end: $(cut -d' ' -f1-3 /proc/loadavg)"
    exit "$rc"
}

# bench_runs NAME CMD [ARG...]: runs CMD BENCH_RUNS (3) times, the machine's
# load printed before each run, its output (stderr too) shown as it comes
# and kept; then bench_runs_summary.  Every run is made even when one
# fails; the status is the first failing run's.  make bench runs every
# part through it (tests/bench/bench_runs.sh); a part run by hand runs once.
bench_runs() {
    local name=$1 runs=${BENCH_RUNS:-3} i r rc=0
    shift
    [[ $runs =~ ^[1-9][0-9]?$ ]] || { log "bench: BENCH_RUNS must be 1-99, not '$runs'"; return 64; }
    for ((i = 1; i <= runs; i++)); do
        echo "=== $name: run $i of $runs"
        machine_load "$name, run $i of $runs"
        "$@" 2>&1 | tee "$T/runs.$i"
        r=${PIPESTATUS[0]}
        if [ "$r" != 0 ]; then
            log "bench: $name: run $i exited with status $r"
            [ "$rc" = 0 ] && rc=$r
        fi
    done
    bench_runs_summary "$name" "$runs"
    return "$rc"
}

# bench_runs_summary NAME RUNS: from the "result: KEY VALUE UNIT..." and
# "result: KEY VALUE OP TARGET" lines of $T/runs.1..RUNS, one line a KEY:
# the median over the runs, the range and every run's value in run order;
# for the second kind, the verdict on the exact median (OP "<=" or ">=").
# A KEY missing from a run (that run failed before it) is named.
bench_runs_summary() {
    local name=$1 runs=$2 i
    echo
    echo "=== $name: median [range] over $runs runs (each run's value in order)"
    for ((i = 1; i <= runs; i++)); do
        sed -n "s/^result: /$i /p" "$T/runs.$i" 2>/dev/null
    done | awk -v runs="$runs" '
        function num(x) { return (x >= 1000 || x <= -1000) ? sprintf("%.0f", x) : sprintf("%.6g", x) }
        function med(k,  n, i, j, t, v) {
            n = 0
            for (i = 1; i <= runs; i++) if ((k, i) in val) v[++n] = val[k, i] + 0
            for (i = 2; i <= n; i++) for (j = i; j > 1 && v[j - 1] > v[j]; j--) { t = v[j]; v[j] = v[j - 1]; v[j - 1] = t }
            lo = v[1]; hi = v[n]; cnt = n
            return n % 2 ? v[(n + 1) / 2] : (v[n / 2] + v[n / 2 + 1]) / 2
        }
        $1 ~ /^[0-9]+$/ && NF >= 3 {
            k = $2
            if (!(k in seen)) { seen[k] = 1; order[++nk] = k }
            # a value that is not a number (a part printed n/a) counts as missing
            if ($3 ~ /^-?[0-9]+(\.[0-9]*)?([eE][-+]?[0-9]+)?$/) val[k, $1] = $3
            if (($4 == "<=" || $4 == ">=") && NF == 5) { op[k] = $4; tgt[k] = $5 }
            else { u = ""; for (i = 4; i <= NF; i++) u = u " " $i; unit[k] = u }
        }
        END {
            if (nk == 0) { print "  (no result: lines; each run'"'"'s own report is above)"; exit }
            for (j = 1; j <= nk; j++) {
                k = order[j]; m = med(k); each = ""
                if (cnt == 0) { printf "  %s: no number in any run\n", k; continue }
                for (i = 1; i <= runs; i++) each = each ((k, i) in val ? " " val[k, i] : " missing")
                line = sprintf("  %s: %s%s [%s-%s] (%s)", k, num(m), unit[k], num(lo), num(hi), substr(each, 2))
                if (cnt < runs) line = line sprintf(" -- %d of %d runs", cnt, runs)
                if (k in op) {
                    ok = (op[k] == "<=") ? (m <= tgt[k] + 0) : (m >= tgt[k] + 0)
                    line = line sprintf("; median %.3f, target %s %s: %s", m, op[k], tgt[k], ok ? "PASS" : "FAIL")
                }
                print line
            }
        }'
}
