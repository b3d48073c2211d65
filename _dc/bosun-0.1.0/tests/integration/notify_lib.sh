# Shared parts of the notify plugin's tests: the HTTP receiver (webhook and
# ntfy, tests/notify/receiver.py) and the SMTP sink, each on 127.0.0.1 on a
# free port, and the daemon with the notify plugin on its path.
. "$top_srcdir/tests/integration/lib.sh"

PY=/usr/bin/python3
BOSUN_PLUGIN_PATH="$BOSUN_PLUGIN_PATH:$top_builddir/plugins/notify"
export BOSUN_PLUGIN_PATH
SECRET="whsec-$(od -An -N16 -tx1 /dev/urandom | tr -d ' \n')"
printf '%s\n' "$SECRET" > "$T/hook.secret"
printf 'tk_ntfy_%s\n' "$(od -An -N8 -tx1 /dev/urandom | tr -d ' \n')" > "$T/ntfy.token"
chmod 600 "$T/hook.secret" "$T/ntfy.token"
RECV_PID=
SINK_PID=

notify_cleanup() {
    [ -n "$RECV_PID" ] && kill "$RECV_PID" 2>/dev/null
    [ -n "$SINK_PID" ] && kill "$SINK_PID" 2>/dev/null
    cleanup
}
trap notify_cleanup EXIT

# start_receiver: the HTTP receiver; its port in $RPORT, its log $T/recv.log.
start_receiver() {
    : > "$T/recv.log"
    "$PY" "$top_srcdir/tests/notify/receiver.py" "$T/recv.port" "$T/recv.log" "$SECRET" &
    RECV_PID=$!
    wait_for 10 test -s "$T/recv.port" || { echo "# the receiver did not start"; return 1; }
    RPORT=$(cat "$T/recv.port")
}

# free_port: a port nothing listens on (bound then closed: refused).
free_port() {
    "$PY" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# recv PATH_PREFIX: the receiver's requests whose path starts so, as JSON lines.
recv() { jq -c --arg p "$1" 'select(.path | startswith($p))' "$T/recv.log"; }
recv_count() { recv "$1" | wc -l | tr -d ' '; }
# recv_at_least PREFIX N: for wait_for.
recv_at_least() { [ "$(recv_count "$1")" -ge "$2" ]; }

# notify_events CHANNEL KIND: the stored evt.notify.CHANNEL.KIND events.
notify_events() {
    ctl request cmd.store.events "{\"subject\":\"evt.notify.$1.$2\",\"limit\":10000}" --json |
        jq -c '.data.events'
}
notify_status() { ctl request cmd.notify.status '{}' --json | jq -c .data; }
