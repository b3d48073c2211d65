#!/bin/sh
# The codex agent type with the real Codex CLI against a fake OpenAI
# Responses API (SSE) on 127.0.0.1: its `exec --json` lines become typed
# events (session from thread.started, message, tool_use, tool_result,
# usage, result; unknown lines kept as output), the thread id is stored on
# the run, a shell command really runs in the workspace-write sandbox,
# bosun's MCP server is given with -c overrides (no token on the command
# line), turn.failed fails the run with its reason, and keys Codex has
# nothing for are refused with FILE:LINE:COL.
. "$top_srcdir/tests/integration/lib.sh"
. "$top_srcdir/tests/integration/codex_lib.sh"

plan 28

# --- keys Codex cannot honour are refused before anything runs.
write_config <<EOF2
  plugins: [sqlite, exec, mcp, codex]
agents:
$(codex_agent bad <<EOF3
    max_turns: 3
    allowed_tools: [Bash]
EOF3
)
EOF2
out=$("$BOSUND" --check-config -c "$T/bosun.yaml" 2>&1); st=$?
is "a codex agent with max_turns and allowed_tools is refused" "$st" 1
like "max_turns: named with FILE:LINE:COL and why" "$out" "bosun.yaml:[0-9]+:[0-9]+: .*max_turns.*the codex agent type has no max_turns"
like "allowed_tools too" "$out" "bosun.yaml:[0-9]+:[0-9]+: .*allowed_tools.*governed by permission_mode"

write_config <<EOF2
  plugins: [sqlite, exec, mcp, codex]
agents:
$(codex_agent cx </dev/null)
$(codex_agent cx_err <<EOF3
    restart: never
EOF3
)
EOF2
start_daemon || exit 1

# --- a run with a shell command.
run=$(ctl start cx --prompt "SCENARIO:shell DIR:$T/work")
like "the run started" "$run" '^[0-9A-Z]{26}$'
wait_for 90 ended "$run" || fail "the run ended" "$(ctl ps --json)"
is "the run exited" "$(runf "$run" state)" EXITED
is "the shell command really ran in the workspace-write sandbox" "$(cat "$T/work/note.txt" 2>/dev/null)" hello

sid=$(runf "$run" session_id)
like "the run has the thread id as its session" "$sid" '^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$'
is "it is the thread.started id (the session event)" "$(ev "$run" session '.[0].session_id')" "\"$sid\""
argv=$(events "$run" spawn_started | jq -c '.[0].data.argv')
like "the CLI was started as codex exec --json" "$argv" '"exec","--json","--skip-git-repo-check"'
like "with the sandbox from permission_mode" "$argv" '"-c","sandbox_mode=\\"workspace-write\\""'
like "with bosun's MCP server as -c overrides" "$argv" "\"mcp_servers.bosun.command=\\\\\"$BOSUNCTL\\\\\"\",\"-c\",\"mcp_servers.bosun.args=\[\\\\\"mcp\\\\\"\]\""
like "its environment forwarded by name" "$argv" 'mcp_servers.bosun.env_vars=\[\\"BOSUN_SOCKET\\",\\"BOSUN_RUN_ID\\",\\"BOSUN_AGENT_TOKEN\\"\]'
unlike "the agent token is not on the command line" "$argv" 'bat_'
like "the prompt after --" "$argv" '"--","SCENARIO:shell'

tu=$(ev "$run" tool_use '.[0]')
like "the command is a tool_use event" "$tu" "\"name\":\"command_execution\".*\"command\":\"[^\"]*echo hello > $T/work/note.txt"
tr=$(ev "$run" tool_result '.[0]')
is "its result: same id, not an error, exit code 0, the output" \
    "$(printf '%s\n' "$tr" | jq -c '[.id == ('"$tu"' | .id), .is_error, .exit_code, (.content | test("hello"))]')" '[true,false,0,true]'
is "the assistant's text is a message event" "$(ev "$run" message '.[-1].text')" '"The command ran."'
# The fake answers 120 input (20 of them cached) and 30 output tokens a
# request; two requests in this turn.  Codex reports thread totals.
is "one usage event for the turn: the fake's tokens, cached ones apart" \
    "$(ev "$run" usage '[.[] | [.input_tokens, .cache_read_tokens, .output_tokens, .cumulative]]')" '[[200,40,60,null]]'
is "the run's tokens are the turn's" "$(runf "$run" tokens | jq -c '[.input_tokens, .output_tokens, .cache_read_tokens]')" '[200,60,40]'
is "the result event: success" "$(ev "$run" result '[.[] | [.status, .subtype]]')" '[["success","turn_completed"]]'
like "Codex's warning item is an error event" "$(ev "$run" error '.[0].message')" 'Model metadata'
is "turn.started, which bosun does not type, is kept as an output event" \
    "$(events "$run" output | jq -c '[.[].data | select(.stream == "stdout") | .text | fromjson | .type]')" '["turn.started"]'
is "the exit is DONE" "$(ev "$run" spawn_completed '.[0].class')" '"done"'
is "the request went to the fake with the prompt" \
    "$(fake_inputs | head -1 | jq -c '[.[] | select(.role == "user") | .content[0].text | test("SCENARIO:shell")] | any')" true

# --- a failed turn: turn.failed fails the run, with Codex's message as the reason.
run2=$(ctl start cx_err --prompt "SCENARIO:error")
wait_for 90 ended "$run2" || fail "the failing run ended" "$(ctl ps --json)"
is "a failed turn: the class is failed" "$(ev "$run2" spawn_failed '.[0].class')" '"failed"'
like "the reason is Codex's error" "$(runf "$run2" reason)" 'exited with code 1: turn failed: .*the fake refuses this conversation'
is "the result event says error" "$(ev "$run2" result '.[0] | [.status, .subtype]')" '["error","turn_failed"]'
is "restart: never: not restarted" "$(runf "$run2" restarts)" 0
done_testing
