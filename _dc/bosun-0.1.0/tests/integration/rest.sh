#!/bin/sh
# The REST API v1 (bosun-http(7)) with curl against a real bosund: every
# route's success and error paths, pagination through lists longer than a
# page, logs and events windows, artifacts and their versions, an answer
# that resumes a run, start/stop/restart, and an agent token that sees only
# its own task.
. "$top_srcdir/tests/integration/lib.sh"
BOSUN_PLUGIN_PATH="$BOSUN_PLUGIN_PATH:$top_builddir/plugins/http"
plan 140

command -v curl >/dev/null || { fail "curl is installed"; done_testing; exit; }
PORT=$(/usr/bin/python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
U="http://127.0.0.1:$PORT/api/v1"
# The asker waits for its go file (bounded), so that a question can be
# asked while it runs; resumed, it finds the file and exits at once.
write_config <<EOF2
  plugins: [sqlite, exec, http]
http:
  listen: ["127.0.0.1:$PORT"]
agents:
  idle:
    command: [sh, -c, 'printf %s "\$BOSUN_AGENT_TOKEN" > "$T/token.\$BOSUN_RUN_ID"; exec sleep 3600']
    start_secs: 0
    instances: 3
  talker:
    command: [sh, -c, 'printf %s "\$BOSUN_AGENT_TOKEN" > "$T/token.\$BOSUN_RUN_ID"; i=0; while [ \$i -lt 30 ]; do i=\$((i+1)); echo "line \$i"; done; exec sleep 3600']
    start_secs: 0
  asker:
    command: [sh, -c, 'i=0; while [ ! -f "$T/go" ] && [ \$i -lt 600 ]; do i=\$((i+1)); sleep 0.1; done']
    start_secs: 0
    restart: never
EOF2
start_daemon || exit 1
wait_for 10 curl -s -o /dev/null "http://127.0.0.1:$PORT/health" ||
    echo "# the http listener did not come up"
TOKEN=$(ctl request cmd.auth.token.create '{"name":"rest"}' --json | jq -r '.data.secret // empty')
like "an admin token for the test" "$TOKEN" '^bsn_adm_'

# call [--token T] METHOD PATH: sets code, body and hdrs (the response
# headers, lower-cased); sends $BODY as $CTYPE when BODY is set.
call() {
    _tok=$TOKEN
    if [ "$1" = --token ]; then _tok=$2; shift 2; fi
    _m=$1 _p=$2
    set -- -s --max-time 60 -o "$T/body" -D "$T/hdrs" -w '%{http_code}'
    set -- "$@" -X "$_m"
    [ -z "$_tok" ] || set -- "$@" -H "Authorization: Bearer $_tok"
    [ -z "${BODY+x}" ] || set -- "$@" -H "Content-Type: $CTYPE" --data-binary "$BODY"
    : > "$T/body"
    code=$(curl "$@" "$U$_p")
    body=$(cat "$T/body")
    hdrs=$(tr 'A-Z' 'a-z' < "$T/hdrs" | tr -d '\r')
}
get() { unset BODY; call "$@"; }
# post PATH BODY [CONTENT-TYPE]
post() { BODY=$2 CTYPE=${3:-application/json}; call POST "$1"; unset BODY CTYPE; }
jb() { printf '%s' "$body" | jq -r "$1"; }
# is_error DESCRIPTION STATUS CODE: the last response was that error.
is_error() { is "$1" "$code $(jb '.error.code')" "$2 $3"; }

# --- status and machines
get GET /status
is "status: 200" "$code" 200
is "status: the daemon's machine id and hostname" "$(jb '[.machine_id, (.hostname | length > 0)] | @json')" '["test-machine",true]'
get GET /machines
is "machines: this one, the last page" "$(jb '[.items[0].id, .items[0].this, .items[0].online, .next] | @json')" '["test-machine",true,true,null]'
get GET /machines/test-machine
is "machine: by id" "$code $(jb .machine.id)" "200 test-machine"
get GET /machines/elsewhere
is_error "machine: another id is 404" 404 not_found
get GET /machines/a.b
is_error "machine: a malformed id is 400" 400 bad_request
get GET '/machines?limit=1&cursor=test-machine'
is "machines: after the cursor, nothing" "$code $(jb '.items | length')" "200 0"

# --- routes, methods, auth, parameters
get GET /nowhere
is_error "an unknown route: 404" 404 not_found
get DELETE /runs
is "a wrong method: 405" "$code" 405
like "a wrong method: Allow names the methods" "$hdrs" '^allow: .*get'
get --token '' GET /runs
is "no token: 401" "$code" 401
get GET '/runs?limit=0'
is_error "runs: limit 0 is 400" 400 bad_request
like "runs: the message names the parameter" "$(jb .error.message)" "'limit'"
get GET '/runs?limit=abc'
is_error "runs: a limit that is no number is 400" 400 bad_request
get GET '/runs?limit=1001'
is_error "runs: a limit over 1000 is 400" 400 bad_request
get GET '/runs?bogus=1'
is_error "runs: an unknown parameter is 400" 400 bad_request
like "runs: the message names it" "$(jb .error.message)" "bogus"
get GET '/runs?limit=1&limit=2'
is_error "runs: a parameter given twice is 400" 400 bad_request
get GET '/runs?state=SLEEPING'
is_error "runs: an unknown state is 400" 400 bad_request
get GET '/runs?active=maybe'
is_error "runs: active must be true or false" 400 bad_request
get GET '/runs?agent=a.b'
is_error "runs: a malformed agent name is 400" 400 bad_request
# HEAD over a raw socket: curl would not show a body that should not be.
head=$(/usr/bin/python3 - "$PORT" "$TOKEN" <<'PY'
import socket, sys
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=10)
s.sendall(("HEAD /api/v1/status HTTP/1.1\r\nHost: t\r\nAuthorization: Bearer %s\r\n"
           "Connection: close\r\n\r\n" % sys.argv[2]).encode())
data = b""
while True:
    chunk = s.recv(65536)
    if not chunk:
        break
    data += chunk
head, _, rest = data.partition(b"\r\n\r\n")
print(head.split(b"\r\n")[0].decode(), len(rest))
PY
)
like "HEAD: 200" "$head" '^HTTP/1\.1 200 '
like "HEAD: no body" "$head" ' 0$'

# --- agents: start
get GET /agents
is "agents: one row per instance, none run yet" "$(jb '[.items[] | .agent] | @json')" '["idle","idle","idle","talker","asker"]'
is "agents: all in one page" "$(jb .next)" null
get GET '/agents?limit=2'
is "agents: a page of 2 and a cursor" "$(jb '[(.items | length), .next] | @json')" '[2,"2"]'
get GET "/agents?limit=2&cursor=$(jb .next)"
is "agents: the next page" "$(jb '[.items[] | [.agent, .instance]] | @json')" '[["idle",2],["talker",0]]'
post /agents/nosuch/start '{}'
is_error "start: an unknown agent is 404" 404 unknown_agent
post /agents/idle/start '{"command":"rm -rf /"}'
is_error "start: a member it does not take is 400" 400 bad_request
like "start: the message names it" "$(jb .error.message)" "command"
post /agents/idle/start '{"prompt":'
is_error "start: bad JSON is 400" 400 bad_json
post /agents/idle/start '[]'
is_error "start: a body that is no object is 400" 400 bad_request
post /agents/idle/start '{"prompt":"x"}' text/plain
is_error "start: a body that is not application/json is 415" 415 unsupported_media_type
post /agents/idle/start '{"prompt":"x","prompt":"y"}'
is_error "start: a key given twice is 400" 400 bad_json
post /agents/idle/start '{"task":"no good"}'
is_error "start: a malformed task id is 400" 400 bad_request
post /agents/idle/start '{"machine":"elsewhere"}'
is_error "start: another machine is 404" 404 not_found
post /agents/idle/start '{"prompt":"first","task":"KI","machine":"test-machine"}'
is "start: 201" "$code" 201
R1=$(jb .run.run)
is "start: the run, its agent and instance" "$(jb '[.run.agent, .run.instance] | @json')" '["idle",0]'
post /agents/idle/start '{}'
R2=$(jb .run.run)
post /agents/idle/start ''
is "start: an empty body is {}" "$code" 201
R3=$(jb .run.run)
post /agents/idle/start '{}'
is_error "start: every instance busy is 409" 409 busy
post /agents/talker/start '{"task":"KT"}'
RT=$(jb .run.run)
for r in "$R1" "$R2" "$R3" "$RT"; do wait_for 10 run_state_is "$r" RUNNING; done

# --- runs: list, pages, show
get GET '/runs?agent=idle&limit=2'
p1=$(jb '[.items[].run] | join(" ")'); c=$(jb .next)
is "runs: the first page of 2, newest first" "$p1" "$R3 $R2"
is "runs: its cursor is the last run" "$c" "$R2"
get GET "/runs?agent=idle&limit=2&cursor=$c"
is "runs: the last page" "$(jb '[.items[].run] | join(" ")') $(jb .next)" "$R1 null"
get GET '/runs?task=KT'
is "runs: by task" "$(jb '[.items[].run] | join(" ")')" "$RT"
get GET '/runs?active=true&state=RUNNING&machine=test-machine&limit=10'
is "runs: active, by state and machine" "$(jb '.items | length')" 4
get GET "/runs/$R1"
is "run: 200 with the run object" "$code $(jb '[.run.run, .run.task, .run.state] | join(" ")')" "200 $R1 KI RUNNING"
get GET /runs/01J0000000000000000000NONE
is_error "run: an unknown id is 404" 404 not_found
get GET '/runs/bad.id'
is_error "run: a malformed id is 400" 400 bad_request

# --- logs
wait_for 10 sh -c "[ \"\$(curl -s -H 'Authorization: Bearer $TOKEN' '$U/runs/$RT/logs?tail=1' | jq -r '.items[0].data.text')\" = 'line 30' ]"
get GET "/runs/$RT/logs?tail=5"
is "logs: tail 5" "$(jb '[.items[].data.text] | join(",")')" "line 26,line 27,line 28,line 29,line 30"
is "logs: a whole tail has no next" "$(jb .next)" null
like "logs: last_seq" "$(jb .last_seq)" '^[0-9]+$'
get GET "/runs/$RT/logs?limit=10"
is "logs: the first 10" "$(jb '[.items[0].data.text, .items[9].data.text, (.items | length)] | @json')" '["line 1","line 10",10]'
next=$(jb .next)
is "logs: next is the seq of the last line" "$next" "$(jb '.items[9].seq')"
get GET "/runs/$RT/logs?since=$next&limit=100"
is "logs: since the cursor, the rest" "$(jb '[.items[0].data.text, (.items | length), .next] | @json')" '["line 11",20,null]'
get GET "/runs/$RT/logs?tail=5&since=1"
is_error "logs: tail with since is 400" 400 bad_request
get GET "/runs/$RT/logs?tail=0"
is_error "logs: tail 0 is 400" 400 bad_request
get GET /runs/01J0000000000000000000NONE/logs
is_error "logs: of an unknown run, 404" 404 not_found

# --- tasks: create, pages, show
post /tasks '{}'
is_error "task: no title is 400" 400 bad_request
like "task: the message names title" "$(jb .error.message)" "'title'"
post /tasks '{"title":"x","agent":"nosuch"}'
is_error "task: an unknown agent is 404" 404 unknown_agent
post /tasks '{"title":"x","owner":"mallory"}'
is_error "task: the owner is not the body's to say" 400 bad_request
tasks=
for i in 1 2 3 4 5; do
    post /tasks "{\"title\":\"task $i\",\"prompt\":\"do $i\"}"
    [ "$code" = 201 ] || fail "task $i: 201" "got $code $body"
    tasks="$(jb .task) $tasks"
done
is "task: created 5" "$(echo $tasks | wc -w)" 5
seen= pages=0 c=
while [ $pages -lt 10 ]; do
    get GET "/tasks?status=open&limit=2${c:+&cursor=$c}"
    pages=$((pages + 1)); seen="$seen $(jb '[.items[].task] | join(" ")')"; c=$(jb '.next // empty')
    [ -n "$c" ] || break
done
is "tasks: 5 open tasks in 3 pages of 2" "$pages" 3
is "tasks: every one once, last updated first" "$(echo $seen)" "$(echo $tasks)"
K=$(echo $tasks | cut -d' ' -f1)
get GET "/tasks/$K"
is "task: shown with its runs and inputs" "$code $(jb '[.task.task, .task.title, .task.owner != null, .runs, .inputs] | @json')" \
    "200 [\"$K\",\"task 5\",true,[],[]]"
get GET /tasks/NOSUCHTASK
is_error "task: an unknown one is 404" 404 not_found
get GET '/tasks?status=a%20b'
is_error "tasks: a malformed status is 400" 400 bad_request

# --- artifacts
ctl request cmd.store.artifacts.put "{\"task\":\"$K\",\"name\":\"docs/plan.md\",\"mime_type\":\"text/markdown\",\"text\":\"# v1\\n\"}" >/dev/null
ctl request cmd.store.artifacts.put "{\"task\":\"$K\",\"name\":\"docs/plan.md\",\"mime_type\":\"text/markdown\",\"text\":\"# v2\\n\"}" >/dev/null
ctl request cmd.store.artifacts.put "{\"task\":\"$K\",\"name\":\"page.html\",\"mime_type\":\"text/html\",\"text\":\"<script>alert(1)</script>\"}" >/dev/null
ctl request cmd.store.artifacts.put "{\"task\":\"$K\",\"name\":\"img.bin\",\"mime_type\":\"image/png\",\"base64\":\"AAEC/w==\"}" >/dev/null
ctl request cmd.store.artifacts.put "{\"task\":\"$K\",\"name\":\"a/b/c/d.txt\",\"text\":\"deep\"}" >/dev/null
get GET "/tasks/$K/artifacts/a%2Fb%2Fc%2Fd.txt"
is "artifact: a deep name with %2F in one segment" "$code $body" "200 deep"
get GET "/tasks/$K/artifacts/a/b%2Fc/d.txt"
is "artifact: or in up to three segments" "$code $body" "200 deep"
get GET "/tasks/$K/artifacts/a/..%2Fsecret"
is_error "artifact: a name with a .. part is 400" 400 bad_request
get GET "/tasks/$K/artifacts?name=a/b/c/d.txt"
is "artifacts: a name's versions, found by name" "$(jb '[.items[] | [.name, .version]] | @json')" '[["a/b/c/d.txt",1]]'
get GET "/tasks/$K/artifacts"
is "artifacts: the latest of each name, by name" "$(jb '[.items[] | [.name, .version, .versions]] | @json')" \
    '[["a/b/c/d.txt",1,1],["docs/plan.md",2,2],["img.bin",1,1],["page.html",1,1]]'
get GET "/tasks/$K/artifacts?limit=3"
is "artifacts: a page of 3 and a name cursor" "$(jb '[(.items | length), .next] | @json')" '[3,"img.bin"]'
get GET "/tasks/$K/artifacts?limit=3&cursor=img.bin"
is "artifacts: the last page" "$(jb '[.items[].name, .next] | @json')" '["page.html",null]'
get GET "/tasks/$K/artifacts?name=docs/plan.md"
is "artifacts: the versions of one name, newest first" "$(jb '[.items[].version] | @json')" '[2,1]'
get GET "/tasks/$K/artifacts/docs/plan.md"
is "artifact: the latest content" "$code $body" "200 # v2"
like "artifact: its type" "$hdrs" '^content-type: text/markdown'
like "artifact: nosniff" "$hdrs" '^x-content-type-options: nosniff'
like "artifact: markdown is shown inline" "$hdrs" '^content-disposition: inline; filename="plan.md"'
like "artifact: its version" "$hdrs" '^x-bosun-artifact-version: 2'
get GET "/tasks/$K/artifacts/docs/plan.md?version=1"
is "artifact: version 1" "$code $body" "200 # v1"
get GET "/tasks/$K/artifacts/docs/plan.md?version=9"
is_error "artifact: a version it does not have is 404" 404 not_found
get GET "/tasks/$K/artifacts/docs/plan.md?version=0"
is_error "artifact: version 0 is 400" 400 bad_request
get GET "/tasks/$K/artifacts/page.html"
like "artifact: html is an attachment, sandboxed" "$hdrs" '^content-disposition: attachment; filename="page.html"'
like "artifact: with a sandboxing CSP" "$hdrs" "^content-security-policy: default-src 'none'; sandbox"
get GET "/tasks/$K/artifacts/img.bin"
is "artifact: binary bytes as they are" "$code $(od -An -tx1 "$T/body" | tr -d ' \n')" "200 000102ff"
like "artifact: binary is an attachment" "$hdrs" '^content-disposition: attachment'
get GET "/tasks/$K/artifacts/nosuch.txt"
is_error "artifact: an unknown name is 404" 404 not_found
get GET /tasks/NOSUCHTASK/artifacts
is_error "artifacts: of an unknown task, 404" 404 not_found

# --- events
get GET '/events?subject=evt.task.*.updated&limit=2'
is "events: a page of 2" "$(jb '.items | length')" 2
n=2 pages=1 c=$(jb '.next // empty')
while [ -n "$c" ] && [ $pages -lt 10 ]; do
    get GET "/events?subject=evt.task.*.updated&limit=2&since=$c"
    n=$((n + $(jb '.items | length'))); pages=$((pages + 1)); c=$(jb '.next // empty')
done
all=$(ctl request cmd.store.events '{"subject":"evt.task.*.updated","limit":10000}' --json | jq '.data.events | length')
is "events: paged to the end, every task event" "$n $pages" "$all $(( (all + 1) / 2 ))"
get GET '/events?subject=evt.task.*.updated&tail=1'
is "events: tail 1 is the newest task" "$(jb '[.items[].data.task] | join(" ")') $(jb .next)" "$K null"
get GET "/events?task=$K&limit=1000"
like "events: by task" "$(jb '[.items[].subject] | unique | join(" ")')" "evt.task.$K.updated"
get GET '/events?cursor=0&limit=1'
is "events: cursor is since" "$code $(jb '.items | length')" "200 1"
get GET '/events?cursor=0&since=0'
is_error "events: since and cursor together are 400" 400 bad_request
get GET '/events?tail=1&limit=1'
is_error "events: tail with limit is 400" 400 bad_request
get GET '/events?subject=evt..x'
is_error "events: a bad pattern is 400" 400 bad_request
get GET '/events?since=-1'
is_error "events: a negative since is 400" 400 bad_request

# --- inputs: a blocking question, answered, resumes the run
post /agents/asker/start '{"task":"KA"}'
RA=$(jb .run.run)
wait_for 10 run_state_is "$RA" RUNNING
I=$(ctl request cmd.input.create "{\"run\":\"$RA\",\"question\":\"Which?\",\"choices\":[\"left\",\"right\"],\"blocking\":true}" --json | jq -r .data.input)
touch "$T/go"
wait_for 20 stored_state_is "$RA" WAITING_INPUT
is "inputs: the asker waits for its answer" "$(stored_run "$RA" state)" WAITING_INPUT
get GET '/inputs?status=pending'
is "inputs: the pending question" "$(jb '[.items[] | [.input, .question, .choices]] | @json')" "[[\"$I\",\"Which?\",[\"left\",\"right\"]]]"
get GET '/inputs?status=asked'
is_error "inputs: an unknown status is 400" 400 bad_request
post "/inputs/$I/answer" '{"text":"left","choice":1}'
is_error "answer: text and choice together are 400" 400 bad_request
post "/inputs/$I/answer" '{}'
is_error "answer: neither is 400" 400 bad_request
post "/inputs/$I/answer" '{"choice":0}'
is_error "answer: choice 0 is 400" 400 bad_request
post "/inputs/$I/answer" '{"choice":3}'
is_error "answer: a choice it does not have is 400" 400 bad_request
post /inputs/01J0000000000000000000NONE/answer '{"text":"x"}'
is_error "answer: an unknown question is 404" 404 not_found
post "/inputs/$I/answer" '{"choice":2}'
is "answer: 200 with the answer" "$code $(jb '[.input, .answer] | @json')" "200 [\"$I\",\"right\"]"
RES=$(jb '.resumed // empty')
like "answer: the run is resumed as a new one" "$RES" '^[0-9A-Z]{26}$'
get GET "/runs/$RES"
is "answer: the new run resumes the one that asked" "$(jb '[.run.resumed_from, .run.task] | @json')" "[\"$RA\",\"KA\"]"
post "/inputs/$I/answer" '{"text":"again"}'
is_error "answer: a second answer is 409" 409 not_pending
get GET '/inputs?task=KA&status=answered'
is "inputs: answered, by the token" "$(jb '[.items[] | [.input, .answer, (.answered_by | length > 0)]] | @json')" "[[\"$I\",\"right\",true]]"

# --- an agent token sees its own task only
AT=$(cat "$T/token.$RT" 2>/dev/null)
like "the talker's agent token" "$AT" '.'
get --token "$AT" GET /runs
is "agent: runs are its task's only" "$code $(jb '[.items[].run] | join(" ")')" "200 $RT"
get --token "$AT" GET '/runs?task=KI'
is_error "agent: runs of another task are 404" 404 not_found
get --token "$AT" GET "/runs/$R1"
is_error "agent: another task's run is 404" 404 not_found
get --token "$AT" GET "/runs/$RT/logs?tail=1"
is "agent: its own run's logs" "$code $(jb '.items[0].data.text')" "200 line 30"
get --token "$AT" GET "/tasks/$K"
is_error "agent: another task is 404" 404 not_found
get --token "$AT" GET "/tasks/$K/artifacts"
is_error "agent: another task's artifacts are 404" 404 not_found
get --token "$AT" GET '/events?limit=1000'
is "agent: events are its task's only" "$(jb '[.items[].task] | unique | @json')" '["KT"]'
get --token "$AT" GET '/inputs'
is "agent: no questions of other tasks" "$code $(jb '.items | length')" "200 0"
post_as() { BODY=$3 CTYPE=application/json; call --token "$1" POST "$2"; unset BODY CTYPE; }
post_as "$AT" /tasks '{"title":"mine"}'
is "agent: may not create tasks" "$code" 403
post_as "$AT" "/runs/$RT/stop" '{}'
is "agent: may not stop runs" "$code" 403
get --token "$AT" GET /status
is "agent: may not read the daemon's status" "$code" 403

# --- an agent token of a run without a task: its own run, no task
AN=$(cat "$T/token.$R2" 2>/dev/null)
like "a task-less run's agent token" "$AN" '.'
get --token "$AN" GET /runs
is "task-less agent: runs are its own only" "$code $(jb '[.items[].run] | join(" ")')" "200 $R2"
get --token "$AN" GET "/runs/$R2"
is "task-less agent: its own run" "$code $(jb .run.run)" "200 $R2"
get --token "$AN" GET "/runs/$R1"
is_error "task-less agent: another run is 404" 404 not_found
get --token "$AN" GET /tasks
is "task-less agent: no task" "$code $(jb '.items | length')" "200 0"
get --token "$AN" GET '/events?limit=1000'
is "task-less agent: only its run's events" "$code $(jb '[.items[].run] | unique | @json')" "200 [\"$R2\"]"
get --token "$AN" GET "/events?run=$R1"
is_error "task-less agent: another run's events are 404" 404 not_found

# --- stop and restart
post "/runs/$R2/restart" '{}'
is "restart: 200, restarted" "$code $(jb '.restarted | join(" ")')" "200 $R2"
post "/runs/$R2/stop" ''
is "stop: 200, stopped" "$code $(jb '.stopped | join(" ")')" "200 $R2"
get GET "/runs/$R2"
is "stop: the run is STOPPED" "$(jb .run.state)" STOPPED
post "/runs/$R2/stop" '{}'
is "stop: an ended run, nothing to stop" "$code $(jb '.stopped | @json')" "200 []"
post "/runs/$R2/restart" '{}'
is_error "restart: an ended run is 409" 409 not_running
post "/runs/$R2/stop" '{"force":true}'
is_error "stop: a member it does not take is 400" 400 bad_request
post /runs/01J0000000000000000000NONE/stop '{}'
is_error "stop: an unknown run is 404" 404 not_found
post /agents/idle/start '{}'
is "start: the freed instance starts again" "$code $(jb .run.instance)" "201 1"

stop_daemon
is "daemon stops: exit 0" "$DAEMON_STATUS" 0
done_testing
