#!/bin/sh
# Descriptors run out: with `ulimit -n 64` and more control connections
# than that, bosund must not spin on the listening socket nor flood its log
# (accept failed: Too many open files), and answers again once the
# connections close.
. "$top_srcdir/tests/integration/lib.sh"
plan 4

write_config <<EOF2
  plugins: []
EOF2
# The limit for bosund alone (ulimit -n sets the soft and the hard one).
(ulimit -n 64 && exec "$BOSUND" -c "$T/bosun.yaml" 2>>"$T/bosund.log") &
DAEMON_PID=$!
wait_for 20 ctl status || { sed 's/^/#   /' "$T/bosund.log"; exit 1; }

# 200 connections held for 3 s; the daemon's CPU time (utime + stime) over
# the last 2 s of it.  A daemon that spins used 0.66 s of it on a loaded
# machine (and wrote 780,000 log lines); one that waits uses next to none.
/usr/bin/python3 - "$(SOCK)" "$DAEMON_PID" > "$T/cpu" <<'EOP'
import os, socket, sys, time
path, pid = sys.argv[1], int(sys.argv[2])
tick = os.sysconf("SC_CLK_TCK")
def cpu():
    f = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
    return (int(f[11]) + int(f[12])) / tick
socks = []
for _ in range(200):
    s = socket.socket(socket.AF_UNIX)
    s.setblocking(False)
    try:
        s.connect(path)
    except OSError:
        pass  # the backlog is full
    socks.append(s)
time.sleep(1)
before = cpu()
time.sleep(2)
print(f"{cpu() - before:.2f}")
for s in socks:
    s.close()
EOP
cpu=$(cat "$T/cpu")
echo "# daemon CPU over 2 s with descriptors exhausted: $cpu s"
check "the daemon does not spin (CPU $cpu s of 2 s)" awk -v c="$cpu" 'BEGIN { exit !(c < 0.3) }'
n=$(grep -c 'accept failed' "$T/bosund.log")
echo "# accept failures logged: $n"
check "accept failures are logged, at a bounded rate ($n lines)" test "$n" -ge 1 -a "$n" -le 20
check "the daemon answers once the connections are closed" wait_for 20 ctl status
check "and says it accepts again" wait_for 10 grep -q 'accepting connections again' "$T/bosund.log"
stop_daemon
done_testing
