#!/bin/sh
# A token dies with its run: once a run is stopped, an MCP session opened
# with its token refuses every tool, in both ways bosunctl mcp carries a
# session, and the stopped run's state never changes again.
. "$top_srcdir/tests/integration/lib.sh"
plan 27
idle_mcp_daemon || exit 1
for mode in handover relay; do
    j=$(ctl task create --title "td $mode" --agent idle --json); run=$(echo "$j" | jq -r .run)
    wait_for 10 run_state_is "$run" RUNNING
    out=$(/usr/bin/python3 "$top_srcdir/tests/helpers/token_death.py" "$BOSUNCTL" "$mode" \
        "$T/run/runs/$run/mcp.json" "$T/run/bosund.sock" "$run" 2>"$T/td.err"); sed "s/^/# /" "$T/td.err"
    is "$mode: get_task works while the run lives" "$(echo "$out" | sed -n 1p)" "get_task: ok"
    is "$mode: the daemon ends the session when the run ends" \
        "$(echo "$out" | sed -n 's/^session ended by itself: //p')" yes
    like "$mode: bosunctl mcp says why" "$(cat "$T/td.err")" "bosunctl mcp: the daemon closed the session"
    for t in get_task report_status log_event add_artifact link_pr request_input check_input; do
        is "$mode: $t is refused after stop" "$(echo "$out" | sed 1d | sed -n "s/^$t: //p" | head -1)" refused
    done
    sleep 0.5 # anything the refused calls might have set off
    is "$mode: the stopped run stays STOPPED" "$(runf "$run" state)" STOPPED
    evs=$(ctl events --subject "evt.run.idle.$run.>" --json)
    like "$mode: the run's events are there" "$evs" '"state":"STOPPED"'
    unlike "$mode: no status event after the stop" "$evs" after-stop
done
stop_daemon
is "daemon stops: exit 0" "$DAEMON_STATUS" 0
done_testing
