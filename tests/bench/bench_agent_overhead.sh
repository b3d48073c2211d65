#!/usr/bin/env bash
# Overhead of supervision (issue 14, part b; see tests/bench/README): the
# same scripted Claude Code run -- the real CLI of tests/agents against the
# fake Anthropic API, SCENARIO:turns, TURNS (50) tool turns of Bash `true`
# and Read of a small file -- started bare and started by bosun, REPS (5)
# times each, interleaved.
#
#   bosun: a real bosund (sqlite, exec, mcp, claude-code) starts the agent;
#          wall time from the start request (bosunctl start) to the run's
#          end (the CLI's exit seen by kill -0 every 10 ms, then state
#          EXITED polled every 20 ms).
#   bare:  the argv and environment bosund gave the CLI (read from the
#          first, uncounted, bosun run's spawn_started event and
#          /proc/PID/environ), with a fresh --session-id, minus
#          --mcp-config and --permission-prompt-tool (they name bosun's
#          MCP server, which exists only under bosun) and minus the BOSUN_*
#          variables; wall time from fork to exit.
#
# Peak RSS, the same way for both: the sum of VmRSS over the CLI's process
# tree (the CLI and its children; under bosun that includes `bosunctl mcp`,
# bosun's MCP server), sampled every 20 ms, the largest sum.  Besides, under
# bosun, bosund's own growth over the run: VmHWM after minus VmRSS before.
# "bosun adds" = bosun's median minus bare's median: wall time as a ratio
# (target <= 1.05), RSS in MiB of the tree's peak plus bosund's growth
# (target <= 10 MiB).
#
#   bench_agent_overhead.sh [BUILD_DIR] [REPS] [TURNS]
set -uo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
SRC=$(cd "$HERE/../.." && pwd)
BUILD=$(cd "${1:-$SRC}" && pwd)
REPS=${2:-${BENCH_REPS:-5}}
TURNS=${3:-${BENCH_TURNS:-50}}
. "$HERE/bench_lib.sh"
CLAUDE="$SRC/tests/agents/node_modules/@anthropic-ai/claude-code/bin/claude.exe"
if ! [ -x "$CLAUDE" ] || ! command -v node >/dev/null || ! command -v jq >/dev/null; then
    echo "bench_agent_overhead: needs node, jq and the Claude Code CLI (cd tests/agents && npm ci); skipped"
    exit 0
fi
for p in sqlite exec mcp claude-code; do
    [ -e "$BUILD/plugins/$p/$p.la" ] || { log "bench: plugin $p is not built in $BUILD"; exit 2; }
done

node "$SRC/tests/agents/fake_anthropic.mjs" "$T/port" /dev/null 2>"$T/fake.err" &
PIDS+=($!)
for _ in $(seq 1 100); do [ -s "$T/port" ] && break; sleep 0.1; done
[ -s "$T/port" ] || { log "bench: the fake API did not start"; exit 2; }
mkdir -p "$T/home" "$T/work" "$T/d"
echo "a small file" >"$T/work/small.txt"
PROMPT="SCENARIO:turns TURNS:$TURNS DIR:$T/work"

cat >"$T/d/bosun.yaml" <<EOF
daemon:
  machine_id: bench
  state_dir: $T/d/state
  runtime_dir: $T/d/run
  log_level: warning
  mcp_command: $BOSUNCTL
  plugin_path: [$BUILD/plugins/sqlite, $BUILD/plugins/exec, $BUILD/plugins/mcp, $BUILD/plugins/claude-code]
  plugins: [sqlite, exec, mcp, claude-code]
agents:
  cc:
    type: claude-code
    bin: $CLAUDE
    workdir: $T/work
    start_secs: 0
    restart: never
    allowed_tools: [Bash, Read]
    env:
      HOME: $T/home
      ANTHROPIC_BASE_URL: http://127.0.0.1:$(cat "$T/port")
      ANTHROPIC_API_KEY: sk-ant-fake-key-for-bench
      CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC: "1"
      DISABLE_TELEMETRY: "1"
      DISABLE_AUTOUPDATER: "1"
      DISABLE_ERROR_REPORTING: "1"
      CLAUDE_CODE_MAX_RETRIES: "0"
EOF
mkdir -p "$T/d/state" "$T/d/run"
"$BOSUND" -c "$T/d/bosun.yaml" 2>"$T/d/bosund.log" &
DPID=$!
PIDS+=("$DPID")
SOCK="$T/d/run/bosund.sock"
for _ in $(seq 1 200); do ctl status >/dev/null 2>&1 && break; sleep 0.1; done
ctl status >/dev/null 2>&1 || { log "bench: bosund did not start"; tail -20 "$T/d/bosund.log" >&2; exit 2; }

now() { date +%s.%N; }
hwm_kb() { sed -n 's/^VmHWM:[^0-9]*\([0-9]*\).*/\1/p' "/proc/$1/status" 2>/dev/null; }
# tree PID: PID and its descendants.
tree() {
    local p=$1 c
    echo "$p"
    for c in $(ps -o pid= --ppid "$p" 2>/dev/null); do tree "$c"; done
}
# tree_rss_kb PID: the sum of VmRSS over PID's tree now.
# tree_rss_kb PID: the sum of VmRSS over PID's tree now, and the part of
# it that is bosunctl (bosun's MCP server).
tree_rss_kb() {
    local s=0 m=0 p r
    for p in $(tree "$1"); do
        r=$(rss_kb "$p")
        s=$((s + ${r:-0}))
        grep -q bosunctl "/proc/$p/cmdline" 2>/dev/null && m=$((m + ${r:-0}))
    done
    echo "$s $m"
}
# sampler ROOT_FILE OUT: until ROOT_FILE's PID is gone, the largest tree
# sum every 20 ms, written to OUT at the end (at most 10 minutes).
sampler() {
    local root max=0 mmax=0 s m
    for _ in $(seq 1 500); do [ -s "$1" ] && break; sleep 0.01; done
    root=$(cat "$1" 2>/dev/null)
    [ -n "$root" ] || { echo "0 0" >"$2"; return; }
    for _ in $(seq 1 30000); do
        kill -0 "$root" 2>/dev/null || break
        read -r s m < <(tree_rss_kb "$root")
        [ "$s" -gt "$max" ] && max=$s
        [ "$m" -gt "$mmax" ] && mmax=$m
        sleep 0.02
    done
    echo "$max $mmax" >"$2"
}
runf() { ctl ps --json | jq -r --arg r "$1" ".[] | select(.run == \$r) | .$2"; }
events() {
    ctl request cmd.store.events "{\"subject\":\"evt.run.*.$1.$2\",\"limit\":10000}" --json | jq -c '.data.events'
}
# cli_of: the CLI bosund runs now (its child running claude.exe).
cli_of() {
    local c
    for c in $(ps -o pid= --ppid "$DPID"); do
        grep -q claude.exe "/proc/$c/cmdline" 2>/dev/null && { echo "$c"; return; }
    done
}

# by_bosun N: one run started by bosund; sets W (s), R (tree peak kB), G
# (bosund's VmHWM after minus VmRSS before, kB).
by_bosun() {
    local run before t0 t1 c st
    rm -f "$T/root" "$T/peak"
    before=$(rss_kb "$DPID")
    # VmHWM is reset per run, so the growth is this run's (not the
    # daemon's start-up peak): clear_refs 5 resets it.
    echo 5 >"/proc/$DPID/clear_refs" 2>/dev/null
    sampler "$T/root" "$T/peak" &
    local spid=$!
    t0=$(now)
    run=$(ctl start cc --prompt "$PROMPT") || { log "bench: start failed"; return 1; }
    for _ in $(seq 1 1500); do c=$(cli_of) && [ -n "$c" ] && { echo "$c" >"$T/root"; break; }; sleep 0.01; done
    if [ "$1" = 0 ] && [ -n "$c" ]; then tr '\0' '\n' <"/proc/$c/environ" >"$T/environ"; fi
    # While the CLI lives, a builtin's poll (no process forked that would
    # compete with the run for the CPUs); then the run's state until final.
    for _ in $(seq 1 60000); do kill -0 "$c" 2>/dev/null || break; sleep 0.01; done
    for _ in $(seq 1 30000); do
        st=$(runf "$run" state)
        case $st in EXITED | FATAL | STOPPED | WAITING_INPUT) break ;; esac
        sleep 0.02
    done
    t1=$(now)
    wait "$spid"
    [ "$st" = EXITED ] || { log "bench: run $run ended $st: $(runf "$run" reason)"; return 1; }
    W=$(calc "$t1 - $t0" 3)
    read -r R M <"$T/peak"
    G=$(($(hwm_kb "$DPID") - before))
    [ "$G" -lt 0 ] && G=0
    LASTRUN=$run
}

# bare: the same CLI, argv and env without bosun; sets W and R.
bare() {
    local t0 t1 pid rc
    rm -f "$T/root" "$T/peak"
    mapfile -t args < <(jq -r '.[]' "$T/argv" | awk -v sid="$(cat /proc/sys/kernel/random/uuid)" '
        skip { skip = 0; next }
        prev_sid { print sid; prev_sid = 0; next }
        /^--mcp-config=/ { next }
        /^--permission-prompt-tool=/ { next }
        $0 == "--mcp-config" || $0 == "--permission-prompt-tool" { skip = 1; next }
        $0 == "--session-id" { print; prev_sid = 1; next }
        { print }')
    mapfile -t envs < <(grep -v '^BOSUN_' "$T/environ")
    sampler "$T/root" "$T/peak" &
    local spid=$!
    t0=$(now)
    (cd "$T/work" && exec env -i "${envs[@]}" timeout 600 "${args[@]}" >"$T/bare.out" 2>"$T/bare.err") &
    pid=$!
    echo "$pid" >"$T/root"
    wait "$pid"
    rc=$?
    t1=$(now)
    wait "$spid"
    [ "$rc" = 0 ] && grep -q "All $TURNS tool turns ran" "$T/bare.out" ||
        { log "bench: the bare run failed ($rc): $(tail -c 300 "$T/bare.err")"; return 1; }
    W=$(calc "$t1 - $t0" 3)
    read -r R M <"$T/peak"
}

echo "Claude Code $("$CLAUDE" --version | cut -d' ' -f1), $TURNS tool turns (Bash true / Read), $REPS runs each"
echo "load at start: $(uptime)"
# A first bosun run, not counted: the argv and env for the bare runs, and
# the caches warm for both.
by_bosun 0 || exit 1
events "$LASTRUN" spawn_started | jq -c '.[0].data.argv' >"$T/argv"
jq -e 'length > 0' "$T/argv" >/dev/null 2>&1 || { log "bench: no spawn_started argv"; exit 1; }
[ -s "$T/environ" ] || { log "bench: could not read the CLI's environment"; exit 1; }
turns=$(events "$LASTRUN" tool_use | jq length)
echo "bosun's argv: $(jq -c . "$T/argv")"
echo "tool_use events of the warm-up run: $turns"
bare || exit 1

BW=() BR=() SW=() SR=() SG=() SM=()
for i in $(seq 1 "$REPS"); do
    bare || exit 1
    BW+=("$W") BR+=("$R")
    by_bosun "$i" || exit 1
    SW+=("$W") SR+=("$R") SG+=("$G") SM+=("$M")
    echo "  run $i: bare ${BW[-1]} s ${BR[-1]} kB | bosun ${SW[-1]} s ${SR[-1]} kB (bosunctl mcp $M kB), bosund +${SG[-1]} kB  [$(cut -d' ' -f1-3 /proc/loadavg)]"
done
mm() { printf '%s\n' "$@" | sort -g | sed -n '1p;$p' | paste -sd' ' | awk '{ print $1 ".." $2 }'; }
bw=$(median "${BW[@]}") sw=$(median "${SW[@]}")
br=$(median "${BR[@]}") sr=$(median "${SR[@]}") sg=$(median "${SG[@]}")
echo "wall time (median, min..max): bare $bw s ($(mm "${BW[@]}")), bosun $sw s ($(mm "${SW[@]}"))"
echo "peak RSS of the CLI's tree (median, min..max): bare $br kB ($(mm "${BR[@]}")), bosun $sr kB ($(mm "${SR[@]}"))"
echo "  of which bosun's MCP server (bosunctl mcp), peak (median): $(median "${SM[@]}") kB"
echo "bosund's growth over a run (VmHWM after - VmRSS before; median, min..max): $sg kB ($(mm "${SG[@]}")); bosund VmRSS now $(rss_kb "$DPID") kB"
added=$(calc "($sr - $br + $sg) / 1024" 2)
echo "bosun adds: wall x$(calc "$sw / $bw" 3), RSS $added MiB (tree $(calc "($sr - $br) / 1024" 2) + bosund $(calc "$sg / 1024" 2))"
verdict "wall time bosun/bare" "$(calc "$sw / $bw" 6)" "<=" 1.05
verdict "RSS bosun adds, MiB" "$added" "<=" 10
echo "load at end: $(uptime)"
