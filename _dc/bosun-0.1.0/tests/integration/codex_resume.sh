#!/bin/sh
# codex threads carried on with the real Codex CLI against the fake OpenAI
# Responses API: a blocking question through bosun's MCP server
# (request_input) lets the CLI exit, the answer resumes the same thread
# (codex exec resume) as a new run, and the fake sees the prior
# conversation and the answer; with resume: on-crash, a CLI killed with
# SIGKILL is restarted into its thread with the "you were interrupted" turn.
. "$top_srcdir/tests/integration/lib.sh"
. "$top_srcdir/tests/integration/codex_lib.sh"

plan 21

cg_resume_daemon codex || exit 1

# --- a blocking question, the exit, the answer, the resumed thread.
cg_ask asker
run=$RUN sid=$SID
like "it has the thread id" "$sid" '^[0-9a-f-]{36}$'
asked=$(ev "$run" tool_use '.[0]')
like "the question went through bosun's MCP tool" "$asked" '"name":"mcp__bosun__request_input".*"question":"Which colour should the button be\?"'
like "bosun's tool answered the CLI: pending" "$(ev "$run" tool_result '.[0] | [.is_error, .content]')" \
    '^\[false,"Request [0-9A-Z]{26} is pending'
is "the turn ended well: the run is not failed but waiting" "$(ev "$run" spawn_completed '.[0].waiting_input' | tr -d '"')" "$(ctl input list --pending --json | jq -r --arg r "$run" '.[] | select(.run == $r) | .input')"
cg_answer asker
run2=$RUN2
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
is "and so are the resumed run's tokens" "$(runf "$run2" tokens | jq -c '[.input_tokens, .output_tokens, .cache_read_tokens]')" '[100,30,20]'

# --- kill -9 of the CLI: resume on-crash restarts it into its thread.
cg_crash crashy
run3=$RUN3 sid3=$SID3
like "with codex exec resume, its thread and the interrupted turn" \
    "$(events "$run3" spawn_started | jq -c '[[.[] | .data.resume], .[1].data.argv]')" \
    "\[\"none\",\"crash\"\].*\"resume\".*\"--\",\"$sid3\",\"You were interrupted"
is "the resumed CLI answered" "$(ev "$run3" message '.[-1].text')" '"Resumed after the interruption."'
done_testing
