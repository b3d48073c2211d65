#!/bin/sh
# bosunctl --url URL hook: a hook call reported over the HTTP API
# (POST /api/v1/hooks, admins only) makes the same attached run as over the
# control socket; install writes the URL and token file into the hook
# command; a bad token, bad input or no daemon: exit 0, nothing printed.
. "$top_srcdir/tests/integration/lib.sh"
if [ ! -e "$top_builddir/plugins/http/http.la" ]; then
    echo "1..0 # SKIP the http plugin is not built"
    exit 0
fi
command -v jq >/dev/null || { echo "1..0 # SKIP needs jq"; exit 0; }
command -v curl >/dev/null || { echo "1..0 # SKIP needs curl"; exit 0; }
plan 13
BOSUN_PLUGIN_PATH="$BOSUN_PLUGIN_PATH:$top_builddir/plugins/http"
export BOSUN_PLUGIN_PATH
unset BOSUN_URL BOSUN_TOKEN_FILE

write_config <<EOF2
  plugins: [sqlite, http]
http:
  listen: ["127.0.0.1:0"]
EOF2
start_daemon || exit 1
wait_for 10 sh -c "grep -q 'http: listening on' '$T/bosund.log'"
PORT=$(sed -n 's/.*http: listening on 127\.0\.0\.1:\([0-9][0-9]*\).*/\1/p' "$T/bosund.log" | tail -1)
URL="http://127.0.0.1:$PORT"
ctl token create --name hooks > "$T/token" 2>/dev/null
chmod 600 "$T/token"
uhook() { "$BOSUNCTL" --url "$URL" --token-file "$T/token" hook "$@"; }
ev() { printf '{"session_id":"%s","hook_event_name":"%s","cwd":"/tmp"%s}' "$1" "$2" "${3:-}"; }

out=$(ev s-url SessionStart ',"source":"startup"' | uhook); st=$?
is "a hook over --url: exit 0, nothing printed" "$st:$out" "0:"
row=$(ctl ps --json | jq -c '.[] | select(.session_id == "s-url") | [.agent, .state]')
is "the session is an attached run" "$row" '["claude-code:attached","RUNNING"]'
run=$(ctl ps --json | jq -r '.[] | select(.session_id == "s-url") | .run')
ev s-url UserPromptSubmit ',"prompt":"over http"' | uhook
is "its events arrive over HTTP too" "$(events "$run" message | jq -r '.[0].data.text')" "over http"
ev s-url SessionEnd ',"reason":"logout"' | uhook
wait_for 5 stored_state_is "$run" EXITED
is "SessionEnd ends it" "$(stored_run "$run" reason)" "the session ended (reason: logout)"

printf 'nope' | uhook; st=$?
is "bad input over --url: exit 0" "$st" 0
wait_for 5 grep -q "hook: refused a hook call: the hook's input is not JSON" "$T/bosund.log"
check "the daemon logs what was wrong" grep -q "hook: refused a hook call: the hook's input is not JSON" "$T/bosund.log"
echo bsn_adm_wrong > "$T/bad.token"; chmod 600 "$T/bad.token"
out=$(ev s-bad SessionStart | "$BOSUNCTL" --url "$URL" --token-file "$T/bad.token" hook); st=$?
is "a refused token: exit 0, nothing printed" "$st:$out" "0:"
is "and no run" "$(ctl ps --json | jq '[.[] | select(.session_id == "s-bad")] | length')" 0
code=$(ev s-curl Stop | jq -Rs '{input: .}' | curl -s -o /dev/null -w '%{http_code}' -X POST -H 'Content-Type: application/json' --data-binary @- "$URL/api/v1/hooks")
is "POST /api/v1/hooks without a token is 401" "$code" 401

mkdir -p "$T/proj"
BOSUNCTL="$BOSUNCTL" "$BOSUNCTL" --url "$URL" --token-file "$T/token" hook install --project "$T/proj" >/dev/null
cmd=$(jq -r '.hooks.Stop[0].hooks[0].command' "$T/proj/.claude/settings.json")
like "install over --url writes the URL and token file" "$cmd" "^$BOSUNCTL hook --url $URL --token-file $T/token\$"
out=$(ev s-cmd Stop | sh -c "$cmd"); st=$?
is "that command works" "$st:$out:$(ctl ps --json | jq '[.[] | select(.session_id == "s-cmd")] | length')" "0::1"

stop_daemon
t0=$(date +%s%N)
out=$(ev s-down Stop | uhook); st=$?
t1=$(date +%s%N)
is "no daemon over --url: exit 0, nothing printed" "$st:$out" "0:"
check "within the 2 s budget" [ $(( (t1 - t0) / 1000000 )) -lt 2500 ]
done_testing
