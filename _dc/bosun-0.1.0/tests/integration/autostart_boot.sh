#!/bin/sh
# The autostart at start-up: every autostart slot gets exactly one run,
# others none, and a reload right at start-up neither loses nor doubles a
# slot.
. "$top_srcdir/tests/integration/lib.sh"
plan 8

agents() {
    write_config <<EOF2
  plugins: [sqlite, exec]
agents:
$(for i in $(seq 10 49); do printf '  a%s:\n    command: [sleep, "3600"]\n    autostart: true\n    start_secs: 0\n' "$i"; done)
  manual:
    command: [sleep, "3600"]
    start_secs: 0
  many:
    command: [sleep, "3600"]
    autostart: true
    start_secs: 0
    instances: 30
$1
EOF2
}
running() { ctl ps --json | jq '[.[] | select(.state == "RUNNING")] | length'; }
spawns() { ctl events --subject 'evt.run.*.*.spawn_started' --json | jq -s 'length'; }

agents ""
start_daemon || exit 1
# Straight away: the reload may land while the start-up batches go on.
agents "  late:
    command: [sleep, \"3600\"]
    autostart: true
    start_secs: 0"
out=$(ctl reload); st=$?
is "reload during start-up: exit 0" "$st" 0
wait_for 60 sh -c "[ \"\$(\"$BOSUNCTL\" -s \"$T/run/bosund.sock\" ps --json | jq '[.[] | select(.state == \"RUNNING\")] | length')\" -ge 71 ]"
is "every autostart slot RUNNING (40 + 30 instances + late)" "$(running)" 71
is "one run per slot: 71 distinct runs" "$(ctl ps --json | jq '[.[] | select(.state == "RUNNING") | .run] | unique | length')" 71
is "the manual agent is not started" "$(slot manual state)" STOPPED
is "the last instance of many runs" "$(slot many state 29)" RUNNING
is "late agent from the reload runs" "$(slot late state)" RUNNING
# Nothing started twice (a second start would show as another spawn).
wait_for 10 sh -c "[ \"\$(\"$BOSUNCTL\" -s \"$T/run/bosund.sock\" events --subject 'evt.run.*.*.spawn_started' --json | jq -s length)\" -ge 71 ]"
is "71 processes spawned, not more" "$(spawns)" 71
stop_daemon
is "daemon stops: exit 0" "$DAEMON_STATUS" 0
done_testing
