#!/usr/bin/env bash
# Overhead of supervision (issue 14, part b; see tests/bench/README): the
# same scripted Claude Code run -- the real CLI of tests/agents against the
# fake Anthropic API, SCENARIO:turns, TURNS (50) tool turns of Bash `true`
# and Read of a small file -- REPS (5) times in each of three ways, taking
# turns (the order rotates every round):
#
#   bare:  the argv and environment bosund gave the CLI (read from a first,
#          uncounted, bosun run's spawn_started event and /proc/PID/environ),
#          with a fresh --session-id, minus --mcp-config and
#          --permission-prompt-tool (they name bosun's MCP server) and minus
#          the BOSUN_* variables; wall time from fork to exit.
#   flags: the same by hand with bosun's flags kept: --mcp-config names the
#          mcp-http.json of an idle run (an exec agent, `sleep`), so the CLI
#          connects to bosun's real MCP server over Streamable HTTP (the
#          http plugin's /mcp on 127.0.0.1, the run's token), as bosun's
#          own runs do since 2026-12-04, and routes prompts to its approve
#          tool -- what bosun's flags cost, without bosund reading the
#          CLI's output.
#   flagsio: (not by default) flags with the idle run's mcp.json instead:
#          bosun's MCP server over stdio (`bosun-mcp`, the CLI's child),
#          what bosun's flags were before 2026-12-04.
#   mcp:   (not by default) flags without --permission-prompt-tool.
#   floor: (not by default) mcp, but the MCP server is a minimal one with
#          one tool (tests/mcp/floor_server.mjs, Node, no SDK): what any
#          MCP server costs the CLI.
#   floor0, floorb, floorx: (not by default) floor, the server listing no
#          tools, bosun's own tools (its tools/list, replayed), or bosun's
#          tools with every description 20 times as long: whether what an
#          MCP server costs the CLI grows with its tools.
#   floorh: (not by default) floor over MCP's streamable HTTP transport
#          (tests/mcp/floor_http.mjs on 127.0.0.1): an MCP server that is
#          not the CLI's child.
#   noask: (not by default) flags with --disallowedTools=AskUserQuestion
#          (the CLI offers the model that tool only when it has a
#          permission-prompt tool: 4.6 KB more in every request); bosun
#          passes it itself since 2026-12-02, so noask is flags now.
#   ask:   (not by default) flags without it.
#   before: (not by default) bosun's flags before 2026-12-02: ask, with
#          `bosunctl mcp` as the MCP server instead of bosun-mcp.
#   bosun: bosund starts the run (sqlite, exec, mcp, http on a loopback
#          port, claude-code: the CLI gets mcp-http.json); wall time
#          from `bosunctl start` to the run's end as bosund recorded it
#          (the time of its spawn_completed event; the CLI's exit is
#          watched with kill -0 every 10 ms, then state EXITED polled).
#
# Memory, the same way for all: the CLI's own peak (VmHWM, the kernel's
# high-water mark, read every 20 ms with shell builtins; the last read
# before the exit), bosun's MCP server's peak (VmHWM of `bosun-mcp`,
# the CLI's child), and under bosun bosund's growth over the run (VmHWM,
# reset by clear_refs 5 before it, minus VmRSS before).  The tool calls'
# short-lived children (the Bash tool's shells) and `timeout` (bare and
# flags) are left out: the same in every way, or not bosun's.
# "bosun adds" = median CLI peak (bosun) - median CLI peak (bare) + median
# MCP server peak + median bosund growth (target <= 10 MiB); wall time as
# the ratio of the medians bosun/bare (target <= 1.05).  Besides: bosund's
# CPU time over each run and the events it stored for it, and the bytes the
# CLI sent to the API (the fake's log), per way.
#
#   bench_agent_overhead.sh [BUILD_DIR] [REPS] [TURNS]
#   BENCH_WAYS="bare flags bosun" (default) chooses and orders the ways.
set -uo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
SRC=$(cd "$HERE/../.." && pwd)
BUILD=$(cd "${1:-$SRC}" && pwd)
REPS=${2:-${BENCH_REPS:-5}}
TURNS=${3:-${BENCH_TURNS:-50}}
read -r -a WAYS <<<"${BENCH_WAYS:-bare flags bosun}"
. "$HERE/bench_lib.sh"
CLAUDE="$SRC/tests/agents/node_modules/@anthropic-ai/claude-code/bin/claude.exe"
if ! [ -x "$CLAUDE" ] || ! command -v node >/dev/null || ! command -v jq >/dev/null; then
    echo "bench_agent_overhead: needs node, jq and the Claude Code CLI (cd tests/agents && npm ci); skipped"
    exit 0
fi
for p in sqlite exec mcp http claude-code; do
    [ -e "$BUILD/plugins/$p/$p.la" ] || { log "bench: plugin $p is not built in $BUILD"; exit 2; }
done

# The fake logs each request's size, not its body (see fake_anthropic.mjs:
# writing the bodies cost it ~0.25 s of CPU a run, the same in every way,
# which made every ratio look smaller than bosun's real share).
FAKE_LOG=sizes node "$SRC/tests/agents/fake_anthropic.mjs" "$T/port" "$T/api.log" 2>"$T/fake.err" &
PIDS+=($!)
for _ in $(seq 1 100); do [ -s "$T/port" ] && break; sleep 0.1; done
[ -s "$T/port" ] || { log "bench: the fake API did not start"; exit 2; }
touch "$T/api.log"
mkdir -p "$T/home" "$T/work" "$T/d"
HTTP_PORT=$(/usr/bin/python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
echo "a small file" >"$T/work/small.txt"
PROMPT="SCENARIO:turns TURNS:$TURNS DIR:$T/work"

cat >"$T/d/bosun.yaml" <<EOF
daemon:
  machine_id: bench
  state_dir: $T/d/state
  runtime_dir: $T/d/run
  log_level: warning
  mcp_command: $BUILD/bosun-mcp
  plugin_path: [$BUILD/plugins/sqlite, $BUILD/plugins/exec, $BUILD/plugins/mcp, $BUILD/plugins/http, $BUILD/plugins/claude-code]
  plugins: [sqlite, exec, mcp, http, claude-code]
http:
  listen: ["127.0.0.1:$HTTP_PORT"]
  access_log: false
agents:
  holder:
    command: [sleep, "3600"]
    start_secs: 0
    restart: never
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
# /health says 200 once the daemon is ready, by when the http plugin has
# told the supervisor its /mcp URL: runs started from now on get
# mcp-http.json.
for _ in $(seq 1 200); do curl -sf -o /dev/null "http://127.0.0.1:$HTTP_PORT/health" && break; sleep 0.1; done

now() { date +%s.%N; }
# Builtins only while the CLI runs: a process forked every sample would
# compete with the run for the CPUs (the first version of this benchmark
# forked ps for every sample).
# kids PID: the children of all of PID's threads.
kids() {
    local f
    for f in /proc/"$1"/task/*/children; do [ -r "$f" ] && echo $(<"$f"); done 2>/dev/null
}
# argv0 PID: the program PID runs (its argv[0]).
argv0() {
    local a=
    { read -r -d '' a <"/proc/$1/cmdline"; } 2>/dev/null
    echo "$a"
}
hwm_kb() {
    local k v r
    { while read -r k v r; do [ "$k" = VmHWM: ] && { echo "$v"; return; }; done <"/proc/$1/status"; } 2>/dev/null
    echo 0
}
# cpu_tree PID: utime + stime of PID and of its children it has waited for
# (the tool calls' shells), in clock ticks.
cpu_tree() {
    local s=
    { read -r s <"/proc/$1/stat"; } 2>/dev/null
    s=${s##*) }
    read -r -a f <<<"$s"
    echo $((${f[11]:-0} + ${f[12]:-0} + ${f[13]:-0} + ${f[14]:-0}))
}
# find_cli PID: PID or the descendant that runs claude.exe (bare: under
# env and timeout).
find_cli() {
    local c
    [[ $(argv0 "$1") == *claude.exe ]] && { echo "$1"; return; }
    for c in $(kids "$1"); do find_cli "$c"; done
}
# sampler ROOT_FILE OUT: until the CLI (ROOT_FILE's PID or its descendant)
# is gone, every 20 ms its VmHWM and that of each bosun-mcp (or `bosunctl mcp`) child;
# writes "CLI_kB MCP_kB CLI_ticks" to OUT (at most 10 minutes).
sampler() {
    local root= cli= h=0 u=0 c x
    declare -A mcp=()
    for _ in $(seq 1 500); do [ -s "$1" ] && break; sleep 0.01; done
    root=$(cat "$1" 2>/dev/null)
    for _ in $(seq 1 500); do
        [ -n "$root" ] && cli=$(find_cli "$root" | head -1)
        [ -n "$cli" ] && break
        sleep 0.01
    done
    [ -n "$cli" ] || { echo "0 0 0" >"$2"; return; }
    for _ in $(seq 1 30000); do
        kill -0 "$cli" 2>/dev/null || break
        x=$(hwm_kb "$cli")
        [ "$x" -gt "$h" ] && h=$x
        x=$(cpu_tree "$cli")
        [ "$x" -gt "$u" ] && u=$x
        for c in $(kids "$cli"); do
            [[ $(argv0 "$c") == *bosunctl || $(argv0 "$c") == *bosun-mcp ]] || continue
            x=$(hwm_kb "$c")
            [ "$x" -gt "${mcp[$c]:-0}" ] && mcp[$c]=$x
        done
        sleep 0.02
    done
    x=0
    for c in "${!mcp[@]}"; do x=$((x + mcp[$c])); done
    echo "$h $x $u" >"$2"
}
runf() { ctl ps --json | jq -r --arg r "$1" ".[] | select(.run == \$r) | .$2"; }
events() {
    ctl request cmd.store.events "{\"subject\":\"evt.run.*.$1.$2\",\"limit\":10000}" --json | jq -c '.data.events'
}
# cli_of: the CLI bosund runs now (its child running claude.exe).
cli_of() {
    local c
    for c in $(kids "$DPID"); do [[ $(argv0 "$c") == *claude.exe ]] && { echo "$c"; return; }; done
}

# by_bosun N: one run started by bosund; sets W (s), H (CLI peak kB), M
# (MCP server peak kB), U (the CLI's CPU, ticks), G (bosund's growth kB),
# C (bosund's CPU, ticks), E (events stored for the run), P (s from the
# start request until the CLI runs), Q (s from the CLI's exit seen by
# kill -0 until bosund recorded the end; negative within kill -0's 10 ms).
by_bosun() {
    local run before c0 t0 t1 tp tq c= st
    rm -f "$T/root" "$T/peak"
    before=$(rss_kb "$DPID")
    # VmHWM is reset per run, so the growth is this run's (not the
    # daemon's start-up peak): clear_refs 5 resets it.
    echo 5 >"/proc/$DPID/clear_refs" 2>/dev/null
    c0=$(cpu_ticks "$DPID")
    sampler "$T/root" "$T/peak" &
    local spid=$!
    t0=$(now)
    run=$(ctl start cc --prompt "$PROMPT") || { log "bench: start failed"; return 1; }
    for _ in $(seq 1 1500); do c=$(cli_of) && [ -n "$c" ] && { echo "$c" >"$T/root"; break; }; sleep 0.01; done
    tp=$(now)
    if [ "$1" = 0 ] && [ -n "$c" ]; then tr '\0' '\n' <"/proc/$c/environ" >"$T/environ"; fi
    # While the CLI lives, a builtin's poll (no process forked that would
    # compete with the run for the CPUs); then the run's state until final.
    for _ in $(seq 1 60000); do kill -0 "$c" 2>/dev/null || break; sleep 0.01; done
    tq=$(now)
    for _ in $(seq 1 30000); do
        st=$(runf "$run" state)
        case $st in EXITED | FATAL | STOPPED | WAITING_INPUT) break ;; esac
        sleep 0.02
    done
    t1=$(now)
    wait "$spid"
    [ "$st" = EXITED ] || { log "bench: run $run ended $st: $(runf "$run" reason)"; return 1; }
    # The end is when bosund recorded the run's end (its spawn_completed
    # event's time, the same clock as date's), not when a poll saw it:
    # each poll forks bosunctl and jq, 20-60 ms on the loaded machine.
    local te
    te=$(events "$run" spawn_completed | jq -r '.[0].time // empty')
    [ -n "$te" ] || te=$t1
    W=$(calc "$te - $t0" 3) P=$(calc "$tp - $t0" 3) Q=$(calc "$te - $tq" 3)
    read -r H M U <"$T/peak"
    G=$(($(hwm_kb "$DPID") - before))
    [ "$G" -lt 0 ] && G=0
    C=$(($(cpu_ticks "$DPID") - c0))
    E=$(ctl request cmd.store.events "{\"subject\":\"evt.run.*.$run.>\",\"limit\":10000}" --json | jq '.data.events | length')
    LASTRUN=$run
}

# by_hand WAY: the same CLI, argv and env without bosund (bare: without
# bosun's flags either); sets W, H, M, U (G, C, E, P, Q: 0).
by_hand() {
    local t0 t1 pid rc
    rm -f "$T/root" "$T/peak"
    mapfile -t args < <(jq -r '.[]' "$T/argv" | awk -v sid="$(cat /proc/sys/kernel/random/uuid)" \
        -v way="$1" -v mcp="$T/holderh.json" -v mcpio="$T/holder.json" -v floor="$T/$1.json" '
        skip { skip = 0; next }
        prev_sid { print sid; prev_sid = 0; next }
        /^--mcp-config=/ { if (way ~ /^floor|^before$/) print "--mcp-config=" floor; else if (way == "flagsio") print "--mcp-config=" mcpio; else if (way != "bare") print "--mcp-config=" mcp; next }
        $0 == "--permission-prompt-tool" { if (way ~ /^flags/ || way == "noask" || way == "ask" || way == "before") print; else skip = 1; next }
        $0 == "--disallowedTools=AskUserQuestion" { if (way ~ /^flags/) print; next }
        $0 == "--session-id" { print; prev_sid = 1; next }
        $0 == "--" && way == "noask" { print "--disallowedTools=AskUserQuestion" }
        { print }')
    mapfile -t envs < <(grep -v '^BOSUN_' "$T/environ")
    sampler "$T/root" "$T/peak" &
    local spid=$!
    t0=$(now)
    (cd "$T/work" && exec env -i "${envs[@]}" timeout 600 "${args[@]}" >"$T/hand.out" 2>"$T/hand.err") &
    pid=$!
    echo "$pid" >"$T/root"
    wait "$pid"
    rc=$?
    t1=$(now)
    wait "$spid"
    [ "$rc" = 0 ] && grep -q "All $TURNS tool turns ran" "$T/hand.out" ||
        { log "bench: the $1 run failed ($rc): $(tail -c 300 "$T/hand.err")"; return 1; }
    W=$(calc "$t1 - $t0" 3)
    read -r H M U <"$T/peak"
    G=0 C=0 E=0 P=0 Q=0
}

echo "Claude Code $("$CLAUDE" --version | cut -d' ' -f1), $TURNS tool turns (Bash true / Read), $REPS runs of each of: ${WAYS[*]}"
echo "load at start: $(uptime)"
# The idle run whose MCP configuration the "flags" way uses: bosun's real
# MCP server with a live token.
ctl start holder >/dev/null || { log "bench: cannot start the holder run"; exit 1; }
for _ in $(seq 1 200); do
    for c in $(kids "$DPID"); do [[ $(argv0 "$c") == sleep ]] && hp=$c; done
    [ -n "${hp:-}" ] && break
    sleep 0.01
done
mc=$(tr '\0' '\n' <"/proc/${hp:-0}/environ" 2>/dev/null | sed -n 's/^BOSUN_MCP_CONFIG=//p')
(umask 077 && cp "$mc" "$T/holder.json") || { log "bench: no mcp.json for the holder run"; exit 1; }
(umask 077 && cp "$(dirname "$mc")/mcp-http.json" "$T/holderh.json") ||
    { log "bench: no mcp-http.json for the holder run (is /mcp served on 127.0.0.1?)"; exit 1; }
jq -n --arg s "${BENCH_FLOOR:-$SRC/tests/mcp/floor_server.mjs}" '{mcpServers: {bosun: {command: "node", args: [$s]}}}' >"$T/floor.json"
(umask 077 && jq --arg c "$BOSUNCTL" '.mcpServers.bosun.command = $c' "$T/holder.json" >"$T/before.json")
if [[ " ${WAYS[*]} " == *" floorh "* ]]; then
    node "$SRC/tests/mcp/floor_http.mjs" "$T/hport" 2>"$T/floorh.err" &
    PIDS+=($!)
    for _ in $(seq 1 100); do [ -s "$T/hport" ] && break; sleep 0.1; done
    [ -s "$T/hport" ] || { log "bench: the HTTP floor server did not start"; exit 2; }
    jq -n --arg u "http://127.0.0.1:$(cat "$T/hport")/mcp" '{mcpServers: {bosun: {type: "http", url: $u}}}' >"$T/floorh.json"
fi
# The floor server replaying a tools list: none, bosun's own (asked of the
# holder's session through `bosunctl mcp`), bosun's with long descriptions.
floor_with() {
    jq -n --arg s "$SRC/tests/mcp/floor_server.mjs" --arg t "$2" '{mcpServers: {bosun: {command: "node", args: [$s, $t]}}}' >"$T/$1.json"
}
if [[ " ${WAYS[*]} " == *" floor"[0bx]" "* ]]; then
    echo '[]' >"$T/tools0.json"
    floor_with floor0 "$T/tools0.json"
    mapfile -t menv < <(jq -r '.mcpServers.bosun.env // {} | to_entries[] | "\(.key)=\(.value)"' "$T/holder.json")
    printf '%s\n' '{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-11-25","capabilities":{},"clientInfo":{"name":"bench","version":"1"}}}' \
        '{"jsonrpc":"2.0","method":"notifications/initialized"}' '{"jsonrpc":"2.0","id":2,"method":"tools/list"}' |
        env "${menv[@]}" timeout 10 "$BOSUNCTL" mcp 2>/dev/null | jq -c 'select(.id == 2) | .result.tools' >"$T/toolsb.json"
    jq -e 'length > 0' "$T/toolsb.json" >/dev/null || { log "bench: no tools/list from bosunctl mcp"; exit 1; }
    jq -c 'walk(if type == "object" and (.description | type) == "string" then .description |= (. * 20) else . end)' \
        "$T/toolsb.json" >"$T/toolsx.json"
    floor_with floorb "$T/toolsb.json"
    floor_with floorx "$T/toolsx.json"
    echo "tools/list replayed: floorb $(jq length "$T/toolsb.json") tools, $(stat -c %s "$T/toolsb.json") bytes; floorx $(stat -c %s "$T/toolsx.json") bytes"
fi
# A first bosun run, not counted: the argv and env for the runs by hand,
# and the caches warm for all.
by_bosun 0 || exit 1
events "$LASTRUN" spawn_started | jq -c '.[0].data.argv' >"$T/argv"
jq -e 'length > 0' "$T/argv" >/dev/null 2>&1 || { log "bench: no spawn_started argv"; exit 1; }
[ -s "$T/environ" ] || { log "bench: could not read the CLI's environment"; exit 1; }
turns=$(events "$LASTRUN" tool_use | jq length)
echo "bosun's argv: $(jq -c . "$T/argv")"
echo "tool_use events of the warm-up run: $turns"
by_hand bare || exit 1

declare -A AW AH AM AU AG AC AE AB AP AQ
n=${#WAYS[@]}
for i in $(seq 1 "$REPS"); do
    line="  run $i:"
    for k in $(seq 0 $((n - 1))); do
        w=${WAYS[$(((i - 1 + k) % n))]}
        s0=$(stat -c %s "$T/api.log")
        if [ "$w" = bosun ]; then by_bosun "$i" || exit 1; else by_hand "$w" || exit 1; fi
        AW[$w]+="$W " AH[$w]+="$H " AM[$w]+="$M " AU[$w]+="$U " AG[$w]+="$G " AC[$w]+="$C "
        AE[$w]+="$E " AP[$w]+="$P " AQ[$w]+="$Q "
        AB[$w]+="$(tail -c +$((s0 + 1)) "$T/api.log" | jq -s 'map(.bytes) | add // 0') "
        line+=" $w $W s $H kB ${U}t"
        [ "$w" = bare ] || line+=" mcp $M kB"
        [ "$w" = bosun ] && line+=" bosund +$G kB ${C}t;"
        [ "$w" = bosun ] || line+=";"
    done
    echo "$line [$(cut -d' ' -f1-3 /proc/loadavg)]"
done
mm() { printf '%s\n' "$@" | sort -g | sed -n '1p;$p' | paste -sd' ' | awk '{ print $1 ".." $2 }'; }
echo "medians (min..max) of $REPS runs:"
for w in "${WAYS[@]}"; do
    read -r -a aw <<<"${AW[$w]}"
    read -r -a ah <<<"${AH[$w]}"
    read -r -a am <<<"${AM[$w]}"
    read -r -a ab <<<"${AB[$w]}"
    read -r -a au <<<"${AU[$w]}"
    printf '  %-5s wall %s s (%s)  CLI peak %s kB (%s)  CLI CPU %s s (%s ticks)  MCP server peak %s kB  API request bytes %s\n' \
        "$w" "$(median "${aw[@]}")" "$(mm "${aw[@]}")" "$(median "${ah[@]}")" "$(mm "${ah[@]}")" \
        "$(calc "$(median "${au[@]}") / $CLK_TCK" 2)" "$(mm "${au[@]}")" "$(median "${am[@]}")" "$(median "${ab[@]}")"
done
if [[ " ${WAYS[*]} " == *" bosun "* && " ${WAYS[*]} " == *" bare "* ]]; then
    read -r -a ag <<<"${AG[bosun]}"
    read -r -a ac <<<"${AC[bosun]}"
    read -r -a ae <<<"${AE[bosun]}"
    sg=$(median "${ag[@]}") sc=$(median "${ac[@]}") se=$(median "${ae[@]}")
    read -r -a ap <<<"${AP[bosun]}"
    read -r -a aq <<<"${AQ[bosun]}"
    echo "  bosun: start request -> CLI running $(median "${ap[@]}") s ($(mm "${ap[@]}")); CLI exit seen -> end recorded by bosund $(median "${aq[@]}") s ($(mm "${aq[@]}"))"
    echo "  bosund over a run: growth $sg kB ($(mm "${ag[@]}")), CPU $(calc "$sc / $CLK_TCK" 2) s ($(mm "${ac[@]}") ticks of 1/$CLK_TCK s) for $se events stored ($(calc "$sc * 1000000 / $CLK_TCK / $se" 0) us an event); VmRSS now $(rss_kb "$DPID") kB"
    read -r -a x <<<"${AW[bare]}"
    bw=$(median "${x[@]}")
    read -r -a x <<<"${AW[bosun]}"
    sw=$(median "${x[@]}")
    read -r -a x <<<"${AH[bare]}"
    bh=$(median "${x[@]}")
    read -r -a x <<<"${AH[bosun]}"
    sh=$(median "${x[@]}")
    read -r -a x <<<"${AM[bosun]}"
    sm=$(median "${x[@]}")
    added=$(calc "($sh - $bh + $sm + $sg) / 1024" 2)
    echo "bosun adds: wall x$(calc "$sw / $bw" 3); RSS $added MiB = CLI $(calc "($sh - $bh) / 1024" 2) + bosun-mcp $(calc "$sm / 1024" 2) + bosund $(calc "$sg / 1024" 2)"
    verdict "wall time bosun/bare" "$(exact "$sw / $bw")" "<=" 1.05
    verdict "RSS bosun adds, MiB" "$(exact "($sh - $bh + $sm + $sg) / 1024")" "<=" 10
fi
echo "load at end: $(uptime)"
