#!/usr/bin/env bash
# bosun-llm's tools on their own (tests/llm/tools_drive, no model): what a
# bash call costs, what the workspace scan after it adds when nothing
# changed (the "cheap when nothing changed" of issue 15), and the file
# tools' per-call cost.
#
#   bench_llm_tools.sh [BUILD_DIR] [FILES] [CALLS]
#
# Prints, for CALLS calls of `bash true`, the ms per call in an empty
# workspace and in one of FILES files (1 KiB each, 100 directories), the
# difference being the scan of an unchanged workspace; then the µs per
# write_file, read_file and edit_file call (10 x CALLS of each).
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
SRC=$(cd "$HERE/../.." && pwd)
BUILD=$(cd "${1:-$SRC}" && pwd)
FILES=${2:-10000}
CALLS=${3:-200}
DRIVE="$BUILD/tests/llm/tools_drive"
# The real program, not libtool's wrapper script (whose start would count).
if [ -x "$BUILD/tests/llm/.libs/tools_drive" ]; then
    DRIVE="$BUILD/tests/llm/.libs/tools_drive"
    export LD_LIBRARY_PATH="$BUILD/.libs${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
fi
[ -x "$DRIVE" ] || { echo "bench: build first (make tests/llm/tools_drive)" >&2; exit 2; }
T=$(mktemp -d /tmp/bosun-bench-llm.XXXXXX)
trap 'rm -rf "$T"' EXIT

# run NAME WORKSPACE CALLS_FILE: seconds the whole run took.
run() {
    printf '{"workspace":"%s","files":{"scan_max_files":1000000}}\n' "$2" > "$T/$1.cfg"
    local t0 t1
    t0=$(date +%s.%N)
    timeout 600 "$DRIVE" "$T/$1.cfg" < "$3" > "$T/$1.out"
    t1=$(date +%s.%N)
    local answered
    answered=$(grep -c '"event":"result"' "$T/$1.out")
    [ "$answered" -eq "$(wc -l < "$3")" ] || { echo "bench: $1: $answered answers" >&2; exit 1; }
    awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.6f", b - a }'
}

mkdir -p "$T/empty" "$T/full"
for d in $(seq 1 100); do
    mkdir -p "$T/full/d$d"
    for f in $(seq 1 $((FILES / 100))); do head -c 1024 /dev/zero > "$T/full/d$d/f$f"; done
done
for i in $(seq 1 "$CALLS"); do echo "{\"id\":\"b$i\",\"name\":\"bash\",\"args\":{\"command\":\"true\"}}"; done > "$T/bash.calls"
: > "$T/none.calls"
base_empty=$(run none0 "$T/empty" "$T/none.calls")
base_full=$(run none1 "$T/full" "$T/none.calls")
empty=$(run empty "$T/empty" "$T/bash.calls")
full=$(run full "$T/full" "$T/bash.calls")
changed=$(jq -s '[.[] | select(.event=="result") | .detail.scan.changed] | add' "$T/full.out")
awk -v e="$empty" -v f="$full" -v be="$base_empty" -v bf="$base_full" -v n="$CALLS" -v files="$FILES" -v c="$changed" 'BEGIN {
    pe = (e - be) / n * 1000; pf = (f - bf) / n * 1000
    printf "bash true, empty workspace:      %.3f ms per call (%d calls)\n", pe, n
    printf "bash true, %d unchanged files: %.3f ms per call (scan: %.3f ms, %.2f us per file; %d changes reported)\n", files, pf, pf - pe, (pf - pe) * 1000 / files, c
}'

OPS=$((CALLS * 10))
for i in $(seq 1 "$OPS"); do
    echo "{\"id\":\"w$i\",\"name\":\"write_file\",\"args\":{\"path\":\"dir/f$i.txt\",\"content\":\"line one\\nline two $i\\n\"}}"
done > "$T/write.calls"
for i in $(seq 1 "$OPS"); do
    echo "{\"id\":\"r$i\",\"name\":\"read_file\",\"args\":{\"path\":\"dir/f$i.txt\"}}"
done > "$T/read.calls"
for i in $(seq 1 "$OPS"); do
    echo "{\"id\":\"e$i\",\"name\":\"edit_file\",\"args\":{\"path\":\"dir/f$i.txt\",\"search\":\"two\",\"replace\":\"2\"}}"
done > "$T/edit.calls"
mkdir -p "$T/files"
base=$(run none2 "$T/files" "$T/none.calls")
for op in write read edit; do
    s=$(run "$op" "$T/files" "$T/$op.calls")
    awk -v s="$s" -v b="$base" -v n="$OPS" -v op="$op" 'BEGIN { printf "%s_file: %.1f us per call\n", op, (s - b) / n * 1e6 }'
done
