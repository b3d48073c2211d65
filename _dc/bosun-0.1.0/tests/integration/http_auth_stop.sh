#!/bin/sh
# Credential checks still on the bus when the http plugin stops: many
# parallel clients present agent tokens (checked over the bus every time),
# admin tokens seen for the first time, and /ws first-frame auths, while
# the plugin is taken out by a reload, and again while bosund stops on
# SIGTERM.  Every waiting request, connection and login must be answered
# or freed: the daemon exits 0, and in a sanitizer build LeakSanitizer
# reports nothing (it makes the exit status non-zero when it does).
. "$top_srcdir/tests/integration/lib.sh"
plan 9
. "$top_srcdir/tests/integration/http_lib.sh"
http_boot
mkdir -p "$T/out"
http_section() {
    cat <<EOF2
agents:
  holder:
    command: [sh, -c, 'echo "\$\$BOSUN_AGENT_TOKEN" > $T/out/tok.new && mv $T/out/tok.new $T/out/tok; exec sleep 3600']
    start_secs: 0
    restart: never
EOF2
    [ "$1" = with ] && printf 'http:\n  listen: "127.0.0.1:%s"\n' "$PORT"
}
write_config <<EOF2
  plugins: [sqlite, exec, http]
$(http_section with)
EOF2
start_daemon || exit 1
wait_for 20 curl -s -o /dev/null "$U/health"
ctl start holder >/dev/null
wait_for 20 test -s "$T/out/tok"
: > "$T/admin.toks"
for i in $(seq 1 40); do ctl token create --name "t$i" >> "$T/admin.toks" 2>/dev/null; done

# The clients: each thread its own keep-alive connection, credentials in
# turn (the agent token, then the next admin token never used yet, then a
# /ws first-frame auth), until $T/stop exists or 60 s have passed.
cat > "$T/hammer.py" <<'EOF3'
import base64, http.client, json, os, socket, sys, threading, time
port, agent, admins, stop, count = int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4], sys.argv[5]
fresh = open(admins).read().split()
lock = threading.Lock()
done = [0]

def ws_auth(token):
    s = socket.create_connection(("127.0.0.1", port), timeout=5)
    key = base64.b64encode(os.urandom(16)).decode()
    s.sendall(("GET /ws HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
               "Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: %s\r\n\r\n" % key).encode())
    s.recv(4096)
    body = json.dumps({"op": "auth", "token": token}).encode()
    mask = os.urandom(4)
    n = len(body)
    head = bytes([0x81, 0x80 | n]) if n < 126 else bytes([0x81, 0x80 | 126]) + n.to_bytes(2, "big")
    s.sendall(head + mask + bytes(b ^ mask[i % 4] for i, b in enumerate(body)))
    s.recv(4096)
    s.close()

def client(n):
    end = time.monotonic() + 60
    c = None
    i = 0
    while not os.path.exists(stop) and time.monotonic() < end:
        i += 1
        try:
            if i % 3 == 0:
                ws_auth(agent)
            else:
                with lock:
                    tok = fresh.pop() if fresh and i % 3 == 1 else agent
                if c is None:
                    c = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
                c.request("GET", "/api/v1/auth/me", headers={"Authorization": "Bearer " + tok})
                c.getresponse().read()
            with lock:
                done[0] += 1
                if done[0] % 50 == 0:
                    open(count + ".new", "w").write(str(done[0]))
                    os.replace(count + ".new", count)
        except Exception:
            c = None
            time.sleep(0.01)

ts = [threading.Thread(target=client, args=(n,)) for n in range(16)]
for t in ts:
    t.start()
for t in ts:
    t.join()
print(done[0])
EOF3
atok=$(cat "$T/out/tok")
storm() {
    rm -f "$T/stop" "$T/count"
    /usr/bin/python3 "$T/hammer.py" "$PORT" "$atok" "$1" "$T/stop" "$T/count" > "$T/hammer.out" 2>&1 &
    HAMMER=$!
    wait_for 30 sh -c "[ \"\$(cat '$T/count' 2>/dev/null || echo 0)\" -ge 200 ]"
}

# 1. The plugin taken out by a reload in the middle of it.
storm "$T/admin.toks"
check "the clients are being answered" test "$(cat "$T/count" 2>/dev/null || echo 0)" -ge 200
write_config <<EOF2
  plugins: [sqlite, exec]
$(http_section without)
EOF2
kill -HUP "$DAEMON_PID"
wait_for 20 grep -q 'stopping plugin http' "$T/bosund.log"
touch "$T/stop"
wait "$HAMMER"
check "the daemon lives on without http" ctl status
unlike "no sanitizer report so far" "$(cat "$T/bosund.log")" 'Sanitizer|runtime error'

# 2. Back, and SIGTERM in the middle of it.
write_config <<EOF2
  plugins: [sqlite, exec, http]
$(http_section with)
EOF2
kill -HUP "$DAEMON_PID"
wait_for 20 curl -s -o /dev/null "$U/health"
: > "$T/admin2.toks"
for i in $(seq 1 40); do ctl token create --name "u$i" >> "$T/admin2.toks" 2>/dev/null; done
storm "$T/admin2.toks"
check "the clients are being answered again" test "$(cat "$T/count" 2>/dev/null || echo 0)" -ge 200
stop_daemon
touch "$T/stop"
wait "$HAMMER"
is "bosund exits 0 with checks in flight" "$DAEMON_STATUS" 0
unlike "LeakSanitizer finds nothing" "$(cat "$T/bosund.log")" 'LeakSanitizer|leaked in'
unlike "AddressSanitizer finds nothing" "$(cat "$T/bosund.log")" 'AddressSanitizer|runtime error'
like "the http plugin stopped with the daemon" "$(cat "$T/bosund.log")" 'stopping|stopped'
check "the hammer finished" test -s "$T/hammer.out"
done_testing
