#!/bin/sh
# bosunctl --url: every command of bosunctl --help gives the same output
# over the HTTP API as over the control socket (status, request, ps, start,
# stop, restart, logs, events, task, input, artifact, token), or is refused
# saying why (plugins, reload, pub, sub, mcp); status and start read the
# store's status from GET /api/v1/status (no /ws), stop|restart AGENT is
# one POST to the agent's route; -f follows live events over /ws; a bad
# token (401), a forbidden call (403), no such run (404), a token file
# others may read, an unreachable URL, a server that never answers and a
# certificate from another CA each fail with one clear line and the
# socket's exit code; the routes it added (the store in GET /api/v1/status,
# POST /api/v1/agents/{name}/stop|restart) answer curl with their errors
# (400, 403, 404, 405); TLS with a test CA is verified, and --cacert makes
# it pass.
. "$top_srcdir/tests/integration/lib.sh"
if [ ! -e "$top_builddir/plugins/http/http.la" ]; then
    echo "1..0 # SKIP the http plugin is not built"
    exit 0
fi
command -v jq >/dev/null || { echo "1..0 # SKIP needs jq"; exit 0; }
plan 114
BOSUN_PLUGIN_PATH="$BOSUN_PLUGIN_PATH:$top_builddir/plugins/http"
export BOSUN_PLUGIN_PATH
unset BOSUN_URL BOSUN_TOKEN_FILE

# The daemon, on a free port: port 0, the bound one read from its log.
config() {
    write_config <<EOF2
  plugins: [${PLUGINS:-sqlite, exec, http}]
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
  keeper:
    command: [sh, -c, 'umask 077; printf "%s\\n" "\$BOSUN_AGENT_TOKEN" > "$T/agent.token"; sleep 600']
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
# The daemon's access log since a mark: which routes a command used.
mark() { wc -l < "$T/bosund.log"; }
since_mark() { tail -n "+$(($1 + 1))" "$T/bosund.log"; }

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
m=$(mark)
is "stop AGENT over --url: each active run of it" "$(url stop slow 2>&1)" "stopped $r_again"
like "stop AGENT: one POST to the agent's route" "$(since_mark "$m")" '"POST /api/v1/agents/slow/stop" 200'
unlike "stop AGENT: no agents list first" "$(since_mark "$m")" '"GET /api/v1/agents"'
is "stop AGENT with nothing running: the socket's words" "$(url stop slow 2>&1)" \
    "$(ctl stop slow 2>&1)"
out=$(url stop nosuchagent 2>&1); rc=$?
is "stop of an unknown agent: the socket's words and status" "$out $rc" \
    "$(ctl stop nosuchagent 2>&1) 1"
out=$(url restart nosuchagent 2>&1); rc=$?
is "restart of an unknown agent: the socket's words and status" "$out $rc" \
    "$(ctl restart nosuchagent 2>&1) 1"
# restart AGENT: of its active runs, then, with none, a start.
wait_for 10 stored_state_is "$r_again" STOPPED
m=$(mark)
out=$(url restart slow 2>&1)
like "restart AGENT with nothing running: starts it, as over the socket" "$out" '^started [0-9A-Z]{26}$'
like "restart AGENT: one POST to the agent's route" "$(since_mark "$m")" \
    '"POST /api/v1/agents/slow/restart" (200|201)'
r_rs=${out#started }
wait_for 10 run_state_is "$r_rs" RUNNING
is "restart AGENT with a run: the socket's words" "$(url restart slow 2>&1)" "restarted $r_rs"
wait_for 10 run_state_is "$r_rs" RUNNING
is "stop AGENT again: the restarted run" "$(url stop slow 2>&1)" "stopped $r_rs"
# Its runs have ended: nothing moves the task's time between the two.
wait_for 10 stored_state_is "$r_rs" STOPPED
is "task show with runs, questions, artifacts: the same" "$(url task show "$task" 2>&1)" \
    "$(ctl task show "$task" 2>&1)"

status_core() { grep -E '^(bosund|machine|config|state dir|runtime dir|log level|plugins|store):' |
    sed 's/, up [0-9a-z]*$//; s/ [0-9]* events, last seq [0-9]*.*//'; }
is "status: the same daemon" "$(url status 2>&1 | status_core)" "$(ctl status 2>&1 | status_core)"
like "status names the machine" "$(url status)" "machine: +test-machine"
like "status over --url has the store's line" "$(url status)" "store: +sqlite, [0-9]+ events"
n_ws() { grep -c '"GET /ws"' "$T/bosund.log"; }
ws0=$(n_ws)
m=$(mark)
url status >/dev/null 2>&1
is "status: one GET of /api/v1/status" "$(since_mark "$m" | grep -c '"GET /api/v1/status"')" 1
r_st=$(url start once 2>&1)
like "start over --url still prints the run id" "$r_st" '^[0-9A-Z]{26}$'
is "status and start over --url open no /ws" "$(n_ws)" "$ws0"
is "status --json: the same members, the store's among them" \
    "$(url --json status | jq -c 'keys')" "$(ctl --json status | jq -c 'keys')"
is "status --json: the store's backend and path" "$(url --json status | jq -c '.store | [.backend, .path]')" \
    "$(ctl --json status | jq -c '.store | [.backend, .path]')"
wait_for 10 stored_state_is "$r_st" EXITED
is "request of a mapped subject: the same reply" \
    "$(url request cmd.store.runs "{\"run\":\"$r_st\"}" 2>&1)" \
    "$(ctl request cmd.store.runs "{\"run\":\"$r_st\"}" 2>&1)"
out=$(url request cmd.proc.ps '{}' --json 2>&1)
is "request --json of cmd.proc.ps: the same rows" "$(printf '%s' "$out" | jq -c '.data.rows | map(del(.uptime))')" \
    "$(ctl request cmd.proc.ps '{}' --json | jq -c '.data.rows | map(del(.uptime))')"
out=$(url request cmd.nobody.home '{}' --timeout 2 2>&1); rc=$?
is "request nobody serves (over /ws): the socket's exit code, one line" \
    "$rc $(printf '%s\n' "$out" | wc -l)" \
    "$(ctl request cmd.nobody.home '{}' --timeout 2 >/dev/null 2>&1; echo $?) 1"
like "request nobody serves: said so" "$out" "^bosunctl: nobody answers 'cmd.nobody.home'"
tok=$(url token create --name url-made 2>&1)
like "token create over --url prints a new token" "$tok" '^bsn_adm_'
tid=$(ctl --json token list | jq -r '.[] | select(.name == "url-made") | .id')
like "token create over --url: listed on the daemon" "$tid" '.'
is "token revoke over --url: the socket's words" "$(url token revoke "$tid" 2>&1)" \
    "$(printf 'revoked %s' "$tid")"
unlike "token revoke: gone from the list" "$(url token list 2>&1)" "url-made"
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
is "a bad token (401): exit 77, one line" "$rc $(printf '%s\n' "$out" | wc -l)" "77 1"
like "a bad token: said so" "$out" "refused the token"
out=$("$BOSUNCTL" --url "$URL" --token-file "$T/bad" events -f 2>&1); rc=$?
is "a bad token on /ws: exit 77, one line" "$rc $(printf '%s\n' "$out" | wc -l)" "77 1"
chmod 644 "$T/bad"
out=$("$BOSUNCTL" --url "$URL" --token-file "$T/bad" ps 2>&1); rc=$?
is "a token file others may read: refused (exit 78)" "$rc" 78
like "a token file others may read: said why" "$out" "readable or writable by others.*chmod 600"
for c in plugins reload "pub evt.x {}" "sub evt.>" mcp; do
    out=$(url $c 2>&1); rc=$?
    is "${c%% *} over --url: one line, exit 64" "$rc $(printf '%s\n' "$out" | wc -l)" "64 1"
    like "${c%% *} over --url: not available, said why" "$out" "^bosunctl: ${c%% *} is not available over --url: .{20}"
done
out=$(url logs 01ARZ3NDEKTSV4RRFFQ69G5FAV 2>&1); rc=$?
is "logs of no such run (404): the socket's words and status" "$out $rc" \
    "$(ctl logs 01ARZ3NDEKTSV4RRFFQ69G5FAV 2>&1) $(ctl logs 01ARZ3NDEKTSV4RRFFQ69G5FAV >/dev/null 2>&1; echo $?)"
out=$(url task show 01ARZ3NDEKTSV4RRFFQ69G5FAV 2>&1); rc=$?
is "task show of no such task: the socket's words and status" "$out $rc" \
    "$(ctl task show 01ARZ3NDEKTSV4RRFFQ69G5FAV 2>&1) $(ctl task show 01ARZ3NDEKTSV4RRFFQ69G5FAV >/dev/null 2>&1; echo $?)"
# 403: an agent's token may not start agents.
r_keep=$(ctl start keeper)
wait_for 10 test -s "$T/agent.token"
out=$("$BOSUNCTL" --url "$URL" --token-file "$T/agent.token" start once 2>&1); rc=$?
is "a forbidden call (403): exit 1, as the socket's forbidden" "$rc" 1
like "a forbidden call (403): one line saying so" "$out" '^bosunctl: .*\(forbidden\)$'
# The routes bosunctl --url uses, with curl: "STATUS BODY".  The token goes
# in a header file, not on curl's command line.
api() { # METHOD PATH [TOKEN_FILE [BODY]]
    printf 'Authorization: Bearer %s\n' "$(cat "${3:-$T/token}")" > "$T/api.auth"
    if [ -n "${4:-}" ]; then
        set -- "$1" "$2" -H 'Content-Type: application/json' --data-raw "$4"
    else
        set -- "$1" "$2"
    fi
    _p=$2; _m=$1; shift 2
    _c=$(curl -s -o "$T/api.out" -w '%{http_code}' -X "$_m" -H @"$T/api.auth" "$@" "$URL$_p")
    printf '%s %s' "$_c" "$(cat "$T/api.out")"
}
out=$(api GET /api/v1/status)
is "GET /api/v1/status: 200 with the store's status" \
    "${out%% *} $(printf '%s' "${out#* }" | jq -r '.store.backend')" "200 sqlite"
is "GET /api/v1/status: the store's last seq, as the bus has it" \
    "$(printf '%s' "${out#* }" | jq -r '.store | has("last_seq") and has("events") and has("failing")')" "true"
out=$(api POST /api/v1/agents/slow/stop)
is "POST /agents/slow/stop with nothing running: 200, none stopped" "$out" '200 {"stopped":[]}'
out=$(api POST /api/v1/agents/nosuchagent/restart)
is "POST /agents/{unknown}/restart: 404 not_found" \
    "${out%% *} $(printf '%s' "${out#* }" | jq -r .error.code)" "404 not_found"
out=$(api POST /api/v1/agents/slow/stop "$T/token" '{"force":true}')
is "POST /agents/slow/stop with a body member: 400 naming it" \
    "${out%% *} $(printf '%s' "${out#* }" | jq -r .error.message | grep -c force)" "400 1"
out=$(api GET /api/v1/agents/slow/stop)
is "GET /agents/slow/stop: 405" "${out%% *}" 405
out=$(api POST /api/v1/agents/keeper/stop "$T/agent.token")
is "POST /agents/keeper/stop with an agent's token: 403, its own run kept" \
    "${out%% *} $(runf "$r_keep" state)" "403 RUNNING"
ctl stop "$r_keep" >/dev/null
# A server that takes the connection and never answers: the call's time
# limit (request --timeout 1, plus the transport's margin) ends it.
/usr/bin/python3 -c '
import socket, sys, time
s = socket.socket(); s.bind(("127.0.0.1", 0)); s.listen(8)
open(sys.argv[1], "w").write(str(s.getsockname()[1]))
conns = []
end = time.time() + 60
while time.time() < end:
    s.settimeout(1)
    try: conns.append(s.accept()[0])
    except socket.timeout: pass
' "$T/mute.port" &
mute=$!
wait_for 10 test -s "$T/mute.port"
out=$(timeout 40 "$BOSUNCTL" --url "http://127.0.0.1:$(cat "$T/mute.port")" --token-file "$T/token" \
    request cmd.proc.ps '{}' --timeout 1 2>&1); rc=$?
kill "$mute" 2>/dev/null; wait "$mute" 2>/dev/null
is "a server that never answers: exit 69, one line" "$rc $(printf '%s\n' "$out" | wc -l)" "69 1"
like "a server that never answers: timed out, said so" "$out" \
    '^bosunctl: cannot reach bosund at http://127.0.0.1:[0-9]+: .*[Tt]imed out'
port_closed=$(/usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()')
out=$("$BOSUNCTL" --url "http://127.0.0.1:$port_closed" --token-file "$T/token" ps 2>&1); rc=$?
is "an unreachable URL (refused): exit 69, one line" "$rc $(printf '%s\n' "$out" | wc -l)" "69 1"
like "an unreachable URL: said so" "$out" "cannot reach bosund at http://127.0.0.1:$port_closed"
out=$(BOSUN_URL="$URL" BOSUN_TOKEN_FILE="$T/token" "$BOSUNCTL" ps 2>&1)
like "BOSUN_URL and BOSUN_TOKEN_FILE are the defaults" "$out" "once +$r_st"
out=$(BOSUN_URL="http://127.0.0.1:$port_closed" BOSUN_SOCKET="$(SOCK)" "$BOSUNCTL" ps 2>&1)
like "BOSUN_SOCKET (set for agents) wins over BOSUN_URL" "$out" "once +$r_st"

# ---- the options of start, task create and input answer over --url
printf 'from a file' > "$T/prompt.txt"
out=$(url task create --title "with agent" --prompt-file "$T/prompt.txt" --agent once 2>&1)
t2=$(printf '%s\n' "$out" | head -n 1)
like "task create --agent over --url: the task, then its run" "$out" "^started run [0-9A-Z]{26} of once\$"
like "task create --prompt-file over --url: the prompt stored" "$(ctl task show "$t2")" "^  from a file\$"
r_pt=$(url start slow --task "$t2" --prompt-file "$T/prompt.txt" 2>&1)
like "start --task --prompt-file over --url: a run id" "$r_pt" '^[0-9A-Z]{26}$'
wait_for 10 run_state_is "$r_pt" RUNNING
is "start --task over --url: the run works on the task" "$(runf "$r_pt" task)" "$t2"
q=$(ctl request cmd.input.create \
    "{\"run\":\"$r_pt\",\"question\":\"pick\",\"choices\":[\"red\",\"blue\"]}" --json |
    jq -r .data.input)
is "input answer --choice over --url: the socket's words" "$(url input answer "$q" --choice 2 2>&1)" \
    "answered $q"
is "input answer --choice: the choice stored" \
    "$(ctl --json input list | jq -r ".[] | select(.input == \"$q\") | .answer")" "blue"
ctl stop "$r_pt" >/dev/null

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
is "TLS without --cacert: refused, one line, exit 69" "$rc $(printf '%s\n' "$out" | wc -l)" "69 1"
like "TLS without --cacert: the certificate is the reason" "$out" "[Cc]ertificate"
openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=another CA" \
    -keyout "$T/other.key" -out "$T/other.pem" >/dev/null 2>&1
out=$(url --cacert "$T/other.pem" ps 2>&1); rc=$?
is "TLS with another CA's --cacert: refused, one line, exit 69" \
    "$rc $(printf '%s\n' "$out" | wc -l)" "69 1"
like "TLS with another CA's --cacert: the certificate is the reason" "$out" \
    "^bosunctl: cannot reach bosund at https://127.0.0.1:$PORT: .*[Cc]ertificate"
is "TLS with --cacert: the same ps" "$(url --cacert "$T/ca.pem" ps 2>&1)" "$(ctl ps 2>&1)"
r_tls=$(ctl start ticker)
timeout 30 "$BOSUNCTL" --url "$URL" --token-file "$T/token" --cacert "$T/ca.pem" logs -f "$r_tls" \
    > "$T/tls.out" 2>&1
is "TLS: logs -f over /ws got every line" "$(cat "$T/tls.out")" \
    "$(printf 'tick 1\ntick 2\ntick 3\ntick 4\ntick 5\ntick 6')"

# ---- a daemon without a store: no store line either way, one GET
stop_daemon
PLUGINS="exec, http" config ""
start_http
URL="http://127.0.0.1:$PORT"
m=$(mark)
out=$(url status 2>&1)
is "status without a store: the socket's lines" "$(printf '%s\n' "$out" | status_core)" \
    "$(ctl status 2>&1 | status_core)"
unlike "status without a store: no store line" "$out" '^store'
is "status without a store: one GET, nothing asked again" \
    "$(since_mark "$m" | grep -c '"GET /api/v1/status"')" 1
done_testing
