#!/usr/bin/env bash
# The dashboard (issue: web dashboard, benchmark): a store holding
# BENCH_RUNS (1,000) runs, BENCH_TASKS (10,000) tasks and BENCH_EVENTS
# (1,000,000) events, made through bosund's own REST API and an agent's
# output (the real row shapes); then in headless Debian chromium: time
# from navigation to the overview being interactive (the page's
# performance mark), the JS heap then, the bytes of a first load (files;
# the API's answers reported apart), and the delay from an event on the
# bus to the page's DOM showing it, p50/p99 over 1,000 output lines.
# Targets: interactive <= 500 ms, event-to-DOM p99 <= 100 ms, first load
# <= 200 KB.  bench_dashboard.sh [BUILD_DIR]
set -u
BUILD=$(cd "${1:-_build}" && pwd)
SRC=$(cd "$(dirname "$0")/../.." && pwd)
. "$SRC/tests/bench/bench_lib.sh"
[ -x /usr/bin/chromium ] || { log "bench: Debian chromium is missing (apt-get install chromium)"; exit 2; }
[ -d "$SRC/tests/web/node_modules/playwright-core" ] ||
    (cd "$SRC/tests/web" && npm ci --no-audit --no-fund >/dev/null 2>&1) ||
    { log "bench: npm ci in tests/web failed"; exit 2; }
RUNS=${BENCH_RUNS:-1000} TASKS=${BENCH_TASKS:-10000} EVENTS=${BENCH_EVENTS:-1000000}
PORT=$(free_port)
D="$T/d"
GO="$T/go" # made by the harness once it watches the run page
bosund_config "$D" "$PORT" "  web_root: $SRC/plugins/http/web" <<EOF
agents:
  quick:
    command: [true]
    start_secs: 0
    restart: never
  flood:
    command: [sh, -c, 'seq 1 $EVENTS']
    start_secs: 0
    restart: never
  tick:
    command: [sh, -c, 'w=0; while [ ! -e $GO ] && [ \$w -lt 6000 ]; do w=\$((w+1)); sleep 0.01; done; i=0; while [ \$i -lt ${BENCH_TICKS:-1000} ]; do i=\$((i+1)); echo "tick \$(date +%s%3N)"; sleep 0.01; done; sleep 30']
    start_secs: 0
    restart: never
EOF
bosund_start "$D" || exit 1
admin_token "$T/token" || exit 1
TOKEN=$(cat "$T/token")
wait_http "http://127.0.0.1:$PORT/health" || exit 1
echo "== filling the store: $TASKS tasks, $RUNS runs, $EVENTS output lines"
t0=$(date +%s.%N)
node -e '
const [base, token, tasks, runs] = process.argv.slice(1);
const h = {Authorization: `Bearer ${token}`, "Content-Type": "application/json"};
const post = (p, b) => fetch(base + p, {method: "POST", headers: h, body: JSON.stringify(b)}).then((r) => r.json());
(async () => {
  const ids = [];
  for (let i = 0; i < Number(tasks); i += 32)
    ids.push(...(await Promise.all(Array.from({length: Math.min(32, tasks - i)},
      (_, k) => post("/api/v1/tasks", {title: `task ${i + k}`, prompt: "bench"})))).map((r) => r.task));
  for (let i = 0; i < Number(runs); i++)
    await post("/api/v1/agents/quick/start", {task: ids[i % ids.length]});
})().catch((e) => { console.error(e); process.exit(1); });
' "http://127.0.0.1:$PORT" "$TOKEN" "$TASKS" "$RUNS" || exit 1
ctl start flood >/dev/null
n=0
for _ in $(seq 1 3600); do
    n=$(curl -s -H "Authorization: Bearer $TOKEN" "http://127.0.0.1:$PORT/api/v1/events?tail=1" |
        python3 -c 'import json,sys; print(json.load(sys.stdin).get("last_seq") or 0)' 2>/dev/null)
    [ "${n:-0}" -ge "$EVENTS" ] && break
    sleep 0.5
done
echo "  filled in $(calc "$(date +%s.%N) - $t0" 1) s: last seq ${n:-?}"
machine_load "the browser"
BASE="http://127.0.0.1:$PORT" TOKEN=$TOKEN TICK_AGENT=tick GO_FILE="$GO" TICKS=${BENCH_TICKS:-1000} \
    timeout 600 node "$SRC/tests/bench/bench_dashboard.mjs" > "$T/web.out" 2>"$T/web.err" ||
    { log "bench: the browser part failed:"; tail -20 "$T/web.err" >&2; exit 1; }
vals() { sed -n "s/^$1 //p" "$T/web.out"; }
ims=$(median $(vals interactive_ms))
bytes=$(vals first_load_bytes | head -1)
echo "== results"
echo "  interactive after navigation (median of $(vals interactive_ms | wc -l) cold loads): $ims ms [$(vals interactive_ms | tr '\n' ' ')]"
echo "  first load: $bytes bytes of files (uncompressed; the API's answers $(vals api_bytes | head -1) bytes more)"
echo "  JS heap when interactive: $(vals heap_bytes | head -1) bytes"
echo "  event -> DOM over $(vals ticks_seen) lines: p50 $(vals event_dom_p50_ms) ms, p99 $(vals event_dom_p99_ms) ms"
SUMMARY+=("$(verdict "dashboard interactive (ms)" "$ims" "<=" 500)")
SUMMARY+=("$(verdict "dashboard event->DOM p99 (ms)" "$(vals event_dom_p99_ms)" "<=" 100)")
SUMMARY+=("$(verdict "dashboard first load (bytes)" "$bytes" "<=" 204800)")
echo
echo "== verdicts"
printf '%s\n' "${SUMMARY[@]}"
