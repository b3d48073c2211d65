#!/bin/sh
# Stopping: the stop signal goes to the whole process group, a child that
# ignores it is killed after stop_timeout, and the daemon's own SIGTERM
# stops every run before it exits.
. "$top_srcdir/tests/integration/lib.sh"
plan 16

write_config <<EOF2
  plugins: [sqlite, exec]
agents:
  stubborn:
    command: [sh, -c, 'trap "" TERM; echo ready; while :; do sleep 0.05; done']
    stop_timeout: 0.5
    start_secs: 0
  family:
    command: [sh, -c, 'sleep 3600 & echo \$\$! > $T/gc1.pid; (sleep 3600 & echo \$\$! > $T/gc2.pid; wait) & wait']
    start_secs: 0
  intsig:
    command: [sh, -c, 'trap "echo got INT; exit 0" INT; echo ready; while :; do sleep 0.05; done']
    stop_signal: INT
    start_secs: 0
  sleeper:
    command: [sleep, "3600"]
    autostart: true
    start_secs: 0
EOF2
start_daemon || exit 1

# --- SIGKILL after stop_timeout for a child that ignores SIGTERM
run=$(ctl start stubborn)
wait_for 10 sh -c "\"$BOSUNCTL\" -s \"$T/run/bosund.sock\" logs $run | grep -q ready"
pid=$(runf "$run" pid)
t0=$(date +%s%N)
ctl stop "$run" >/dev/null
t1=$(date +%s%N)
ms=$(( (t1 - t0) / 1000000 ))
check "stop waited for stop_timeout before SIGKILL (${ms} ms)" test "$ms" -ge 450
is "stubborn: STOPPED" "$(runf "$run" state)" STOPPED
is "stubborn: killed by SIGKILL" "$(runf "$run" exit_signal)" 9
is "stop_escalated event recorded" "$(events "$run" stop_escalated | jq length)" 1
check "stubborn's process is gone" pid_dead "$pid"
like "escalation logged as a warning" "$(cat "$T/bosund.log")" "^<4>run $run \\(stubborn\\): still running 0.5 s after SIGTERM; sending SIGKILL"

# --- the whole process group is stopped, grandchildren included
run=$(ctl start family)
wait_for 10 test -s "$T/gc2.pid"
wait_for 10 test -s "$T/gc1.pid"
gc1=$(cat "$T/gc1.pid"); gc2=$(cat "$T/gc2.pid")
check "grandchildren are running" sh -c "kill -0 $gc1 && kill -0 $gc2"
ctl stop family >/dev/null
wait_for 5 pid_dead "$gc1"
wait_for 5 pid_dead "$gc2"
check "grandchild 1 stopped with its group" pid_dead "$gc1"
check "grandchild 2 (in a subshell) stopped with its group" pid_dead "$gc2"

# --- a configured stop_signal
run=$(ctl start intsig)
wait_for 10 sh -c "\"$BOSUNCTL\" -s \"$T/run/bosund.sock\" logs $run | grep -q ready"
ctl stop "$run" >/dev/null
is "stop_signal INT: the agent's INT handler ran" "$(ctl logs "$run" | tail -1)" "got INT"
is "stop_signal INT: clean exit code 0" "$(runf "$run" exit_code)" 0

# --- daemon SIGTERM stops runs first
run=$(slot sleeper run)
pid=$(runf "$run" pid)
check "autostarted sleeper is running" pid_alive "$pid"
stubborn=$(ctl start stubborn)
spid=$(runf "$stubborn" pid)
stop_daemon
is "daemon exits 0 after stopping its runs" "$DAEMON_STATUS" 0
check "sleeper was stopped with the daemon" pid_dead "$pid"
check "stubborn was killed with the daemon" pid_dead "$spid"
like "shutdown logged the runs it stopped" "$(cat "$T/bosund.log")" "stopping 2 runs"
done_testing
