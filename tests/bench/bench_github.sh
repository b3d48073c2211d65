#!/usr/bin/env bash
# PR refresh cost (issue 16, second benchmark item; see tests/bench/README):
# a real bosund with sqlite, http and github against the fake GitHub
# (tests/github/fake_github.py), PRS pull requests linked to one task and
# left unchanged, refreshed every INTERVAL seconds for SECONDS seconds
# after their first fetch.  From the fake's request log: the requests per
# linked PR per refresh and per hour, scaled to the default
# refresh_interval (5m) by the number of refreshes an hour, and the share
# that were conditional (If-None-Match) and answered 304.
#
#   bench_github.sh [BUILD_DIR] [PRS] [SECONDS] [INTERVAL]
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
SRC=$(cd "$HERE/../.." && pwd)
BUILD=$(cd "${1:-$SRC}" && pwd)
PRS=${2:-20}
SECONDS_RUN=${3:-120}
INTERVAL=${4:-10}
DEFAULT_INTERVAL=300
. "$HERE/bench_lib.sh"
[ -e "$BUILD/plugins/github/github.la" ] || { log "bench: the github plugin is not built in $BUILD"; exit 2; }

/usr/bin/python3 "$SRC/tests/github/fake_github.py" "$T/fake.port" >"$T/fake.log" 2>&1 &
FAKE=$!
for _ in $(seq 1 100); do [ -s "$T/fake.port" ] && break; sleep 0.1; done
GH="http://127.0.0.1:$(cat "$T/fake.port")"
for n in $(seq 1 "$PRS"); do
    curl -s -H 'Content-Type: application/json' \
        -d "{\"owner\":\"acme\",\"repo\":\"bench\",\"number\":$n,\"check_runs\":[{\"status\":\"completed\",\"conclusion\":\"success\"}],\"reviews\":[{\"user\":{\"login\":\"alice\"},\"state\":\"APPROVED\"}]}" \
        "$GH/_fake/pull" >/dev/null
done
PORT=$(free_port)
bosund_config "$T/d" "$PORT" "github:
  api_url: $GH
  refresh_interval: ${INTERVAL}s" </dev/null
sed -i -e "s|plugin_path: \[|plugin_path: [$BUILD/plugins/github, |" -e 's|plugins: \[sqlite, exec, http\]|plugins: [sqlite, exec, http, github]|' "$T/d/bosun.yaml"
bosund_start "$T/d"
TASK=$(ctl task create --title bench --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["task"])')
for n in $(seq 1 "$PRS"); do
    ctl request cmd.github.prs.link "{\"task\":\"$TASK\",\"repo\":\"acme/bench\",\"number\":$n}" >/dev/null
done
fetched() { ctl request cmd.github.prs "{\"task\":\"$TASK\"}" --json |
    python3 -c 'import json,sys; print(sum(1 for i in json.load(sys.stdin)["data"]["items"] if i["pr"]))'; }
for _ in $(seq 1 300); do [ "$(fetched)" = "$PRS" ] && break; sleep 0.1; done
[ "$(fetched)" = "$PRS" ] || { log "bench: the first fetch of $PRS PRs did not end"; exit 1; }
first=$(curl -s "$GH/_fake/log" | python3 -c 'import json,sys; print(len(json.load(sys.stdin)))')
curl -s -X POST "$GH/_fake/log/clear" >/dev/null
t0=$(date +%s.%N)
sleep "$SECONDS_RUN"
t1=$(date +%s.%N)
curl -s "$GH/_fake/log" >"$T/log.json"
python3 - "$T/log.json" "$PRS" "$t0" "$t1" "$INTERVAL" "$DEFAULT_INTERVAL" "$first" <<'PY'
import json, sys
log = json.load(open(sys.argv[1]))
prs, t0, t1, interval, default, first = int(sys.argv[2]), float(sys.argv[3]), float(sys.argv[4]), float(sys.argv[5]), float(sys.argv[6]), int(sys.argv[7])
n = len(log)
cond = sum(1 for r in log if r["if_none_match"])
nm = sum(1 for r in log if r["status"] == 304)
window = t1 - t0
refreshes = window / interval
per_refresh = n / prs / refreshes
print(f"PR refresh, {prs} unchanged PRs at refresh_interval {interval:g}s for {window:.0f}s (fake GitHub on 127.0.0.1):")
print(f"  first fetch: {first} requests ({first / prs:.1f} per PR)")
print(f"  then: {n} requests, {n / prs:.1f} per PR, {per_refresh:.2f} per PR per refresh")
print(f"  conditional (If-None-Match): {cond} = {100 * cond / n if n else 0:.1f} %; answered 304: {nm} = {100 * nm / n if n else 0:.1f} %")
print(f"  per linked PR per hour at the default interval ({default:g}s): {per_refresh * 3600 / default:.1f} requests,"
      f" of which {per_refresh * 3600 / default * (cond / n if n else 0):.1f} conditional"
      f" (at {interval:g}s: {per_refresh * 3600 / interval:.0f})")
PY
# bosund first (it holds our stdout), then the fake; neither's exit
# status is the benchmark's.
PIDS=()
stop_pid "$DPID" || true
kill "$FAKE" 2>/dev/null || true
wait "$FAKE" 2>/dev/null || true
