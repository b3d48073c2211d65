#!/bin/sh
# Secrets by value: an agent that puts its own token into every free-text
# argument of the tools that store something (status, log events,
# artifacts, PR links, questions and their choices) finds it in no stored
# row, no event and no daemon log line (at debug, where questions go);
# the events themselves are stored, with the mask in the token's place.
. "$top_srcdir/tests/integration/lib.sh"
plan 15
LOG_LEVEL=debug idle_mcp_daemon || exit 1
j=$(ctl task create --title "secret" --agent idle --json); run=$(echo "$j" | jq -r .run)
wait_for 10 run_state_is "$run" RUNNING
tok=$(jq -r .mcpServers.bosun.env.BOSUN_AGENT_TOKEN "$T/run/runs/$run/mcp.json")
like "the run has a token" "$tok" '^bat_'
out=$(/usr/bin/python3 "$top_srcdir/tests/helpers/secret_agent.py" "$T/run/runs/$run/mcp.json" \
    "$BOSUNCTL" 2>"$T/sa.err"); sed "s/^/# /" "$T/sa.err"
for t in report_status log_event add_artifact request_input; do
    is "$t with the token in its text is accepted" "$(echo "$out" | sed -n "s/^$t: //p")" ok
done
# Not a PR URL: refused, but its tool_call event still records the argument.
is "link_pr with the token in its URL is refused" "$(echo "$out" | sed -n "s/^link_pr: //p")" refused
# The store writes in batches: wait until the last call's event is there.
wait_for 10 sh -c "'$BOSUNCTL' -s '$T/run/bosund.sock' events --subject 'evt.input.>' --json | grep -q question"
evs=$(ctl events --json)
like "the events are stored (positive control)" "$evs" 'status note \[redacted\]'
like "the refused link_pr call is recorded, masked" "$evs" 'pull/1[?]t=\[redacted\]'
unlike "no stored event holds the token" "$evs" "$tok"
art=$(ctl artifact get "$(echo "$j" | jq -r .task)" leak.txt 2>&1)
like "the artifact is stored, masked" "$art" 'artifact content \[redacted\]'
unlike "the artifact does not hold it" "$art" "$tok"
stop_daemon
is "daemon stops: exit 0" "$DAEMON_STATUS" 0
# The database file itself (and its WAL), after the daemon closed it.
cat "$T/state"/bosun.db* > "$T/db.copy"
is "no row in the database file holds the token" "$(grep -c -a -F "$tok" "$T/db.copy")" 0
like "the question is logged (at debug), masked" "$(cat "$T/bosund.log")" 'question \[redacted\]'
is "the daemon log does not hold it" "$(grep -c -a -F "$tok" "$T/bosund.log")" 0
done_testing
