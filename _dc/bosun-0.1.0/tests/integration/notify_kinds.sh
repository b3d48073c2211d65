#!/bin/sh
# Each kind a rule can name comes from the right event and says the right
# thing (title, detail, link); events that are no such fact (a task still
# running, a run that starts, an exit to wait for an answer) tell nobody;
# a tasks: filter holds.
. "$top_srcdir/tests/integration/notify_lib.sh"
plan 13

start_receiver || exit 1
write_config <<EOF2
  plugins: [notify]
notify:
  public_url: https://b.example.test
  rules:
    - on: [task.done, budget.exceeded, run.needs_attention, machine.offline, run.fatal]
      to: [hook]
    - on: [run.failed]
      tasks: [T-watched]
      to: [hook]
  channels:
    hook:
      type: webhook
      url: http://127.0.0.1:$RPORT/ok/hook
      secret_file: $T/hook.secret
EOF2
start_daemon || exit 1

# Not facts a person is told: each would come before the marker below.
ctl pub evt.task.T1.updated '{"task":"T1","status":"running"}'
ctl pub evt.run.coder.R0.state '{"run":"R0","agent":"coder","state":"RUNNING"}'
ctl pub evt.run.coder.R0.spawn_failed '{"run":"R0","agent":"coder","task":"T-watched","reason":"asked","class":"needs_input"}'
ctl pub evt.run.coder.R0.spawn_failed '{"run":"R0","agent":"coder","task":"T-other","reason":"exited with code 1","class":"failed"}'

ctl pub evt.task.T1.updated '{"task":"T1","status":"done","title":"Ship the release"}'
ctl pub evt.run.coder.R1.budget '{"run":"R1","agent":"coder","task":"T1","budget":"usd_per_run","limit":2,"spent":2.25}'
ctl pub evt.run.claude-code_attached.R2.attention '{"run":"R2","agent":"claude-code:attached","reason":"needs attention: Claude needs your permission to use Bash"}'
ctl pub evt.machine.build-7.offline '{"machine":"build-7"}'
ctl pub evt.run.coder.R3.spawn_failed '{"run":"R3","agent":"coder","task":"T-watched","reason":"exited with code 2","class":"failed"}'
ctl pub evt.run.coder.R3.state '{"run":"R3","agent":"coder","task":"T-watched","state":"FATAL","reason":"too many restarts"}'
wait_for 10 recv_at_least /ok/hook 6
sleep 0.3
got() { recv /ok/hook | jq -r --arg k "$1" '.body | fromjson | select(.kind == $k) | [.title, .detail, .link] | join(" | ")'; }
is "six messages, none for what is no fact or filtered out" "$(recv_count /ok/hook)" 6
is "task.done" "$(got task.done)" "bosun: task T1 is done | Ship the release | https://b.example.test/#/tasks/T1"
is "budget.exceeded" "$(got budget.exceeded)" "bosun: agent coder reached its budget | usd_per_run: spent 2.25 of 2 | https://b.example.test/#/runs/R1"
is "run.needs_attention" "$(got run.needs_attention)" "bosun: agent claude-code:attached needs attention | needs attention: Claude needs your permission to use Bash | https://b.example.test/#/runs/R2"
is "machine.offline" "$(got machine.offline)" "bosun: machine build-7 went offline |  | https://b.example.test/#/overview"
is "run.failed, in the watched task" "$(got run.failed)" "bosun: agent coder failed | exited with code 2 | https://b.example.test/#/runs/R3"
is "run.fatal" "$(got run.fatal)" "bosun: agent coder gave up restarting (FATAL) | too many restarts | https://b.example.test/#/runs/R3"
is "the machine named is the event's" "$(recv /ok/hook | jq -r '.body | fromjson | select(.kind == "machine.offline") | .machine')" build-7
is "and this daemon's where the event names none" "$(recv /ok/hook | jq -r '.body | fromjson | select(.kind == "task.done") | .machine')" test-machine
is "status counts the messages and what was held back" "$(notify_status | jq -c '[.messages, .events >= 7]')" "[6,true]"

# A machine that goes offline again is told again; the same event twice
# (the same publish time) would not be, which the webhook test shows.
ctl pub evt.machine.build-7.offline '{"machine":"build-7"}'
wait_for 5 recv_at_least /ok/hook 7
is "a machine offline again is told again" "$(recv /ok/hook | jq -r '.body | fromjson | select(.kind == "machine.offline") | .id' | wc -l | tr -d ' ')" 2
is "only the kinds ruled are subscribed (no input.requested, no approval)" "$(ctl pub evt.input.X.requested '{"input":"X","question":"q"}'; sleep 0.3; recv_count /ok/hook)" 7
stop_daemon
is "daemon exits 0" "$DAEMON_STATUS" 0
