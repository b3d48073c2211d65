#!/bin/sh
# The fleet tests' TCP proxy (tests/helpers/tcp_proxy.py) does what they
# rely on: forwards both ways; frozen (SIGUSR1) it forwards nothing and
# closes nothing, and accepts no new connection; thawed (SIGUSR2) it
# delivers what was held; SIGHUP closes the connections and keeps
# listening; each accept and each refused target is logged with its time;
# it exits by itself after its time limit.
. "$top_srcdir/tests/integration/lib.sh"
plan 9

PY=/usr/bin/python3
cat > "$T/echo.py" <<'EOF'
import socket, sys, threading, time
srv = socket.socket()
srv.bind(("127.0.0.1", 0))
srv.listen(16)
open(sys.argv[1], "w").write("%d\n" % srv.getsockname()[1])
srv.settimeout(60)
def serve(c):
    while True:
        d = c.recv(4096)
        if not d:
            break
        c.sendall(d)
    c.close()
end = time.time() + 60
while time.time() < end:
    try:
        c, _ = srv.accept()
    except OSError:
        break
    threading.Thread(target=serve, args=(c,), daemon=True).start()
EOF
# The client: a command per argument, the results as words on stdout.
cat > "$T/client.py" <<'EOF'
import signal, socket, sys, time
port, pid = int(sys.argv[1]), int(sys.argv[2])
c = socket.create_connection(("127.0.0.1", port), timeout=5)
c.settimeout(1)
def recv():
    try:
        d = c.recv(100)
        return d.decode() if d else "EOF"
    except socket.timeout:
        return "nothing"
for step in sys.argv[3:]:
    if step.startswith("sig:"):
        import os
        os.kill(pid, getattr(signal, step[4:]))
        time.sleep(0.3)
    elif step.startswith("send:"):
        c.sendall(step[5:].encode())
    elif step == "recv":
        print(recv())
    elif step == "connect2":
        d = socket.socket()
        d.settimeout(1)
        d.connect(("127.0.0.1", port))  # the kernel's backlog completes it
        d.sendall(b"x")
        try:
            r = d.recv(10)
            print("answered" if r else "EOF")
        except socket.timeout:
            print("unanswered")
        d.close()
EOF
timeout 60 $PY "$T/echo.py" "$T/echo.port" & epid=$!
wait_for 10 test -s "$T/echo.port"
"$PY" "$top_srcdir/tests/helpers/tcp_proxy.py" "$T/proxy.port" "$(cat "$T/echo.port")" 30 > "$T/proxy.log" 2>&1 &
ppid=$!
check "the proxy writes its port" wait_for 10 test -s "$T/proxy.port"
pp=$(cat "$T/proxy.port")
out=$(timeout 30 $PY "$T/client.py" "$pp" "$ppid" send:hi recv sig:SIGUSR1 send:held recv connect2 \
    sig:SIGUSR2 recv sig:SIGHUP recv | tr '\n' ' ')
set -- $out
is "forwards both ways" "$1" hi
is "frozen: forwards nothing and does not close" "$2" nothing
is "frozen: a new connection is not served" "$3" unanswered
is "thawed: what was held is delivered" "$4" held
is "SIGHUP: the connection is closed" "$5" EOF
is "each accept is logged with its time (the one held while frozen too)" "$(grep -c "^accept [0-9.]*$" "$T/proxy.log")" 2
kill "$epid"; wait "$epid" 2>/dev/null
$PY -c "import socket; socket.create_connection(('127.0.0.1', $pp), timeout=5).recv(1)" 2>/dev/null
like "a refused target is logged" "$(cat "$T/proxy.log")" '^refused [0-9.]+$'
# Started with a 1 s limit, it is gone within a few seconds.
"$PY" "$top_srcdir/tests/helpers/tcp_proxy.py" "$T/p2.port" 9 1 > /dev/null 2>&1 &
p2=$!
check "it exits by itself after its time limit" wait_for 10 pid_dead "$p2"
wait "$p2" 2>/dev/null
kill "$ppid" 2>/dev/null
wait "$ppid" 2>/dev/null
done_testing
