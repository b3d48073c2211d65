#!/bin/bash
# bench_llm_files.sh [BUILD_DIR] — an llm session's file log in the store
# (cmd.llm.files.*, see tests/bench/README): BENCH_LLM_RECORDS (20,000)
# writes of 300 random bytes over 50 paths recorded on one control socket
# connection, then 21 replays of the latest version (paths and hashes, no
# contents), once with the default llm_snapshot_bytes (10K) and once with
# 1G (no snapshot is ever taken).  Prints the time of one record (request
# to committed reply), the median replay, and the snapshots and blobs kept.
set -u
BUILD=$(cd "${1:-$(dirname "$0")/../..}" && pwd)
. "$(dirname "$0")/bench_lib.sh"
N=${BENCH_LLM_RECORDS:-20000}

one() {
    local d="$T/$1" port run
    port=$(free_port)
    bosund_config "$d" "$port" <<EOF
sqlite:
  llm_snapshot_bytes: $1
agents:
  coder:
    command: [sleep, "3600"]
    start_secs: 0
EOF
    bosund_start "$d" || return 1
    run=$(ctl start coder)
    machine_load "llm_snapshot_bytes $1"
    python3 - "$SOCK" "$run" "$N" "$1" <<'PY'
import base64, json, os, socket, sys, time
sock, run, n, label = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
s = socket.socket(socket.AF_UNIX)
s.connect(sock)
f = s.makefile("rwb")
seq = 0
def req(subject, data):
    global seq
    seq += 1
    f.write((json.dumps({"op": "request", "id": seq, "subject": subject, "data": data,
                         "timeout": 30}) + "\n").encode())
    f.flush()
    while True:
        m = json.loads(f.readline())
        if m.get("id") == seq:
            data = m.get("result", {}).get("data") if m.get("ok") else None
            if not isinstance(data, dict) or "error" in data:
                sys.exit("bench: %s: %s" % (subject, m))
            return data
t0 = time.monotonic()
for k in range(n):
    req("cmd.llm.files.record", {"run": run, "path": "f%d.bin" % (k % 50), "op": "write",
                                 "content_base64": base64.b64encode(os.urandom(300)).decode()})
t1 = time.monotonic()
ts = []
for _ in range(21):
    a = time.monotonic()
    r = req("cmd.llm.files.replay", {"run": run, "version": n, "content": False})
    ts.append(time.monotonic() - a)
assert len(r["files"]) == 50
ts.sort()
print("  llm_snapshot_bytes %s: %d records, %.3f ms each; replay of version %d: median %.2f ms"
      % (label, n, (t1 - t0) / n * 1000, n, ts[10] * 1000))
PY
    echo "  kept: $(sqlite3 "$d/state/bosun.db" "SELECT count(*) FROM file_snapshots") snapshots, $(sqlite3 "$d/state/bosun.db" "SELECT count(*) FROM blobs") blobs"
    stop_pid "$DPID"
}

echo "bench_llm_files: $N records"
one 10K && one 1G
