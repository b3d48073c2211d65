#!/bin/sh
# Reload applies agent changes: new agents appear (autostart honoured),
# removed ones stop, changed launch settings restart, everything else is
# left untouched.
. "$top_srcdir/tests/integration/lib.sh"
plan 19

agents() {
    write_config <<EOF2
  plugins: [sqlite, exec]
agents:
  keep:
    command: [sleep, "3600"]
    autostart: true
    start_secs: 0
  change_me:
    command: [sleep, "$1"]
    autostart: true
    start_secs: 0
  policy_only:
    command: [sleep, "3600"]
    autostart: true
    start_secs: 0
    stop_timeout: $2
$3
EOF2
}
agents 3600 5s "  remove_me:
    command: [sleep, \"3600\"]
    autostart: true
    start_secs: 0"
start_daemon || exit 1
for a in keep change_me policy_only remove_me; do wait_for 10 state_is $a RUNNING; done
keep_run=$(slot keep run); keep_pid=$(slot keep pid)
change_run=$(slot change_me run); change_pid=$(slot change_me pid)
policy_pid=$(slot policy_only pid)
remove_run=$(slot remove_me run); remove_pid=$(slot remove_me pid)

agents 3599 7s "  new_one:
    command: [sleep, \"3600\"]
    autostart: true
    start_secs: 0
  new_manual:
    command: [sleep, \"3600\"]
    start_secs: 0"
out=$(ctl reload); st=$?
is "reload: exit 0" "$st" 0
wait_for 10 state_is new_one RUNNING
wait_for 10 pid_dead "$remove_pid"
wait_for 10 sh -c "[ \"\$(\"$BOSUNCTL\" -s \"$T/run/bosund.sock\" ps --json | jq -r '.[] | select(.agent==\"change_me\") | .pid')\" != $change_pid ]"

is "unchanged agent: same run" "$(slot keep run)" "$keep_run"
is "unchanged agent: same pid" "$(slot keep pid)" "$keep_pid"
check "unchanged agent: process untouched" pid_alive "$keep_pid"
is "policy-only change: same pid (not restarted)" "$(slot policy_only pid)" "$policy_pid"
is "changed command: restarted in its run" "$(slot change_me run)" "$change_run"
check "changed command: new process" test "$(slot change_me pid)" != "$change_pid"
check "changed command: old process gone" pid_dead "$change_pid"
is "changed command: restart counted" "$(slot change_me restarts)" 1
like "changed command: new argv in spawn_started" "$(events "$change_run" spawn_started | jq -c '.[-1].data.argv')" '\["sleep","3599"\]'
is "removed agent: its run STOPPED" "$(stored_run "$remove_run" state)" STOPPED
check "removed agent: process gone" pid_dead "$remove_pid"
is "removed agent: no longer in ps" "$(ctl ps --json | jq '[.[] | select(.agent=="remove_me")] | length')" 0
is "new autostart agent: RUNNING" "$(slot new_one state)" RUNNING
is "new manual agent: STOPPED, not started" "$(slot new_manual state)" STOPPED
out=$(ctl start remove_me 2>&1); st=$?
is "removed agent can no longer be started" "$st" 1
is "agent events: configured and removed" "$(ctl events --subject 'evt.agent.remove_me.>' --json | jq -r '.subject' | tr '\n' ' ')" "evt.agent.remove_me.configured evt.agent.remove_me.removed "

# --- an invalid agents section is refused as a whole
cp "$T/bosun.yaml" "$T/good.yaml"
printf '  broken:\n    command: [sleep, "1"]\n    restart: sometimes\n' >> "$T/bosun.yaml"
out=$(ctl reload 2>&1); st=$?
is "invalid agent: reload refused (exit 1)" "$st" 1
like "invalid agent: file:line:col and key" "$out" "bosun.yaml:[0-9]+:[0-9]+: 'agents.broken.restart': 'sometimes' is not one of never, on-failure, always"
stop_daemon
done_testing
