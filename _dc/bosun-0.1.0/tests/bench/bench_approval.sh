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
NAME=approval
. "$HERE/mcp_bench_lib.sh"
{
    echo 'approvals:'
    echo '  default: ask'
    echo '  allow:'
    for i in $(seq 1 99); do echo "    - \"Bash(tool$i --flag:*)\""; done
    echo '    - "Bash(git status:*)"'
    echo '  deny:'
    for i in $(seq 1 99); do echo "    - \"Edit(src/gen$i/**)\""; done
    echo '    - "Bash(rm -rf *)"'
} >"$T/policy.yaml"
mcp_bench_start <"$T/policy.yaml"
echo "Approval round trip, ${CALLS} sequential calls of each kind after 100 warm-up calls, policy of 200 rules (official SDK client over bosunctl mcp, node $(node --version))"
(cd "$M" && timeout 1200 node bench_approve.mjs "$MCP_JSON" "$CALLS" 100)
