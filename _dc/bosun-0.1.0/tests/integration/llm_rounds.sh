#!/bin/sh
# Tool rounds of the llm loop: reads run in parallel, writes in order, an
# unknown tool and malformed arguments are answered as errors and the loop
# goes on, and an endless tool loop stops at max_rounds (20) with a final
# message saying so.
. "$top_srcdir/tests/integration/llm_lib.sh"
plan 21
echo "alpha" > "$T/ws/a.txt"
llm_daemon '{"after": "repeat_last", "turns": [
  {"tool_calls": [{"id": "r1", "name": "read_file", "arguments": {"path": "a.txt"}},
                  {"id": "r2", "name": "list_files", "arguments": {}}], "interleave": true},
  {"text": ["read both"]},
  {"tool_calls": [{"id": "w1", "name": "write_file", "arguments": {"path": "x.txt", "content": "1"}},
                  {"id": "w2", "name": "write_file", "arguments": {"path": "y.txt", "content": "2"}}]},
  {"text": ["wrote both"]},
  {"tool_calls": [{"id": "u1", "name": "no_such_tool", "arguments": {}}]},
  {"text": ["sorry"]},
  {"tool_calls": [{"id": "m1", "name": "write_file", "arguments": "{\"path\": \"z.txt\", \"cont"}]},
  {"text": ["fixed"]},
  {"tool_calls": [{"id": "e1", "name": "list_files", "arguments": {}}]}
]}' </dev/null || exit 1

llm_run "read two things"
is "parallel reads: the run succeeds" "$(llm_events "$RUN" result | jq -r .subtype)" success
is "both reads ran as one parallel step" \
    "$(llm_events "$RUN" status | jq -r 'select(.status == "executing") | .tool' | tr '\n' ' ')" "parallel reads "
is "the read's result is the file" "$(llm_events "$RUN" tool_result | jq -r 'select(.id == "r1") | .content')" "alpha"
is "the model got both results, in the calls' order" \
    "$(tail -n 1 "$FAKE_LOG" | jq -r '[.body.messages[] | select(.role == "tool") | .tool_call_id] | join(",")')" "r1,r2"

llm_run "write two things"
is "writes run one after the other" \
    "$(llm_events "$RUN" status | jq -r 'select(.status == "executing") | .tool' | tr '\n' ' ')" "write_file write_file "
is "both files are there" "$(cat "$T/ws/x.txt" "$T/ws/y.txt")" "12"

llm_run "use a tool that does not exist"
r=$(llm_events "$RUN" tool_result)
is "an unknown tool is an error result" "$(echo "$r" | jq -r .is_error)" true
like "which says so and lists the tools" "$(echo "$r" | jq -r .content)" "unknown tool 'no_such_tool'; the tools are: .*read_file"
is "and the loop goes on to the end" "$(llm_events "$RUN" result | jq -r .subtype)" success

llm_run "send bad arguments"
r=$(llm_events "$RUN" tool_result)
is "malformed arguments are an error result" "$(echo "$r" | jq -r .category)" invalid
like "that tells the model what was wrong" "$(echo "$r" | jq -r .content)" "invalid arguments: .*valid JSON"
is "nothing was written" "$(test -e "$T/ws/z.txt" && echo yes || echo no)" no
is "the loop goes on after it" "$(llm_events "$RUN" message | jq -r .text)" fixed

before=$(fake_requests)
llm_run "loop for ever"
res=$(llm_events "$RUN" result)
is "an endless tool loop stops at max_rounds" "$(echo "$res" | jq -r .subtype)" error_max_rounds
is "after 20 rounds" "$(echo "$res" | jq -r .rounds)" 20
is "20 tool results" "$(llm_events "$RUN" tool_result | wc -l | tr -d ' ')" 20
is "21 model calls (the last one's calls are not run)" "$(( $(fake_requests) - before ))" 21
like "a final message says so" "$(llm_events "$RUN" message | jq -r .text | tail -n 1)" "stopped after 20 tool rounds.*max_rounds"
is "every bosun-llm process exited 0" "$(llm_exit_codes)" "0 "
unlike_empty_ok "none reported a sanitizer error" "$(llm_stderr)" "Sanitizer|runtime error"
stop_daemon
is "daemon stops: exit 0" "$DAEMON_STATUS" 0
done_testing
