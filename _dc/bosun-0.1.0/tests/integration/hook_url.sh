#!/bin/sh
# bosunctl --url URL hook: a hook call reported over the HTTP API
# (POST /api/v1/hooks, admins only) makes the same attached run as over the
# control socket; install writes the URL and token file into the hook
# command; a bad token, bad input or no daemon: exit 0, nothing printed.
# --approve over --url (a person's Claude Code on a laptop, bosund on a
# server): POST /api/v1/approvals (admins; a viewer 403) decides a call by
# the policy or holds it for a person, over curl and with the real
# `claude -p` (fake Anthropic API) running the installed hooks; with no
# daemon an --approve hook exits 0 at once and prints nothing.
. "$top_srcdir/tests/integration/lib.sh"
if [ ! -e "$top_builddir/plugins/http/http.la" ]; then
    echo "1..0 # SKIP the http plugin is not built"
    exit 0
fi
command -v jq >/dev/null || { echo "1..0 # SKIP needs jq"; exit 0; }
command -v curl >/dev/null || { echo "1..0 # SKIP needs curl"; exit 0; }
. "$top_srcdir/tests/integration/claude_lib.sh"
plan 43
BOSUN_PLUGIN_PATH="$BOSUN_PLUGIN_PATH:$top_builddir/plugins/http"
export BOSUN_PLUGIN_PATH
unset BOSUN_URL BOSUN_TOKEN_FILE

mkdir -p "$T/out"
write_config <<EOF2
  plugins: [sqlite, exec, http]
http:
  listen: ["127.0.0.1:0"]
approvals:
  allow: ["Bash(mkdir:*)", "Read", "Edit", "Bash(echo:*)"]
  deny: ["Bash(rm -rf *)"]
  ask: ["Bash(touch:*)"]
  default: deny
agents:
  asker:
    command: [sh, -c, 'echo "\$\$BOSUN_AGENT_TOKEN \$\$BOSUN_RUN_ID" > $T/out/tok.new && mv $T/out/tok.new $T/out/tok; exec sleep 3600']
    start_secs: 0
    restart: never
    approvals: {default: allow}
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

# --- POST /api/v1/approvals over curl
TOKEN=$(cat "$T/token")
VIEWER=$(/usr/bin/python3 "$top_srcdir/tests/helpers/jwt_forge.py" "$T/state/http_jwt.key" viewer user:ann)
code() { curl -s -o "$T/body" -w '%{http_code}' -H 'Content-Type: application/json' "$@"; }
ask() { code -H "Authorization: Bearer $TOKEN" -X POST --data-binary "$1" "$URL/api/v1/approvals"; }
n_open() { wait_for 10 sh -c "\"$BOSUNCTL\" -s \"$T/run/bosund.sock\" approval list --json | jq -e 'length == $1' >/dev/null"; }
st=$(ask '{"tool":"Bash","input":{"command":"mkdir -p x"}}')
is "a call a rule allows: 200 allow, by the rule, with its input" \
    "$st:$(jq -c '[.behavior, .decided_by, .updatedInput.command]' "$T/body")" '200:["allow","rule:Bash(mkdir:*)","mkdir -p x"]'
st=$(ask '{"tool":"Bash","input":{"command":"rm -rf /"}}')
is "a call a rule denies: 200 deny, by the rule" "$st:$(jq -c '[.behavior, .decided_by]' "$T/body")" '200:["deny","rule:Bash(rm -rf *)"]'
st=$(ask '{"tool":"WebFetch","input":{"url":"http://x"}}')
is "no rule: the default decides" "$st:$(jq -r .decided_by "$T/body")" "200:default"
( ask '{"tool":"Bash","input":{"command":"touch y"},"wait":20}' > "$T/ask.code"; cp "$T/body" "$T/ask.body" ) &
asker=$!
n_open 1
id=$(ctl approval list --json | jq -r '.[0].id')
is "an ask is held as a pending request of the attached agent" "$(ctl approval list --json | jq -r '.[0] | "\(.agent):\(.tool):\(.input.command)"')" "claude-code:attached:Bash:touch y"
ctl approval allow "$id" >/dev/null
wait "$asker"
is "answered by a person: the held POST gets allow" "$(cat "$T/ask.code"):$(jq -c '[.behavior, .id]' "$T/ask.body")" "200:[\"allow\",\"$id\"]"
st=$(ask '{"tool":"Bash","input":{"command":"touch z"},"wait":0.5}')
is "nobody answers within the wait: 504" "$st:$(jq -r .error.code "$T/body")" "504:timeout"
id=$(ctl approval list --json | jq -r '.[0].id')
is "  and the request stays open, as over the socket" "$(ctl approval list --json | jq -r '.[0].input.command')" "touch z"
ctl approval deny "$id" >/dev/null
is "a viewer may not ask: 403" "$(code -H "Authorization: Bearer $VIEWER" -X POST -d '{"tool":"Read"}' "$URL/api/v1/approvals")" 403
is "without a token: 401" "$(code -X POST -d '{"tool":"Read"}' "$URL/api/v1/approvals")" 401
is "no tool: 400" "$(ask '{"input":{}}'):$(jq -r .error.message "$T/body")" "400:'tool' is required"
is "an unknown key: 400" "$(ask '{"tool":"Read","sessionid":"x"}')" 400
is "a wait out of bounds: 400" "$(ask '{"tool":"Read","wait":0}'):$(jq -r .error.message "$T/body")" "400:'wait' must be 0.05 to 3600 seconds"
# An agent's token may ask about its own run only, judged by its own
# agent's policy whatever agent and run it names.
task=$(ctl task create --title approvals)
ctl start asker --task "$task" >/dev/null
wait_for 20 test -s "$T/out/tok"
read -r atok arun < "$T/out/tok"
st=$(code -H "Authorization: Bearer $atok" -X POST -d '{"tool":"WebFetch","input":{"url":"http://x"},"agent":"claude-code:attached","run":"01ZZZZZZZZZZZZZZZZZZZZZZZZ"}' "$URL/api/v1/approvals")
is "an agent's token asks: its own agent's default decides" "$st:$(jq -c '[.behavior, .decided_by]' "$T/body")" '200:["allow","default"]'
d=$(ctl events --subject "evt.approval.$(jq -r .id "$T/body").decided" --json | jq -c '.data | [.agent, .run, .task]')
is "  recorded as its own run's call" "$d" "[\"asker\",\"$arun\",\"$task\"]"
st=$(code -H "Authorization: Bearer $atok" -X POST -d '{"tool":"Bash","input":{"command":"rm -rf /"}}' "$URL/api/v1/approvals")
is "  the global deny rules still hold" "$st:$(jq -r .decided_by "$T/body")" "200:rule:Bash(rm -rf *)"
ctl stop asker >/dev/null
is "an input that is no object: 400 from the daemon" "$(ask '{"tool":"Read","input":[1]}'):$(jq -r .error.message "$T/body")" "400:'input' must be an object"
check "the daemon still answers" ctl status

# --- bosunctl hook --approve --url, by hand and run by the real claude -p
P="$T/cproj"
S="$P/.claude/settings.json"
mkdir -p "$P/.claude" "$P/victim"
echo '{"permissions": {"allow": ["Bash", "Read", "Edit"]}}' > "$S"
jq -n --arg p "$P" '{projects: {($p): {hasTrustDialogAccepted: true}}}' > "$T/home/.claude.json"
ev s-ap SessionStart | uhook
pre='{"session_id":"s-ap","hook_event_name":"PreToolUse","cwd":"/tmp","tool_name":"Bash","tool_use_id":"t1","tool_input":{"command":"echo hi"}}'
out=$(printf '%s' "$pre" | uhook --approve)
is "hook --approve --url prints Claude's allow" "$(printf '%s' "$out" | jq -r '.hookSpecificOutput | "\(.permissionDecision):\(.permissionDecisionReason)"')" "allow:bosun: allowed (rule:Bash(echo:*))"
out=$(printf '%s' "$pre" | sed 's/echo hi/rm -rf \//' | uhook --approve)
is "  and a deny" "$(printf '%s' "$out" | jq -r .hookSpecificOutput.permissionDecision)" deny
BOSUNCTL="$BOSUNCTL" "$BOSUNCTL" --url "$URL" --token-file "$T/token" hook install --project "$P" --approve >/dev/null
like "install --approve over --url writes both into PreToolUse" "$(jq -r '.hooks.PreToolUse[0].hooks[0].command' "$S")" "hook --url $URL --token-file $T/token --approve\$"
# The ask rule's two touch calls wait for a person: the first is allowed,
# the second denied, each as it comes, until the session is over.
( for i in $(seq 1 1200); do
      [ -e "$T/perm.done" ] && break
      for id in $(ctl approval list --json 2>/dev/null | jq -r '.[].id'); do
          if [ -s "$T/answered" ]; then ctl approval deny "$id" --message "not now" >/dev/null && echo "deny $id" >> "$T/answered"
          else ctl approval allow "$id" >/dev/null && echo "allow $id" >> "$T/answered"; fi
      done
      sleep 0.1
  done ) &
answerer=$!
(cd "$P" && HOME="$T/home" ANTHROPIC_BASE_URL="$FAKE_URL" ANTHROPIC_API_KEY=sk-ant-fake-key-for-tests \
    CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC=1 DISABLE_TELEMETRY=1 DISABLE_AUTOUPDATER=1 \
    DISABLE_ERROR_REPORTING=1 CLAUDE_CODE_MAX_RETRIES=0 \
    timeout 120 "$CLAUDE_BIN" -p "SCENARIO:perm DIR:$P" --output-format stream-json --verbose) > "$T/perm.jsonl" 2>"$T/perm.err"
touch "$T/perm.done"
wait "$answerer"
is "the CLI run succeeds" "$(jq -r 'select(.type == "result") | .subtype' "$T/perm.jsonl")" success
is "a person was asked twice, allowed once and denied once" "$(cut -d' ' -f1 "$T/answered" | tr '\n' ,)" "allow,deny,"
check "the call a rule allowed ran" test -d "$P/made"
check "the call a rule denied did not" test -d "$P/victim"
check "the call the person allowed ran" test -e "$P/asked"
result() { fake_requests | tail -1 | jq -r --arg t "$1" '[.[] | select(.role == "user") | .content[]? | select(.type? == "tool_result" and .tool_use_id == $t)] | .[0] | tostring'; }
like "the fake sees the rule's refusal" "$(result toolu_perm2)" 'bosun: denied \(rule:Bash\(rm -rf \*\)\)'
like "and the person's" "$(result toolu_perm4)" 'bosun: denied \(cli\): not now'
sid=$(jq -r 'select(.type == "system" and .subtype == "init") | .session_id' "$T/perm.jsonl")
d=$(ctl events --subject 'evt.approval.*.decided' --json | jq -sc --arg r "$(ctl ps --json | jq -r --arg s "$sid" '.[] | select(.session_id == $s) | .run')" '[.[] | .data | select(.run == $r) | .decision]')
is "the decisions are events of the session's attached run" "$d" '["allow","deny","allow","deny"]'

stop_daemon
t0=$(date +%s%N)
out=$(printf '%s' "$pre" | sed 's/echo hi/touch q/' | uhook --approve); st=$?
t1=$(date +%s%N)
is "no daemon: an --approve hook exits 0 and prints nothing" "$st:$out" "0:"
check "at once" [ $(( (t1 - t0) / 1000000 )) -lt 2000 ]
t0=$(date +%s%N)
out=$(ev s-down Stop | uhook); st=$?
t1=$(date +%s%N)
is "no daemon over --url: exit 0, nothing printed" "$st:$out" "0:"
check "within the 2 s budget" [ $(( (t1 - t0) / 1000000 )) -lt 2500 ]
done_testing
