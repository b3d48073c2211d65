#!/bin/sh
# The real Claude Code CLI asks a blocking question through bosun's MCP
# server and is answered while it still runs: the fake API holds the CLI's
# last turn until the test has answered (SCENARIO:askgate), so the answer
# surely comes before the exit.  The run is resumed once the CLI exits, in
# the same session (resume: on-answer), and the fake sees the answer.
. "$top_srcdir/tests/integration/lib.sh"
. "$top_srcdir/tests/integration/claude_lib.sh"

plan 11

write_config <<EOF2
  plugins: [sqlite, exec, mcp, claude-code]
agents:
$(claude_agent asker <<EOF3
    restart: never
EOF3
)
EOF2
start_daemon || exit 1

j=$(ctl task create --title "pick a colour" --prompt "SCENARIO:askgate GATE:$T/gate" --agent asker --json)
run=$(printf '%s\n' "$j" | jq -r .run)
like "the task's run started" "$run" '^[0-9A-Z]{26}$'
pending() { [ -n "$(ctl input list --pending --json | jq -r --arg r "$run" '.[] | select(.run == $r) | .input')" ]; }
check "the CLI asked" wait_for 90 pending
input=$(ctl input list --pending --json | jq -r --arg r "$run" '.[] | select(.run == $r) | .input')
is "the run waits while the CLI still runs" "$(runf "$run" state) $(events "$run" exited | jq length)" "WAITING_INPUT 0"
sid=$(runf "$run" session_id)
is "the answer before the exit resumes nothing yet" "$(ctl input answer "$input" "ANSWER: green")" "answered $input"
is "the run is RUNNING until the CLI exits" "$(runf "$run" state) $(events "$run" exited | jq length)" "RUNNING 0"
touch "$T/gate" # the fake lets the CLI's last turn end
resumed_is() { [ "$(slot asker resumed_from)" = "$run" ]; }
check "the CLI's exit resumed the run as a new one" wait_for 90 resumed_is
run2=$(slot asker run)
check "the resumed run ended" wait_for 90 ended "$run2"
is "the resumed run exited done, in the same session" \
    "$(runf "$run2" state) $(events "$run2" spawn_completed | jq -r '.[0].data.class') $(runf "$run2" session_id)" "EXITED done $sid"
like "the CLI was resumed with the session and the answer" "$(events "$run2" spawn_started | jq -c '.[0].data.argv')" \
    "\"--resume\",\"$sid\",\"--\",\"ANSWER: green\""
like "the fake saw the answer as the last user turn" "$(fake_requests | tail -1 | jq -c '.[-1]')" 'ANSWER: green'
is "the CLI's reply is the resumed run's message" \
    "$(events "$run2" message | jq -r '.[-1].data.text')" "Thanks, the answer was: ANSWER: green"
done_testing
