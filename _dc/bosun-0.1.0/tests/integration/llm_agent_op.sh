#!/bin/sh
# {"op": "agent"} on the agent socket: a run's token makes the connection
# that run's agent principal, which may ask for input and approvals, and
# follow its own run's events, all as its own run whatever it writes; it
# cannot act for another run, follow another run, or do anything else.
. "$top_srcdir/tests/integration/lib.sh"
plan 20
PROBE="$top_srcdir/tests/llm/agent_op_probe.py"
write_config <<EOF2
  plugins: [sqlite, exec]
approvals:
  deny: ["bash(rm *)"]
  default: allow
agents:
  idle:
    command: [sleep, "3600"]
    start_secs: 0
  probe:
    command: [sh, -c, '/usr/bin/python3 $PROBE "\$\$(cat $T/other)" > $T/out 2>&1; sleep 3600']
    start_secs: 0
    restart: never
EOF2
start_daemon || exit 1
other=$(ctl start idle)
wait_for 10 run_state_is "$other" RUNNING
# A question of another run's, which the probe must not see.
other_task_run=$(ctl task create --title "other" --agent idle --json | jq -r .run)
wait_for 10 run_state_is "$other_task_run" RUNNING
ctl request cmd.input.create "{\"run\":\"$other_task_run\",\"question\":\"private?\"}" >/dev/null
echo "$other_task_run" > "$T/other"
probe=$(ctl task create --title "probe" --agent probe --json | jq -r .run)
wait_for 30 grep -q '^done' "$T/out"
out=$(cat "$T/out")
val() { echo "$out" | sed -n "s/^$1: //p"; }
is "a bad token is refused" "$(val 'bad token')" unauthorized
is "the run's token is taken" "$(val agent)" ok
is "the principal is the token's run" "$(val 'agent run')" own
is "a second op agent is refused" "$(val again)" bad_request
is "it may ask for input" "$(val input)" ok
input=$(val 'input id')
like "an input id came back" "$input" '^[0-9A-Z]{26}$'
run_of_input=$(ctl events --subject "evt.input.$input.requested" --json | jq -r '.data.run')
is "the input request is its own run's, not the one it named" "$run_of_input" "$probe"
is "it may list input requests" "$(val 'store inputs')" ok
is "but only its own run's, whatever run it names" "$(val 'store input runs')" own
is "it may follow its own input request" "$(val 'sub input')" ok
is "it may not follow every input request" "$(val 'sub all inputs')" forbidden
is "it may not follow another run" "$(val 'sub other run')" forbidden
is "it may follow its own run" "$(val 'sub own run')" ok
is "it may not create tasks" "$(val 'task create')" forbidden
is "it may ask for an approval" "$(val approval)" ok
is "the approval is decided by the policy" "$(val 'approval behavior')" allow
decided_run=$(ctl events --subject 'evt.approval.*.decided' --json | jq -r '.data.run')
is "the approval was asked for its own run" "$decided_run" "$probe"
is "it may not publish" "$(val publish)" forbidden
is "it may not use daemon ops" "$(val status)" forbidden
stop_daemon
is "daemon stops: exit 0" "$DAEMON_STATUS" 0
done_testing
