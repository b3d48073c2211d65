#!/bin/sh
# claude-code sessions carried on with the real Claude Code CLI against the
# fake Anthropic API: a blocking question through bosun's MCP server
# (mcp__bosun__request_input) lets the CLI exit, the answer resumes the same
# session (--resume) as a new run, and the fake sees the prior conversation
# and the answer; with resume: on-crash, a CLI killed with SIGKILL is
# restarted into its session with the "you were interrupted" turn, also
# when bosund itself was killed with it (a machine reboot).
. "$top_srcdir/tests/integration/lib.sh"
. "$top_srcdir/tests/integration/claude_lib.sh"

plan 30

write_config <<EOF2
  plugins: [sqlite, exec, mcp, claude-code]
agents:
$(claude_agent asker </dev/null)
$(claude_agent crashy <<EOF3
    resume: on-crash
    restart: never
    backoff_base: 0
EOF3
)
EOF2
start_daemon || exit 1

# --- a blocking question, the exit, the answer, the resumed session.
j=$(ctl task create --title "pick a colour" --prompt "SCENARIO:ask" --agent asker --json)
run=$(printf '%s\n' "$j" | jq -r .run)
like "the task's run started" "$run" '^[0-9A-Z]{26}$'
# WAITING_INPUT comes with the question, while the CLI still runs; it
# exits after its last turn, and the answer resumes it (an answer before
# the exit resumes it at the exit: claude_early.sh).
cli_exited() { [ "$(events "$run" exited | jq length)" = 1 ]; }
check "the CLI exited after asking" wait_for 90 cli_exited
is "the run waits for input" "$(runf "$run" state)" WAITING_INPUT
sid=$(runf "$run" session_id)
like "it has its session id" "$sid" '^[0-9a-f-]{36}$'
asked=$(events "$run" tool_use | jq -c '.[0].data')
like "the question went through bosun's MCP tool" "$asked" '"name":"mcp__bosun__request_input".*"question":"Which colour should the button be\?"'
is "the MCP tool answered the CLI: pending" \
    "$(events "$run" tool_result | jq -r '.[0].data.content' | jq -r '.status' 2>/dev/null)" pending
input=$(ctl input list --pending --json | jq -r --arg r "$run" '.[] | select(.run == $r) | .input')
like "the input request is pending" "$input" '^[0-9A-Z]{26}$'
ctl input answer "$input" "ANSWER: blue" >/dev/null
resumed_is() { [ "$(slot asker resumed_from)" = "$run" ]; }
check "the answer resumed the run as a new one" wait_for 30 resumed_is
run2=$(slot asker run)
check "the resumed run ended" wait_for 90 ended "$run2"
is "the resumed run exited done" "$(runf "$run2" state) $(events "$run2" spawn_completed | jq -r '.[0].data.class')" "EXITED done"
is "in the same session" "$(runf "$run2" session_id)" "$sid"
argv=$(events "$run2" spawn_started | jq -c '.[0].data.argv')
like "the CLI was resumed with the session and the answer as the next turn" "$argv" \
    "\"--resume\",\"$sid\",\"--\",\"ANSWER: blue\""
unlike "without a new --session-id" "$argv" '"--session-id"'
last=$(fake_requests | tail -1)
like "the fake saw the prior conversation (the question's tool call)" "$last" '"name":"mcp__bosun__request_input"'
like "and the answer as the last user turn" "$(printf '%s\n' "$last" | jq -c '.[-1]')" 'ANSWER: blue'
is "the CLI's reply after the answer is the resumed run's message" \
    "$(events "$run2" message | jq -r '.[-1].data.text')" "Thanks, the answer was: ANSWER: blue"

# --- kill -9 of the CLI: resume on-crash restarts it into its session.
run3=$(ctl start crashy --prompt "SCENARIO:slow")
stalled() { fake_requests | grep -q 'SCENARIO:slow'; }
check "the CLI is waiting for the model's answer" wait_for 90 stalled
sid3=$(runf "$run3" session_id)
pid=$(runf "$run3" pid)
# The CLI writes its session file around its request; a kill before it is
# there leaves nothing to resume (a race a loaded machine lost).  Bounded,
# and not a check: the checks below say whether the resume worked.
transcript() { grep -qs 'SCENARIO:slow' "$T"/home/.claude/projects/*/"$1.jsonl"; }
wait_for 30 transcript "$sid3" || true
kill -KILL "$pid"
restarted_once() { [ "$(runf "$run3" restarts)" = 1 ] && ended "$run3"; }
check "killed, the run was restarted once and then ended" wait_for 90 restarted_once
is "the restart resumed the crashed session" \
    "$(events "$run3" spawn_started | jq -c '[.[] | .data.resume]')" '["none","crash"]'
like "with --resume and the interrupted turn" "$(events "$run3" spawn_started | jq -c '.[1].data.argv')" \
    "\"--resume\",\"$sid3\",\"--\",\"You were interrupted"
last=$(fake_requests | tail -1)
like "the fake saw the prior conversation and the interrupted turn" \
    "$(printf '%s\n' "$last" | jq -c '[(.[0] | tostring | test("SCENARIO:slow")), (.[-1] | tostring | test("interrupted"))]')" '^\[true,true\]$'
is "the resumed CLI answered" "$(events "$run3" message | jq -r '.[-1].data.text')" "Resumed after the interruption."

# --- kill -9 of bosund and of the CLI (a reboot): the new bosund resumes the session.
run4=$(ctl start crashy --prompt "SCENARIO:slow, daemon killed")
stalled4() { fake_requests | grep -q 'SCENARIO:slow, daemon killed'; }
check "the second CLI is waiting for the model's answer" wait_for 90 stalled4
sid4=$(runf "$run4" session_id)
pid4=$(runf "$run4" pid)
stored_sid() { [ "$(stored_run "$run4" session_id)" = "$sid4" ]; }
check "the store has the run's session id" wait_for 30 stored_sid
wait_for 30 transcript "$sid4" || true
kill -KILL "$DAEMON_PID"; wait "$DAEMON_PID" 2>/dev/null; DAEMON_PID=
kill -KILL "-$pid4"
check "the CLI and what it started are gone" wait_for 10 pid_dead "$pid4"
start_daemon || exit 1
resumed4() { [ "$(slot crashy resumed_from)" = "$run4" ]; }
check "the new bosund resumed the lost run as a new one" wait_for 30 resumed4
run5=$(slot crashy run)
check "the resumed run ended" wait_for 90 ended "$run5"
is "the lost run is LOST, the new one EXITED, in the same session" \
    "$(stored_run "$run4" state) $(runf "$run5" state) $(runf "$run5" session_id)" "LOST EXITED $sid4"
like "the CLI resumed the session with the interrupted turn" \
    "$(events "$run5" spawn_started | jq -c '.[0].data | [.resume, .argv]')" \
    "^\\[\"crash\",.*\"--resume\",\"$sid4\",\"--\",\"You were interrupted"
last=$(fake_requests | tail -1)
like "the fake saw the lost run's conversation and the interrupted turn" \
    "$(printf '%s\n' "$last" | jq -c '[(.[0] | tostring | test("daemon killed")), (.[-1] | tostring | test("interrupted"))]')" '^\[true,true\]$'
done_testing
