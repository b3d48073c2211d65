#!/bin/sh
# bosunctl --url: the same commands give the same output over the HTTP API
# as over the control socket (ps, start, stop, logs --tail, events, task
# create/list/show, input list/answer, status, token list); -f follows
# live events over /ws; a bad token, a token file others may read, an
# unreachable URL and a command with no REST equivalent each fail clearly
# with their exit code; TLS with a test CA is verified, and --cacert makes
# it pass.
. "$top_srcdir/tests/integration/lib.sh"
if [ ! -e "$top_builddir/plugins/http/http.la" ]; then
    echo "1..0 # SKIP the http plugin is not built"
    exit 0
fi
command -v jq >/dev/null || { echo "1..0 # SKIP needs jq"; exit 0; }
plan 61
BOSUN_PLUGIN_PATH="$BOSUN_PLUGIN_PATH:$top_builddir/plugins/http"
export BOSUN_PLUGIN_PATH
unset BOSUN_URL BOSUN_TOKEN_FILE

# The daemon, on a free port: port 0, the bound one read from its log.
config() {
    write_config <<EOF2
  plugins: [sqlite, exec, http]
http:
  listen: ["127.0.0.1:0"]
$1
agents:
  once:
    command: [sh, -c, 'for i in 1 2 3 4 5; do echo "once \$i"; done']
    restart: never
    start_secs: 0
  slow:
    command: [sh, -c, 'i=0; while [ \$i -lt 600 ]; do i=\$((i+1)); echo "slow \$i"; sleep 0.1; done']
    restart: never
    start_secs: 0
  ticker:
    command: [sh, -c, 'for i in 1 2 3 4 5 6; do echo "tick \$i"; sleep 0.3; done']
    restart: never
    start_secs: 0
EOF2
}
bound_port() {
    sed -n 's/.*http: listening on 127\.0\.0\.1:\([0-9][0-9]*\).*/\1/p' "$T/bosund.log" | tail -1
}
start_http() {
    : > "$T/bosund.log"
    start_daemon || exit 1
    wait_for 10 sh -c "grep -q 'http: listening on' '$T/bosund.log'" || {
        echo "# no http listener; the log:"; sed 's/^/#   /' "$T/bosund.log"; exit 1; }
    PORT=$(bound_port)
}
config ""
start_http
URL="http://127.0.0.1:$PORT"
ctl token create --name cli-url > "$T/token" 2>/dev/null
chmod 600 "$T/token"
url() { "$BOSUNCTL" --url "$URL" --token-file "$T/token" "$@"; }

# ---- the same output both ways
r_once=$(ctl start once)
wait_for 10 stored_state_is "$r_once" EXITED
is "ps: the same table over --url (an ended run)" "$(url ps 2>&1)" "$(ctl ps 2>&1)"
like "ps shows the run" "$(url ps)" "once +$r_once +EXITED"
is "logs --tail 3: the same lines" "$(url logs "$r_once" --tail 3 2>&1)" \
    "$(ctl logs "$r_once" --tail 3 2>&1)"
is "logs --tail 3: the last three" "$(url logs "$r_once" --tail 3)" "$(printf 'once 3\nonce 4\nonce 5')"
is "logs: all of them" "$(url logs "$r_once")" "$(ctl logs "$r_once")"
is "events --subject: the same events" "$(url events --subject "evt.run.*.$r_once.*" 2>&1)" \
    "$(ctl events --subject "evt.run.*.$r_once.*" 2>&1)"
like "events has the output and the end" "$(url events --subject "evt.run.*.$r_once.*")" \
    "evt.run.once.$r_once.state .*EXITED"
is "events --json --tail 2: the same" "$(url --json events --tail 2 2>&1)" \
    "$(ctl --json events --tail 2 2>&1)"

r_url=$(url start slow)
like "start over --url prints the run id" "$r_url" '^[0-9A-Z]{26}$'
wait_for 10 run_state_is "$r_url" RUNNING
is "ps --json (without uptime): the same" "$(url --json ps | jq -c 'map(del(.uptime))')" \
    "$(ctl --json ps | jq -c 'map(del(.uptime))')"
is "stop over --url" "$(url stop "$r_url" 2>&1)" "stopped $r_url"
is "the run stopped" "$(stored_run "$r_url" state)" "STOPPED"
out=$(url stop 01ARZ3NDEKTSV4RRFFQ69G5FAV 2>&1); rc=$?
is "stop of an unknown run: the socket's words" "$out" \
    "$(ctl stop 01ARZ3NDEKTSV4RRFFQ69G5FAV 2>&1)"
is "stop of an unknown run: exit 1" "$rc" 1

task=$(url task create --title "over http" --prompt "do it" 2>&1)
like "task create over --url prints the task id" "$task" '^[0-9A-Z]{26}$'
is "task list: the same" "$(url task list 2>&1)" "$(ctl task list 2>&1)"
like "task list has it" "$(url task list)" "$task +over http +open"
is "task show: the same" "$(url task show "$task" 2>&1)" "$(ctl task show "$task" 2>&1)"
like "task show: its title" "$(url task show "$task")" "title: +over http"

r_task=$(ctl start slow --task "$task")
wait_for 10 run_state_is "$r_task" RUNNING
input=$(ctl request cmd.input.create "{\"run\":\"$r_task\",\"question\":\"which way?\"}" --json |
    jq -r .data.input)
is "input list --pending: the same" "$(url input list --pending 2>&1)" \
    "$(ctl input list --pending 2>&1)"
like "input list has the question" "$(url input list --pending)" "$input +$task +$r_task +pending +which way"
is "input answer over --url" "$(url input answer "$input" left 2>&1)" "answered $input"
is "the answer is stored" "$(ctl --json input list | jq -r ".[] | select(.input == \"$input\") | .answer")" "left"
put() { ctl request cmd.store.artifacts.put "{\"task\":\"$task\",\"run\":\"$r_task\",\"name\":\"$1\",\"mime_type\":\"$2\",\"$3\":\"$4\"}" >/dev/null; }
put notes.txt text/plain text 'first draft'
put notes.txt text/plain text 'second draft'
put blob.bin application/octet-stream base64 AAECA/7/
is "artifact list: the same" "$(url artifact list "$task" 2>&1)" "$(ctl artifact list "$task" 2>&1)"
like "artifact list: two versions of the notes" "$(url artifact list "$task")" "notes.txt +2 +2 "
is "artifact get: the latest text" "$(url artifact get "$task" notes.txt 2>&1)" "second draft"
is "artifact get --version 1: the same" "$(url artifact get "$task" notes.txt --version 1 2>&1)" \
    "$(ctl artifact get "$task" notes.txt --version 1 2>&1)"
is "artifact get of bytes: the same bytes" "$(url artifact get "$task" blob.bin | od -An -tx1)" \
    "$(ctl artifact get "$task" blob.bin | od -An -tx1)"
out=$(url artifact get "$task" nothing.txt 2>&1); rc=$?
is "artifact get of nothing: the socket's words and status" "$out $rc" \
    "$(ctl artifact get "$task" nothing.txt 2>&1) 1"

out=$(url restart "$r_task" 2>&1)
like "restart over --url: the socket's words" "$out" "^restarted $r_task\$"
r_again=$(ctl --json ps | jq -r '.[] | select(.agent == "slow" and .state != "STOPPED") | .run' | head -1)
wait_for 10 run_state_is "$r_again" RUNNING
is "stop AGENT over --url: each active run of it" "$(url stop slow 2>&1)" "stopped $r_again"
is "stop AGENT with nothing running: the socket's words" "$(url stop slow 2>&1)" \
    "$(ctl stop slow 2>&1)"
out=$(url stop nosuchagent 2>&1); rc=$?
is "stop of an unknown agent: the socket's words and status" "$out $rc" \
    "$(ctl stop nosuchagent 2>&1) 1"
# Its runs have ended: nothing moves the task's time between the two.
wait_for 10 stored_state_is "$r_again" STOPPED
is "task show with runs, questions, artifacts: the same" "$(url task show "$task" 2>&1)" \
    "$(ctl task show "$task" 2>&1)"

status_core() { grep -E '^(bosund|machine|config|state dir|runtime dir|log level|plugins|store):' |
    sed 's/, up [0-9a-z]*$//; s/ [0-9]* events, last seq [0-9]*.*//'; }
is "status: the same daemon" "$(url status 2>&1 | status_core)" "$(ctl status 2>&1 | status_core)"
like "status names the machine" "$(url status)" "machine: +test-machine"
is "token list (without last use): the same" \
    "$(url --json token list | jq -c 'map(del(.last_used_at))')" \
    "$(ctl --json token list | jq -c 'map(del(.last_used_at))')"
like "token list shows our token" "$(url token list)" "cli-url"

# ---- following over /ws
r_tick=$(ctl start ticker)
timeout 30 "$BOSUNCTL" --url "$URL" --token-file "$T/token" logs -f "$r_tick" > "$T/follow.out" 2>&1
rc=$?
is "logs -f over --url ends with the run" "$rc" 0
is "logs -f got every line, once, in order" "$(cat "$T/follow.out")" \
    "$(printf 'tick 1\ntick 2\ntick 3\ntick 4\ntick 5\ntick 6')"

last=$(ctl --json events --tail 1 | jq -r .seq)
follow() { # OUT ARGS...: a follower in the background, its pid in $fpid
    _out=$1; shift
    "$BOSUNCTL" --url "$URL" --token-file "$T/token" "$@" > "$_out" 2>&1 &
    fpid=$!
}
unfollow() { # PID: interrupted, as a user would, and reaped
    kill -INT "$1" 2>/dev/null
    for _i in $(seq 1 50); do kill -0 "$1" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$1" 2>/dev/null
    wait "$1"
}
follow "$T/events.out" events -f --since "$last" --subject 'evt.run.*.*.output'
pid_text=$fpid
follow "$T/events.json" --json events -f --since "$last" --subject 'evt.run.ticker.*.output'
pid_json=$fpid
r_live=$(ctl start ticker)
wait_for 20 sh -c "grep -q 'tick 6' '$T/events.out' && grep -q 'tick 6' '$T/events.json'"
unfollow "$pid_text"
unfollow "$pid_json"
like "events -f over --url received the live lines" "$(cat "$T/events.out")" "tick 6"
is "events -f: six lines of the new run" "$(grep -c "evt.run.ticker.$r_live.output" "$T/events.out")" 6
seqs=$(awk '{print $1}' "$T/events.out")
is "events -f: no duplicate seq" "$(printf '%s\n' "$seqs" | sort -n | uniq -d | wc -l)" 0
is "events -f: in order" "$(printf '%s\n' "$seqs" | sort -n | tr '\n' ' ')" \
    "$(printf '%s\n' "$seqs" | tr '\n' ' ')"
is "events -f: the same as the store has" "$(cat "$T/events.out")" \
    "$(ctl events --since "$last" --subject 'evt.run.*.*.output')"
is "events -f --json over /ws: the stored form, as over the socket" "$(cat "$T/events.json")" \
    "$(ctl --json events --since "$last" --subject 'evt.run.ticker.*.output')"

# ---- failures, clearly
printf 'bsn_adm_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\n' > "$T/bad"
chmod 600 "$T/bad"
out=$("$BOSUNCTL" --url "$URL" --token-file "$T/bad" ps 2>&1); rc=$?
is "a bad token: exit 77" "$rc" 77
like "a bad token: said so" "$out" "refused the token"
out=$("$BOSUNCTL" --url "$URL" --token-file "$T/bad" events -f 2>&1); rc=$?
is "a bad token on /ws: exit 77" "$rc" 77
chmod 644 "$T/bad"
out=$("$BOSUNCTL" --url "$URL" --token-file "$T/bad" ps 2>&1); rc=$?
is "a token file others may read: refused (exit 78)" "$rc" 78
like "a token file others may read: said why" "$out" "readable or writable by others.*chmod 600"
out=$(url plugins 2>&1); rc=$?
is "plugins over --url: exit 64" "$rc" 64
like "plugins over --url: not available, said why" "$out" "plugins is not available over --url"
port_closed=$(/usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()')
out=$("$BOSUNCTL" --url "http://127.0.0.1:$port_closed" --token-file "$T/token" ps 2>&1); rc=$?
is "an unreachable URL: exit 69" "$rc" 69
like "an unreachable URL: said so" "$out" "cannot reach bosund at http://127.0.0.1:$port_closed"
out=$(BOSUN_URL="$URL" BOSUN_TOKEN_FILE="$T/token" "$BOSUNCTL" ps 2>&1)
like "BOSUN_URL and BOSUN_TOKEN_FILE are the defaults" "$out" "once +$r_once"
out=$(BOSUN_URL="http://127.0.0.1:$port_closed" BOSUN_SOCKET="$(SOCK)" "$BOSUNCTL" ps 2>&1)
like "BOSUN_SOCKET (set for agents) wins over BOSUN_URL" "$out" "once +$r_once"

# ---- TLS with a test CA
stop_daemon
openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=bosun test CA" \
    -keyout "$T/ca.key" -out "$T/ca.pem" >/dev/null 2>&1
openssl req -newkey rsa:2048 -nodes -subj "/CN=127.0.0.1" -keyout "$T/srv.key" \
    -out "$T/srv.csr" >/dev/null 2>&1
printf 'subjectAltName=IP:127.0.0.1\n' > "$T/san.ext"
openssl x509 -req -in "$T/srv.csr" -CA "$T/ca.pem" -CAkey "$T/ca.key" -CAcreateserial \
    -days 2 -extfile "$T/san.ext" -out "$T/srv.pem" >/dev/null 2>&1
chmod 600 "$T/srv.key"
config "  tls: {cert: $T/srv.pem, key: $T/srv.key}"
start_http
URL="https://127.0.0.1:$PORT"
out=$(url ps 2>&1); rc=$?
is "TLS without --cacert: refused (exit 69)" "$rc" 69
like "TLS without --cacert: the certificate is the reason" "$out" "[Cc]ertificate"
is "TLS with --cacert: the same ps" "$(url --cacert "$T/ca.pem" ps 2>&1)" "$(ctl ps 2>&1)"
r_tls=$(ctl start ticker)
timeout 30 "$BOSUNCTL" --url "$URL" --token-file "$T/token" --cacert "$T/ca.pem" logs -f "$r_tls" \
    > "$T/tls.out" 2>&1
is "TLS: logs -f over /ws got every line" "$(cat "$T/tls.out")" \
    "$(printf 'tick 1\ntick 2\ntick 3\ntick 4\ntick 5\ntick 6')"
done_testing
