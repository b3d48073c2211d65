#!/bin/sh
# bosunctl against a real daemon: status, pub/sub, request/reply, errors,
# socket discovery, and the raw protocol surviving bad input.
. "$top_srcdir/tests/integration/lib.sh"
plan 40

out=$("$BOSUNCTL" -s "$T/run/bosund.sock" status 2>&1); st=$?
is "no daemon: exit 69" "$st" 69
like "no daemon: said plainly" "$out" "bosund is not running"

write_config <<'EOF2'
  plugins: [heartbeat]
heartbeat:
  interval: 1h
EOF2
start_daemon || exit 1

is "socket mode is 0660" "$(stat -c %a "$T/run/bosund.sock")" 660
out=$(ctl status)
like "status table: version and pid" "$out" "^bosund [0-9.]+, pid $DAEMON_PID, up [0-9]+s"
like "status table: machine" "$out" "machine: +test-machine"
like "status table: plugins" "$out" "plugins: +heartbeat"
json=$(ctl status --json)
like "status --json: pid, machine, version" "$json" "\"pid\":$DAEMON_PID.*"
like "status --json: machine_id" "$json" '"machine_id":"test-machine"'
like "status --json: uptime is a number" "$json" '"uptime":[0-9.]+'
like "status --json: plugins array" "$json" '"plugins":\["heartbeat"\]'
like "peer uid logged on connect" "$(cat "$T/bosund.log")" "control client #[0-9]+ connected \\(uid $(id -u), pid [0-9]+\\)"

# --- request / reply
out=$(ctl request sys.ping '{}')
like "request sys.ping: reply data printed" "$out" '"pong": true'
json=$(ctl request sys.test-machine.ping '{}' --json)
like "request --json: whole reply message" "$json" '"subject":"_INBOX\.[^"]+".*"machine":"test-machine"'
out=$(ctl request nobody.home '{}' 2>&1); st=$?
is "request with no responders: exit 1" "$st" 1
like "request with no responders: said" "$out" "nothing answers"

base=$(sub_count)
ctl sub 'slow.service' --count 1 > "$T/slow.out" &
SUBPID=$!
wait_subs $((base + 1))
out=$(ctl request slow.service '{"q":1}' --timeout 0.3 2>&1); st=$?
is "request timeout: exit 1" "$st" 1
like "request timeout: said" "$out" "no reply before the timeout"
wait $SUBPID
like "the silent service saw the request with a reply subject" "$(cat "$T/slow.out")" '^slow.service reply=_INBOX\.[^ ]+ \{"q": ?1\}'

# --- pub / sub, order and filtering
base=$(sub_count)
ctl sub 'test.>' --count 3 --json > "$T/sub.out" &
SUBPID=$!
wait_subs $((base + 1))
ctl pub test.a '{"n":1}'
ctl pub other.a '{"n":99}'
ctl pub test.b.c '{"n":2}'
ctl pub test.a '[3]'
ctl pub test.a '{"n":4}'
wait $SUBPID; st=$?
is "sub --count 3 exits 0 after three messages" "$st" 0
is "sub got exactly three lines" "$(wc -l < "$T/sub.out" | tr -d ' ')" 3
like "in publish order, filtered by pattern" "$(tr '\n' ' ' < "$T/sub.out")" \
    '"subject":"test.a".*"n":1.*"subject":"test.b.c".*"n":2.*"subject":"test.a".*\[3\]'
like "each message has a time" "$(head -1 "$T/sub.out")" '"time":[0-9.]+'

out=$(ctl pub 'bad..subject' '{}' 2>&1); st=$?
is "pub to an invalid subject: usage error 64" "$st" 64
like "invalid subject named" "$out" "invalid subject 'bad..subject'"
out=$(ctl pub test.a '{broken' 2>&1); st=$?
is "pub with invalid JSON: exit 64" "$st" 64
like "invalid JSON explained" "$out" "invalid JSON"
out=$(ctl sub 'a.>.b' 2>&1); st=$?
is "sub with '>' not last: exit 64" "$st" 64

# --- discovery: BOSUN_SOCKET and -c
like "BOSUN_SOCKET finds the daemon" "$(BOSUN_SOCKET="$T/run/bosund.sock" "$BOSUNCTL" status --json)" "\"pid\":$DAEMON_PID"
like "-c CONFIG finds the daemon" "$(env -u BOSUN_SOCKET "$BOSUNCTL" -c "$T/bosun.yaml" status --json)" "\"pid\":$DAEMON_PID"

# --- raw protocol: bad input gets errors and the connection goes on
out=$(printf '%s\n' '{not json' '[1,2]' '{"id":7,"op":"launch"}' '{"id":8,"op":"pub","subject":"a..b"}' '{"id":9,"op":"ping"}' |
      "$top_builddir/tests/helpers/unix_send" "$T/run/bosund.sock" 10)
like "bad JSON: bad_json error" "$out" '"code":"bad_json"'
like "non-object: bad_request" "$out" '"ok":false,"error":\{"code":"bad_request"'
like "unknown op: unknown_op with the request id" "$out" '"id":7,"ok":false,"error":\{"code":"unknown_op"'
like "invalid subject: invalid_subject" "$out" '"id":8,"ok":false,"error":\{"code":"invalid_subject"'
like "the same connection still answers afterwards" "$out" '"id":9,"ok":true,"result":\{"pong":true\}'

# --- who may connect: the socket mode, then the kernel's peer credentials
if [ "$(id -u)" -eq 0 ] && command -v setpriv >/dev/null; then
    chmod 755 "$T" "$T/run"
    as_nobody() { setpriv --reuid=nobody --regid=nogroup --clear-groups "$@"; }
    out=$(as_nobody "$BOSUNCTL" -s "$T/run/bosund.sock" status 2>&1); st=$?
    is "another user, mode 0660: exit 77" "$st" 77
    like "another user: told plainly" "$out" "permission denied"
    stop_daemon
    sed -i 's/^daemon:$/daemon:\n  control_socket_mode: "0666"/' "$T/bosun.yaml"
    start_daemon || exit 1
    chmod 755 "$T/run"
    out=$(as_nobody "$BOSUNCTL" -s "$T/run/bosund.sock" status 2>&1); st=$?
    check "another user, mode 0666: still refused (exit $st)" test "$st" -ne 0
    like "refusal logged with the uid" "$(cat "$T/bosund.log")" "refused uid $(id -u nobody)"
    # A member of the socket's group by the groups its process holds (not
    # by the group database, where nobody is no member of 'daemon').
    stop_daemon
    sed -i 's/^  control_socket_mode: "0666"$/  control_socket_mode: "0660"\n  control_socket_group: daemon/' "$T/bosun.yaml"
    start_daemon || exit 1
    chmod 755 "$T/run"
    gid=$(getent group daemon | cut -d: -f3)
    out=$(setpriv --reuid=nobody --regid=nogroup --groups="$gid" "$BOSUNCTL" -s "$T/run/bosund.sock" status 2>&1); st=$?
    is "a process holding the socket's group as a supplementary group: admitted" "$st" 0
    out=$(as_nobody "$BOSUNCTL" -s "$T/run/bosund.sock" status 2>&1); st=$?
    check "the same user without that group: refused (exit $st)" test "$st" -ne 0
else
    for i in 1 2 3 4 5 6; do _n=$((_n + 1)); echo "ok $_n # SKIP needs root and setpriv"; done
fi
stop_daemon
done_testing
