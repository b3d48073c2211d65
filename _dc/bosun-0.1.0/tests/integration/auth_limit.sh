#!/bin/sh
# Guessing agent tokens costs time: on the agent socket a peer (uid) gets a
# burst of failed token checks, then is refused with "rate_limited" without
# its token being looked at (a valid one too) until its bucket refills;
# refusals are logged with a count and never with the token presented.
. "$top_srcdir/tests/integration/lib.sh"
plan 10
mkdir -p "$T/out"
BOSUN_PLUGIN_PATH="$BOSUN_PLUGIN_PATH:$top_builddir/plugins/mcp"
write_config <<EOF2
  plugins: [sqlite, exec, mcp]
agents:
  holder:
    command: [sh, -c, 'echo "\$\$BOSUN_AGENT_TOKEN \$\$BOSUN_RUN_ID" > $T/out/tok.new && mv $T/out/tok.new $T/out/tok; exec sleep 3600']
    start_secs: 0
    restart: never
EOF2
start_daemon || exit 1
run=$(ctl start holder)
wait_for 20 test -s "$T/out/tok"
read -r token tok_run < "$T/out/tok"
is "the agent got its run's token" "$tok_run" "$run"

cat > "$T/guess.py" <<'EOF2'
import json, socket, sys, time
sock, token, run = sys.argv[1], sys.argv[2], sys.argv[3]

def attempt(tok):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(20)
    s.connect(sock)
    f = s.makefile('rb')
    s.sendall((json.dumps({'id': 1, 'op': 'mcp', 'token': tok, 'run': run}) + '\n').encode())
    r = json.loads(f.readline())
    s.close()
    return 'ok' if r.get('ok') else r['error']['code']

def bad(i):
    return 'bat_' + 'GUESS' * 7 + '%08d' % i

print('guesses:', ' '.join(attempt(bad(i)) for i in range(50)))
# While limited, the valid token is refused too.  Should the bucket gain a
# token between the two attempts (a loaded machine), the valid one works
# and forgets the peer: guess again until limited and retry (bounded).
valid = 'none'
for round in range(5):
    for i in range(100):
        if attempt(bad(1000 + i)) == 'rate_limited':
            break
    valid = attempt(token)
    if valid == 'rate_limited':
        break
print('valid while limited:', valid)
later = 'rate_limited'
for i in range(120):
    later = attempt(token)
    if later != 'rate_limited':
        break
    time.sleep(0.25)
print('valid later:', later)
EOF2
out=$(/usr/bin/python3 "$T/guess.py" "$T/run/agent.sock" "$token" "$run" 2>&1)
guesses=$(echo "$out" | sed -n 's/^guesses: //p')
is "the first bad token is checked and refused" "${guesses%% *}" unauthorized
is "later guesses are refused as rate-limited" "${guesses##* }" rate_limited
is "every guess is refused" "$(echo "$guesses" | tr ' ' '\n' | grep -cvE '^(unauthorized|rate_limited)$')" 0
is "a valid token is refused while the peer is limited" \
    "$(echo "$out" | sed -n 's/^valid while limited: //p')" rate_limited
is "once the bucket refills, the valid token works" "$(echo "$out" | sed -n 's/^valid later: //p')" ok
log=$(cat "$T/bosund.log")
like "the refusals are logged with a count and the peer" "$log" \
    "agent socket: [0-9]+ authentication attempts refused as rate-limited and [0-9]+ bad tokens .*uid 0, pid [0-9]+"
unlike "no guessed token is logged" "$log" "GUESSGUESS"
unlike "nor the valid one" "$log" "$token"
stop_daemon
is "daemon stops: exit 0" "$DAEMON_STATUS" 0
done_testing
