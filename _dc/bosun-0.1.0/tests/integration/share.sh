#!/bin/sh
# Share links (bosun-http(7), SHARE LINKS) with curl and a /ws client:
# made by an admin only, a link sees its one task and nothing else (REST
# and /ws), answers that task's questions only when granted, is refused
# forged, expired or unknown, survives a restart, and stops at once when
# revoked (its open /ws connection closed).
. "$top_srcdir/tests/integration/lib.sh"
BOSUN_PLUGIN_PATH="$BOSUN_PLUGIN_PATH:$top_builddir/plugins/http"
plan 48

PORT=$(/usr/bin/python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
B="http://127.0.0.1:$PORT"
U="$B/api/v1"
write_config <<EOF2
  plugins: [sqlite, exec, http]
http:
  listen: ["127.0.0.1:$PORT"]
agents:
  idle:
    command: [sleep, "600"]
    start_secs: 0
    instances: 3
EOF2
start_daemon || exit 1
wait_for 10 curl -s -o /dev/null "$B/health" || echo "# the http listener did not come up"
ADMIN=$(ctl request cmd.auth.token.create '{"name":"share-test"}' --json | jq -r '.data.secret // empty')

# req TOKEN METHOD PATH [BODY]: code and body of the response.
req() {
    _t=$1 _m=$2 _p=$3
    shift 3
    code=$(curl -s -o "$T/body" -w '%{http_code}' -X "$_m" -H "Authorization: Bearer $_t" \
        ${1:+-H 'Content-Type: application/json' --data-binary "$1"} "$U$_p")
    body=$(cat "$T/body")
}
jb() { printf '%s' "$body" | jq -r "$1"; }

# Two tasks, a run and a question in each.
for k in A B; do
    req "$ADMIN" POST /tasks "{\"title\":\"task $k\",\"prompt\":\"p\"}"
    eval "TASK_$k=\$(jb .task)"
done
req "$ADMIN" POST /agents/idle/start "{\"task\":\"$TASK_A\"}"; RUN_A=$(jb .run.run)
req "$ADMIN" POST /agents/idle/start "{\"task\":\"$TASK_B\"}"; RUN_B=$(jb .run.run)
wait_for 10 run_state_is "$RUN_A" RUNNING
wait_for 10 run_state_is "$RUN_B" RUNNING
IN_A=$(ctl request cmd.input.create "{\"run\":\"$RUN_A\",\"question\":\"A?\",\"blocking\":false}" --json | jq -r .data.input)
IN_A2=$(ctl request cmd.input.create "{\"run\":\"$RUN_A\",\"question\":\"A2?\",\"blocking\":false}" --json | jq -r .data.input)
IN_B=$(ctl request cmd.input.create "{\"run\":\"$RUN_B\",\"question\":\"B?\",\"blocking\":false}" --json | jq -r .data.input)

# --- making one
req "$ADMIN" POST /shares '{}'
is "no task: 400" "$code $(jb .error.code)" "400 bad_request"
req "$ADMIN" POST /shares '{"task":"NOSUCHTASK"}'
is "an unknown task: 404" "$code $(jb .error.code)" "404 not_found"
req "$ADMIN" POST /shares "{\"task\":\"$TASK_A\",\"ttl\":\"31d\"}"
is "a ttl past 30 days: 400" "$code $(jb .error.code)" "400 bad_request"
req "$ADMIN" POST /shares "{\"task\":\"$TASK_A\",\"can_answer\":\"yes\"}"
is "can_answer not a boolean: 400" "$code $(jb .error.code)" "400 bad_request"
req "$ADMIN" POST /shares "{\"task\":\"$TASK_A\",\"ttl\":\"2h\"}"
is "a read-only share of task A: 201" "$code" 201
RO=$(jb .token) RO_ID=$(jb .share.id)
like "  its URL opens the dashboard with the token" "$(jb .url)" "^$B/\\?share=$RO#/tasks/$TASK_A\$"
is "  read only, expiring in 2 h" "$(jb '[.share.task, .share.can_answer, (.share.expires_at - .share.created_at | floor)] | @json')" "[\"$TASK_A\",false,7200]"
req "$ADMIN" POST /shares "{\"task\":\"$TASK_A\",\"can_answer\":true}"
RW=$(jb .token) RW_ID=$(jb .share.id)
req "$ADMIN" GET /shares
is "the list holds both, never a token" "$(jb '[.items | length, (tostring | contains("eyJ"))] | @json')" "[2,false]"
is "the shares file is 0600" "$(stat -c %a "$T/state/http_shares.json")" 600

# --- what a share sees
req "$RO" GET /auth/me
is "me: a share of task A, read only" "$(jb '[.identity.credential, .identity.task, .identity.can_answer] | @json')" "[\"share\",\"$TASK_A\",false]"
req "$RO" GET /tasks
is "tasks: only A" "$(jb '[.items[].task] | @json')" "[\"$TASK_A\"]"
req "$RO" GET "/tasks/$TASK_B"
is "task B: 404, as if it did not exist" "$code" 404
req "$RO" GET "/tasks/$TASK_A"
is "task A: 200" "$code" 200
req "$RO" GET /runs
is "runs: only A's" "$(jb '[.items[].run] | @json')" "[\"$RUN_A\"]"
req "$RO" GET "/runs/$RUN_B"
is "B's run: 404" "$code" 404
req "$RO" GET "/runs?task=$TASK_B"
is "runs of task B: 404" "$code" 404
req "$RO" GET /inputs
is "inputs: only A's" "$(jb '[.items[].task] | unique | @json')" "[\"$TASK_A\"]"
req "$RO" GET "/events?limit=1000"
is "events: only A's" "$(jb '[.items[].task] | unique | @json')" "[\"$TASK_A\"]"
for p in /agents /status /machines /shares /approvals /cost /tokens; do
    req "$RO" GET "$p"
    is "GET $p: refused" "$code" 403
done
req "$RO" POST /agents/idle/start '{}'
is "starting an agent: refused" "$code" 403
req "$RO" POST "/runs/$RUN_A/stop" '{}'
is "stopping its own task's run: refused" "$code" 403
req "$RO" POST /shares "{\"task\":\"$TASK_A\"}"
is "a share cannot make shares" "$code" 403

# --- answering
req "$RO" POST "/inputs/$IN_A/answer" '{"text":"ro"}'
is "read only: answering is refused" "$code $(jb .error.code)" "403 forbidden"
req "$RW" POST "/inputs/$IN_B/answer" '{"text":"rw"}'
is "may answer: another task's question is 404" "$code" 404
req "$RW" POST "/inputs/$IN_A/answer" '{"text":"from the link"}'
is "may answer: its task's question, 200" "$code $(jb .answer)" "200 from the link"
req "$ADMIN" GET "/inputs?status=answered"
is "  answered by the share" "$(jb ".items[] | select(.input == \"$IN_A\") | .answered_by")" "$RW_ID"

# --- /ws: the share's task only, and the same answer rule
cat > "$T/ws.py" <<'PY'
import asyncio, json, sys, time, websockets
url, token, task, other_task, other_input, opened, marker = sys.argv[1:8]
def out(*a): print(*a, flush=True)
async def main():
    async with websockets.connect(url) as ws:
        await ws.send(json.dumps({'op': 'auth', 'token': token}))
        ready = json.loads(await ws.recv())
        out('ready:', ready.get('op'), ready.get('principal', {}).get('kind'))
        await ws.send(json.dumps({'op': 'sub', 'sid': 'all', 'subject': 'evt.>'}))
        out('sub evt.>:', json.loads(await ws.recv()).get('op'))
        await ws.send(json.dumps({'op': 'sub', 'sid': 'b', 'subject': 'evt.>', 'task': other_task}))
        out('sub another task:', json.loads(await ws.recv()).get('error', {}).get('code'))
        await ws.send(json.dumps({'op': 'req', 'id': '1', 'subject': 'cmd.input.answer',
                                  'data': {'input': other_input, 'answer': 'x'}}))
        r = json.loads(await ws.recv())
        out('answer another task over /ws:', (r.get('data') or {}).get('error', {}).get('code') or r.get('error', {}).get('code'))
        open(opened, 'w').write('open\n')
        tasks, end = set(), time.time() + 15
        try:
            while time.time() < end:
                f = json.loads(await asyncio.wait_for(ws.recv(), end - time.time()))
                if f.get('op') != 'msg':
                    continue
                tasks.add(f['data'].get('task') or '-')
                if f['data'].get('question') == marker:
                    break
            out('tasks seen:', ' '.join(sorted(tasks)))
            while True:
                await asyncio.wait_for(ws.recv(), 20)
        except websockets.ConnectionClosed as e:
            out('closed:', e.code, e.reason)
        except asyncio.TimeoutError:
            out('closed: not in time')
asyncio.run(main())
PY
/usr/bin/python3 "$T/ws.py" "ws://127.0.0.1:$PORT/ws" "$RW" "$TASK_A" "$TASK_B" "$IN_B" "$T/ws.open" "last A" > "$T/ws.out" 2>&1 &
WSPID=$!
wait_for 10 test -f "$T/ws.open"
is "/ws: the share is ready" "$(sed -n 's/^ready: //p' "$T/ws.out")" "ready share"
is "/ws: evt.> is given, narrowed to its task" "$(sed -n 's/^sub evt.>: //p' "$T/ws.out")" "subscribed"
is "/ws: another task's events are refused" "$(sed -n 's/^sub another task: //p' "$T/ws.out")" "not_found"
is "/ws: answering another task's question is refused" "$(sed -n 's/^answer another task over \/ws: //p' "$T/ws.out")" "not_found"
ctl request cmd.input.create "{\"run\":\"$RUN_B\",\"question\":\"B again\",\"blocking\":false}" >/dev/null
ctl request cmd.input.create "{\"run\":\"$RUN_A\",\"question\":\"last A\",\"blocking\":false}" >/dev/null
wait_for 20 grep -q '^tasks seen:' "$T/ws.out"
is "/ws: live, only its task's events arrive" "$(sed -n 's/^tasks seen: //p' "$T/ws.out")" "$TASK_A"

# --- revoking: at once, the open connection too
req "$ADMIN" DELETE "/shares/$RW_ID"
is "revoke: 200 with the time" "$code $(jb '.share.revoked_at | type')" "200 number"
wait_for 10 grep -q '^closed:' "$T/ws.out"
like "  its open /ws connection is closed" "$(sed -n 's/^closed: //p' "$T/ws.out")" "^1008 "
wait "$WSPID" 2>/dev/null
req "$RW" GET /auth/me
is "  and the link is refused" "$code" 401
req "$ADMIN" DELETE /shares/NOSUCHSHARE
is "revoking an unknown share: 404" "$code" 404

# --- forged and expired links
KEY="$T/state/http_jwt.key"
forge() { /usr/bin/python3 - "$KEY" "$@" <<'PY'
import base64, hashlib, hmac, json, os, sys, time
def b64(b): return base64.urlsafe_b64encode(b).rstrip(b'=').decode()
key = open(sys.argv[1], 'rb').read()
kind, task = sys.argv[2], sys.argv[3]
now = int(time.time())
c = {'iss': 'bosun:test-machine', 'aud': 'bosun-share', 'sub': 'share:' + task, 'task': task,
     'can_answer': True, 'jti': b64(os.urandom(16)), 'iat': now, 'exp': now + 600}
if kind == 'expired': c['iat'], c['exp'] = now - 7200, now - 3600
if kind == 'otherkey': key = os.urandom(32)
h = b64(json.dumps({'alg': 'HS256', 'typ': 'JWT'}).encode()); p = b64(json.dumps(c).encode())
print(h + '.' + p + '.' + b64(hmac.new(key, (h + '.' + p).encode(), hashlib.sha256).digest()))
PY
}
req "$(forge good "$TASK_B")" GET /tasks
is "a well-signed share this daemon never made: 401" "$code" 401
req "$(forge otherkey "$TASK_A")" GET /tasks
is "a share signed with another key: 401" "$code" 401
req "$(forge expired "$TASK_A")" GET /tasks
is "an expired share: 401" "$code" 401
like "  the log says why, without the token" "$(grep 'share link refused' "$T/bosund.log" | tail -1)" "expired"

# --- a restart: shares and revocations are kept
stop_daemon
start_daemon || exit 1
wait_for 10 curl -s -o /dev/null "$B/health"
req "$RO" GET /tasks
is "after a restart the read-only link still works" "$code $(jb '[.items[].task] | @json')" "200 [\"$TASK_A\"]"
req "$RW" GET /tasks
is "  and the revoked one is still refused" "$code" 401
unlike "no token in the log" "$(cat "$T/bosund.log")" "$RO|$RW"
done_testing
