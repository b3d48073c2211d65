#!/usr/bin/env bash
# MCP round-trip benchmark (see tests/bench/README): a real bosund with the
# sqlite, exec and mcp plugins, one run of an idle agent, and the official
# SDK client (tests/mcp/bench_mcp.mjs) against bosun, server-everything,
# an SDK peer whose report_status writes as bosun's store does, the Node
# floor and the C floor (mcp_floor.c): ping on each (no store write), echo
# on the others, report_status on bosun and the peer; each warmed up until
# its p50 stops moving, then CALLS (20,000) calls a series.
#
#   bench_mcp.sh [BUILD_DIR] [CALLS]
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
SRC=$(cd "$HERE/../.." && pwd)
BUILD=$(cd "${1:-$SRC}" && pwd)
CALLS=${2:-20000}
NAME=mcp
# The machine's load before the part (bench_lib.sh's, in a subshell: its
# temporary directory and traps end there).
(. "$HERE/bench_lib.sh" && machine_load bench_mcp)
. "$HERE/mcp_bench_lib.sh"
# The C floor: make bench builds it; by hand it is compiled here.
FLOOR="$BUILD/tests/bench/mcp_floor"
if ! [ -x "$FLOOR" ] || ! [ "$FLOOR" -nt "$HERE/mcp_floor.c" ]; then
    FLOOR="$T/mcp_floor"
    # shellcheck disable=SC2046 # the flags are words
    cc -std=c11 -O2 -o "$FLOOR" "$HERE/mcp_floor.c" $(pkg-config --cflags --libs jansson 2>/dev/null || echo -ljansson) ||
        { echo "bench_mcp: cannot build mcp_floor" >&2; exit 2; }
fi
mcp_bench_start </dev/null
echo "MCP round trips: $CALLS calls a series after its warm-up (official SDK client, node $(node --version))"
(cd "$M" && timeout 1800 node bench_mcp.mjs "$MCP_JSON" "$FLOOR" "$T/peer.log" "$CALLS")
