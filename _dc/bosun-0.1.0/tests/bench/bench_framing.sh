#!/usr/bin/env bash
# Control-socket framing benchmark (see tests/bench/README): one control
# request of SIZE bytes (default 1 MiB, a "ping" with a long padding
# field) sent in 512-byte writes, and the daemon CPU it cost, read from
# /proc/PID/stat (utime + stime) before and after.  A daemon that rescans
# its buffer from byte 0 on every read spends time quadratic in SIZE.
#
#   bench_framing.sh [BUILD_DIR] [SIZE]
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
SRC=$(cd "$HERE/../.." && pwd)
BUILD=$(cd "${1:-$SRC}" && pwd)
SIZE=${2:-1048576}
T=$(mktemp -d /tmp/bosun-bench-framing.XXXXXX)
PID=
cleanup() {
    [ -n "$PID" ] && kill "$PID" 2>/dev/null && wait "$PID" 2>/dev/null
    rm -rf "$T"
}
trap cleanup EXIT
mkdir -p "$T/state" "$T/run"
cat > "$T/bosun.yaml" <<EOF2
daemon:
  machine_id: bench
  state_dir: $T/state
  runtime_dir: $T/run
  log_level: warning
  plugins: []
EOF2
"$BUILD/bosund" -c "$T/bosun.yaml" 2>"$T/bosund.log" &
PID=$!
for _ in $(seq 1 100); do "$BUILD/bosunctl" -s "$T/run/bosund.sock" status >/dev/null 2>&1 && break; sleep 0.1; done
/usr/bin/python3 - "$T/run/bosund.sock" "$PID" "$SIZE" <<'EOP'
import json, os, socket, sys, time
path, pid, size = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
tick = os.sysconf("SC_CLK_TCK")
def cpu():
    f = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
    return (int(f[11]) + int(f[12])) / tick
head = b'{"id":1,"op":"ping","pad":"'
req = head + b"x" * (size - len(head) - 3) + b'"}\n'
s = socket.socket(socket.AF_UNIX)
s.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 1024)
s.connect(path)
before = cpu()
# A short pause after each write lets the daemon read it alone, as from a
# slow client, instead of many writes at once.
for i in range(0, len(req), 512):
    s.sendall(req[i:i + 512])
    time.sleep(0.0002)
reply = b""
while not reply.endswith(b"\n"):
    chunk = s.recv(65536)
    if not chunk:
        break
    reply += chunk
after = cpu()
assert json.loads(reply)["result"]["pong"], reply
print(f"control request of {len(req)} bytes in 512-byte writes: daemon CPU {after - before:.2f} s")
EOP
