#!/bin/sh
# The codex agent type's parse_line on lines no fake API makes the real CLI
# print: a transcript captured from the real Codex CLI (0.171.0), with
# malformed and hostile lines mixed in, printed by a stand-in program.
# Every line not understood is kept as an output event, nothing crashes,
# token counts out of range are clamped, and a thread id that is not one is
# never stored.
. "$top_srcdir/tests/integration/lib.sh"
BOSUN_PLUGIN_PATH="$BOSUN_PLUGIN_PATH:$top_builddir/plugins/mcp:$top_builddir/plugins/codex"
plan 9

cat > "$T/lines" <<'EOF2'
{"type":"thread.started","thread_id":"../../etc/passwd"}
{"type":"thread.started","thread_id":"01a23540-f4ee-7190-a623-01ceef5f43f9"}
{"type":"turn.started"}
not json at all
[1,2,3]
{"type":"item.completed"}
{"type":"item.completed","item":{"type":"agent_message","text":5}}
{"type":"item.started","item":{"type":"mcp_tool_call"}}
{"type":"item.started","item":{"id":"item_1","type":"command_execution","command":"/bin/bash -lc 'echo hi'","aggregated_output":"","exit_code":null,"status":"in_progress"}}
{"type":"item.completed","item":{"id":"item_1","type":"command_execution","command":"/bin/bash -lc 'echo hi'","aggregated_output":"hi\n","exit_code":0,"status":"completed"}}
{"type":"item.completed","item":{"id":"item_2","type":"agent_message","text":"done"}}
{"type":"turn.completed","usage":{"input_tokens":9223372036854775807,"cached_input_tokens":-9223372036854775808,"output_tokens":"many","reasoning_output_tokens":0}}
{"type":"thread.started","thread_id":"01a23540-ffff-7190-a623-01ceef5f43f9"}
EOF2
printf '#!/bin/sh\ncat "%s"\n' "$T/lines" > "$T/codex"
chmod +x "$T/codex"

write_config <<EOF2
  plugins: [sqlite, exec, mcp, codex]
agents:
  cx:
    type: codex
    bin: $T/codex
    start_secs: 0
    restart: never
EOF2
start_daemon || exit 1
run=$(ctl start cx --prompt "anything")
ended() { [ "$(runf "$run" state)" = EXITED ]; }
check "the run ended" wait_for 30 ended
is "the daemon is alive" "$(ctl status --json | jq -r .machine_id)" test-machine
is "a thread id that is not one is never stored; the first real one is" \
    "$(runf "$run" session_id)" 01a23540-f4ee-7190-a623-01ceef5f43f9
is "the session events say which were kept" "$(events "$run" session | jq -c '[.[].data.kept]')" '[false,null,false]'
is "the lines not understood are output events, in order" \
    "$(events "$run" output | jq -c '[.[].data.text]')" \
    '["{\"type\":\"turn.started\"}","not json at all","[1,2,3]","{\"type\":\"item.completed\"}","{\"type\":\"item.completed\",\"item\":{\"type\":\"agent_message\",\"text\":5}}"]'
is "an MCP call with no names is still a tool_use" "$(events "$run" tool_use | jq -c '[.[].data | [.id, .name]]')" \
    '[[null,"mcp____"],["item_1","command_execution"]]'
is "the command's result" "$(events "$run" tool_result | jq -c '[.[].data | [.id, .is_error, .exit_code, .content]]')" '[["item_1",false,0,"hi\n"]]'
is "token counts out of range are clamped, not wrapped" \
    "$(events "$run" usage | jq -c '[.[].data | [.input_tokens, .cache_read_tokens, .output_tokens]]')" '[[1125899906842624,0,0]]'
is "the exit is done" "$(events "$run" spawn_completed | jq -r '.[0].data.class')" done
done_testing
