# Shared by bench_mcp.sh and bench_approval.sh (sourced, after BUILD and
# NAME are set): a temporary directory, the official MCP SDK client's copy,
# a bosund with the sqlite, exec and mcp plugins (mcp_bench_start, the
# caller's stdin added to its config before the agents), and one run of an
# idle agent whose MCP config is in $MCP_JSON.  The daemon is stopped by
# PID at exit.
T=$(mktemp -d "/tmp/bosun-bench-$NAME.XXXXXX")
RUNDIR=$(mktemp -d "/dev/shm/bosun-bench-$NAME-run.XXXXXX" 2>/dev/null || echo "$T/run")
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
ctl() { "$BUILD/bosunctl" -s "$RUNDIR/bosund.sock" "$@"; }

mcp_bench_start() {
    local P="$BUILD/plugins"
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
EOF2
        cat
        cat <<EOF2
agents:
  idle:
    command: [sleep, "3600"]
    start_secs: 0
EOF2
    } >"$T/bosun.yaml"
    "$BUILD/bosund" -c "$T/bosun.yaml" 2>"$T/bosund.log" &
    PID=$!
    for _ in $(seq 1 100); do ctl status >/dev/null 2>&1 && break; sleep 0.1; done
    local run
    run=$(ctl task create --title bench --agent idle --json | sed -n 's/.*"run": *"\([0-9A-Z]*\)".*/\1/p')
    [ -n "$run" ] || { echo "bench_$NAME: could not start a run" >&2; cat "$T/bosund.log" >&2; exit 1; }
    MCP_JSON="$RUNDIR/runs/$run/mcp.json"
}
