#!/bin/sh
# The llm loop end to end against the fake OpenAI API: a text answer
# streamed as coalesced deltas, then one tool call whose result goes back
# to the model; status events, usage, the result, and nothing of the key.
. "$top_srcdir/tests/integration/llm_lib.sh"
plan 22
llm_daemon '{"turns": [
  {"text": ["Hel", "lo", " there"], "chunk_delay_ms": 5},
  {"tool_calls": [{"id": "c1", "name": "write_file", "arguments": {"path": "a.txt", "content": "hi\n"}}]},
  {"text": ["written"]},
  {"text": ["a","b","c","d","e","f","g","h","i","j","k","l","m","n","o","p","q","r","s","t",
            "a","b","c","d","e","f","g","h","i","j","k","l","m","n","o","p","q","r","s","t"],
   "chunk_delay_ms": 5}
]}' </dev/null || exit 1

llm_run "say hello"
is "a text-only run ends EXITED" "$(runf "$RUN" state)" EXITED
is "its message is the whole answer" "$(llm_events "$RUN" message | jq -r .text)" "Hello there"
deltas=$(llm_events "$RUN" message_delta | jq -r .text | tr -d '\n')
is "the deltas add up to the answer" "$deltas" "Hello there"
is "usage is an event" "$(llm_events "$RUN" usage | jq -c '[.input_tokens,.output_tokens]')" "[10,5]"
is "the result says success" "$(llm_events "$RUN" result | jq -r .subtype)" success
is "status went thinking then idle" "$(llm_events "$RUN" status | jq -r .status | tr '\n' ' ')" "thinking idle "
is "a run without a task is not offered request_input" \
    "$(head -n 1 "$FAKE_LOG" | jq -r '[.body.tools[].function.name] | index("request_input")')" null
like "the session is the run's pre-assigned one" "$(llm_events "$RUN" session | jq -r .session_id)" '^[0-9a-f-]{36}$'

llm_run "write a file"
is "a run with a tool call ends EXITED" "$(runf "$RUN" state)" EXITED
is "the file was written in the workspace" "$(cat "$T/ws/a.txt")" "hi"
is "the tool call is an event" "$(llm_events "$RUN" tool_use | jq -r .name)" write_file
is "its result is an event, not an error" "$(llm_events "$RUN" tool_result | jq -r .is_error)" false
is "status: thinking, executing write_file, thinking, idle" \
    "$(llm_events "$RUN" status | jq -r '.status + (if .tool then ":" + .tool else "" end)' | tr '\n' ' ')" \
    "thinking executing:write_file thinking idle "
last=$(tail -n 1 "$FAKE_LOG")
is "the model got the tool result back" \
    "$(echo "$last" | jq -r '.body.messages[] | select(.role == "tool") | .tool_call_id')" c1
is "the model got the task prompt" "$(echo "$last" | jq -r '.body.messages[1].content')" "write a file"
llm_run "stream fast"
times=$(ctl events --subject "evt.run.coder.$RUN.message_delta" --json | jq -r .time)
n=$(echo "$times" | wc -l | tr -d ' ')
check "40 deltas in 200 ms are coalesced ($n lines)" test "$n" -ge 2 -a "$n" -lt 20
is "the lines add up to the answer" "$(llm_events "$RUN" message_delta | jq -r .text | tr -d '\n')" \
    "abcdefghijklmnopqrstabcdefghijklmnopqrst"
# The last line is what was left when the answer ended: it goes at once.
gap=$(echo "$times" | sed '$d' | awk 'NR > 1 { d = $1 - p; if (m == "" || d < m) m = d } { p = $1 } END { print (m == "" ? 1 : m) }')
check "while it streams, at most one line every 50 ms (shortest gap $gap s, by the daemon's clock)" \
    awk "BEGIN { exit !($gap >= 0.04) }"
unlike "the key is in no event" "$(ctl events --json)" "sk-fake-key-1234567890"
is "every bosun-llm process exited 0" "$(llm_exit_codes)" "0 "
unlike_empty_ok "none reported a sanitizer error" "$(llm_stderr)" "Sanitizer|runtime error"
stop_daemon
is "daemon stops: exit 0" "$DAEMON_STATUS" 0
done_testing
