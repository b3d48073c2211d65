#!/bin/sh
# The claude-code agent type with the real Claude Code CLI against a fake
# Anthropic API (SSE) on 127.0.0.1: its stream-json lines become typed
# events (session, message, tool_use, tool_result, usage, result), the
# session id bosun assigns before the start is the one the CLI uses and
# stays the run's, tool calls (Bash, Read, Edit) really run, and the exit
# classes follow result.subtype.
. "$top_srcdir/tests/integration/lib.sh"
. "$top_srcdir/tests/integration/claude_lib.sh"

plan 39

{
    write_config <<EOF2
  plugins: [sqlite, exec, mcp, claude-code]
agents:
$(claude_agent cc </dev/null)
$(claude_agent cc_turns <<EOF3
    max_turns: 1
EOF3
)
$(claude_agent cc_budget <<EOF3
    max_budget_usd: 0.0001
EOF3
)
EOF2
}
start_daemon || exit 1

# --- a run with tool calls: Bash writes a file, Read reads it, Edit edits it.
run=$(ctl start cc --prompt "SCENARIO:tools DIR:$T/work")
like "the run started" "$run" '^[0-9A-Z]{26}$'
wait_for 90 ended "$run" || fail "the run ended" "$(ctl ps --json)"
is "the run exited" "$(runf "$run" state)" EXITED
is "the tools really ran (Bash wrote, Edit edited)" "$(cat "$T/work/note.txt" 2>/dev/null)" edited

sid=$(runf "$run" session_id)
like "the run has a session id (a UUID)" "$sid" '^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$'
argv=$(events "$run" spawn_started | jq -c '.[0].data.argv')
like "the CLI was started non-interactively in stream-json" "$argv" '"-p","--output-format","stream-json","--verbose"'
like "with the pre-assigned session id" "$argv" "\"--session-id\",\"$sid\""
like "with the run's MCP config" "$argv" "\"--mcp-config=$T/run/runs/$run/mcp.json\""
like "the allowed tools one word each" "$argv" '"--allowedTools=Bash","--allowedTools=Read"'
like "the prompt after --" "$argv" '"--","SCENARIO:tools'
like "AskUserQuestion left out for request_input" "$argv" '"--permission-prompt-tool","mcp__bosun__approve","--disallowedTools=AskUserQuestion"'
# The model's requests (those with tools) offered Bash but not AskUserQuestion.
offered=$(jq -s -c '[.[] | .body.tools // [] | map(.name)] | map(select(length > 0)) | [(map(index("Bash")) | all), (map(index("AskUserQuestion")) | any)]' "$FAKE_LOG")
is "the model was offered Bash and never AskUserQuestion" "$offered" '[true,false]'
is "the session was assigned before the process started" \
    "$(events "$run" spawn_started | jq -r '.[0].data.session_id')" "$sid"

sess=$(events "$run" session | jq -c '.[0].data')
is "a session event with the CLI's id, the same as assigned" "$(printf "%s\n" "$sess" | jq -r .session_id)" "$sid"
like "the session event names the model and the tools" "$(printf "%s\n" "$sess" | jq -c '[.model, (.tools | index("Bash") != null)]')" '^\["[^"]+",true\]$'
like "bosun's MCP server is connected to the CLI" "$(printf "%s\n" "$sess" | jq -c .mcp_servers)" '"name":"bosun","status":"connected"'

tu=$(events "$run" tool_use | jq -c '[.[].data | {id, name, input}]')
is "three tool_use events, in order" "$(printf "%s\n" "$tu" | jq -r '[.[].name] | join(",")')" "Bash,Read,Edit"
like "a tool_use carries its input" "$(printf "%s\n" "$tu" | jq -c '.[0]')" "\"id\":\"toolu_bash1\".*\"command\":\"echo hello > $T/work/note.txt\""
tr=$(events "$run" tool_result | jq -c '[.[].data | {id, is_error, content}]')
is "three tool_result events, none an error" "$(printf "%s\n" "$tr" | jq -r '[.[] | "\(.id):\(.is_error)"] | join(",")')" \
    "toolu_bash1:false,toolu_read1:false,toolu_edit1:false"
like "the Read result holds the file's text" "$(printf "%s\n" "$tr" | jq -r '.[1].content')" 'hello'
is "the assistant's text is a message event" "$(events "$run" message | jq -r '.[-1].data.text')" "All three tools ran."
us=$(events "$run" usage | jq -c '[.[].data | [.input_tokens, .cache_read_tokens, .cache_write_tokens]]')
is "one usage event a model turn (4 turns), with the fake's token counts" "$us" '[[11,3,2],[11,3,2],[11,3,2],[11,3,2]]'
res=$(events "$run" result | jq -c '.[0].data')
is "the result event: success, 4 turns, the fake's total usage" \
    "$(printf "%s\n" "$res" | jq -c '[.status, .subtype, .turns, .usage.input_tokens, .usage.output_tokens, (.cost_usd > 0)]')" \
    '["success","success",4,44,28,true]'
is "the run's cost so far is the result's" "$(runf "$run" cost_usd)" "$(printf '%s\n' "$res" | jq -r .cost_usd)"
is "and its tokens the result's totals" "$(runf "$run" tokens | jq -c '[.input_tokens, .output_tokens, .cache_read_tokens, .cache_write_tokens]')" '[44,28,12,8]'
is "no output event: every line was understood" "$(events "$run" output | jq length)" 0
is "the exit is DONE (spawn_completed)" "$(events "$run" spawn_completed | jq -r '.[0].data.class')" done

# --- a tool result larger than the core's usual line_max (64 KiB): the
# type's default line_max (4 MiB) keeps the line whole, the event is capped.
awk 'BEGIN { for (i = 0; i < 1500; i++) printf "%04d %s\n", i, "the quick brown fox jumps over the lazy dog, again and again and again" }' \
    > "$T/work/big.txt"
runb=$(ctl start cc --prompt "SCENARIO:bigread DIR:$T/work")
check "the big read ran" wait_for 90 ended "$runb"
longest=$(awk '{ if (length($0) > m) m = length($0) } END { print m }' "$T/state/runs/$runb/output.log")
check "one stream-json line was larger than 64 KiB ($longest bytes)" test "$longest" -gt 65536
bigr=$(events "$runb" tool_result | jq -c '.[0].data | [.id, .truncated, (.content | length), .size > 65536]')
is "its tool_result event is whole JSON, capped at 16 KiB with its size" "$bigr" '["toolu_big1",true,16384,true]'
is "and nothing of it fell back to output events" "$(events "$runb" output | jq length)" 0

# --- the turn limit: error_max_turns is NEEDS_INPUT (not restarted), with the reason.
run2=$(ctl start cc_turns --prompt "SCENARIO:tools DIR:$T/work")
wait_for 90 ended "$run2" || fail "the max_turns run ended" "$(ctl ps --json)"
is "out of turns: the class is needs_input" "$(events "$run2" spawn_failed | jq -r '.[0].data.class')" needs_input
like "the run's reason says why" "$(runf "$run2" reason)" 'error_max_turns: Reached maximum number of turns \(1\)'
is "and it was not restarted" "$(runf "$run2" restarts)" 0

# --- the CLI's own budget: error_max_budget_usd is BUDGET, never restarted.
run4=$(ctl start cc_budget --prompt "SCENARIO:tools DIR:$T/work")
check "the budget run ended" wait_for 90 ended "$run4"
like "the CLI got --max-budget-usd" "$(events "$run4" spawn_started | jq -c '.[0].data.argv')" '"--max-budget-usd","0.0001"'
is "over budget: the class is budget" "$(events "$run4" spawn_failed | jq -r '.[0].data.class')" budget
like "the run's reason says which budget, and it was not restarted" "$(runf "$run4" reason) $(runf "$run4" restarts)" \
    'error_max_budget_usd: Reached maximum budget \(\$0.0001\) 0$'

# --- an API error: the CLI's result is an error, the run FAILED with the message.
run3=$(ctl start cc --prompt "SCENARIO:error")
restarted() { [ "$(runf "$1" restarts)" -ge 1 ] 2>/dev/null; }
check "a failed run is restarted (restart: on-failure)" wait_for 90 restarted "$run3"
like "an API error fails the run with the CLI's message" "$(events "$run3" spawn_failed | jq -r '.[0].data | "\(.class) \(.reason)"')" '^failed exited with code 1: API Error: 400 the fake refuses'
done_testing
