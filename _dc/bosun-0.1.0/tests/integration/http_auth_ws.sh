#!/bin/sh
# /ws authentication against a real bosund with Node's ws and Python's
# websockets, the list of issue 12 at the upgrade (Bearer, cookie) and in
# the first frame: bad, revoked and expired credentials, JWTs signed with
# another key, alg none, alg RS256 with the HMAC key, a tampered payload,
# the cookie without Origin.  A logout closes that session's connections
# (1008 "logged out"), and only those; a JWT's exp closes its connection.
# An agent token's req frames are narrowed to its task as REST narrows it
# (the other task: not_found, as REST's 404), its subscriptions to its
# task's and run's subjects.
. "$top_srcdir/tests/integration/lib.sh"
. "$top_srcdir/tests/integration/ws_lib.sh"
plan 54
FORGE="/usr/bin/python3 $top_srcdir/tests/helpers/jwt_forge.py"
mkdir -p "$T/out"
write_config <<EOF2
  plugins: [sqlite, exec, http]
$(ws_config "ws_auth_timeout: 5")
agents:
  holder:
    command: [sh, -c, 'echo "\$\$BOSUN_AGENT_TOKEN \$\$BOSUN_RUN_ID \$\$BOSUN_TASK_ID" > $T/out/tok.new && mv $T/out/tok.new $T/out/tok; exec sleep 3600']
    start_secs: 0
    restart: never
  other:
    command: [sh, -c, 'echo "\$\$BOSUN_RUN_ID" > $T/out/other.new && mv $T/out/other.new $T/out/other; exec sleep 3600']
    start_secs: 0
    restart: never
EOF2
start_daemon || exit 1
wait_for 10 curl -s -o /dev/null "$H/health"
KEY="$T/state/http_jwt.key"

# --- refused credentials, at the upgrade (401) and in the first frame (1008)
sec=$(ctl token create --name gone 2>"$T/create.err")
gone_id=$(sed -n 's/.*admin token \(tok_[0-9a-f]*\) .*/\1/p' "$T/create.err")
ctl token revoke "$gone_id" >/dev/null
a=20
for kind in good bad revoked expired otherkey none rs256 tampered; do
    a=$((a + 1))
    export WS_LOCAL=127.0.0.$a
    case $kind in
    bad) cred=bsn_adm_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA ;;
    revoked) cred=$sec ;;
    *) cred=$($FORGE "$KEY" "$kind") ;;
    esac
    up=$(node_ws upgrade "$U" "$cred")
    first=$(py_ws first "$U" "$cred")
    if [ "$kind" = good ]; then
        is "control: a good JWT at the upgrade: 101" "$(jf "$up" .result)" true
        is "control: and in the first frame: ready" "$(jf "$first" .frame.op)" '"ready"'
    else
        is "$kind at the upgrade: 401" "$(jf "$up" .result)" 401
        is "$kind in the first frame: 1008" "$(jf "$first" .code)" 1008
    fi
done
unset WS_LOCAL
out=$(py_ws silent "$U" -)
is "no credential at all: 1008" "$(jf "$out" .code)" 1008

# --- the session cookie needs our Origin
curl -s -o /dev/null -D "$T/login.hdr" -d "{\"token\":\"$TOK\"}" "$H/api/v1/auth/login"
cookie=$(sed -n 's/^Set-Cookie: \(bosun_session=[^;]*\).*/\1/p' "$T/login.hdr")
out=$(node_ws cookie "$U" - "$cookie")
is "the cookie without Origin: 403" "$(jf "$out" .result)" 403
out=$(node_ws cookie "$U" - "$cookie" "$H")
is "control: the cookie from our Origin: ready" "$(jf "$out" .ready.kind)" '"admin"'

# --- a logout closes that session's connections, only those
login() {
    curl -s -o /dev/null -D "$T/l.hdr" -d "{\"token\":\"$TOK\"}" "$H/api/v1/auth/login"
    sed -n 's/^Set-Cookie: bosun_session=\([^;]*\).*/\1/p' "$T/l.hdr" | tr -d '\r'
}
s1=$(login)
s2=$(login)
: > "$T/py.err"
WS_DEADLINE=60 py_ws hold "$U" "$s1" > "$T/h1.out" &
h1=$!
WS_DEADLINE=60 py_ws hold "$U" "$s2" > "$T/h2.out" &
h2=$!
wait_for 20 sh -c "[ \$(grep -c ready '$T/py.err') -ge 2 ]"
st=$(curl -s -o "$T/body" -w '%{http_code}' -H "Authorization: Bearer $s1" -X POST "$H/api/v1/auth/logout")
is "logout: 200" "$st" 200
wait "$h1"
is "the logged-out session's /ws: 1008" "$(jf "$(cat "$T/h1.out")" .code)" 1008
is "saying logged out" "$(jf "$(cat "$T/h1.out")" .reason)" '"logged out"'
check "another session's /ws stays open" kill -0 "$h2"
is "the logged-out session cannot connect again" "$(jf "$(WS_LOCAL=127.0.0.40 node_ws upgrade "$U" "$s1")" .result)" 401
like "the logout is an event" "$(ctl events --subject 'evt.auth.session.>' 2>/dev/null)" 'evt\.auth\.session\.[A-Za-z0-9_-]+\.revoked'
curl -s -o /dev/null -H "Authorization: Bearer $s2" -X POST "$H/api/v1/auth/logout"
wait "$h2"
is "then its own logout closes the other" "$(jf "$(cat "$T/h2.out")" .reason)" '"logged out"'

# --- a JWT's exp closes its connection
short=$(FORGE_TTL=3 $FORGE "$KEY" short)
: > "$T/py.err"
WS_DEADLINE=60 py_ws hold "$U" "$short" > "$T/exp.out" &
hx=$!
wait_for 20 grep -q ready "$T/py.err"
t0=$(date +%s)
wait "$hx"
is "a session JWT reaching exp on an open /ws: 1008" "$(jf "$(cat "$T/exp.out")" .code)" 1008
is "credential expired" "$(jf "$(cat "$T/exp.out")" .reason)" '"credential expired"'
check "within a few seconds of it" test $(($(date +%s) - t0)) -le 10

# --- an agent token: req and sub narrowed to its own task
mine=$(ctl task create --title mine)
theirs=$(ctl task create --title theirs)
ctl start holder --task "$mine" >/dev/null
ctl start other --task "$theirs" >/dev/null
wait_for 20 test -s "$T/out/tok"
wait_for 20 test -s "$T/out/other"
read -r atok arun atask < "$T/out/tok"
orun=$(cat "$T/out/other")
wait_for 20 sh -c "curl -s -H 'Authorization: Bearer $TOK' '$H/api/v1/runs?task=$theirs' | grep -q '$orun'"
rest() { curl -s -o "$T/rbody" -w '%{http_code}' -H "Authorization: Bearer $atok" "$H$1"; }
rest_code() { jq -r .error.code "$T/rbody"; }

out=$(node_ws req "$U" "$atok" cmd.store.tasks '{}')
is "agent req cmd.store.tasks: a reply" "$(jf "$out" .op)" '"reply"'
is "with its own task only" "$(jf "$out" '[.data.tasks[].task]')" "[\"$mine\"]"
out=$(node_ws req "$U" "$TOK" cmd.store.tasks '{}')
is "control: an admin sees both" "$(jf "$out" '[.data.tasks[].task] | sort')" "$(printf '%s\n%s\n' "$mine" "$theirs" | jq -R . | jq -sc 'sort')"
out=$(node_ws req "$U" "$atok" cmd.store.tasks "{\"task\":\"$theirs\"}")
is "the other task over /ws: not_found" "$(jf "$out" .error.code)" '"not_found"'
is "REST for the other task: 404" "$(rest "/api/v1/tasks/$theirs")" 404
is "with the same code" "$(rest_code)" not_found
out=$(node_ws req "$U" "$atok" cmd.store.runs '{}')
is "agent req cmd.store.runs: its task's runs" "$(jf "$out" '[.data.runs[].task] | unique')" "[\"$mine\"]"
like "its own run among them" "$(jf "$out" '[.data.runs[].run]')" "\"$arun\""
out=$(node_ws req "$U" "$atok" cmd.store.runs "{\"run\":\"$orun\"}")
is "the other task's run by id over /ws: none" "$(jf "$out" '.data.runs | length')" 0
is "REST for it: 404" "$(rest "/api/v1/runs/$orun")" 404
out=$(node_ws req "$U" "$atok" cmd.store.runs "{\"task\":\"$theirs\"}")
is "runs of the other task over /ws: not_found" "$(jf "$out" .error.code)" '"not_found"'
is "REST /runs?task= of it: 404 not_found" "$(rest "/api/v1/runs?task=$theirs") $(rest_code)" "404 not_found"
out=$(node_ws req "$U" "$atok" cmd.store.events '{"since":0,"limit":1000}')
is "agent req cmd.store.events: its task's events only" "$(jf "$out" '[.data.events[].task] | unique')" "[\"$mine\"]"
out=$(node_ws req "$U" "$atok" cmd.store.events "{\"task\":\"$theirs\"}")
is "events of the other task over /ws: not_found" "$(jf "$out" .error.code)" '"not_found"'
is "REST /events?task= of it: 404" "$(rest "/api/v1/events?task=$theirs")" 404
out=$(node_ws req "$U" "$atok" cmd.store.inputs "{\"task\":\"$theirs\"}")
is "inputs of the other task over /ws: not_found" "$(jf "$out" .error.code)" '"not_found"'
out=$(node_ws req "$U" "$atok" cmd.store.artifacts "{\"task\":\"$theirs\"}")
is "artifacts of the other task over /ws: not_found" "$(jf "$out" .error.code)" '"not_found"'
is "REST for them: 404" "$(rest "/api/v1/tasks/$theirs/artifacts")" 404
out=$(node_ws req "$U" "$atok" cmd.proc.ps '{}')
is "a request no agent route makes over /ws: forbidden" "$(jf "$out" .error.code)" '"forbidden"'
is "REST for what it is not allowed: 403 forbidden" "$(rest /api/v1/status) $(rest_code)" "403 forbidden"
out=$(node_ws req "$U" "$atok" cmd.store.status '{}')
is "another store read: forbidden" "$(jf "$out" .error.code)" '"forbidden"'
out=$(node_ws sub "$U" "$atok" "evt.task.$theirs.>")
is "sub to the other task's subjects: forbidden" "$(jf "$out" .frame.error.code)" '"forbidden"'
out=$(node_ws sub "$U" "$atok" "evt.run.*.$orun.>")
is "sub to the other task's run: forbidden" "$(jf "$out" .frame.error.code)" '"forbidden"'
out=$(node_ws sub "$U" "$atok" "evt.task.$mine.>")
is "sub to its own task's subjects: subscribed" "$(jf "$out" .frame.op)" '"subscribed"'

is "no token in the log" "$(grep -c -e "$TOK" -e "$atok" -e "$sec" "$T/bosund.log")" 0
done_testing
