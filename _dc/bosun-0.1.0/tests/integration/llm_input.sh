#!/bin/sh
# request_input: the model asks a person through bosun's input requests;
# the run waits idle (its process stays, nothing is asked of the model)
# and goes on with the answer as the tool's result.  Killed while waiting,
# the resumed process waits for the same request and takes its answer.
. "$top_srcdir/tests/integration/llm_lib.sh"
plan 14
llm_daemon '{"turns": [
  {"tool_calls": [{"id": "q1", "name": "request_input", "arguments": {"question": "Which colour?", "choices": ["red", "blue"]}}]},
  {"text": ["blue it is"]},
  {"tool_calls": [{"id": "q2", "name": "request_input", "arguments": {"question": "Which size?"}}]},
  {"text": ["large it is"]}
]}' "    resume: on-crash
    backoff_base: 0" </dev/null || exit 1
pending() { ctl input list --pending --json | jq -r '.[0].id // empty'; }
have_pending() { [ -n "$(pending)" ]; }

RUN=$(ctl task create --title "colour" --prompt "pick a colour" --agent coder --json | jq -r .run)
wait_for 20 have_pending
input=$(pending)
like "the question is an input request" "$input" '^[0-9A-Z]{26}$'
is "a run on a task is offered request_input" \
    "$(head -n 1 "$FAKE_LOG" | jq -r '[.body.tools[].function.name] | index("request_input") != null')" true
is "with the question and choices" "$(ctl input list --json | jq -c '.[0] | [.question, .choices]')" '["Which colour?",["red","blue"]]'
sleep 0.5
is "the run waits, running" "$(runf "$RUN" state)" RUNNING
is "idle" "$(llm_events "$RUN" status | jq -r .status | tail -n 1)" idle
is "the model is not asked meanwhile" "$(fake_requests)" 1
ctl input answer "$input" "blue" >/dev/null
wait_for 20 llm_ended "$RUN"
is "answered, the run goes on to its end" "$(llm_events "$RUN" result | jq -r .subtype)" success
is "the answer was the tool's result" "$(llm_events "$RUN" tool_result | jq -r .content)" "The answer: blue"
is "and the model got it" \
    "$(tail -n 1 "$FAKE_LOG" | jq -r '.body.messages[] | select(.role == "tool") | .content')" "The answer: blue"

RUN=$(ctl task create --title "size" --prompt "pick a size" --agent coder --json | jq -r .run)
wait_for 20 have_pending
input=$(pending)
kill -KILL "$(runf "$RUN" pid)"
wait_for 20 sh -c "[ \"\$(\"$BOSUNCTL\" -s \"$T/run/bosund.sock\" ps --json | jq -r '.[] | select(.run == \"$RUN\") | .restarts')\" = 1 ]"
sleep 1
is "killed while waiting, it is resumed" "$(runf "$RUN" restarts)" 1
is "the question is still the one pending" "$(pending)" "$input"
ctl input answer "$input" "large" >/dev/null
wait_for 20 llm_ended "$RUN"
is "the resumed process takes the answer" "$(llm_events "$RUN" tool_result | jq -r .content)" "The answer: large"
is "and ends well" "$(llm_events "$RUN" result | jq -r .subtype)" success
stop_daemon
is "daemon stops: exit 0" "$DAEMON_STATUS" 0
done_testing
