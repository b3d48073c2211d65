#!/usr/bin/env bash
# Approval round trip (issue 14, benchmark c; see tests/bench/README): a
# real bosund with the sqlite, exec and mcp plugins, a policy of 200 rules
# (the deciding ones last), one run of an idle agent, and the official SDK
# client calling the approve tool through `bosunctl mcp` as Claude Code
# does: CALLS sequential calls of each kind after 100 warm-up calls.
#
#   bench_approval.sh [BUILD_DIR] [CALLS]
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
SRC=$(cd "$HERE/../.." && pwd)
BUILD=$(cd "${1:-$SRC}" && pwd)
CALLS=${2:-5000}
T=$(mktemp -d /tmp/bosun-bench-approval.XXXXXX)
RUNDIR=$(mktemp -d /dev/shm/bosun-bench-approval-run.XXXXXX 2>/dev/null || echo "$T/run")
PID=
cleanup() {
    [ -n "$PID" ] && kill "$PID" 2>/dev/null && wait "$PID" 2>/dev/null
    rm -rf "$T" "$RUNDIR"
}
trap cleanup EXIT

M="$T/mcp"
mkdir -p "$M" "$T/state" "$RUNDIR"
cp "$SRC"/tests/mcp/*.mjs "$SRC"/tests/mcp/package.json "$SRC"/tests/mcp/package-lock.json "$M/"
if [ -d "$SRC/tests/mcp/node_modules/@modelcontextprotocol/sdk" ]; then
    ln -s "$SRC/tests/mcp/node_modules" "$M/node_modules"
else
    (cd "$M" && npm ci --no-audit --no-fund >/dev/null 2>&1)
fi
P="$BUILD/plugins"
{
    cat <<EOF2
daemon:
  machine_id: bench
  state_dir: $T/state
  runtime_dir: $RUNDIR
  log_level: warning
  mcp_command: $BUILD/bosunctl
  plugin_path: [$P/sqlite, $P/exec, $P/mcp]
  plugins: [sqlite, exec, mcp]
approvals:
  default: ask
  allow:
EOF2
    for i in $(seq 1 99); do echo "    - \"Bash(tool$i --flag:*)\""; done
    echo '    - "Bash(git status:*)"'
    echo '  deny:'
    for i in $(seq 1 99); do echo "    - \"Edit(src/gen$i/**)\""; done
    echo '    - "Bash(rm -rf *)"'
    cat <<EOF2
agents:
  idle:
    command: [sleep, "3600"]
    start_secs: 0
EOF2
} > "$T/bosun.yaml"
"$BUILD/bosund" -c "$T/bosun.yaml" 2>"$T/bosund.log" &
PID=$!
ctl() { "$BUILD/bosunctl" -s "$RUNDIR/bosund.sock" "$@"; }
for _ in $(seq 1 100); do ctl status >/dev/null 2>&1 && break; sleep 0.1; done
run=$(ctl task create --title bench --agent idle --json | sed -n 's/.*"run": *"\([0-9A-Z]*\)".*/\1/p')
[ -n "$run" ] || { echo "bench_approval: could not start a run" >&2; cat "$T/bosund.log" >&2; exit 1; }
echo "Approval round trip, ${CALLS} sequential calls of each kind after 100 warm-up calls, policy of 200 rules (official SDK client over bosunctl mcp, node $(node --version))"
(cd "$M" && timeout 1200 node bench_approve.mjs "$RUNDIR/runs/$run/mcp.json" "$CALLS" 100)
