#!/usr/bin/env bash
# MCP round-trip benchmark (see tests/bench/README): a real bosund with the
# sqlite, exec and mcp plugins, one run of an idle agent, and the official
# SDK client timing 5,000 sequential tools/call after 100 warm-up calls
# against bosun, server-everything and a minimal stdio server.
#
#   bench_mcp.sh [BUILD_DIR] [CALLS]
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
SRC=$(cd "$HERE/../.." && pwd)
BUILD=$(cd "${1:-$SRC}" && pwd)
CALLS=${2:-5000}
NAME=mcp
. "$HERE/mcp_bench_lib.sh"
mcp_bench_start </dev/null
echo "MCP round trip, ${CALLS} sequential tools/call after 100 warm-up calls (official SDK client, node $(node --version))"
(cd "$M" && timeout 1200 node bench_mcp.mjs "$MCP_JSON" "$CALLS" 100)
