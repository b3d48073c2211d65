#!/bin/sh
# The daemon's start as clients see it: while the supervisor waits for the
# store's answer about runs an earlier daemon left (here a store plugin
# that takes 4 s, tests/plugins/slow_store.c), the daemon already serves
# HTTP and its control socket, /health answers 503 "starting", its status
# says starting and systemd has not been told READY=1; once the answer
# came, the autostart agent starts, "bosund ready" is logged,
# sys.<machine>.ready published, READY=1 sent, and /health answers 200.
# A plugin added by a reload later hears no such event: it asks, and its
# /health is ready at once.  A reload before the start is complete does
# not tell systemd READY=1 early.
. "$top_srcdir/tests/integration/lib.sh"
. "$top_srcdir/tests/integration/http_lib.sh"
plan 21

LISTEN="$top_builddir/tests/helpers/notify_listen"
# config PLUGINS...: the slow store, exec and the given plugins (http:
# its section too), and one autostart agent.
config() {
    _list="slow_store, exec"
    for _p in "$@"; do _list="$_list, $_p"; done
    { echo "  plugins: [$_list]"
      printf 'slow_store:\n  delay: 4s\n'
      [ $# -eq 0 ] || printf 'http:\n  listen: "127.0.0.1:0"\n'
      printf 'agents:\n  early:\n    command: [sleep, "600"]\n    autostart: true\n    start_secs: 0\n'
    } | write_config
}
config http
"$LISTEN" "$T/notify.sock" 60 > "$T/notify.out" &
LPID=$!
wait_for 5 test -S "$T/notify.sock"
NOTIFY_SOCKET="$T/notify.sock" start_daemon || exit 1
ctl sub 'sys.*.ready' --count 1 > "$T/ready.out" &
subpid=$!
wait_for 10 http_ready 127.0.0.1
P=$(port_of 127.0.0.1)
U="http://127.0.0.1:$P"

# --- starting
out=$(curl -s --max-time 5 -w '\n%{http_code}' "$U/health")
is "while the store has not answered: /health 503" "$(printf '%s' "$out" | tail -1)" 503
is "  status starting" "$(printf '%s' "$out" | head -1 | jq -r .status)" starting
is "  with the machine" "$(printf '%s' "$out" | head -1 | jq -r .machine)" test-machine
is "the daemon's status says starting" "$(ctl status --json | jq -r .state)" starting
like "  and so does its table" "$(ctl status)" '^bosund .*, up .*, starting$'
unlike "systemd not told READY=1 yet" "$(cat "$T/notify.out")" 'READY=1'
like "  but told why" "$(cat "$T/notify.out")" 'STATUS=starting'
is "the autostart agent not started yet" "$(ctl ps --json | jq -r '.[0].state')" STOPPED
unlike "no ready notice yet" "$(cat "$T/bosund.log")" 'bosund ready'
kill -HUP "$DAEMON_PID"
wait_for 5 grep -q 'configuration reloaded meanwhile' "$T/notify.out"
like "a reload meanwhile says starting to systemd" "$(cat "$T/notify.out")" 'STATUS=starting: recovering runs \(configuration reloaded meanwhile\)'
unlike "  and not READY=1" "$(cat "$T/notify.out")" 'READY=1'

# --- ready
wait_for 20 sh -c "curl -s --max-time 2 '$U/health' | grep -q '\"ok\"'"
out=$(curl -s --max-time 5 -w '\n%{http_code}' "$U/health")
is "once the store answered: /health 200" "$(printf '%s' "$out" | tail -1)" 200
is "  status ok" "$(printf '%s' "$out" | head -1 | jq -r .status)" ok
is "the daemon's status says running" "$(ctl status --json | jq -r .state)" running
unlike "  its table no longer says starting" "$(ctl status | head -1)" 'starting'
wait_for 10 grep -q READY=1 "$T/notify.out"
like "systemd told READY=1" "$(cat "$T/notify.out")" 'READY=1'
log=$(cat "$T/bosund.log")
like "the ready notice, after the store's answer" "$(printf '%s\n' "$log" | grep -E 'slow_store: answered|bosund ready' | tr '\n' ' ')" \
    'slow_store: answered cmd\.store\.runs after 4\.0 s.*<5>bosund ready after [4-9]\.[0-9]+ s'
wait_for 10 test -s "$T/ready.out"
wait $subpid
like "sys.test-machine.ready published" "$(cat "$T/ready.out")" '^sys\.test-machine\.ready \{"startup": *[4-9]\.'
wait_for 10 sh -c "\"$BOSUNCTL\" -s \"$T/run/bosund.sock\" ps --json | jq -r '.[0].state' | grep -q RUNNING"
is "then the autostart agent started" "$(ctl ps --json | jq -r '.[0].state')" RUNNING

# --- a plugin added by a reload asks instead
config
ctl reload >/dev/null 2>&1
wait_for 10 sh -c "! curl -s --max-time 1 '$U/health' >/dev/null"
config http
: > "$T/bosund.log"
ctl reload >/dev/null 2>&1
wait_for 10 http_ready 127.0.0.1
P=$(port_of 127.0.0.1)
wait_for 10 sh -c "curl -s --max-time 2 'http://127.0.0.1:$P/health' | grep -q '\"ok\"'"
out=$(curl -s --max-time 5 -o /dev/null -w '%{http_code}' "http://127.0.0.1:$P/health")
is "http added by a reload: /health 200 without a new ready event" "$out" 200
stop_daemon
is "the daemon stops cleanly" "$DAEMON_STATUS" 0
wait $LPID
