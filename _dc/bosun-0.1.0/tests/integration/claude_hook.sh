#!/bin/sh
# bosunctl hook with the real Claude Code CLI (fake Anthropic API): hooks
# installed by `bosunctl hook install --project` next to a hook the user
# had, a `claude -p` session started by hand (not by bosund) shows as an
# attached run with its typed events; --approve makes bosun's policy
# decide the CLI's tool calls; a daemon that is down or stopped never
# holds the session up; bad hook input is refused with a log line; the
# run outlives a daemon restart in the store; uninstall takes out only
# bosun's hooks.
. "$top_srcdir/tests/integration/lib.sh"
. "$top_srcdir/tests/integration/claude_lib.sh"

plan 54

write_config <<EOF2
  plugins: [sqlite]
approvals:
  allow: ["Bash(mkdir:*)", "Read", "Edit", "Bash(echo:*)"]
  deny: ["Bash(rm -rf *)"]
  ask: ["Bash(touch:*)"]
  default: deny
EOF2
start_daemon || exit 1

P="$T/proj"
S="$P/.claude/settings.json"
mkdir -p "$P/.claude" "$P/victim"
# What the user had: a hook of their own, permissions, another key.
cat > "$S" <<EOF2
{
  "permissions": {"allow": ["Bash", "Read", "Edit"]},
  "cleanupPeriodDays": 30,
  "hooks": {
    "PreToolUse": [{"matcher": "Bash", "hooks": [{"type": "command", "command": "echo mine >> $T/user-hook.log"}]}]
  }
}
EOF2

# The person trusted the project once (so its permissions apply), and the
# hooks run this build's bosunctl (its wrapper script).
mkdir -p "$T/home"
jq -n --arg p "$P" '{projects: {($p): {hasTrustDialogAccepted: true}}}' > "$T/home/.claude.json"
export BOSUNCTL

# claude_p PROMPT: the real CLI run by hand in the project, as a person would.
claude_p() {
    (cd "$P" && HOME="$T/home" ANTHROPIC_BASE_URL="$FAKE_URL" ANTHROPIC_API_KEY=sk-ant-fake-key-for-tests \
        CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC=1 DISABLE_TELEMETRY=1 DISABLE_AUTOUPDATER=1 \
        DISABLE_ERROR_REPORTING=1 CLAUDE_CODE_MAX_RETRIES=0 \
        timeout 120 "$CLAUDE_BIN" -p "$1" --output-format stream-json --verbose)
}
attached() { ctl ps --json | jq -r --arg s "$1" '.[] | select(.agent == "claude-code:attached" and .session_id == $s) | .run' | head -1; }
count() { events "$1" "$2" | jq length; }
hook() { "$BOSUNCTL" -s "$(SOCK)" hook "$@"; }

out=$(ctl hook install --project "$P")
like "hook install names the file" "$out" "bosun's hooks are in $S"
is "seven events get bosun's hook" \
    "$(jq -r '[.hooks | to_entries[] | select(.value | tostring | test("bosunctl.* hook")) | .key] | sort | join(",")' "$S")" \
    "Notification,PostToolUse,PreToolUse,SessionEnd,SessionStart,Stop,UserPromptSubmit"
is "the user's own hook is kept, first" "$(jq -r '.hooks.PreToolUse[0].hooks[0].command' "$S")" "echo mine >> $T/user-hook.log"
is "the other keys are kept" "$(jq -c '[.permissions.allow, .cleanupPeriodDays]' "$S")" '[["Bash","Read","Edit"],30]'
like "the hook command reaches this daemon's socket" "$(jq -r '.hooks.Stop[0].hooks[0].command' "$S")" "^$BOSUNCTL hook --socket $(SOCK)\$"
is "each has a short timeout" "$(jq -r '.hooks.SessionStart[0].hooks[0].timeout' "$S")" 5
cp "$S" "$T/once.json"
ctl hook install --project "$P" >/dev/null
check "installing again changes nothing" cmp -s "$S" "$T/once.json"

# --- a session started by hand
claude_p "SCENARIO:tools DIR:$P" > "$T/tools.jsonl" 2>"$T/tools.err"
is "the CLI run succeeds" "$(jq -r 'select(.type == "result") | .subtype' "$T/tools.jsonl")" success
sid=$(jq -r 'select(.type == "system" and .subtype == "init") | .session_id' "$T/tools.jsonl")
like "the CLI reported its session" "$sid" '^[0-9a-f-]{36}$'
run=$(attached "$sid")
like "ps shows an attached run for the session" "$run" '^[0-9A-Z]{26}$'
wait_for 10 stored_state_is "$run" EXITED
is "the run ended with the session" "$(runf "$run" state)" EXITED
like "its reason says how" "$(runf "$run" reason)" "Stop hook|reason: other"
is "ps shows the agent claude-code:attached" "$(ctl ps | awk -v r="$run" '$2 == r { print $1 }')" "claude-code:attached"
is "one tool_use per tool call of the fake" "$(count "$run" tool_use)" 3
is "the tool_use events name the tools" "$(events "$run" tool_use | jq -r '[.[].data.name] | join(",")')" "Bash,Read,Edit"
is "and their ids" "$(events "$run" tool_use | jq -r '[.[].data.id] | join(",")')" "toolu_bash1,toolu_read1,toolu_edit1"
is "a tool_result for each call that ran" "$(count "$run" tool_result)" 3
is "the prompt is a user message" "$(events "$run" message | jq -r '.[0].data | "\(.role):\(.text)"')" "user:SCENARIO:tools DIR:$P"
is "SessionStart is a session event" "$(events "$run" session | jq -r '.[0].data | "\(.session_id):\(.cwd)"')" "$sid:$P"
like "every call is kept raw too" "$(events "$run" hook | jq -r '[.[].data.hook_event_name] | join(",")')" \
    '^SessionStart,UserPromptSubmit,PreToolUse,PostToolUse,.*Stop'
is "SessionEnd is kept on the run that ended" "$(events "$run" session_end | jq -r '.[0].data.reason')" other
is "the store has the run as the attached agent's" "$(stored_run "$run" agent):$(stored_run "$run" session_id)" "claude-code:attached:$sid"
check "the user's own hook still ran" test -s "$T/user-hook.log"

# --- --approve: bosun's policy decides the CLI's tool calls
ctl hook install --project "$P" --approve >/dev/null
like "with --approve PreToolUse waits longer" "$(jq -c '.hooks.PreToolUse[1].hooks[0] | [.command, .timeout]' "$S")" 'hook --socket .* --approve",60\]'
(cd "$P" && rm -rf made asked)
# The ask rule's calls (touch, twice) wait for a person: a person here
# denies each one as it comes, until the session is over.
( for i in $(seq 1 1200); do
      [ -e "$T/perm.done" ] && break
      for id in $(ctl approval list --json 2>/dev/null | jq -r '.[].id'); do
          ctl approval deny "$id" --message "not now" >/dev/null && echo "$id" >> "$T/denied"
      done
      sleep 0.1
  done ) &
answerer=$!
claude_p "SCENARIO:perm DIR:$P" > "$T/perm.jsonl" 2>"$T/perm.err"
touch "$T/perm.done"
wait "$answerer"
is "the person was asked twice" "$(wc -l < "$T/denied" | tr -d ' ')" 2
check "the call allowed by a rule ran" test -d "$P/made"
check "the call denied by a rule did not" test -d "$P/victim"
check "the call a person denied did not" test ! -e "$P/asked"
refusal=$(fake_requests | tail -1 | jq -r '[.[] | select(.role == "user") | .content[]? | select(.type? == "tool_result" and .tool_use_id == "toolu_perm2")] | .[0] | tostring')
like "the fake sees the refusal in the tool_result" "$refusal" 'bosun: denied \(rule:Bash\(rm -rf \*\)\)'
d=$(ctl events --subject 'evt.approval.*.decided' --json | jq -sc '[.[] | .data | select(.agent == "claude-code:attached") | "\(.decision):\(.decided_by)"]')
like "the decisions are events naming the rule or person" "$d" '"allow:rule:Bash\(mkdir:\*\)","deny:rule:Bash\(rm -rf \*\)","deny:'

# --- hook calls by hand: attention, asks answered, bad input
ev() { printf '{"session_id":"%s","hook_event_name":"%s","cwd":"%s","transcript_path":"%s/t.jsonl"%s}' "$1" "$2" "$P" "$T" "${3:-}"; }
out=$(ev s-by-hand SessionStart ',"source":"startup"' | hook)
is "a hook prints nothing without --approve" "$out" ""
r2=$(attached s-by-hand)
ev s-by-hand Notification ',"message":"Claude needs your permission to use Bash","notification_type":"permission_prompt"' | hook
is "a permission notification marks the run" "$(runf "$r2" attention)" true
like "ps shows it needs attention" "$(ctl ps | awk -v r="$r2" '$2 == r')" "needs attention: Claude needs your permission"
is "and it is an event" "$(count "$r2" attention)" 1
ev s-by-hand UserPromptSubmit ',"prompt":"go on"' | hook
is "the next prompt clears it" "$(runf "$r2" attention)" false
ev s-by-hand PreToolUse ',"tool_name":"Bash","tool_use_id":"t1","tool_input":{"command":"echo hi","api_key":"sk-secret-123"}}' | sed 's/}}$/}/' > "$T/pre.json"
jq -e . "$T/pre.json" >/dev/null || fail "the hand-made PreToolUse is JSON" "$(cat "$T/pre.json")"
out=$(hook --approve < "$T/pre.json")
is "--approve prints Claude's decision" "$(printf '%s' "$out" | jq -r '.hookSpecificOutput | "\(.hookEventName):\(.permissionDecision)"')" "PreToolUse:allow"
unlike "secrets in tool inputs are redacted" "$(events "$r2" tool_use)" "sk-secret-123"
sed 's/echo hi/touch x/' "$T/pre.json" > "$T/ask.json"
hook --approve --timeout 20 < "$T/ask.json" > "$T/ask.out" &
asker=$!
wait_for 10 sh -c "\"$BOSUNCTL\" -s \"$(SOCK)\" approval list --json | jq -e 'length == 1' >/dev/null"
ctl approval allow "$(ctl approval list --json | jq -r '.[0].id')" >/dev/null
wait "$asker"
is "an ask answered by a person comes back as allow" "$(jq -r .hookSpecificOutput.permissionDecision "$T/ask.out")" allow
printf 'this is not json' | hook; st=$?
is "malformed input: exit 0" "$st" 0
wait_for 5 grep -q "hook: refused a hook call: the hook's input is not JSON" "$T/bosund.log"
check "and the log says what was wrong" grep -q "hook: refused a hook call: the hook's input is not JSON" "$T/bosund.log"
head -c 2000000 /dev/zero | tr '\0' 'a' | hook; st=$?
wait_for 5 grep -q "over 1048576 bytes" "$T/bosund.log"
check "oversize input: exit 0 and logged" sh -c "[ $st = 0 ] && grep -q 'over 1048576 bytes' '$T/bosund.log'"
check "the daemon still answers" ctl status

# --- a stopped daemon, then a restart: the run is in the store
kill -STOP "$DAEMON_PID"
t0=$(date +%s%N)
out=$(ev s-by-hand Stop | hook); st=$?
t1=$(date +%s%N)
kill -CONT "$DAEMON_PID"
is "a hung daemon: exit 0, nothing printed" "$st:$out" "0:"
check "within 2 s and a bit" [ $(( (t1 - t0) / 1000000 )) -lt 2500 ]
ev s-restart SessionStart | hook
r3=$(attached s-restart)
stop_daemon
is "bosund stops cleanly" "$DAEMON_STATUS" 0
start_daemon || exit 1
wait_for 10 stored_state_is "$r3" LOST
is "a run left running is LOST after a restart" "$(stored_run "$r3" state)" LOST
ev s-restart UserPromptSubmit ',"prompt":"again"' | hook
r4=$(attached s-restart)
check "the session's next hook starts a new run" sh -c "[ -n '$r4' ] && [ '$r4' != '$r3' ] && [ \"\$(\"$BOSUNCTL\" -s \"$(SOCK)\" ps --json | jq -r '.[] | select(.run == \"$r4\") | .state')\" = RUNNING ]"

# --- bosund down: the session is not held up
stop_daemon
is "and again" "$DAEMON_STATUS" 0
t0=$(date +%s%N)
out=$(ev s-down SessionStart | hook); st=$?
t1=$(date +%s%N)
is "bosund down: exit 0, nothing printed" "$st:$out" "0:"
check "at once" [ $(( (t1 - t0) / 1000000 )) -lt 2000 ]
claude_p "SCENARIO:plain" > "$T/down.jsonl" 2>"$T/down.err"
is "the CLI run with bosun's hooks and no bosund succeeds" "$(jq -r 'select(.type == "result") | .subtype' "$T/down.jsonl")" success

# --- uninstall
out=$(ctl hook uninstall --project "$P")
like "uninstall counts what it took out" "$out" "^7 bosun hooks taken out of $S"
is "no bosun hook is left" "$(grep -c bosunctl "$S")" 0
is "the user's hook and keys are still there" "$(jq -c '[.hooks.PreToolUse[0].hooks[0].command, .cleanupPeriodDays, (.hooks | keys)]' "$S")" \
    "[\"echo mine >> $T/user-hook.log\",30,[\"PreToolUse\"]]"
done_testing
