#!/bin/sh
# The gemini agent type with the real Gemini CLI against a fake Gemini API
# on 127.0.0.1: its stream-json lines become typed events (session from
# init, message, tool_use, tool_result, usage and result from the result
# line; the echoed prompt kept as output), the session id bosun assigns
# before the start is the one the CLI uses, a shell command really runs,
# bosun's MCP server is in the settings.json of the agent's home without
# the token, and the exit codes map to classes: 0 done, 53 (turn limit)
# budget, others failed with the CLI's message.
. "$top_srcdir/tests/integration/lib.sh"
. "$top_srcdir/tests/integration/gemini_lib.sh"

plan 29

# --- keys Gemini cannot honour are refused before anything runs.
write_config <<EOF2
  plugins: [sqlite, exec, mcp, gemini]
agents:
$(gemini_agent bad <<EOF3
    append_system_prompt: be brief
    auth_type: password
EOF3
)
$(gemini_agent other_user <<EOF3
    user: nobody
EOF3
)
EOF2
out=$("$BOSUND" --check-config -c "$T/bosun.yaml" 2>&1); st=$?
is "a gemini agent with append_system_prompt and a bad auth_type is refused" "$st" 1
like "append_system_prompt: named with FILE:LINE:COL and why" "$out" "bosun.yaml:[0-9]+:[0-9]+: .*append_system_prompt.*cannot add to its system prompt"
like "auth_type: named with its value" "$out" "bosun.yaml:[0-9]+:[0-9]+: .*'password' is not an auth type Gemini knows"
like "an agent of another user needs a home" "$out" "bosun.yaml:[0-9]+:[0-9]+: .*other_user.*needs 'home'"

write_config <<EOF2
  plugins: [sqlite, exec, mcp, gemini]
agents:
$(gemini_agent gm </dev/null)
$(gemini_agent gm_turns <<EOF3
    max_turns: 2
EOF3
)
$(gemini_agent gm_err <<EOF3
    restart: never
EOF3
)
EOF2
start_daemon || exit 1

# --- a run with a shell command.
run=$(ctl start gm --prompt "SCENARIO:shell DIR:$T/work")
like "the run started" "$run" '^[0-9A-Z]{26}$'
wait_for 90 ended "$run" || fail "the run ended" "$(ctl ps --json)"
is "the run exited" "$(runf "$run" state)" EXITED
is "the shell command really ran" "$(cat "$T/work/note.txt" 2>/dev/null)" hello

sid=$(runf "$run" session_id)
like "the run has a session id bosun chose (a UUID)" "$sid" '^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$'
is "assigned before the process started" "$(ev "$run" spawn_started '.[0].session_id')" "\"$sid\""
is "the CLI used it: the session event from init" "$(ev "$run" session '.[0] | [.session_id, .model]')" "[\"$sid\",\"gemini-2.5-flash\"]"
argv=$(events "$run" spawn_started | jq -c '.[0].data.argv')
like "the CLI was started headless in stream-json" "$argv" '"--output-format","stream-json","--skip-trust","--model","gemini-2.5-flash","--approval-mode","yolo"'
like "with the pre-assigned session id" "$argv" "\"--session-id\",\"$sid\""
like "the prompt one word" "$argv" '"--prompt=SCENARIO:shell DIR:'
settings="$T/state/gemini/gm/.gemini/settings.json"
is "bosun's MCP server is in the home's settings, trusted, its env by reference" \
    "$(jq -c '.mcpServers.bosun | [.command, .args, .env.BOSUN_AGENT_TOKEN, .trust]' "$settings" 2>&1)" \
    "[\"$BOSUNCTL\",[\"mcp\"],\"\$BOSUN_AGENT_TOKEN\",true]"
unlike "no token in the settings file" "$(cat "$settings")" 'bat_'

tu=$(ev "$run" tool_use '.[0]')
like "the command is a tool_use event" "$tu" "\"name\":\"run_shell_command\".*\"command\":\"echo hello > $T/work/note.txt"
is "its result: same id, not an error, the output" \
    "$(ev "$run" tool_result '.[0] | [.id == ('"$tu"' | .id), .is_error, .content]')" '[true,false,"hello"]'
is "the assistant's text is a message event" "$(ev "$run" message '.[-1].text')" '"The command ran."'
# The fake answers 90 prompt (5 of them cached) and 12 output tokens a
# request; two requests.
is "one usage event from the result's stats, cached tokens apart" \
    "$(ev "$run" usage '[.[] | [.input_tokens, .cache_read_tokens, .output_tokens]]')" '[[170,10,24]]'
is "the run's tokens are the result's" "$(runf "$run" tokens | jq -c '[.input_tokens, .output_tokens, .cache_read_tokens]')" '[170,24,10]'
is "the result event: success, one tool call" "$(ev "$run" result '[.[] | [.status, .tool_calls]]')" '[["success",1]]'
is "the echoed prompt (a user message) is kept as an output event" \
    "$(events "$run" output | jq -c '[.[].data | select(.stream == "stdout") | .text | fromjson | [.type, .role]]')" '[["message","user"]]'
is "the exit is DONE" "$(ev "$run" spawn_completed '.[0].class')" '"done"'

# --- the turn limit: exit 53 is the budget class, not restarted.
run2=$(ctl start gm_turns --prompt "SCENARIO:loop")
wait_for 90 ended "$run2" || fail "the max_turns run ended" "$(ctl ps --json)"
is "out of turns: exit 53, class budget" "$(ev "$run2" spawn_failed '.[0].class') $(runf "$run2" exit_code)" '"budget" 53'
like "the run's reason says why" "$(runf "$run2" reason)" 'FatalTurnLimitedError: Reached max session turns'
is "and it was not restarted" "$(runf "$run2" restarts)" 0
is "maxSessionTurns came from max_turns" "$(jq -c .model.maxSessionTurns "$T/state/gemini/gm_turns/.gemini/settings.json")" 2

# --- an API error: the run failed with the CLI's message.
run3=$(ctl start gm_err --prompt "SCENARIO:error")
wait_for 90 ended "$run3" || fail "the failing run ended" "$(ctl ps --json)"
like "an API error fails the run with the CLI's message" "$(ev "$run3" spawn_failed '.[0] | "\(.class) \(.reason)"')" \
    '^"failed exited with code [0-9]+: .*the fake refuses this conversation'
is "the result event says error" "$(ev "$run3" result '.[0].status')" '"error"'
done_testing
