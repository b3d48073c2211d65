#!/bin/sh
# Supervision with a real bosund and real children: restart policies,
# back-off timing, FATAL after max_restarts, exits within start_secs, the
# run environment, and only configured agents can be started.
. "$top_srcdir/tests/integration/lib.sh"
plan 47

write_config <<EOF2
  plugins: [sqlite, exec]
agents:
  crasher:
    command: [sh, -c, 'echo started >> $T/crasher.count; exit 1']
    restart: on-failure
    start_secs: 0
    backoff_base: 0.1
    backoff_max: 0.2
    max_restarts: 7
  done_ok:
    command: [sh, -c, 'echo done']
    start_secs: 0
  never:
    command: [sh, -c, 'exit 2']
    restart: never
    start_secs: 0
  always:
    command: [sh, -c, 'echo x >> $T/always.count; exit 0']
    restart: always
    start_secs: 0
    backoff_base: 0
    max_restarts: unlimited
  slowstart:
    command: [sh, -c, 'sleep 0.2; exit 0']
    start_secs: 5
    max_restarts: 1
    backoff_base: 0.1
  envdump:
    command: [sh, -c, 'env | grep ^BOSUN_ | sort; echo FOO=\$\$FOO; cat "\$\$BOSUN_PROMPT_FILE"']
    env: {FOO: bar}
    start_secs: 0
    restart: never
  fds:
    command: [sh, -c, 'ls /proc/\$\$\$\$/fd']
    start_secs: 0
    restart: never
  missing:
    command: [/nonexistent/agent-binary]
    start_secs: 0
    max_restarts: 1
    backoff_base: 0.1
EOF2
# The daemon inherits a descriptor that is not close-on-exec (7); no
# descriptor of the daemon's, inherited or its own, may reach an agent.
exec 7<"$T/bosun.yaml"
start_daemon || exit 1
exec 7<&-

# --- only 0, 1 and 2 reach the agent
run=$(ctl start fds)
wait_for 10 run_state_is "$run" EXITED
is "the agent has only descriptors 0, 1 and 2" "$(ctl logs "$run" | sort -n | tr '\n' ' ')" "0 1 2 "

# --- on-failure with exponential back-off, then FATAL.  The waits between
# starts are checked from below only (load can only lengthen them), except
# that the last one must be far shorter than it would be without the cap.
run=$(ctl start crasher); st=$?
is "start prints a run id" "$st:$(printf %s "$run" | wc -c | tr -d ' ')" "0:26"
wait_for 60 run_state_is "$run" FATAL
is "crasher ends FATAL after max_restarts" "$(runf "$run" state)" FATAL
is "it was started 1 + 7 times" "$(wc -l < "$T/crasher.count" | tr -d ' ')" 8
is "ps counts 7 restarts" "$(runf "$run" restarts)" 7
like "reason says it gave up" "$(runf "$run" reason)" "gave up after 8 consecutive failures \\(max_restarts 7\\): exited with code 1"
gaps=$(events "$run" spawn_started | jq -r '[.[].time] | [range(1; length) as $i | (.[$i] - .[$i-1])] | map(. * 1000 | floor) | @tsv')
set -- $gaps
check "back-off 1 waits backoff_base: >= 100 ms (got ${1:-?} ms)" test "${1:-0}" -ge 95
check "back-off 2 doubles: >= 200 ms (got ${2:-?} ms)" test "${2:-0}" -ge 195
later=$(echo "$gaps" | cut -f3-7 | tr '\t' '\n' | sort -n | head -1)
check "back-offs 3 to 7 wait backoff_max: each >= 200 ms ($(echo "$gaps" | cut -f3-7 | tr '\t' ' ') ms)" \
    test "${later:-0}" -ge 195
check "back-off stops growing at backoff_max: the 7th < 5000 ms, 6400 ms uncapped (got ${7:-?} ms)" \
    test "${7:-99999}" -lt 5000
states=$(events "$run" state | jq -r '[.[].data.state] | join(" ")')
like "states go STARTING/RUNNING, BACKOFF, ..., FATAL" "$states" "^(RUNNING BACKOFF ){7}RUNNING FATAL$"

# --- clean exit under on-failure: EXITED, not restarted
run=$(ctl start done_ok)
wait_for 10 run_state_is "$run" EXITED
is "clean exit: EXITED" "$(runf "$run" state)" EXITED
is "clean exit: code 0" "$(runf "$run" exit_code)" 0
is "clean exit: not restarted" "$(runf "$run" restarts)" 0
is "spawn_completed recorded" "$(events "$run" spawn_completed | jq length)" 1
is "spawn lifecycle events in order" "$(ctl events --subject "evt.run.done_ok.$run.>" --json | jq -r '.subject | split(".")[4]' | grep spawn_ | tr '\n' ' ')" "spawn_requested spawn_started spawn_completed "

# --- restart: never
run=$(ctl start never)
wait_for 10 run_state_is "$run" EXITED
is "never: EXITED with code 2" "$(runf "$run" state):$(runf "$run" exit_code)" "EXITED:2"
like "never: spawn_failed names the exit" "$(events "$run" spawn_failed | jq -r '.[0].data.reason')" "exited with code 2"
is "never: not restarted" "$(runf "$run" restarts)" 0

# --- restart: always, no back-off: restarts keep coming (a bounded wait
# for ten starts, not a count within a time)
run=$(ctl start always)
wait_for 60 sh -c "[ \"\$(wc -l < '$T/always.count')\" -ge 10 ]"
n=$(wc -l < "$T/always.count" | tr -d ' ')
check "always: restarted again and again (saw $n starts)" test "$n" -ge 10
r=$(runf "$run" restarts)
check "always: ps counts the restarts ($r)" test "${r:-0}" -ge 9
like "always: still going, never FATAL" "$(runf "$run" state)" '^(STARTING|RUNNING|BACKOFF)$'
out=$(ctl stop always)
like "stop by agent name" "$out" "stopped $run"
is "always: STOPPED after stop" "$(runf "$run" state)" STOPPED
n1=$(wc -l < "$T/always.count"); sleep 0.5; n2=$(wc -l < "$T/always.count")
is "always: no start after stop" "$n2" "$n1"

# --- exits within start_secs count as failed starts
run=$(ctl start slowstart)
wait_for 15 run_state_is "$run" FATAL
like "exit within start_secs is a failed start" "$(runf "$run" reason)" "within start_secs"
is "slowstart never reached RUNNING" "$(events "$run" state | jq -r '[.[].data.state] | index("RUNNING")')" null

# --- a command that cannot be executed
run=$(ctl start missing)
wait_for 10 run_state_is "$run" FATAL
like "exec failure is a spawn_failed with the reason" "$(events "$run" spawn_failed | jq -r '.[0].data.reason')" "cannot execute '/nonexistent/agent-binary'.*No such file"

# --- environment and prompt
run=$(ctl start envdump --task T-1 --prompt "hello prompt")
wait_for 10 run_state_is "$run" EXITED
out=$(ctl logs "$run")
like "BOSUN_RUN_ID" "$out" "^BOSUN_RUN_ID=$run$"
like "BOSUN_AGENT" "$out" "^BOSUN_AGENT=envdump$"
like "BOSUN_TASK_ID" "$out" "^BOSUN_TASK_ID=T-1$"
like "BOSUN_MACHINE_ID" "$out" "^BOSUN_MACHINE_ID=test-machine$"
like "BOSUN_PROMPT" "$out" "^BOSUN_PROMPT=hello prompt$"
like "BOSUN_PROMPT_FILE in the run's runtime directory" "$out" "^BOSUN_PROMPT_FILE=$T/run/runs/$run/prompt$"
like "agent env: applied" "$out" "^FOO=bar$"
like "prompt file holds the prompt" "$out" "^hello prompt"
is "the prompt kept in the state directory is private (0640)" "$(stat -c %a "$T/state/runs/$run/prompt")" 640

# --- restart
out=$(ctl restart "$run" 2>&1); st=$?
is "restart of an ended run: exit 1" "$st" 1
like "restart of an ended run: said" "$out" "has ended \\(EXITED\\)"
out=$(ctl restart never); st=$?
like "restart of an agent with nothing running starts it" "$st:$out" "^0:started [0-9A-Z]{26}$"
run=$(ctl start always)
wait_for 5 run_state_is "$run" RUNNING
r0=$(runf "$run" restarts)
out=$(ctl restart "$run")
is "restart of a running run: answered" "$out" "restarted $run"
check "restart counted (was $r0)" test "$(runf "$run" restarts)" -gt "$r0"
ctl stop always >/dev/null
out=$(timeout 10 "$BOSUNCTL" -s "$T/run/bosund.sock" logs "$(slot envdump run)" --tail 1 -f); st=$?
is "logs --tail -f of an ended run returns" "$st" 0

# --- only configured agents
out=$(ctl start nosuch 2>&1); st=$?
is "unknown agent: exit 1" "$st" 1
like "unknown agent: clear error" "$out" "no agent named 'nosuch' in the configuration"
out=$(ctl request cmd.proc.start '{"agent":"/bin/sh -c id"}' --json)
like "a command line as agent name is refused" "$out" '"code":"unknown_agent"'

stop_daemon
is "daemon stops: exit 0" "$DAEMON_STATUS" 0
done_testing
