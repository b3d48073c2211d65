#!/usr/bin/env bash
# bosun-llm against the AI SDK (issue 15's benchmark; see tests/bench/README):
# the same scripted task -- ROUNDS (20) model turns of one small tool call
# each, cycling read_file, edit_file and bash `true` on a small file, then
# a text turn -- against the same fake model API (tests/llm/fake_llm.mjs,
# OpenAI Chat Completions), DELAY ms (20) of scripted model time per turn,
# REPS (5) times each, the two sides taking turns:
#
#   peer:   Node with the AI SDK (tests/bench/llm-peer: ai + @ai-sdk/openai,
#           pinned by its package-lock.json, installed here with npm ci):
#           generateText with the six tools (done for real in a workspace)
#           and stopWhen: stepCountIs(20).
#   bosun:  bosun-llm as bosund runs it: an agent of type llm (all its
#           tools, no approvals asked), started with `bosunctl start`;
#           every round also goes to bosund (chat messages, file versions).
#
# Reported per side, medians over the reps:
#   per-round overhead: what the client spends per round (reading the
#           answer, running the tool, building and sending the next
#           request), from the fake's timing file: the time from the end
#           of a model answer (the fake's last byte written) to the next
#           request of the run (its last byte read) -- the verdict's
#           figure.  Beside it, as the fake saw it: the time between two
#           consecutive requests minus the first one's scripted delay
#           ("wall - scripted"), which also holds the fake's own time
#           (its timer firing late, its log line written before it
#           answers, the answer written, the next request parsed): the
#           same for both sides, so it pulls their ratio towards 1.  The
#           fake's own time per round is printed too;
#   process: wall time, CPU (user + sys, and per round) and peak RSS of
#           the client process, by /usr/bin/time (bosun-llm's: the program
#           alone; bosund's CPU over each run is shown beside it), and the
#           whole process's wall time less the scripted delays per round
#           (start-up included; the peer makes ROUNDS model calls, as
#           stepCountIs(ROUNDS) stops it, bosun-llm ROUNDS + 1);
# On a machine whose CPUs are busy with other work, the per-round wall
# overhead is mostly waiting to be scheduled (each side's wake-ups: bosun-llm,
# bosund and the tool's shell; Node and the shell), which the CPU per round
# does not count.
# and the ratios bosun/peer against the targets: overhead <= 0.25, RSS <= 0.25.
#
#   bench_llm.sh [BUILD_DIR]   BENCH_LLM_REPS, BENCH_LLM_ROUNDS, BENCH_LLM_DELAY_MS
set -uo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
SRC=$(cd "$HERE/../.." && pwd)
BUILD=$(cd "${1:-$SRC}" && pwd)
REPS=${BENCH_LLM_REPS:-5}
ROUNDS=${BENCH_LLM_ROUNDS:-20}
DELAY=${BENCH_LLM_DELAY_MS:-20}
. "$HERE/bench_lib.sh"
TIME=/usr/bin/time
PEER="$HERE/llm-peer"
FAKE="$SRC/tests/llm/fake_llm.mjs"
if ! command -v node >/dev/null || ! command -v jq >/dev/null || ! [ -x "$TIME" ] || ! command -v npm >/dev/null; then
    echo "bench_llm: needs node, npm, jq and /usr/bin/time (Debian: time); skipped"
    exit 0
fi
# The peer's packages, exactly as locked.
if ! [ -e "$PEER/node_modules/.package-lock.json" ] ||
    [ "$PEER/package-lock.json" -nt "$PEER/node_modules/.package-lock.json" ]; then
    (cd "$PEER" && npm ci --no-audit --no-fund >/dev/null) || { log "bench_llm: npm ci in $PEER failed"; exit 2; }
fi

# The task: ROUNDS tool turns then a text, each after DELAY ms; the edits
# walk the file's text v0 -> v1 -> ... so every one of them matches.
task_turns() {
    node -e '
      const [rounds, delay] = process.argv.slice(1).map(Number);
      const turns = []; let e = 0;
      for (let r = 0; r < rounds; r++) {
        const k = r % 3, id = "c" + r;
        const call = k === 0 ? { id, name: "read_file", arguments: { path: "notes.txt" } }
          : k === 1 ? { id, name: "edit_file", arguments: { path: "notes.txt", search: "v" + e, replace: "v" + (++e) } }
          : { id, name: "bash", arguments: { command: "true" } };
        turns.push({ delay_ms: delay, tool_calls: [call] });
      }
      turns.push({ delay_ms: delay, text: ["done"] });
      console.log(JSON.stringify(turns));' "$ROUNDS" "$DELAY"
}
TURNS=$(task_turns)

# start_fake NAME SCRIPT: FAKE_URL, FAKE_LOG set; its PID in PIDS.
start_fake() {
    printf '%s\n' "$2" >"$T/$1.script.json"
    FAKE_LOG="$T/$1.log" FAKE_TIMING="$T/$1.timing"
    : >"$FAKE_LOG"
    : >"$FAKE_TIMING"
    node "$FAKE" --script "$T/$1.script.json" --port-file "$T/$1.port" --log "$FAKE_LOG" \
        --timing "$FAKE_TIMING" 2>>"$T/fake.err" &
    FAKE_PID=$!
    PIDS+=("$FAKE_PID")
    for _ in $(seq 1 100); do [ -s "$T/$1.port" ] && break; sleep 0.1; done
    [ -s "$T/$1.port" ] || { log "bench_llm: the fake did not start"; exit 2; }
    FAKE_URL="http://127.0.0.1:$(cat "$T/$1.port")/v1"
}

# gaps LOG FIRST N: per-round overheads (ms) of requests FIRST..FIRST+N-1
# of the log: t[i+1] - t[i] - scripted[i] (wall - scripted).
gaps() {
    jq -s -r --argjson f "$2" --argjson n "$3" '.[$f - 1:$f - 1 + $n] as $r
        | range(0; ($r | length) - 1) | (($r[. + 1].time - $r[.].time) * 1000 - $r[.].scripted_ms)' "$1"
}
# client TIMING FIRST N: the client's own time per round (ms) between
# requests FIRST..FIRST+N-1: in[i+1] - out[i].
client() {
    jq -s -r --argjson f "$2" --argjson n "$3" 'sort_by(.n) | .[$f - 1:$f - 1 + $n] as $r
        | range(0; ($r | length) - 1) | (($r[. + 1].in - $r[.].out) * 1000)' "$1"
}
# fake_own TIMING FIRST N: the fake's own time per request (ms): out - in
# less what its scripted waits really slept.
fake_own() {
    jq -s -r --argjson f "$2" --argjson n "$3" 'sort_by(.n) | .[$f - 1:$f - 1 + $n][]
        | ((.out - .in) * 1000 - .slept_ms)' "$1"
}

median() { sort -g | awk '{ v[NR] = $1 } END { if (NR == 0) print "nan"; else if (NR % 2) print v[(NR + 1) / 2]; else print (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }

# ---- the peer
peer_run() {
    local i=$1 ws="$T/peer-ws.$1"
    mkdir -p "$ws" && echo v0 >"$ws/notes.txt"
    start_fake "peer.$i" "{\"turns\": $TURNS}"
    "$TIME" -f '%M %U %S %e' -o "$T/peer.$i.time" node "$PEER/peer.mjs" "$FAKE_URL" "$ws" \
        >"$T/peer.$i.out" 2>"$T/peer.$i.err" || { log "bench_llm: the peer failed:"; tail -5 "$T/peer.$i.err" >&2; exit 1; }
    stop_pid "$FAKE_PID"
    [ "$(cat "$ws/notes.txt")" = "v$(( (ROUNDS + 1) / 3 ))" ] || log "bench_llm: WARNING: the peer's edits did not all apply"
    gaps "$FAKE_LOG" 1 "$ROUNDS" >>"$T/peer.gaps"
    client "$FAKE_TIMING" 1 "$ROUNDS" >>"$T/peer.client"
    fake_own "$FAKE_TIMING" 1 "$ROUNDS" >>"$T/peer.fake"
    cat "$T/peer.$i.time" >>"$T/peer.times"
}

# ---- bosun-llm under bosund
BOSUN_OK=1
REAL_LLM="$BUILD/.libs/bosun-llm"
[ -x "$REAL_LLM" ] || REAL_LLM="$BUILD/bosun-llm"
for p in sqlite exec llm; do [ -e "$BUILD/plugins/$p/$p.la" ] || BOSUN_OK=0; done
[ -x "$REAL_LLM" ] || BOSUN_OK=0

bosun_setup() {
    local all="" i
    for i in $(seq 1 "$REPS"); do all="$all${all:+,}${TURNS:1:-1}"; done
    start_fake bosun "{\"turns\": [$all]}"
    BOSUN_LOG=$FAKE_LOG BOSUN_TIMING=$FAKE_TIMING
    # /usr/bin/time around the real program, one line a run.
    cat >"$T/llm-wrap" <<WRAP
#!/bin/sh
LD_LIBRARY_PATH="$BUILD/.libs\${LD_LIBRARY_PATH:+:\$LD_LIBRARY_PATH}" exec "$TIME" -a -f '%M %U %S %e' -o "$T/bosun.times" "$REAL_LLM" "\$@"
WRAP
    chmod +x "$T/llm-wrap"
    mkdir -p "$T/d/state" "$T/d/run" "$T/bosun-ws"
    cat >"$T/d/bosun.yaml" <<YAML
daemon:
  machine_id: bench
  state_dir: $T/d/state
  runtime_dir: $T/d/run
  log_level: warning
  plugin_path: [$BUILD/plugins/sqlite, $BUILD/plugins/exec, $BUILD/plugins/llm]
  plugins: [sqlite, exec, llm]
llm:
  program: $T/llm-wrap
agents:
  coder:
    type: llm
    workdir: $T/bosun-ws
    start_secs: 0
    restart: never
    llm: {provider: openai, base_url: "$FAKE_URL", model: fake-model, api_key_env: FAKE_KEY, retries: 0}
    env: {FAKE_KEY: sk-bench-bosun-key}
YAML
    "$BOSUND" -c "$T/d/bosun.yaml" 2>"$T/d/bosund.log" &
    DPID=$!
    PIDS+=("$DPID")
    SOCK="$T/d/run/bosund.sock"
    for _ in $(seq 1 200); do ctl status >/dev/null 2>&1 && break; sleep 0.1; done
    ctl status >/dev/null 2>&1 || { log "bench_llm: bosund did not start"; tail -20 "$T/d/bosund.log" >&2; exit 2; }
}

bosun_run() {
    local i=$1 run state t0 t1
    echo v0 >"$T/bosun-ws/notes.txt"
    t0=$(cpu_ticks "$DPID")
    run=$(ctl start coder --prompt "Do the scripted task.") || { log "bench_llm: start failed"; exit 1; }
    for _ in $(seq 1 1200); do
        state=$(ctl ps --json | jq -r --arg r "$run" '.[] | select(.run == $r) | .state')
        case $state in EXITED | FATAL | STOPPED | BACKOFF) break ;; esac
        sleep 0.05
    done
    t1=$(cpu_ticks "$DPID")
    [ "$state" = EXITED ] || log "bench_llm: WARNING: run $run ended $state"
    [ "$(cat "$T/bosun-ws/notes.txt")" = "v$(( (ROUNDS + 1) / 3 ))" ] || log "bench_llm: WARNING: bosun-llm's edits did not all apply"
    gaps "$BOSUN_LOG" $(( (i - 1) * (ROUNDS + 1) + 1 )) "$ROUNDS" >>"$T/bosun.gaps"
    client "$BOSUN_TIMING" $(( (i - 1) * (ROUNDS + 1) + 1 )) "$ROUNDS" >>"$T/bosun.client"
    fake_own "$BOSUN_TIMING" $(( (i - 1) * (ROUNDS + 1) + 1 )) "$ROUNDS" >>"$T/bosun.fake"
    echo $(( t1 - t0 )) >>"$T/bosund.ticks"
}

echo "bench_llm: $ROUNDS rounds (read_file, edit_file, bash true), ${DELAY} ms scripted per turn, $REPS reps"
machine_load "the runs"
[ "$BOSUN_OK" = 1 ] && bosun_setup
[ "$BOSUN_OK" = 1 ] || echo "  bosun-llm or the llm plugin is not built in $BUILD: the peer only"
for i in $(seq 1 "$REPS"); do
    if [ $((i % 2)) = 1 ]; then
        peer_run "$i"
        [ "$BOSUN_OK" = 1 ] && bosun_run "$i"
    else
        [ "$BOSUN_OK" = 1 ] && bosun_run "$i"
        peer_run "$i"
    fi
done

HZ=$(getconf CLK_TCK)
# by_tool SIDE: the median of the client's own time per tool of the round
# (read_file, edit_file, bash in turn; ROUNDS - 1 figures a run).
by_tool() {
    local k
    for k in 0 1 2; do
        awk -v k="$k" -v n="$((ROUNDS - 1))" '(NR - 1) % n % 3 == k' "$T/$1.client" | median
    done | paste -sd' ' | awk '{ printf "read_file %.2f, edit_file %.2f, bash %.2f ms", $1, $2, $3 }'
}
report() { # SIDE MODEL_TURNS
    local g c f rss cpu wall whole
    c=$(median <"$T/$1.client")
    g=$(median <"$T/$1.gaps")
    f=$(median <"$T/$1.fake")
    rss=$(awk '{ print $1 }' "$T/$1.times" | median)
    cpu=$(awk '{ print $2 + $3 }' "$T/$1.times" | median)
    wall=$(awk '{ print $4 }' "$T/$1.times" | median)
    # The whole process, start-up included: its wall time less every turn's
    # scripted delay, per round.
    whole=$(awk -v w="$wall" -v n="$2" -v d="$DELAY" -v r="$ROUNDS" 'BEGIN { printf "%.1f", (1000 * w - n * d) / r }')
    printf '  %-6s per-round overhead %6.2f ms (%s); wall - scripted %5.2f ms, of it the fake'"'"'s own %4.2f ms\n' \
        "$1" "$c" "$(by_tool "$1")" "$g" "$f"
    printf '         whole process: %s ms a round; wall %5.2f s, CPU %5.2f s (%5.1f ms a round), peak RSS %7d kB\n' \
        "$whole" "$wall" "$cpu" "$(awk -v c="$cpu" -v r="$ROUNDS" 'BEGIN { print 1000 * c / r }')" "$rss"
    eval "C_$1=$c G_$1=$g RSS_$1=$rss CPU_$1=$cpu"
}
report peer "$ROUNDS"
if [ "$BOSUN_OK" = 1 ]; then
    report bosun $((ROUNDS + 1))
    D=$(awk -v hz="$HZ" '{ print $1 / hz }' "$T/bosund.ticks" | median)
    echo "  bosund CPU per run (median): $D s; bosun-llm + bosund: $(awk -v c="$CPU_bosun" -v d="$D" -v r="$ROUNDS" 'BEGIN { printf "%.1f", 1000 * (c + d) / r }') ms a round"
    echo "  bosun/peer: wall - scripted $(calc "$G_bosun / $G_peer" 3) (the fake's own time in both), CPU $(calc "$CPU_bosun / $CPU_peer" 3)"
    verdict "per-round overhead bosun/peer" "$(exact "$C_bosun / $C_peer")" "<=" 0.25
    verdict "peak RSS bosun/peer" "$(exact "$RSS_bosun / $RSS_peer")" "<=" 0.25
fi
