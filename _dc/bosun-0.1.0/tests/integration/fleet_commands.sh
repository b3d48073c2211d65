#!/bin/sh
# Commands from the hub down a machine's link: starting a configured agent
# (bosunctl and REST)
# on a machine (and not an unconfigured one), seeing the run on the hub
# with its machine, stopping it from the hub; a question asked by a run on
# the machine appears on the hub, is answered there, and the resumed run
# (resumed_from the old one) appears on the hub too.  A command for a
# machine that went offline fails at once with machine_offline.
. "$top_srcdir/tests/integration/lib.sh"
. "$top_srcdir/tests/integration/http_lib.sh"
. "$top_srcdir/tests/integration/fleet_lib.sh"
plan 19

FLAG="$T/asked"
AGENTS="agents:
  worker:
    type: exec
    command: [sleep, \"120\"]
    restart: never
  asker:
    type: exec
    command: [sh, -c, 'if [ -n \"\$BOSUN_RESUME\" ]; then echo \"answer=\$BOSUN_INPUT_ANSWER\"; sleep 1; else i=0; while [ ! -e $FLAG ] && [ \$i -lt 600 ]; do sleep 0.1; i=\$((i+1)); done; fi']
    restart: never
    resume: on-answer"
fleet_hub "heartbeat_timeout: 3s"
node_start hub || exit 1
(umask 077 && reg_token m1 > "$T/m1.reg")
fleet_machine m1 "registration_token_file: $T/m1.reg"
node_start m1 || exit 1
check "m1 online" wait_for 30 machine_status_is m1 online

# hub_run RUN FIELD: a field of RUN in the hub's ps --json.
hub_run() { nctl hub ps --json | jq -r --arg r "$1" ".[] | select(.run == \$r) | .$2"; }
hub_run_is() { [ "$(hub_run "$1" "$2")" = "$3" ]; }

# --- start and stop from the hub
r=$(nctl hub start --machine m1 worker 2>"$T/start.err")
like "start --machine m1 worker on the hub names a run" "$r" '^[A-Za-z0-9_-]{6,}$'
check "the run runs on the machine" wait_for 20 sh -c "\"$BOSUNCTL\" -s \"$T/m1/run/bosund.sock\" ps --json | jq -e --arg r '$r' '.[] | select(.run == \$r and .state == \"RUNNING\")'"
check "the hub's ps shows it RUNNING" wait_for 20 hub_run_is "$r" state RUNNING
is "  with its machine" "$(hub_run "$r" machine)" m1
out=$(nctl hub start --machine m1 nosuch 2>&1); rc=$?
check "an agent not configured on the machine is refused (exit $rc)" test "$rc" -ne 0
like "  forbidden, or unknown agent" "$out" 'forbidden|not configured|unknown|no such'
like "  and the machine logged the refusal" "$(cat "$T/m1/bosund.log")" 'uplink: .*nosuch'
nctl hub stop "$r" > "$T/stop.out" 2>&1
check "stop RUN on the hub succeeds" test $? -eq 0
check "the run stopped on the machine" wait_for 30 sh -c "\"$BOSUNCTL\" -s \"$T/m1/run/bosund.sock\" ps --json | jq -e --arg r '$r' '.[] | select(.run == \$r and .state != \"RUNNING\" and .state != \"STOPPING\")'"

# --- a question on the machine, answered on the hub
# The task is made on m1 from the hub (task create --machine), its agent
# started there.
nctl hub task create --machine m1 --title "ask something" --agent asker --json > "$T/task.out" 2>"$T/task.err"
task=$(jq -r '.task // empty' "$T/task.out")
ar1=$(jq -r '.run // empty' "$T/task.out")
like "task create --machine m1 on the hub: a task made on m1" "$(nctl m1 task list --json | jq -r '.[].task')" "^$task\$"
wait_for 20 sh -c "\"$BOSUNCTL\" -s \"$T/m1/run/bosund.sock\" ps --json | jq -e --arg r '$ar1' '.[] | select(.run == \$r and .state == \"RUNNING\")'" >/dev/null
q=$(nctl m1 request cmd.input.create "{\"run\":\"$ar1\",\"question\":\"which way?\",\"blocking\":true}" --json | jq -r .data.input)
touch "$FLAG"
hub_q() { nctl hub input list --json | jq -r --arg q "$q" '.[] | select(.input == $q) | .machine'; }
check "the question appears on the hub" wait_for 20 sh -c "[ -n \"\$(\"$BOSUNCTL\" -s \"$T/hub/run/bosund.sock\" input list --json | jq -r --arg q '$q' '.[] | select(.input == \$q) | .input')\" ]"
is "  with its machine" "$(hub_q)" m1
# Answered before or after the asker has exited (the flag ends its loop,
# late on a loaded machine): either way its exit resumes it.
nctl hub input answer "$q" left > "$T/answer.out" 2>&1
check "input answer on the hub succeeds" test $? -eq 0
resumed() { nctl hub ps --json | jq -e --arg r "$ar1" '.[] | select(.resumed_from == $r and .machine == "m1")' >/dev/null; }
check "the resumed run appears on the hub, resumed_from the old run, on m1" wait_for 30 resumed

# --- REST: POST /api/v1/agents/worker/start {"machine":"m1"}
code=$(curl -s --cacert "$T/ca.pem" -o "$T/rest.out" -w '%{http_code}' -X POST \
    -H "Authorization: Bearer $(cat "$T/boot.tok")" -H 'Content-Type: application/json' \
    --data '{"machine":"m1"}' "https://127.0.0.1:$PORT/api/v1/agents/worker/start")
is "REST start with machine m1 on the hub: 201" "$code" 201
rr=$(jq -r .run.run "$T/rest.out")
check "  the run runs on m1" wait_for 20 sh -c "\"$BOSUNCTL\" -s \"$T/m1/run/bosund.sock\" ps --json | jq -e --arg r '$rr' '.[] | select(.run == \$r and .state == \"RUNNING\")'"

# --- an offline machine
node_stop m1
wait_for 15 machine_status_is m1 offline
s=$(date +%s%N)
out=$(nctl hub start --machine m1 worker 2>&1)
ms=$((($(date +%s%N) - s) / 1000000))
like "start on an offline machine: machine_offline ($ms ms)" "$out" 'machine_offline'
check "  at once ($ms ms < 1000)" test "$ms" -lt 1000
done_testing
