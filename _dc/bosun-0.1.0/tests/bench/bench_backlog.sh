#!/bin/bash
# Memory with slow subscribers: SUBS connections subscribe to evt.> on the
# control socket and never read, while one agent prints LINES lines as fast
# as it can (seq).  Reports the daemon's peak memory (VmHWM), the slowest
# ping on another connection during the flood, output lines stored per
# second, and how many slow subscribers were cut off.
#   bench_backlog.sh [BUILD_DIR]      (BENCH_SLOW_SUBS=100, BENCH_LINES=1000000)
# Everything runs in a temporary directory on a unix socket; every wait has
# a deadline; the daemon and the helpers are stopped by their PIDs.
set -u
here=$(cd "$(dirname "$0")" && pwd)
BUILD=$(cd "${1:-$here/../..}" && pwd) || exit 2
SUBS=${BENCH_SLOW_SUBS:-100}
LINES=${BENCH_LINES:-1000000}
BOSUND="$BUILD/bosund"
BOSUNCTL="$BUILD/bosunctl"
if [ -x "$BUILD/.libs/bosund" ] && [ -x "$BUILD/.libs/bosunctl" ]; then
    BOSUND="$BUILD/.libs/bosund"
    BOSUNCTL="$BUILD/.libs/bosunctl"
    export LD_LIBRARY_PATH="$BUILD/.libs${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
fi
[ -x "$BOSUND" ] && [ -x "$BOSUNCTL" ] || { echo "bench: build first (make)" >&2; exit 2; }
T=$(mktemp -d "${TMPDIR:-/tmp}/bosun-bench.XXXXXX") || exit 2
PIDS=()
DPID=
cleanup() {
    local p
    for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null; wait "$p" 2>/dev/null; done
    if [ -n "$DPID" ]; then
        kill -TERM "$DPID" 2>/dev/null
        for _ in $(seq 1 100); do kill -0 "$DPID" 2>/dev/null || break; sleep 0.1; done
        kill -KILL "$DPID" 2>/dev/null
        wait "$DPID" 2>/dev/null
    fi
    [ -n "${BENCH_KEEP:-}" ] && echo "kept $T" >&2 || rm -rf "$T"
}
trap cleanup EXIT
mkdir -p "$T/state" "$T/run"
cat > "$T/bosun.yaml" <<EOF2
daemon:
  machine_id: bench
  state_dir: $T/state
  runtime_dir: $T/run
  log_level: info
  plugin_path: [$BUILD/plugins/sqlite, $BUILD/plugins/exec]
  plugins: [sqlite, exec]
agents:
  flood:
    command: [seq, "1", "$LINES"]
    start_secs: 0
    restart: never
EOF2
SOCK="$T/run/bosund.sock"
ctl() { "$BOSUNCTL" -s "$SOCK" "$@"; }
"$BOSUND" -c "$T/bosun.yaml" 2> "$T/bosund.log" &
DPID=$!
for _ in $(seq 1 200); do ctl status >/dev/null 2>&1 && break; sleep 0.1; done
ctl status >/dev/null || { echo "bench: bosund did not start" >&2; exit 1; }

# Subscribers that never read (a small receive buffer, so the daemon queues).
cat > "$T/stuck.py" <<'EOF3'
import socket, sys, time
conns = []
for _ in range(int(sys.argv[2])):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    s.connect(sys.argv[1])
    s.sendall(b'{"id":1,"op":"sub","pattern":"evt.>"}\n')
    conns.append(s)
print("ready", flush=True)
time.sleep(600)
EOF3
# A client that keeps up: ping every 50 ms, the slowest round trip kept.
cat > "$T/pinger.py" <<'EOF3'
import socket, sys, time, os
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.connect(sys.argv[1])
worst = 0.0; n = 0
f = s.makefile("rb")
while not os.path.exists(sys.argv[2]):
    t = time.monotonic()
    s.sendall(b'{"id":1,"op":"ping"}\n')
    if not f.readline():
        break
    worst = max(worst, time.monotonic() - t); n += 1
    time.sleep(0.05)
print("%.1f %d" % (worst * 1000, n), flush=True)
EOF3
python3 "$T/stuck.py" "$SOCK" "$SUBS" > "$T/stuck.out" &
PIDS+=($!)
for _ in $(seq 1 300); do grep -q ready "$T/stuck.out" 2>/dev/null && break; sleep 0.1; done
python3 "$T/pinger.py" "$SOCK" "$T/stop" > "$T/ping.out" &
PING=$!
rss0=$(sed -n 's/^VmRSS:[^0-9]*\([0-9]*\).*/\1/p' "/proc/$DPID/status")
t0=$(date +%s.%N)
run=$(ctl start flood)
done_at=
for _ in $(seq 1 3000); do # 300 s at most
    n=$(ctl request cmd.store.events "{\"subject\":\"evt.run.flood.$run.output\",\"tail\":1}" --json 2>/dev/null |
        sed -n 's/.*"n":\([0-9]*\).*/\1/p' | head -1)
    if [ "${n:-0}" -ge "$LINES" ]; then done_at=$(date +%s.%N); break; fi
    sleep 0.1
done
touch "$T/stop"
wait "$PING"
hwm=$(sed -n 's/^VmHWM:[^0-9]*\([0-9]*\).*/\1/p' "/proc/$DPID/status")
cut=$(grep -c "slow consumer\|output not read" "$T/bosund.log")
read -r worst pings < "$T/ping.out"
echo "backlog: $SUBS slow subscribers, $LINES lines ($BUILD)"
echo "  daemon VmRSS before     ${rss0} kB"
echo "  daemon VmHWM            ${hwm} kB"
if [ -n "$done_at" ]; then
    echo "  lines stored/s          $(echo "$LINES / ($done_at - $t0)" | bc)"
else
    echo "  lines stored/s          n/a (not all stored within 300 s)"
fi
echo "  slowest ping            ${worst} ms (of $pings)"
echo "  subscribers cut off     $cut of $SUBS"
