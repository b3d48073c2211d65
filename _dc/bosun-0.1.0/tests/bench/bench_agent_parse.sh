#!/usr/bin/env bash
# stream-json parsing benchmark (issue 14, part a; see tests/bench/README):
# a transcript captured from the real Claude Code CLI (run against the fake
# Anthropic API of tests/agents, the Bash/Read/Edit script), repeated to
# about SIZE_MB, through the claude-code type's parse_line
# (bench_agent_parse), and through `jq -c .` as a peer on the same file.
# Target: parse_line at least 5x jq's rate.
#
#   bench_agent_parse.sh [BUILD_DIR] [SIZE_MB]
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
SRC=$(cd "$HERE/../.." && pwd)
BUILD=$(cd "${1:-$SRC}" && pwd)
SIZE_MB=${2:-50}
CLAUDE="$SRC/tests/agents/node_modules/@anthropic-ai/claude-code/bin/claude.exe"
T=$(mktemp -d /tmp/bosun-bench-parse.XXXXXX)
FAKE=
cleanup() {
    [ -n "$FAKE" ] && kill "$FAKE" 2>/dev/null && wait "$FAKE" 2>/dev/null
    rm -rf "$T"
}
trap cleanup EXIT
if ! [ -x "$CLAUDE" ]; then
    echo "bench_agent_parse: the Claude Code CLI is not installed (cd tests/agents && npm ci); skipped"
    exit 0
fi
node "$SRC/tests/agents/fake_anthropic.mjs" "$T/port" "$T/fake.log" &
FAKE=$!
for _ in $(seq 1 100); do [ -s "$T/port" ] && break; sleep 0.1; done
mkdir -p "$T/home" "$T/work"
(cd "$T/work" && env HOME="$T/home" ANTHROPIC_BASE_URL="http://127.0.0.1:$(cat "$T/port")" \
    ANTHROPIC_API_KEY=sk-ant-fake CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC=1 DISABLE_TELEMETRY=1 \
    DISABLE_AUTOUPDATER=1 DISABLE_ERROR_REPORTING=1 \
    timeout 120 "$CLAUDE" -p --output-format stream-json --verbose \
    --allowedTools=Bash --allowedTools=Read --allowedTools=Edit -- "SCENARIO:tools DIR:$T/work") \
    > "$T/one.jsonl"
one=$(stat -c %s "$T/one.jsonl")
[ "$one" -gt 0 ] || { echo "bench_agent_parse: the CLI printed nothing" >&2; exit 1; }
copies=$(( SIZE_MB * 1000000 / one + 1 ))
for _ in $(seq 1 "$copies"); do cat "$T/one.jsonl"; done > "$T/big.jsonl"
echo "transcript: $(wc -l < "$T/one.jsonl") lines ($one bytes) from Claude Code $("$CLAUDE" --version | cut -d' ' -f1), repeated $copies times"
"$BUILD/tests/bench/bench_agent_parse" "$T/big.jsonl" 5 | tee "$T/ours"
size=$(stat -c %s "$T/big.jsonl"); lines=$(wc -l < "$T/big.jsonl")
best=
for _ in 1 2 3; do
    t0=$(date +%s.%N); jq -c . "$T/big.jsonl" > /dev/null; t1=$(date +%s.%N)
    s=$(awk "BEGIN { print $t1 - $t0 }")
    if [ -z "$best" ] || awk "BEGIN { exit !($s < $best) }"; then best=$s; fi
done
awk "BEGIN { printf \"jq -c . (best of 3): %.3f s, %.0f lines/s, %.1f MB/s\\n\", $best, $lines / $best, $size / 1e6 / $best }"
ours=$(sed -n 's/.*median of [0-9]*: \([0-9.]*\) s.*/\1/p' "$T/ours")
awk "BEGIN { printf \"parse_line / jq: %.1fx (target >= 5x)\\n\", $best / $ours }"
