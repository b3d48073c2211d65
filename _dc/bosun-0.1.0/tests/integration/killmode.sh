#!/bin/sh
# kill_mode: when a run's main process exits on its own, what it left in
# its process group is stopped (stop_signal, then SIGKILL after
# stop_timeout) and its output read until it has gone (group, the
# default), or left running (process).
. "$top_srcdir/tests/integration/lib.sh"
plan 10
write_config <<EOF2
  plugins: [sqlite, exec]
agents:
  leaver:
    command: [sh, -c, '(trap "echo child-got-term; exit 0" TERM; echo child-started; while :; do sleep 0.05; done) & (trap "" TERM; exec sleep 300) & echo \$\$! > $T/stubborn.pid; sleep 0.2; echo main-done']
    start_secs: 0
    restart: never
    stop_timeout: 1
  keeper:
    command: [sh, -c, '(exec sleep 300) & echo \$\$! > $T/kept.pid; echo main-done']
    start_secs: 0
    restart: never
    kill_mode: process
EOF2
start_daemon || exit 1
run=$(ctl start leaver)
check "leaver: EXITED once its group has gone" wait_for 30 run_state_is "$run" EXITED
out=$(ctl logs "$run")
like "the main process's output is there" "$out" '^main-done$'
like "and the output a group member printed after the main process exited" "$out" '^child-got-term$'
stubborn=$(cat "$T/stubborn.pid")
check "a member ignoring the stop signal was killed" pid_dead "$stubborn"
is "the run's exit code is the main process's" "$(stored_run "$run" exit_code)" 0
like "group_stopping event stored" "$(events "$run" group_stopping)" '"signal":"TERM"'
like "and logged as a notice" "$(cat "$T/bosund.log")" "^<5>run $run \\(leaver\\): its main process exited and left processes in its group"
run2=$(ctl start keeper)
check "keeper: EXITED" wait_for 20 run_state_is "$run2" EXITED
kept=$(cat "$T/kept.pid")
check "kill_mode process: the child still runs" pid_alive "$kept"
kill "$kept" 2>/dev/null
stop_daemon
is "daemon stops: exit 0" "$DAEMON_STATUS" 0
done_testing
