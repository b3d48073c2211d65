#!/bin/sh
# codex threads carried on with the real Codex CLI against the fake OpenAI
# Responses API: a blocking question through bosun's MCP server
# (request_input) lets the CLI exit, the answer resumes the same thread
# (codex exec resume) as a new run, and the fake sees the prior
# conversation and the answer; with resume: on-crash, a CLI killed with
# SIGKILL is restarted into its thread with the "you were interrupted" turn.
. "$top_srcdir/tests/integration/lib.sh"
. "$top_srcdir/tests/integration/codex_lib.sh"

plan 20

write_config <<EOF2
  plugins: [sqlite, exec, mcp, codex]
agents:
$(codex_agent asker </dev/null)
$(codex_agent crashy <<EOF3
    resume: on-crash
    restart: never
    backoff_base: 0
EOF3
)
EOF2
start_daemon || exit 1

# --- a blocking question, the exit, the answer, the resumed thread.
j=$(ctl task create --title "pick a colour" --prompt "SCENARIO:ask" --agent asker --json)
run=$(printf '%s\n' "$j" | jq -r .run)
like "the task's run started" "$run" '^[0-9A-Z]{26}$'
# Answered only once the CLI has exited: an answer to a live process is
# its to read (check_input), not a resume.
cli_gone() { run_state_is "$run" WAITING_INPUT && [ "$(events "$run" exited | jq length)" = 1 ]; }
check "the run waits for input once the CLI has exited" wait_for 90 cli_gone
sid=$(runf "$run" session_id)
like "it has the thread id" "$sid" '^[0-9a-f-]{36}$'
asked=$(ev "$run" tool_use '.[0]')
like "the question went through bosun's MCP tool" "$asked" '"name":"mcp__bosun__request_input".*"question":"Which colour should the button be\?"'
like "bosun's tool answered the CLI: pending" "$(ev "$run" tool_result '.[0] | [.is_error, .content]')" \
    '^\[false,"Request [0-9A-Z]{26} is pending'
is "the turn ended well: the run is not failed but waiting" "$(ev "$run" spawn_completed '.[0].waiting_input' | tr -d '"')" "$(ctl input list --pending --json | jq -r --arg r "$run" '.[] | select(.run == $r) | .input')"
input=$(ctl input list --pending --json | jq -r --arg r "$run" '.[] | select(.run == $r) | .input')
like "the input request is pending" "$input" '^[0-9A-Z]{26}$'
ctl input answer "$input" "ANSWER: blue" >/dev/null
resumed_is() { [ "$(slot asker resumed_from)" = "$run" ]; }
check "the answer resumed the run as a new one" wait_for 30 resumed_is
run2=$(slot asker run)
check "the resumed run ended" wait_for 90 ended "$run2"
is "the resumed run exited done" "$(runf "$run2" state) $(ev "$run2" spawn_completed '.[0].class')" 'EXITED "done"'
is "in the same thread" "$(runf "$run2" session_id)" "$sid"
argv=$(events "$run2" spawn_started | jq -c '.[0].data.argv')
like "the CLI was resumed with the thread and the answer as the next turn" "$argv" \
    "\"exec\",\"resume\",\"--json\".*\"--\",\"$sid\",\"ANSWER: blue\"\]"
last=$(fake_inputs | tail -1)
is "the fake saw the prior conversation (the question's call)" \
    "$(printf '%s\n' "$last" | jq -c '[.[] | select(.type == "function_call") | [.namespace, .name]]')" '[["mcp__bosun","request_input"]]'
like "and the answer as the last user turn" "$(printf '%s\n' "$last" | jq -c '.[-1]')" '"role":"user".*ANSWER: blue'
is "the CLI's reply after the answer is the resumed run's message" \
    "$(ev "$run2" message '.[-1].text')" '"Thanks, the answer was: ANSWER: blue"'
# Thread totals after the resume hold the first run's two requests too:
# the usage event is this turn's alone (one request: 100 + 20 cached in, 30 out).
is "the resumed turn's usage is its own, not the thread's totals" \
    "$(ev "$run2" usage '[.[] | [.input_tokens, .cache_read_tokens, .output_tokens, .thread_totals.input_tokens]]')" '[[100,20,30,360]]'

# --- kill -9 of the CLI: resume on-crash restarts it into its thread.
run3=$(ctl start crashy --prompt "SCENARIO:slow")
sleeping() { events "$run3" tool_use | jq -e '.[] | select(.data.input.command | test("sleep 60"))' >/dev/null; }
check "the CLI is running its command (sleep)" wait_for 90 sleeping
sid3=$(runf "$run3" session_id)
pid=$(runf "$run3" pid)
kill -KILL "$pid"
restarted_once() { [ "$(runf "$run3" restarts)" = 1 ] && ended "$run3"; }
check "killed, the run was restarted once and then ended" wait_for 90 restarted_once
like "with codex exec resume, its thread and the interrupted turn" \
    "$(events "$run3" spawn_started | jq -c '[[.[] | .data.resume], .[1].data.argv]')" \
    "\[\"none\",\"crash\"\].*\"resume\".*\"--\",\"$sid3\",\"You were interrupted"
is "the resumed CLI answered" "$(ev "$run3" message '.[-1].text')" '"Resumed after the interruption."'
done_testing
