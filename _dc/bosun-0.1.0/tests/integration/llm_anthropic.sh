#!/bin/sh
# The loop against the fake Anthropic Messages API: a streamed answer, then
# edits and a bash call whose file changes are recorded as versions in the
# store (with the round and tool call that made them), a delete, and the
# workspace replayed as of a version.
. "$top_srcdir/tests/integration/llm_lib.sh"
plan 14
echo "colour = red" > "$T/ws/conf.txt"
llm_daemon '{"turns": [
  {"tool_calls": [{"id": "t1", "name": "edit_file", "arguments": {"path": "conf.txt", "search": "red", "replace": "blue"}}]},
  {"tool_calls": [{"id": "t2", "name": "bash", "arguments": {"command": "echo made by bash > made.txt"}}]},
  {"tool_calls": [{"id": "t3", "name": "delete_file", "arguments": {"path": "made.txt"}}]},
  {"text": ["Changed ", "the colour."]}
]}' <<EOF2
  claude_like:
    type: llm
    workdir: $T/ws
    start_secs: 0
    restart: never
    llm: {provider: anthropic, base_url: "@FAKE_URL@", model: fake-claude, api_key_env: AKEY, retries: 0}
    env: {AKEY: sk-ant-fake-0987654321}
EOF2
[ $? -eq 0 ] || exit 1
RUN=$(ctl start claude_like --prompt "make it blue")
wait_for 30 llm_ended "$RUN"
is "the run succeeds" "$(llm_events "$RUN" result | jq -r .subtype)" success
is "it spoke the Messages API" "$(jq -r .path "$FAKE_LOG" | sort -u)" /v1/messages
is "the edit was made" "$(cat "$T/ws/conf.txt")" "colour = blue"
is "the answer came whole" "$(llm_events "$RUN" message | jq -r .text)" "Changed the colour."
is "the system prompt went as Anthropic's system field" \
    "$(head -n 1 "$FAKE_LOG" | jq -r '.body.system | type')" string
wait_for 10 sh -c "\"$BOSUNCTL\" -s \"$T/run/bosund.sock\" files \"$RUN\" --json | jq -e '.items | length >= 2' >/dev/null"
l=$(ctl files "$RUN" --json)
is "the edit is a version, by the tool, with its round and call" \
    "$(echo "$l" | jq -c '.items[] | select(.path == "conf.txt") | [.actor, .round, .tool_call]')" '["tool",1,"t1"]'
is "the file bash made is a version too, then deleted" \
    "$(ctl request cmd.llm.files.list "{\"run\":\"$RUN\",\"path\":\"made.txt\"}" --json | jq -c '[.data.items[] | [.tool_call, .deleted]]')" '[["t2",false],["t3",true]]'
is "the edited content is stored" "$(ctl files "$RUN" conf.txt)" "colour = blue"
v=$(ctl request cmd.llm.files.list "{\"run\":\"$RUN\",\"path\":\"made.txt\"}" --json | jq -r '.data.items[0].version')
is "replayed as of bash's version, the workspace had made.txt" \
    "$(ctl request cmd.llm.files.replay "{\"run\":\"$RUN\",\"version\":$v}" --json | jq -r '[.data.files[] | .path] | sort | join(",")')" "conf.txt,made.txt"
h=$(ctl request cmd.llm.chat.history "{\"run\":\"$RUN\"}")
is "the conversation is in the history" "$(echo "$h" | jq -r '[.items[] | .role] | join(",")')" \
    "user,assistant,tool,assistant,tool,assistant,tool,assistant"
unlike "the key is in no event" "$(ctl events --json)" "sk-ant-fake-0987654321"
is "every bosun-llm process exited 0" "$(llm_exit_codes)" "0 "
unlike_empty_ok "none reported a sanitizer error" "$(llm_stderr)" "Sanitizer|runtime error"
stop_daemon
is "daemon stops: exit 0" "$DAEMON_STATUS" 0
done_testing
