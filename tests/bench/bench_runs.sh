#!/usr/bin/env bash
# bench_runs.sh BUILD_DIR NAME CMD [ARG...] — how make bench runs each of
# its parts: CMD BENCH_RUNS (3) times with the machine's load printed
# before each run, then the median and range over the runs of every figure
# the part printed as a "result:" line, the verdicts on the exact medians
# (bench_lib.sh's bench_runs).  Exits with the first failing run's status.
set -u
export LC_ALL=C
here=$(cd "$(dirname "$0")" && pwd)
[ $# -ge 3 ] || { echo "usage: $0 BUILD_DIR NAME CMD [ARG...]" >&2; exit 64; }
BUILD=$(cd "$1" && pwd) || exit 2
NAME=$2
shift 2
. "$here/bench_lib.sh"
bench_runs "$NAME" "$@"
