#!/usr/bin/env bash
# stream-json parsing benchmark for the codex and gemini types (issue 14,
# part a; see tests/bench/README): a transcript captured from each real CLI
# (run against the fakes of tests/agents-cg, the shell-command script),
# repeated to about SIZE_MB, through the type's parse_line
# (bench_agent_parse FILE 5 TYPE), and through `jq -c .` as a peer on the
# same file.  Target: parse_line at least 5x jq's rate.
#
#   bench_cg_parse.sh [BUILD_DIR] [SIZE_MB]
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
SRC=$(cd "$HERE/../.." && pwd)
BUILD=$(cd "${1:-$SRC}" && pwd)
SIZE_MB=${2:-50}
BIN="$SRC/tests/agents-cg/node_modules/.bin"
T=$(mktemp -d /tmp/bosun-bench-cg.XXXXXX)
FAKE=
stop_fake() { if [ -n "$FAKE" ]; then kill "$FAKE" 2>/dev/null; wait "$FAKE" 2>/dev/null || true; FAKE=; fi; }
trap 'stop_fake; rm -rf "$T"' EXIT
if ! [ -x "$BIN/codex" ] || ! [ -x "$BIN/gemini" ]; then
    echo "bench_cg_parse: the Codex and Gemini CLIs are not installed (cd tests/agents-cg && npm ci); skipped"
    exit 0
fi

# fake SCRIPT: the fake API on 127.0.0.1 (its output away from the
# transcript); sets URL.
fake() {
    rm -f "$T/port"
    node "$SRC/tests/agents-cg/$1" "$T/port" "$T/fake.log" > /dev/null 2>&1 &
    FAKE=$!
    for _ in $(seq 1 100); do [ -s "$T/port" ] && break; sleep 0.1; done
    URL="http://127.0.0.1:$(cat "$T/port")"
}

capture_codex() {
    fake fake_openai.mjs
    mkdir -p "$T/codex-home" "$T/work" "$T/home"
    printf 'model = "fake-model"\nmodel_provider = "fake"\n[model_providers.fake]\nname = "fake"\nbase_url = "%s/v1"\nenv_key = "FAKE_KEY"\nwire_api = "responses"\n' \
        "$URL" > "$T/codex-home/config.toml"
    (cd "$T/work" && env HOME="$T/home" CODEX_HOME="$T/codex-home" FAKE_KEY=k timeout 120 \
        "$BIN/codex" exec --json --skip-git-repo-check -c 'sandbox_mode="workspace-write"' \
        -- "SCENARIO:shell DIR:$T/work" < /dev/null 2>/dev/null)
    stop_fake
}

capture_gemini() {
    fake fake_gemini.mjs
    mkdir -p "$T/gemini-home/.gemini" "$T/work"
    echo '{"security":{"auth":{"selectedType":"gemini-api-key"}},"privacy":{"usageStatisticsEnabled":false}}' \
        > "$T/gemini-home/.gemini/settings.json"
    (cd "$T/work" && env GEMINI_CLI_HOME="$T/gemini-home" GEMINI_API_KEY=k GOOGLE_GEMINI_BASE_URL="$URL" \
        timeout 120 "$BIN/gemini" --output-format stream-json --skip-trust --model gemini-2.5-flash \
        --approval-mode yolo "--prompt=SCENARIO:shell DIR:$T/work" < /dev/null 2>/dev/null)
    stop_fake
}

# bench TYPE: capture, repeat, parse_line against jq.
bench() {
    "capture_$1" > "$T/one.jsonl" || true
    local one; one=$(stat -c %s "$T/one.jsonl")
    [ "$one" -gt 0 ] || { echo "bench_cg_parse: $1 printed nothing" >&2; exit 1; }
    local copies=$(( SIZE_MB * 1000000 / one + 1 ))
    for _ in $(seq 1 "$copies"); do cat "$T/one.jsonl"; done > "$T/big.jsonl"
    echo "transcript: $(wc -l < "$T/one.jsonl") lines ($one bytes) from $1 $("$BIN/$1" --version | tr -d '\n'), repeated $copies times"
    "$BUILD/tests/bench/bench_agent_parse" "$T/big.jsonl" 5 "$1" | tee "$T/ours"
    local size lines best= s t0 t1
    size=$(stat -c %s "$T/big.jsonl"); lines=$(wc -l < "$T/big.jsonl")
    for _ in 1 2 3; do
        t0=$(date +%s.%N); jq -c . "$T/big.jsonl" > /dev/null; t1=$(date +%s.%N)
        s=$(awk "BEGIN { print $t1 - $t0 }")
        if [ -z "$best" ] || awk "BEGIN { exit !($s < $best) }"; then best=$s; fi
    done
    awk "BEGIN { printf \"jq -c . (best of 3): %.3f s, %.0f lines/s, %.1f MB/s\\n\", $best, $lines / $best, $size / 1e6 / $best }"
    local ours; ours=$(sed -n 's/.*median of [0-9]*: \([0-9.]*\) s.*/\1/p' "$T/ours")
    awk "BEGIN { printf \"parse_line ($1) / jq: %.1fx (target >= 5x)\\n\", $best / $ours }"
}

bench codex
bench gemini
