#!/bin/bash
# bench_supervise.sh — process-supervision benchmark of bosund, against
# supervisord and the machine's own limits, measured in the same run.
#
#   bench_supervise.sh [BUILD_DIR] [a|b|c|all]
#
# BUILD_DIR holds bosund, bosunctl and plugins/{sqlite,exec} (default: the
# top of the tree this script is in).  See tests/bench/README for what each
# part measures and how to read the report.  Tunables (environment):
#   BENCH_AGENTS (500)  BENCH_IDLE (10)  BENCH_WINDOW (10)
#   BENCH_CRASHERS (100)  BENCH_LINES (1000000)  BENCH_REPS (3, part a)
#   BENCH_INSTANCES (4000, part a: one agent with that many instances)
#   BENCH_KEEP=1 keeps the temp dir
#
# Only unix sockets are used.  Every wait has a deadline.  Everything the
# script starts is stopped at exit: the daemons by their PIDs, and any
# process still running a program from the temp dir (the benchmark's own
# copies of sleep and print_lines) by its PID.
set -u
export LC_ALL=C

here=$(cd "$(dirname "$0")" && pwd)
BUILD=$(cd "${1:-$here/../..}" && pwd) || exit 2
PART=${2:-all}
case $PART in a | b | c | all) ;; *) echo "usage: $0 [BUILD_DIR] [a|b|c|all]" >&2; exit 64 ;; esac

N_AGENTS=${BENCH_AGENTS:-500}
IDLE=${BENCH_IDLE:-10}
WINDOW=${BENCH_WINDOW:-10}
N_CRASHERS=${BENCH_CRASHERS:-100}
N_LINES=${BENCH_LINES:-1000000}
REPS=${BENCH_REPS:-3}
N_INST=${BENCH_INSTANCES:-4000}

BOSUND="$BUILD/bosund"
BOSUNCTL="$BUILD/bosunctl"
[ -x "$BOSUND" ] || BOSUND="$BUILD/core/bosund"
[ -x "$BOSUNCTL" ] || BOSUNCTL="$BUILD/core/bosunctl"
# In a build tree bosund and bosunctl are libtool's shell wrappers, which
# cost a shell start each time: run the programs themselves, with the
# library path the wrapper would set, as an installed bosun would run.
if [ -x "$BUILD/.libs/bosund" ] && [ -x "$BUILD/.libs/bosunctl" ] && [ -e "$BUILD/.libs/libbosun.so" ]; then
    BOSUND="$BUILD/.libs/bosund"
    BOSUNCTL="$BUILD/.libs/bosunctl"
    export LD_LIBRARY_PATH="$BUILD/.libs${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
fi
for f in "$BOSUND" "$BOSUNCTL"; do
    [ -x "$f" ] || { echo "bench: $f not found: build first (make)" >&2; exit 2; }
done
for p in sqlite exec; do
    [ -e "$BUILD/plugins/$p/$p.la" ] || [ -e "$BUILD/plugins/$p/$p.so" ] ||
        { echo "bench: plugin $p not built in $BUILD/plugins/$p" >&2; exit 2; }
done
export BOSUN_PLUGIN_PATH="$BUILD/plugins/sqlite:$BUILD/plugins/exec"

T=$(mktemp -d "${TMPDIR:-/tmp}/bosun-bench.XXXXXX") || exit 2
CLK_TCK=$(getconf CLK_TCK)
DAEMON_PIDS=()
declare -A R # results, printed by report()

log() { printf '%s\n' "$*" >&2; }

# --------------------------------------------------------------- clean-up

# stray_pids: processes running a program from $T (our sleep copy,
# print_lines), whoever their parent is now.
stray_pids() {
    local d exe
    for d in /proc/[0-9]*; do
        exe=$(readlink "$d/exe" 2>/dev/null) || continue
        case $exe in "$T"/*) echo "${d#/proc/}" ;; esac
    done
}

# stop_pid PID SECONDS: SIGTERM, then SIGKILL after SECONDS; reaps it.
stop_pid() {
    local pid=$1 limit=$2 i
    kill -0 "$pid" 2>/dev/null || { wait "$pid" 2>/dev/null; return 0; }
    kill -TERM "$pid" 2>/dev/null
    for ((i = 0; i < limit * 20; i++)); do
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.05
    done
    kill -KILL "$pid" 2>/dev/null
    wait "$pid" 2>/dev/null
    return 0
}

forget_pid() {
    local p keep=()
    for p in "${DAEMON_PIDS[@]}"; do [ "$p" = "$1" ] || keep+=("$p"); done
    DAEMON_PIDS=("${keep[@]}")
}

cleanup() {
    local p
    trap - EXIT INT TERM
    for p in "${DAEMON_PIDS[@]}"; do stop_pid "$p" 10; done
    for p in $(stray_pids); do kill -KILL "$p" 2>/dev/null; done
    case "${BOS_RUN:-}" in /dev/shm/bosun-bench-run.*) rm -rf "$BOS_RUN" ;; esac
    if [ "${BENCH_KEEP:-0}" = 1 ]; then log "bench: kept $T"; else rm -rf "$T"; fi
}
trap cleanup EXIT
trap 'log "bench: interrupted"; exit 130' INT TERM

# ---------------------------------------------------------------- helpers

now() { echo "$EPOCHREALTIME"; }
# calc EXPR: floating-point arithmetic (awk), EXPR uses awk syntax.
calc() { awk "BEGIN { x = $1; printf \"%.6f\", x }"; }
fmt() { awk -v x="$1" -v d="${2:-2}" 'BEGIN { printf "%.*f", d, x }'; }
# before END: true while the time is before END (epoch seconds).
before() { awk -v a="$(now)" -v b="$1" 'BEGIN { exit !(a < b) }'; }
# cpu_secs PID: user+system CPU seconds of PID so far.
cpu_secs() { sed 's/^.*) //' "/proc/$1/stat" | awk -v t="$CLK_TCK" '{ printf "%.2f", ($12 + $13) / t }'; }
rss_kb() { awk '/^VmRSS:/ { print $2 }' "/proc/$1/status"; }
hwm_kb() { awk '/^VmHWM:/ { print $2 }' "/proc/$1/status"; }
# rss_anon_kb PID: the anonymous part of VmRSS (heap, stacks, libraries'
# written pages); the rest is file pages such as the libraries' code, which
# every process mapping the same library shares.
rss_anon_kb() { awk '/^RssAnon:/ { print $2 }' "/proc/$1/status"; }
# rss_maps PID: the largest resident mappings, as "name kB" by file (or
# [heap], [anon]) summed over a file's mappings, the largest first.
rss_maps() {
    awk '/^[0-9a-f]+-[0-9a-f]+ / { n = split($0, f, " "); name = (n >= 6) ? f[6] : "[anon]"; sub(/.*\//, "", name) }
         /^Rss:/ { kb[name] += $2 }
         END { for (k in kb) print kb[k], k }' "/proc/$1/smaps" | sort -rn | head -6 | awk '{ printf "%s%s %d kB", (NR > 1 ? ", " : ""), $2, $1 }'
}
mib() { awk -v k="$1" 'BEGIN { printf "%.1f MiB", k / 1024 }'; }
lines_of() { if [ -f "$1" ]; then wc -l < "$1" | tr -d ' '; else echo 0; fi; }

# ratio NAME A B: R[NAME] = A / B (or "n/a"), to 17 significant digits so
# that the verdict is on the exact ratio, not a rounded one.
isnum() { [[ $1 =~ ^[0-9]+(\.[0-9]*)?$ ]]; }
ratio() {
    if isnum "$2" && isnum "$3" && awk -v b="$3" 'BEGIN { exit !(b + 0 > 0) }'; then
        R[$1]=$(awk -v a="$2" -v b="$3" 'BEGIN { printf "%.17g", a / b }')
    else
        R[$1]=n/a
    fi
}
# verdict NAME OK-IF: PASS/FAIL from an awk condition over x = R[NAME].
verdict() {
    local v=${R[$1]:-n/a}
    [ "$v" = n/a ] && { echo "n/a"; return; }
    awk -v x="$v" "BEGIN { exit !($2) }" && echo PASS || echo FAIL
}
# result NAME OP TARGET: R[NAME], exact, as a "result:" line for bench_runs
# (make bench's median and range over its runs); nothing when n/a.
result() { isnum "${R[$1]:-}" && echo "result: supervise_$1 ${R[$1]} $2${3:+ $3}"; return 0; }
# part_load LABEL: the machine's load before a part (bench_lib.sh's
# machine_load, sourced in a subshell: its temporary directory ends there).
part_load() { (. "$here/bench_lib.sh" && machine_load "$1"); }

# wait_pid_deadline PID SECONDS: waits for a child to exit; SIGKILL at the
# deadline.  Returns 0 when it exited by itself; WAIT_END is when it did.
wait_pid_deadline() {
    local pid=$1 limit=$2 w rc
    ( for ((i = 0; i < limit * 10; i++)); do kill -0 "$pid" 2>/dev/null || exit 0; sleep 0.1; done
      kill -KILL "$pid" 2>/dev/null ) &
    w=$!
    wait "$pid" 2>/dev/null
    rc=$?
    WAIT_END=$(now)
    wait "$w" 2>/dev/null # the watchdog notices within 0.1 s
    forget_pid "$pid"
    [ "$rc" -ne 137 ]
}

# ----------------------------------------------------------- the helpers

mkdir -p "$T/bin"
build_helper() { # NAME [CFLAGS/LIBS...]
    local name=$1
    shift
    if [ -x "$BUILD/tests/bench/$name" ] && [ "$BUILD/tests/bench/$name" -nt "$here/$name.c" ]; then
        cp "$BUILD/tests/bench/$name" "$T/bin/$name"
    else
        cc -O2 -o "$T/bin/$name" "$here/$name.c" "$@" || { log "bench: cannot build $name"; exit 2; }
    fi
}
build_helper spawn_loop
build_helper print_lines
if pkg-config --exists sqlite3 2>/dev/null; then
    # shellcheck disable=SC2046 # the flags are words
    build_helper sqlite_insert $(pkg-config --cflags --libs sqlite3)
else
    build_helper sqlite_insert -lsqlite3
fi
# Our own copy of sleep: the same program, but every process running it is
# known to be ours (see stray_pids).
SLEEP_BIN="$T/bin/sleep"
cp "$(command -v sleep)" "$SLEEP_BIN"

# --------------------------------------------------------------- supervisord

HAVE_SUP=1
if ! command -v supervisord >/dev/null 2>&1; then
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
        log "bench: installing Debian's supervisor (apt-get install -y supervisor)"
        # A fresh system may have no package lists yet: update once and retry.
        DEBIAN_FRONTEND=noninteractive timeout 600 apt-get install -y supervisor >"$T/apt.log" 2>&1 ||
            { timeout 600 apt-get update >>"$T/apt.log" 2>&1 &&
                DEBIAN_FRONTEND=noninteractive timeout 600 apt-get install -y supervisor >>"$T/apt.log" 2>&1; } ||
            log "bench: apt-get install failed:"$'\n'"$(tail -5 "$T/apt.log")"
    fi
    if ! command -v supervisord >/dev/null 2>&1; then
        HAVE_SUP=0
        log "bench: supervisord is not installed and cannot be (needs root and apt-get):"
        log "bench:   the supervisord figures are skipped"
    fi
fi
# Our supervisord never touches a system one: its own config, socket, log
# and pid file in $T/s, stopped by its PID.
SUP_DIR="$T/s"
SUP_CONF="$SUP_DIR/supervisord.conf"
SUP_PID=

sup_config() { # then [program:...] sections on stdin
    rm -rf "$SUP_DIR"
    mkdir -p "$SUP_DIR/logs"
    {
        cat <<EOF
[unix_http_server]
file=$SUP_DIR/supervisor.sock
chmod=0700

[supervisord]
nodaemon=true
logfile=$SUP_DIR/supervisord.log
logfile_maxbytes=0
loglevel=info
pidfile=$SUP_DIR/supervisord.pid
childlogdir=$SUP_DIR/logs
minfds=8192
minprocs=2048

[rpcinterface:supervisor]
supervisor.rpcinterface_factory = supervisor.rpcinterface:make_main_rpcinterface

[supervisorctl]
serverurl=unix://$SUP_DIR/supervisor.sock

EOF
        cat
    } >"$SUP_CONF"
}

supctl() { timeout 30 supervisorctl -c "$SUP_CONF" "$@"; }

sup_start() {
    supervisord -n -c "$SUP_CONF" >"$SUP_DIR/stdout.log" 2>&1 &
    SUP_PID=$!
    DAEMON_PIDS+=("$SUP_PID")
}

# sup_wait_up SECONDS: until supervisorctl reaches it.
sup_wait_up() {
    local end
    end=$(calc "$(now) + $1")
    while before "$end"; do
        kill -0 "$SUP_PID" 2>/dev/null || { log "bench: supervisord died: $(tail -3 "$SUP_DIR/stdout.log")"; return 1; }
        [ "$(supctl pid 2>/dev/null)" = "$SUP_PID" ] && return 0
        sleep 0.05
    done
    return 1
}

sup_running() { supctl status 2>/dev/null | grep -c ' RUNNING '; }

# sup_log_time PATTERN: the time (epoch seconds) of the last log line
# matching PATTERN in supervisord's own log ("2026-11-21 06:07:08,123 ...").
sup_log_time() {
    local stamp
    stamp=$(grep -E "$1" "$SUP_DIR/supervisord.log" | tail -1 | awk '{ print $1 " " $2 }' | tr , .)
    [ -n "$stamp" ] && date -d "$stamp" +%s.%N
}

# ------------------------------------------------------------------- bosund

BOS_DIR="$T/b"
# bosund keeps per-run secrets (mcp.json with the agent token) in its
# runtime_dir, which under systemd (RuntimeDirectory=) is on tmpfs; give it
# tmpfs here too when the machine has /dev/shm, as /run would be.
BOS_RUN="$BOS_DIR/run"
if [ -d /dev/shm ] && [ -w /dev/shm ]; then
    BOS_RUN=$(mktemp -d /dev/shm/bosun-bench-run.XXXXXX)
fi
BOS_PID=
bctl() { timeout 60 "$BOSUNCTL" -s "$BOS_RUN/bosund.sock" "$@"; }

bos_config() { # then the agents section on stdin
    rm -rf "$BOS_DIR"
    [ "$BOS_RUN" = "$BOS_DIR/run" ] || rm -rf "${BOS_RUN:?}"/*
    mkdir -p "$BOS_DIR/state" "$BOS_RUN"
    {
        cat <<EOF
daemon:
  machine_id: bench
  state_dir: $BOS_DIR/state
  runtime_dir: $BOS_RUN
  plugins: [sqlite, exec]
agents:
EOF
        cat
    } >"$BOS_DIR/bosun.yaml"
}

bos_start() {
    "$BOSUND" -c "$BOS_DIR/bosun.yaml" 2>>"$BOS_DIR/bosund.log" &
    BOS_PID=$!
    DAEMON_PIDS+=("$BOS_PID")
}

bos_wait_up() {
    local end
    end=$(calc "$(now) + $1")
    while before "$end"; do
        kill -0 "$BOS_PID" 2>/dev/null || { log "bench: bosund died: $(tail -3 "$BOS_DIR/bosund.log")"; return 1; }
        bctl status >/dev/null 2>&1 && return 0
        sleep 0.01
    done
    return 1
}

# stop_measured PID NAME: SIGTERM to exit, in seconds, into R[NAME].
stop_measured() {
    local pid=$1 t0
    t0=$(now)
    kill -TERM "$pid"
    if wait_pid_deadline "$pid" 120; then
        R[$2]=$(calc "$WAIT_END - $t0")
    else
        R[$2]="n/a (killed after 120 s)"
    fi
}

check_no_strays() { # LABEL
    local left p
    left=$(stray_pids | wc -l)
    if [ "$left" -gt 0 ]; then
        log "bench: $1: $left processes of ours still running after the daemon exited; killing them"
        for p in $(stray_pids); do kill -KILL "$p" 2>/dev/null; done
        R[${1}_left]=$left
    fi
}

# =================================================================== part a

# add NAME VALUE: appends VALUE to the list R[NAME] (one figure per rep).
add() { R[$1]="${R[$1]:+${R[$1]} }$2"; }
# median NAME [FORMAT]: the median of the list R[NAME] into R[NAME]; the
# spread (min-max, printf FORMAT, default %.3f) into R[NAME_range].
median() {
    local list=${R[$1]:-} f=${2:-%.3f}
    [ -n "$list" ] || return 0
    R[${1}_range]=$(printf '%s\n' $list | sort -n | awk -v f="$f" '{ v[NR] = $1 } END { printf f "-" f, v[1], v[NR] }')
    R[$1]=$(printf '%s\n' $list | sort -n | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }')
}

a_loop() {
    "$T/bin/spawn_loop" "$N_AGENTS" "$SLEEP_BIN" >"$T/spawn_loop.out" 2>&1
    add a_loop_start "$(awk '$1 == "spawn_secs" { print $2 }' "$T/spawn_loop.out")"
    add a_loop_stop "$(awk '$1 == "stop_secs" { print $2 }' "$T/spawn_loop.out")"
    log "posix_spawn loop: $(tr '\n' ' ' <"$T/spawn_loop.out")"
    check_no_strays a_loop
}

a_bosund() { # REP: the first rep also measures RSS and idle CPU
    local rep=$1 t0 t1 n c0 c1 end start_time last_up
    bos_config < <(for ((i = 1; i <= N_AGENTS; i++)); do
        printf '  s%03d:\n    command: [%s, "3600"]\n    autostart: true\n    start_secs: 0\n' "$i" "$SLEEP_BIN"
    done)
    t0=$(now)
    bos_start
    end=$(calc "$t0 + 120")
    n=0
    while before "$end"; do
        n=$(bctl ps --json 2>/dev/null | grep -o '"state":"RUNNING"' | wc -l)
        [ "$n" -ge "$N_AGENTS" ] && break
        kill -0 "$BOS_PID" 2>/dev/null || break
        sleep 0.01
    done
    t1=$(now)
    if [ "$n" -lt "$N_AGENTS" ]; then
        log "bosund: only $n of $N_AGENTS RUNNING after 120 s; giving up on it"
        R[a_bos_fail]="$n RUNNING at 120 s"
        stop_pid "$BOS_PID" 10
        forget_pid "$BOS_PID"
        check_no_strays a_bos
        return
    fi
    add a_bos_start "$(calc "$t1 - $t0")"
    # The daemon's own view: its start time to the last change to RUNNING.
    start_time=$(bctl status --json | grep -o '"start_time":[0-9.]*' | cut -d: -f2)
    last_up=$(bctl ps --json | grep -o '"updated_at":[0-9.]*' | cut -d: -f2 | sort -n | tail -1)
    add a_bos_start_own "$(calc "$last_up - $start_time")"
    local msg
    msg="bosund #$rep: all $N_AGENTS RUNNING after $(fmt "$(calc "$t1 - $t0")" 3) s (polled), $(fmt "$(calc "$last_up - $start_time")" 3) s by its own timestamps"
    add a_bos_rss "$(rss_kb "$BOS_PID")"
    msg="$msg; RSS at all RUNNING $(mib "$(rss_kb "$BOS_PID")")"
    if [ "$rep" = 1 ]; then
        c0=$(cpu_secs "$BOS_PID")
        sleep "$IDLE"
        c1=$(cpu_secs "$BOS_PID")
        R[a_bos_idle_cpu]=$(calc "($c1 - $c0) / $IDLE * 100")
        R[a_bos_rss_idle]=$(rss_kb "$BOS_PID")
        R[a_bos_rss_anon]=$(rss_anon_kb "$BOS_PID")
        R[a_bos_maps]=$(rss_maps "$BOS_PID")
        msg="$msg; idle CPU over $IDLE s $(fmt "${R[a_bos_idle_cpu]}" 2) %, then RSS (after the idle s) $(mib "${R[a_bos_rss_idle]}")"
    fi
    stop_measured "$BOS_PID" a_bos_stop_1
    add a_bos_stop "${R[a_bos_stop_1]}"
    log "$msg; SIGTERM to exit $(fmt "${R[a_bos_stop_1]}" 3) s"
    check_no_strays a_bos
}

a_sup() { # REP
    local rep=$1 t0 t1 n c0 c1 end last_up
    sup_config < <(for ((i = 1; i <= N_AGENTS; i++)); do
        printf '[program:s%03d]\ncommand=%s 3600\nstartsecs=0\n\n' "$i" "$SLEEP_BIN"
    done)
    t0=$(now)
    sup_start
    end=$(calc "$t0 + 300")
    n=0
    while before "$end"; do
        n=$(sup_running)
        [ "$n" -ge "$N_AGENTS" ] && break
        kill -0 "$SUP_PID" 2>/dev/null || break
        sleep 0.05
    done
    t1=$(now)
    if [ "$n" -lt "$N_AGENTS" ]; then
        log "supervisord: only $n of $N_AGENTS RUNNING after 300 s; giving up on it"
        R[a_sup_fail]="$n RUNNING at 300 s"
        stop_pid "$SUP_PID" 60
        forget_pid "$SUP_PID"
        check_no_strays a_sup
        return
    fi
    add a_sup_start "$(calc "$t1 - $t0")"
    last_up=$(sup_log_time 'entered RUNNING state')
    [ -n "$last_up" ] && add a_sup_start_own "$(calc "$last_up - $t0")"
    local msg
    msg="supervisord #$rep: all $N_AGENTS RUNNING after $(fmt "$(calc "$t1 - $t0")" 3) s (polled), $(fmt "$(calc "${last_up:-$t0} - $t0")" 3) s by its log"
    add a_sup_rss "$(rss_kb "$SUP_PID")"
    msg="$msg; RSS at all RUNNING $(mib "$(rss_kb "$SUP_PID")")"
    if [ "$rep" = 1 ]; then
        c0=$(cpu_secs "$SUP_PID")
        sleep "$IDLE"
        c1=$(cpu_secs "$SUP_PID")
        R[a_sup_idle_cpu]=$(calc "($c1 - $c0) / $IDLE * 100")
        R[a_sup_rss_idle]=$(rss_kb "$SUP_PID")
        R[a_sup_rss_anon]=$(rss_anon_kb "$SUP_PID")
        R[a_sup_maps]=$(rss_maps "$SUP_PID")
        msg="$msg; idle CPU over $IDLE s $(fmt "${R[a_sup_idle_cpu]}" 2) %, then RSS (after the idle s) $(mib "${R[a_sup_rss_idle]}")"
    fi
    stop_measured "$SUP_PID" a_sup_stop_1
    add a_sup_stop "${R[a_sup_stop_1]}"
    log "$msg; SIGTERM to exit $(fmt "${R[a_sup_stop_1]}" 3) s"
    check_no_strays a_sup
}

# a_many: one agent with N_INST instances: start-up (all RUNNING) and the
# time of `bosunctl ps` with that many rows, the daemon's per-slot work.
a_many() {
    local t0 t1 n end start_time last_up k p0 p1
    bos_config <<EOF
  many:
    command: [$SLEEP_BIN, "3600"]
    autostart: true
    start_secs: 0
    instances: $N_INST
EOF
    t0=$(now)
    bos_start
    end=$(calc "$t0 + 300")
    n=0
    while before "$end"; do
        n=$(bctl ps --json 2>/dev/null | grep -o '"state":"RUNNING"' | wc -l)
        [ "$n" -ge "$N_INST" ] && break
        kill -0 "$BOS_PID" 2>/dev/null || break
        sleep 0.1
    done
    t1=$(now)
    if [ "$n" -lt "$N_INST" ]; then
        log "bosund: only $n of $N_INST instances RUNNING after 300 s; giving up on it"
        R[a_many_fail]="$n RUNNING at 300 s"
        stop_pid "$BOS_PID" 30
        forget_pid "$BOS_PID"
        check_no_strays a_many
        return
    fi
    R[a_many_start]=$(calc "$t1 - $t0")
    R[a_many_cpu]=$(cpu_secs "$BOS_PID")
    start_time=$(bctl status --json | grep -o '"start_time":[0-9.]*' | cut -d: -f2)
    last_up=$(bctl ps --json | grep -o '"updated_at":[0-9.]*' | cut -d: -f2 | sort -n | tail -1)
    R[a_many_start_own]=$(calc "$last_up - $start_time")
    for ((k = 0; k < 5; k++)); do
        p0=$(now)
        bctl ps --json >/dev/null
        p1=$(now)
        add a_many_ps "$(calc "$p1 - $p0")"
    done
    median a_many_ps
    stop_measured "$BOS_PID" a_many_stop
    log "bosund: $N_INST instances of one agent RUNNING after $(fmt "${R[a_many_start]}" 3) s (polled)," \
        "$(fmt "${R[a_many_start_own]}" 3) s by its own timestamps, daemon CPU ${R[a_many_cpu]} s;" \
        "'bosunctl ps --json' $(fmt "${R[a_many_ps]}" 3) s" \
        "(median of 5); SIGTERM to exit $(fmt "${R[a_many_stop]}" 3) s"
    check_no_strays a_many
}

# a_floor: what the children's own start costs: spawn_loop --start-cpu runs
# 200 `sleep 0` one at a time and reports each one's CPU (getrusage).  N
# children started together need N x that of the machine's CPUs whoever
# spawns them, so no daemon can have them all RUNNING sooner than N x C /
# CPUs; supervisord's time over that is the most any daemon could be
# faster than it here.
a_floor() {
    local c
    "$T/bin/spawn_loop" --start-cpu 200 "$SLEEP_BIN" >"$T/start_cpu.out" 2>&1 ||
        { log "bench: spawn_loop --start-cpu failed: $(cat "$T/start_cpu.out")"; return; }
    c=$(awk '$1 == "child_cpu_ms" { print $2 }' "$T/start_cpu.out")
    R[a_child_ms]=$c
    R[a_floor]=$(calc "$N_AGENTS * $c / 1000 / $(nproc)")
    log "children's own start: $(tr '\n' ' ' <"$T/start_cpu.out")-> $N_AGENTS of them need ${R[a_floor]} s of $(nproc) CPUs"
}

part_a() {
    local rep k
    log ""
    log "== (a) $N_AGENTS agents of 'sleep 3600', $REPS reps, interleaved (figures: the median)"
    part_load "part (a)" >&2
    for ((rep = 1; rep <= REPS; rep++)); do
        a_loop
        a_bosund "$rep"
        [ "$HAVE_SUP" = 1 ] && a_sup "$rep"
    done
    log "== (a) one agent with $N_INST instances of 'sleep 3600'"
    a_many
    a_floor
    for k in a_loop_start a_loop_stop a_bos_start a_bos_start_own a_bos_stop a_sup_start a_sup_start_own a_sup_stop; do
        median "$k"
    done
    median a_bos_rss %d
    median a_sup_rss %d
}

# =================================================================== part b

# crash_window NAME PID FILE: waits for the first restarts, then counts
# the lines appended to FILE (one per start) and the daemon's CPU over
# $WINDOW seconds.  Sets R[NAME_rate], R[NAME_cpu].
crash_window() {
    local name=$1 pid=$2 file=$3 end l0 l1 c0 c1 t0 t1
    end=$(calc "$(now) + 30")
    while before "$end" && [ "$(lines_of "$file")" -lt 5 ]; do
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.05
    done
    sleep 1 # warm-up
    t0=$(now); l0=$(lines_of "$file"); c0=$(cpu_secs "$pid")
    sleep "$WINDOW"
    t1=$(now); l1=$(lines_of "$file"); c1=$(cpu_secs "$pid")
    R[${name}_rate]=$(calc "($l1 - $l0) / ($t1 - $t0)")
    R[${name}_cpu]=$(calc "($c1 - $c0) / ($t1 - $t0) * 100")
}

part_b_bosund() { # N
    local n=$1 name file r0 r1
    name=b_bos_$n
    file="$T/crash_bos_$n.count"
    rm -f "$file"
    bos_config < <(for ((i = 1; i <= n; i++)); do
        printf '  c%03d:\n    command: [sh, -c, "echo x >> %s"]\n    autostart: true\n' "$i" "$file"
        printf '    restart: always\n    backoff_base: 0\n    max_restarts: unlimited\n    start_secs: 0\n'
    done)
    bos_start
    bos_wait_up 20 || { stop_pid "$BOS_PID" 10; forget_pid "$BOS_PID"; return; }
    r0=$(bctl ps --json | grep -o '"restarts":[0-9]*' | cut -d: -f2 | awk '{ s += $1 } END { print s + 0 }')
    crash_window "$name" "$BOS_PID" "$file"
    r1=$(bctl ps --json | grep -o '"restarts":[0-9]*' | cut -d: -f2 | awk '{ s += $1 } END { print s + 0 }')
    R[${name}_counter]=$((r1 - r0))
    log "bosund, $n crasher(s): $(fmt "${R[${name}_rate]}" 1) starts/s, daemon CPU $(fmt "${R[${name}_cpu]}" 1) % (its restart counter: +${R[${name}_counter]} around the window)"
    stop_measured "$BOS_PID" "${name}_stop"
    check_no_strays "$name"
}

part_b_sup() { # N
    local n=$1 name file
    name=b_sup_$n
    file="$T/crash_sup_$n.count"
    rm -f "$file"
    sup_config < <(for ((i = 1; i <= n; i++)); do
        printf '[program:c%03d]\ncommand=sh -c "echo x >> %s"\nautorestart=true\nstartsecs=0\nstartretries=1000000\n\n' "$i" "$file"
    done)
    sup_start
    sup_wait_up 60 || { stop_pid "$SUP_PID" 30; forget_pid "$SUP_PID"; return; }
    crash_window "$name" "$SUP_PID" "$file"
    log "supervisord, $n crasher(s): $(fmt "${R[${name}_rate]}" 1) starts/s, daemon CPU $(fmt "${R[${name}_cpu]}" 1) %"
    stop_measured "$SUP_PID" "${name}_stop"
    check_no_strays "$name"
}

# part_b_limit N: the machine's limit, a C loop keeping N of the same
# crashers running (spawn_loop --respawn).
part_b_limit() {
    local n=$1 file="$T/crash_loop_$1.count"
    "$T/bin/spawn_loop" --respawn "$n" "$WINDOW" sh -c "echo x >> $file" >"$T/respawn.out" 2>&1
    R[b_loop_${n}_rate]=$(awk '$1 == "spawns_per_sec" { print $2 }' "$T/respawn.out")
    log "C respawn loop, $n at a time: $(tr '\n' ' ' <"$T/respawn.out")($(lines_of "$file") lines appended)"
}

part_b() {
    log ""
    log "== (b) crashers: sh -c 'echo x >> FILE', restart always, no back-off; ${WINDOW} s windows"
    part_load "part (b)" >&2
    part_b_limit 1
    part_b_limit "$N_CRASHERS"
    part_b_bosund 1
    part_b_bosund "$N_CRASHERS"
    if [ "$HAVE_SUP" = 1 ]; then
        part_b_sup 1
        part_b_sup "$N_CRASHERS"
    fi
}

# =================================================================== part c

part_c() {
    local t0 t1 t_exit t_spawn end run row last n c0 c1 size want
    want=$((N_LINES * 100))
    log ""
    log "== (c) one agent printing $N_LINES lines of 100 bytes"
    part_load "part (c)" >&2

    # ---- the machine's limit: SQLite inserting the same rows
    "$T/bin/sqlite_insert" insert "$T/limit.db" "$N_LINES" >"$T/sqlite_insert.out" 2>&1
    R[c_sqlite_rate]=$(awk '$1 == "rows_per_sec" { print $2 }' "$T/sqlite_insert.out")
    R[c_sqlite_secs]=$(awk '$1 == "secs" { print $2 }' "$T/sqlite_insert.out")
    log "SQLite limit: $(tr '\n' ' ' <"$T/sqlite_insert.out")"
    rm -f "$T"/limit.db*

    # ---- bosund
    bos_config <<EOF
  printer:
    command: [$T/bin/print_lines, "$N_LINES"]
    start_secs: 0
    restart: never
EOF
    bos_start
    if bos_wait_up 20; then
        c0=$(cpu_secs "$BOS_PID")
        t0=$(now)
        run=$(bctl start printer)
        t_exit=
        last=0
        local tq0 tq1 qmax=0
        end=$(calc "$t0 + 300")
        while before "$end"; do
            tq0=$(now)
            if [ -z "$t_exit" ] && bctl ps --json 2>/dev/null | grep -q "\"run\":\"$run\".*\"state\":\"EXITED\""; then
                t_exit=$(now)
            fi
            last=$(bctl request cmd.store.events "{\"run\":\"$run\",\"subject\":\"evt.run.*.*.output\",\"tail\":1}" --json 2>/dev/null |
                grep -o '"n":[0-9]*' | head -1 | cut -d: -f2)
            tq1=$(now)
            # the slowest answer to these two control requests: how long an
            # admin waits for 'bosunctl ps' while an agent floods its output
            qmax=$(calc "($tq1 - $tq0) > $qmax ? ($tq1 - $tq0) : $qmax")
            [ "${last:-0}" -ge "$N_LINES" ] && break
            kill -0 "$BOS_PID" 2>/dev/null || break
            sleep 0.1
        done
        t1=$(now)
        [ -z "$t_exit" ] && bctl ps --json 2>/dev/null | grep -q "\"run\":\"$run\".*\"state\":\"EXITED\"" && t_exit=$(now)
        c1=$(cpu_secs "$BOS_PID")
        R[c_bos_hwm]=$(hwm_kb "$BOS_PID")
        row=$(bctl ps --json | grep -o "{\"run\":\"$run\"[^}]*}")
        t_spawn=$(printf '%s' "$row" | grep -o '"started_at":[0-9.]*' | cut -d: -f2)
        if [ "${last:-0}" -ge "$N_LINES" ]; then
            R[c_bos_secs]=$(calc "$t1 - $t0")
            R[c_bos_rate_cmd]=$(calc "$N_LINES / ($t1 - $t0)")
            R[c_bos_rate]=$(calc "$N_LINES / ($t1 - $t_spawn)")
            [ -n "$t_exit" ] && R[c_bos_exit]=$(calc "$t_exit - $t0")
            R[c_bos_cpu]=$(calc "$c1 - $c0")
            log "bosund: last line stored $(fmt "${R[c_bos_secs]}" 2) s after 'bosunctl start' (run first seen EXITED at $([ -n "$t_exit" ] && fmt "${R[c_bos_exit]}" 2 || echo 'n/a') s);" \
                "$(fmt "${R[c_bos_rate]}" 0) lines/s from spawn; daemon CPU $(fmt "${R[c_bos_cpu]}" 1) s; peak RSS (VmHWM, whole flood) $(mib "${R[c_bos_hwm]}")"
        else
            R[c_bos_secs]="n/a (last stored line ${last:-none} at 300 s)"
            log "bosund: only ${last:-0} lines stored after 300 s"
        fi
        R[c_bos_qmax]=$qmax
        log "bosund: slowest ps + store query pair during the flood: $(fmt "$qmax" 2) s"
        stop_measured "$BOS_PID" c_bos_stop
        # The exact count, from the database itself, after the daemon closed it.
        "$T/bin/sqlite_insert" count "$BOS_DIR/state/bosun.db" "$run" >"$T/count.out" 2>&1
        R[c_bos_rows]=$(awk '$1 == "rows" { print $2 }' "$T/count.out")
        R[c_bos_distinct]=$(awk '$1 == "distinct_n" { print $2 }' "$T/count.out")
        R[c_bos_intact]=$(awk '$1 == "intact" { print $2 }' "$T/count.out")
        log "bosund store: $(tr '\n' ' ' <"$T/count.out")"
    else
        stop_pid "$BOS_PID" 10
        forget_pid "$BOS_PID"
    fi
    check_no_strays c_bos

    # ---- supervisord: a log file only
    [ "$HAVE_SUP" = 1 ] || return 0
    sup_config <<EOF
[program:printer]
command=$T/bin/print_lines $N_LINES
autostart=false
autorestart=false
startsecs=0
stdout_logfile=$SUP_DIR/printer.log
stdout_logfile_maxbytes=0
stdout_logfile_backups=0
EOF
    sup_start
    if sup_wait_up 60; then
        c0=$(cpu_secs "$SUP_PID")
        t0=$(now)
        supctl start printer >/dev/null 2>&1 &
        local ctlpid=$!
        end=$(calc "$t0 + 300")
        size=0
        while before "$end"; do
            size=$(stat -c %s "$SUP_DIR/printer.log" 2>/dev/null || echo 0)
            [ "$size" -ge "$want" ] && break
            kill -0 "$SUP_PID" 2>/dev/null || break
            sleep 0.02
        done
        t1=$(now)
        c1=$(cpu_secs "$SUP_PID")
        wait "$ctlpid" 2>/dev/null
        t_spawn=$(sup_log_time "spawned: 'printer'")
        n=$(lines_of "$SUP_DIR/printer.log")
        R[c_sup_lines]=$n
        if "$T/bin/print_lines" "$N_LINES" | cmp -s - "$SUP_DIR/printer.log"; then R[c_sup_intact]=yes; else R[c_sup_intact]=no; fi
        if [ "$size" -ge "$want" ]; then
            R[c_sup_secs]=$(calc "$t1 - $t0")
            R[c_sup_rate_cmd]=$(calc "$N_LINES / ($t1 - $t0)")
            [ -n "$t_spawn" ] && R[c_sup_rate]=$(calc "$N_LINES / ($t1 - $t_spawn)")
            R[c_sup_cpu]=$(calc "$c1 - $c0")
            log "supervisord: log complete $(fmt "${R[c_sup_secs]}" 2) s after 'supervisorctl start';" \
                "$(fmt "${R[c_sup_rate]:-0}" 0) lines/s from spawn; daemon CPU $(fmt "${R[c_sup_cpu]}" 1) s; $n lines, identical to the output: ${R[c_sup_intact]}"
        else
            R[c_sup_secs]="n/a ($size bytes at 300 s)"
            log "supervisord: only $size bytes logged after 300 s"
        fi
        stop_measured "$SUP_PID" c_sup_stop
    else
        stop_pid "$SUP_PID" 30
        forget_pid "$SUP_PID"
    fi
    check_no_strays c_sup
}

# ================================================================== report

r() { echo "${R[${1}_range]:-n/a}"; }
# vu NAME DIGITS UNIT: like v, with UNIT after a number only.
vu() { local x; x=$(v "$1" "$2"); case $x in n/a*) echo "$x" ;; *) echo "$x$3" ;; esac; }
v() { local x=${R[$1]:-}; [ -z "$x" ] && { echo "n/a"; return; }; case $x in n/a*) echo "$x" ;; *) fmt "$x" "${2:-2}" ;; esac; }

report() {
    echo
    echo "==================== bosun process-supervision benchmark ===================="
    echo "machine: $(nproc) CPUs, $(uname -r); supervisord $([ "$HAVE_SUP" = 1 ] && supervisord --version || echo 'not available')"
    echo "bosund: $BOS_VERSION from $BUILD"
    [ "$BOS_VERSION" = "$(bos_version)" ] || echo "WARNING: bosund was rebuilt during the run (now: $(bos_version)): figures mix two builds"
    echo "CPUs busy before the start: $BUSY_START %; load average at start: $LOAD_START, at end: $(cut -d' ' -f1-3 /proc/loadavg)"
    [ "$BUSY_START" -gt 25 ] && echo "WARNING: the machine was busy when the benchmark started: every figure is skewed"
    if [ "$PART" = a ] || [ "$PART" = all ]; then
        ratio a_speed "${R[a_sup_start]:-}" "${R[a_bos_start]:-}"
        ratio a_loop "${R[a_bos_start]:-}" "${R[a_loop_start]:-}"
        ratio a_rss "${R[a_bos_rss]:-}" "${R[a_sup_rss]:-}"
        ratio a_speed_own "${R[a_sup_start_own]:-}" "${R[a_bos_start_own]:-}"
        ratio a_loop_own "${R[a_bos_start_own]:-}" "${R[a_loop_start]:-}"
        ratio a_floor_own "${R[a_bos_start_own]:-}" "${R[a_floor]:-}"
        ratio a_floor_sup "${R[a_sup_start_own]:-}" "${R[a_floor]:-}"
        echo
        echo "(a) $N_AGENTS agents of 'sleep 3600', start_secs 0 (median of $REPS interleaved reps, min-max in brackets)"
        echo "  all RUNNING (polled): bosund $(vu a_bos_start 3 ' s') [$(r a_bos_start)]${R[a_bos_fail]:+ (failed once: ${R[a_bos_fail]})}," \
            "supervisord $(vu a_sup_start 3 ' s') [$(r a_sup_start)]${R[a_sup_fail]:+ (failed once: ${R[a_sup_fail]})}," \
            "posix_spawn loop $(vu a_loop_start 3 ' s') [$(r a_loop_start)]"
        echo "      supervisord/bosund $(vu a_speed 3 x) (target >= 10x: $(verdict a_speed 'x >= 10'));" \
            "bosund/loop $(vu a_loop 3 x) (target <= 1.2x: $(verdict a_loop 'x <= 1.2'))"
        echo "  all RUNNING (daemon's own timestamps): bosund $(vu a_bos_start_own 3 ' s') [$(r a_bos_start_own)]," \
            "supervisord $(vu a_sup_start_own 3 ' s') [$(r a_sup_start_own)]" \
            "(supervisord/bosund $(vu a_speed_own 3 x), bosund/loop $(vu a_loop_own 3 x))"
        echo "  the children's own start: $(vu a_child_ms 3 ' ms') of CPU each (sleep 0, one at a time), so $N_AGENTS need" \
            "$(vu a_floor 3 ' s') of the $(nproc) CPUs whoever spawns them: bosund (own timestamps) $(vu a_floor_own 3 x) that floor;" \
            "supervisord $(vu a_floor_sup 3 x) it, the most any daemon could be faster than supervisord here"
        echo "  RSS (VmRSS) when all were RUNNING, every rep: bosund $([ -n "${R[a_bos_rss]:-}" ] && mib "${R[a_bos_rss]}" || echo n/a) [$(r a_bos_rss) kB]," \
            "supervisord $([ -n "${R[a_sup_rss]:-}" ] && mib "${R[a_sup_rss]}" || echo n/a) [$(r a_sup_rss) kB]" \
            "(bosund/supervisord $(v a_rss 3); target <= 0.25: $(verdict a_rss 'x <= 0.25'));" \
            "RSS after $IDLE idle s (rep 1): bosund $([ -n "${R[a_bos_rss_idle]:-}" ] && mib "${R[a_bos_rss_idle]}" || echo n/a)," \
            "supervisord $([ -n "${R[a_sup_rss_idle]:-}" ] && mib "${R[a_sup_rss_idle]}" || echo n/a)"
        ratio a_rss_anon "${R[a_bos_rss_anon]:-}" "${R[a_sup_rss_anon]:-}"
        echo "      of which anonymous (rep 1, after the idle s; the rest is shared file pages):" \
            "bosund $([ -n "${R[a_bos_rss_anon]:-}" ] && mib "${R[a_bos_rss_anon]}" || echo n/a)," \
            "supervisord $([ -n "${R[a_sup_rss_anon]:-}" ] && mib "${R[a_sup_rss_anon]}" || echo n/a)" \
            "(bosund/supervisord $(v a_rss_anon 3), no target)"
        echo "      largest resident mappings: bosund ${R[a_bos_maps]:-n/a}; supervisord ${R[a_sup_maps]:-n/a}"
        echo "  idle CPU over $IDLE s: bosund $(vu a_bos_idle_cpu 2 ' %'), supervisord $(vu a_sup_idle_cpu 2 ' %')"
        echo "  stop all (SIGTERM to exit): bosund $(vu a_bos_stop 3 ' s') [$(r a_bos_stop)], supervisord $(vu a_sup_stop 3 ' s') [$(r a_sup_stop)]," \
            "loop (kill + reap) $(vu a_loop_stop 3 ' s') [$(r a_loop_stop)]"
        echo "  one agent with $N_INST instances: all RUNNING (polled) $(vu a_many_start 3 ' s')${R[a_many_fail]:+ (failed: ${R[a_many_fail]})}," \
            "by its own timestamps $(vu a_many_start_own 3 ' s'), daemon CPU by then $(vu a_many_cpu 2 ' s');" \
            "'bosunctl ps --json' $(vu a_many_ps 3 ' s') [$(r a_many_ps)];" \
            "SIGTERM to exit $(vu a_many_stop 3 ' s')"
    fi
    if [ "$PART" = b ] || [ "$PART" = all ]; then
        ratio b_one "${R[b_bos_1_rate]:-}" "${R[b_sup_1_rate]:-}"
        ratio b_many "${R[b_bos_${N_CRASHERS}_rate]:-}" "${R[b_sup_${N_CRASHERS}_rate]:-}"
        echo
        echo "(b) crashers (sh -c 'echo x >> FILE'), restart always, no back-off, start_secs 0; $WINDOW s window"
        ratio b_one_loop "${R[b_bos_1_rate]:-}" "${R[b_loop_1_rate]:-}"
        ratio b_many_loop "${R[b_bos_${N_CRASHERS}_rate]:-}" "${R[b_loop_${N_CRASHERS}_rate]:-}"
        echo "  1 crasher:   bosund $(vu b_bos_1_rate 1 ' starts/s') (CPU $(vu b_bos_1_cpu 1 ' %'))," \
            "supervisord $(vu b_sup_1_rate 2 ' starts/s') (CPU $(vu b_sup_1_cpu 1 ' %')), C respawn loop $(vu b_loop_1_rate 1 ' starts/s')"
        echo "      bosund/supervisord $(vu b_one 3 x) (target >= 100x: $(verdict b_one 'x >= 100')); bosund/loop $(v b_one_loop 3)"
        echo "  $N_CRASHERS crashers: bosund $(vu b_bos_${N_CRASHERS}_rate 1 ' starts/s') (CPU $(vu b_bos_${N_CRASHERS}_cpu 1 ' %'))," \
            "supervisord $(vu b_sup_${N_CRASHERS}_rate 1 ' starts/s') (CPU $(vu b_sup_${N_CRASHERS}_cpu 1 ' %'))," \
            "C respawn loop $(vu b_loop_${N_CRASHERS}_rate 1 ' starts/s')"
        echo "      bosund/supervisord $(vu b_many 3 x); bosund/loop $(v b_many_loop 3)"
        echo "  (CPU: the daemon process alone, as % of one CPU; the crashers' own CPU is not counted)"
    fi
    if [ "$PART" = c ] || [ "$PART" = all ]; then
        ratio c_limit "${R[c_bos_rate]:-}" "${R[c_sqlite_rate]:-}"
        ratio c_sup "${R[c_bos_rate]:-}" "${R[c_sup_rate]:-}"
        local lost=n/a
        [ -n "${R[c_bos_rows]:-}" ] && lost=$((N_LINES - ${R[c_bos_intact]:-0}))
        echo
        echo "(c) one agent printing $N_LINES lines of 100 bytes"
        echo "  stored lines/s (from spawn to the last line stored): bosund $(vu c_bos_rate 0 ' lines/s')" \
            "($(vu c_bos_secs 2 ' s') after 'bosunctl start', $(vu c_bos_rate_cmd 0 ' lines/s') on that basis)"
        echo "  SQLite limit (same rows, WAL, 1,000 a transaction): $(vu c_sqlite_rate 0 ' rows/s') ($(vu c_sqlite_secs 2 ' s'))"
        echo "      bosund/limit $(v c_limit 3) (target >= 0.8: $(verdict c_limit 'x >= 0.8'))"
        echo "  stored count: bosund ${R[c_bos_rows]:-n/a} rows, ${R[c_bos_distinct]:-n/a} distinct line numbers," \
            "${R[c_bos_intact]:-n/a} intact; lost $lost (target: 0: $([ "$lost" = 0 ] && [ "${R[c_bos_rows]:-}" = "$N_LINES" ] && echo PASS || echo FAIL))"
        # for bench_runs: lines lost plus stored rows that are not intact
        # lines (duplicates, damage): 0 only when the human verdict passes
        [ "$lost" = n/a ] || R[c_lost_or_bad]=$((lost + ${R[c_bos_rows]:-0} - ${R[c_bos_intact]:-0}))
        echo "  supervisord (log file only): $(vu c_sup_rate 0 ' lines/s') from spawn ($(vu c_sup_secs 2 ' s') after 'supervisorctl start')," \
            "${R[c_sup_lines]:-n/a} lines, byte-identical: ${R[c_sup_intact]:-n/a}; bosund/supervisord $(vu c_sup 2 x)"
        echo "  daemon CPU for the whole output: bosund $(vu c_bos_cpu 1 ' s'), supervisord $(vu c_sup_cpu 1 ' s');" \
            "bosund peak RSS over the whole flood (VmHWM, read when the last line was stored) $([ -n "${R[c_bos_hwm]:-}" ] && mib "${R[c_bos_hwm]}" || echo n/a)"
        echo "  bosund control latency during the flood (slowest 'ps' + store query pair): $(vu c_bos_qmax 2 ' s')"
    fi
    local k
    for k in "${!R[@]}"; do
        case $k in *_left) echo "WARNING: ${k%_left}: ${R[$k]} processes outlived their daemon (killed)" ;; esac
    done
    result a_speed '>=' 10
    result a_loop '<=' 1.2
    result a_rss '<=' 0.25
    result a_speed_own x
    result a_loop_own x
    result a_floor_own x
    result a_floor_sup x
    result b_one '>=' 100
    result c_limit '>=' 0.8
    result c_lost_or_bad '<=' 0
    echo "============================================================================="
}

# bos_version: bosund's version, the git commit of its source tree (when
# it is one) and the build time of the binary that runs.
bos_version() {
    local bin=$BOSUND rev
    [ -x "$(dirname "$BOSUND")/.libs/bosund" ] && bin="$(dirname "$BOSUND")/.libs/bosund"
    # The last commit that changed the daemon's source: a commit to the
    # benchmarks during a run is not a rebuild.  (":/" roots the paths at
    # the top of the tree; git -C runs them from tests/bench.)
    rev=$(git -C "$here" log -1 --format=%h -- :/core :/plugins :/include 2>/dev/null) && [ -n "$rev" ] &&
        { git -C "$here" diff --quiet HEAD -- :/core :/plugins :/include 2>/dev/null || rev="$rev+changes"; }
    echo "$("$BOSUND" --version 2>/dev/null | head -1)${rev:+, git $rev}, built $(date -r "$bin" '+%F %T')"
}
BOS_VERSION=$(bos_version)
started=$(now)
# busy_pct: how busy all CPUs are over one second, in % (from /proc/stat).
busy_pct() {
    local a b
    a=$(head -1 /proc/stat)
    sleep 1
    b=$(head -1 /proc/stat)
    printf '%s\n%s\n' "$a" "$b" | awk '{ idle = $5 + $6; tot = 0; for (i = 2; i <= NF; i++) tot += $i
        if (NR == 1) { i0 = idle; t0 = tot } else printf "%.0f", 100 * (1 - (idle - i0) / (tot - t0)) }'
}
LOAD_START=$(cut -d' ' -f1-3 /proc/loadavg)
BUSY_START=$(busy_pct)
[ "$BUSY_START" -gt 25 ] &&
    log "bench: WARNING: the CPUs are $BUSY_START % busy before the benchmark: other work is running, figures will be skewed"
case $PART in
a) part_a ;;
b) part_b ;;
c) part_c ;;
all) part_a; part_b; part_c ;;
esac
report
log "bench: done in $(fmt "$(calc "$(now) - $started")" 0) s"
