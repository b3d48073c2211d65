#!/usr/bin/env bash
# bosund's start with a long approval history (issue 14; see
# tests/bench/README): N decided approvals in the store (every 100th made
# with --always, so N/100 sticky rules), then R starts of bosund, each timed
# from exec until the last sticky rule decides a call (cmd.approval.check
# answers "source": "sticky"), and the daemon's CPU time by then.
#
#   bench_approval_start.sh [BUILD_DIR] [N] [R]
set -uo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
SRC=$(cd "$HERE/../.." && pwd)
BUILD=$(cd "${1:-$SRC}" && pwd)
N=${2:-10000}
R=${3:-5}
. "$HERE/bench_lib.sh"

D="$T/d"
mkdir -p "$D/state" "$D/run"
cat >"$D/bosun.yaml" <<EOF2
daemon:
  machine_id: bench
  state_dir: $D/state
  runtime_dir: $D/run
  log_level: warning
  plugin_path: [$BUILD/plugins/sqlite]
  plugins: [sqlite]
approvals:
  default: ask
EOF2
SOCK="$D/run/bosund.sock"
start() {
    "$BOSUND" -c "$D/bosun.yaml" 2>>"$D/bosund.log" &
    DPID=$!
    PIDS+=("$DPID")
}
stop() { stop_pid "$DPID"; }

start
for _ in $(seq 1 200); do ctl status >/dev/null 2>&1 && break; sleep 0.1; done
# The history: N decided events published over one control connection.
python3 - "$SOCK" "$N" <<'PY'
import json, socket, sys
sock, n = sys.argv[1], int(sys.argv[2])
s = socket.socket(socket.AF_UNIX)
s.connect(sock)
f = s.makefile("rwb")
for i in range(n):
    sticky = i % 100 == 0
    d = {"id": "A%025d" % i, "agent": "bench", "task": "T1", "run": "R1", "tool": "Bash",
         "decision": "allow", "decided_by": "bench", "always": sticky,
         "sticky_rule": "Bash(cmd%d)" % i if sticky else None}
    f.write((json.dumps({"op": "pub", "id": i, "subject": "evt.approval.A%025d.decided" % i,
                         "data": d}) + "\n").encode())
    if i % 500 == 499 or i == n - 1:
        f.flush()
        for _ in range(i % 500 + 1):
            if not json.loads(f.readline()).get("ok"):
                sys.exit("publish refused")
PY
ctl request cmd.store.events '{"tail":1}' --json >/dev/null || exit 1
stop
LAST=$(( (N - 1) / 100 * 100 ))
CHECK="{\"agent\":\"bench\",\"task\":\"T1\",\"tool\":\"Bash\",\"input\":{\"command\":\"cmd$LAST\"}}"
echo "bosund start with $N decided approvals ($(( (N + 99) / 100 )) sticky rules), $R starts: ms until the last sticky rule decides, CPU ms by then"
times=() cpus=()
for r in $(seq 1 "$R"); do
    t0=$(date +%s%N)
    start
    ok=
    for _ in $(seq 1 3000); do
        if ctl request cmd.approval.check "$CHECK" --json 2>/dev/null | grep -q '"source": *"sticky"'; then
            ok=1
            break
        fi
        sleep 0.005
    done
    t1=$(date +%s%N)
    cpu=$(cpu_ticks "$DPID")
    stop
    [ -n "$ok" ] || { log "bench: the sticky rule never applied"; tail -5 "$D/bosund.log" >&2; exit 1; }
    ms=$(( (t1 - t0) / 1000000 ))
    times+=("$ms")
    cpus+=("$(( cpu * 1000 / CLK_TCK ))")
    echo "  start $r: $ms ms, CPU $(( cpu * 1000 / CLK_TCK )) ms"
done
echo "  median: $(median "${times[@]}") ms, CPU $(median "${cpus[@]}") ms"
