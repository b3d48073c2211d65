#!/bin/sh
# kill -9 of bosund while agents run and print: committed events survive,
# the sequence continues, no run is left RUNNING, surviving processes are
# stopped (or adopted with adopt_orphans), and a reused pid is never touched.
. "$top_srcdir/tests/integration/lib.sh"
plan 22

config() {
    write_config <<EOF2
  plugins: [sqlite, exec]
  adopt_orphans: $1
agents:
  chatty:
    command: [sh, -c, 'i=0; while :; do i=\$\$((i+1)); echo line \$\$i; sleep 0.01; done']
    autostart: true
    start_secs: 0
  sleeper:
    command: [sleep, "3600"]
    autostart: true
    start_secs: 0
    stop_timeout: 2
EOF2
}
last_seq() { ctl request cmd.store.status '{}' --json | jq '.data.last_seq'; }

config false
start_daemon || exit 1
wait_for 10 state_is chatty RUNNING
wait_for 10 state_is sleeper RUNNING
chatty=$(slot chatty run); sleeper=$(slot sleeper run)
spid=$(slot sleeper pid)
wait_for 10 sh -c "[ \$(\"$BOSUNCTL\" -s \"$T/run/bosund.sock\" logs $chatty | wc -l) -ge 20 ]"
before=$(last_seq)
# A process the store will wrongly believe is an agent: same pid, other
# start time, as after pid reuse.  It must survive.
sleep 3600 & victim=$!
ctl pub "evt.run.sleeper.01ARZ3NDEKTSV4RRFFQ69G5FAV.state" \
    "{\"run\":\"01ARZ3NDEKTSV4RRFFQ69G5FAV\",\"agent\":\"sleeper\",\"instance\":5,\"state\":\"RUNNING\",\"pid\":$victim,\"pid_start\":1,\"restarts\":0,\"created_at\":1,\"updated_at\":1}"
wait_for 10 stored_state_is 01ARZ3NDEKTSV4RRFFQ69G5FAV RUNNING
committed=$(last_seq)

kill -KILL "$DAEMON_PID"; wait "$DAEMON_PID" 2>/dev/null; DAEMON_PID=
check "the sleeper outlived the killed daemon" pid_alive "$spid"

start_daemon || exit 1
wait_for 10 stored_state_is "$sleeper" STOPPED
wait_for 10 stored_state_is "$chatty" LOST
after=$(last_seq)
check "sequence continues above the last committed ($committed < $after)" test "$after" -gt "$committed"
n=$(ctl request cmd.store.events "{\"since\":0,\"limit\":10000,\"subject\":\"evt.>\"}" --json | jq "[.data.events[] | select(.seq <= $committed)] | length")
check "every event committed before the kill is there ($n >= $before)" test "$n" -ge "$before"
is "no gap below the committed seq" "$(ctl request cmd.store.events "{\"since\":0,\"limit\":10000}" --json | jq "[.data.events[] | select(.seq <= $committed) | .seq] | (max - min + 1) == length")" true
is "surviving sleeper: stopped cleanly" "$(stored_run "$sleeper" state)" STOPPED
like "with a reason" "$(stored_run "$sleeper" reason)" "stopping a process left running by an earlier bosund"
check "its process is gone" pid_dead "$spid"
is "orphan_stopping event" "$(events "$sleeper" orphan_stopping | jq length)" 1
is "chatty died with its pipe: LOST" "$(stored_run "$chatty" state)" LOST
like "LOST has a reason" "$(stored_run "$chatty" reason)" "bosund stopped while the run was RUNNING; its process \\(pid [0-9]+\\) is gone"
is "fake run with a reused pid: LOST, not signalled" "$(stored_run 01ARZ3NDEKTSV4RRFFQ69G5FAV state)" LOST
check "the process with the reused pid is untouched" pid_alive "$victim"
kill "$victim"
active=$(ctl request cmd.store.runs '{"active":true}' --json | jq -r '[.data.runs[].run] | sort | join(" ")')
expected=$(printf '%s\n%s\n' "$(slot chatty run)" "$(slot sleeper run)" | sort | tr '\n' ' ' | sed 's/ $//')
is "only the new runs are active" "$active" "$expected"
check "autostart started new runs" test "$(slot chatty run)" != "$chatty"

# --- adopt_orphans: true
sleeper=$(slot sleeper run); spid=$(slot sleeper pid)
kill -KILL "$DAEMON_PID"; wait "$DAEMON_PID" 2>/dev/null; DAEMON_PID=
config true
start_daemon || exit 1
wait_for 10 sh -c "[ \"\$(\"$BOSUNCTL\" -s \"$T/run/bosund.sock\" ps --json | jq -r '.[] | select(.agent==\"sleeper\") | .adopted')\" = true ]"
is "adopted: same run in the sleeper slot" "$(slot sleeper run)" "$sleeper"
is "adopted: RUNNING" "$(slot sleeper state)" RUNNING
is "adopted: same pid" "$(slot sleeper pid)" "$spid"
check "adopted process still alive" pid_alive "$spid"
is "adopted event" "$(events "$sleeper" adopted | jq length)" 1
ctl stop "$sleeper" >/dev/null
is "an adopted run can be stopped" "$(stored_run "$sleeper" state)" STOPPED
check "and its process is gone" pid_dead "$spid"
stop_daemon
is "final stop: exit 0" "$DAEMON_STATUS" 0
done_testing
