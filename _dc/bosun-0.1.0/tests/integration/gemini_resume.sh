#!/bin/sh
# gemini sessions carried on with the real Gemini CLI against the fake
# Gemini API: a blocking question through bosun's MCP server
# (mcp_bosun_request_input) lets the CLI exit, the answer resumes the same
# session (--resume UUID) as a new run, and the fake sees the prior
# conversation and the answer; with resume: on-crash, a CLI killed with
# SIGKILL is restarted into its session with the "you were interrupted" turn.
. "$top_srcdir/tests/integration/lib.sh"
. "$top_srcdir/tests/integration/gemini_lib.sh"

plan 20

cg_resume_daemon gemini || exit 1

# --- a blocking question, the exit, the answer, the resumed session.
cg_ask asker
run=$RUN sid=$SID
like "it has the session id bosun assigned" "$sid" '^[0-9a-f-]{36}$'
is "assigned before the process started" "$(ev "$run" spawn_started '.[0].session_id')" "\"$sid\""
like "the question went through bosun's MCP tool" "$(ev "$run" tool_use '.[0]')" \
    '"name":"mcp_bosun_request_input".*"question":"Which colour should the button be\?"'
like "bosun's tool answered the CLI: pending" "$(ev "$run" tool_result '.[0] | [.is_error, .content]')" \
    '^\[false,"Request [0-9A-Z]{26} is pending'
cg_answer asker
run2=$RUN2
argv=$(events "$run2" spawn_started | jq -c '.[0].data.argv')
like "the CLI was resumed with the session and the answer as the next turn" "$argv" \
    "\"--resume\",\"$sid\",\"--prompt=ANSWER: blue\"\]"
unlike "without a new --session-id" "$argv" '"--session-id"'
last=$(fake_contents | tail -1)
is "the fake saw the prior conversation (the question's call and its answer)" \
    "$(printf '%s\n' "$last" | jq -c '[.[].parts[] | (.functionCall.name // .functionResponse.name // empty)] | unique')" \
    '["mcp_bosun_request_input"]'
is "and the answer as the last user turn" "$(printf '%s\n' "$last" | jq -c '.[-1] | [.role, .parts[0].text]')" '["user","ANSWER: blue"]'
is "the CLI's reply after the answer is the resumed run's message" \
    "$(ev "$run2" message '.[-1].text')" '"Thanks, the answer was: ANSWER: blue"'

# --- kill -9 of the CLI: resume on-crash restarts it into its session.
cg_crash crashy
run3=$RUN3 sid3=$SID3
like "with --resume, its session and the interrupted turn" \
    "$(events "$run3" spawn_started | jq -c '[[.[] | .data.resume], .[1].data.argv]')" \
    "\[\"none\",\"crash\"\].*\"--resume\",\"$sid3\",\"--prompt=You were interrupted"
is "the resumed CLI answered" "$(ev "$run3" message '.[-1].text')" '"Resumed after the interruption."'
done_testing
