#!/bin/sh
# The notify plugin's webhook and ntfy channels against a local receiver:
# a real question (cmd.input.create) reaches a signed webhook, an ntfy
# topic and a Slack-shaped webhook within 1 s, with the right headers, body
# and link; a repeated event is not told twice; a failing receiver is
# retried with back-off until it takes it, a refusing one is not retried;
# a flapping agent's failures are coalesced into one "failed N times".
. "$top_srcdir/tests/integration/notify_lib.sh"
plan 36

start_receiver || exit 1
U="http://127.0.0.1:$RPORT"
write_config <<EOF2
  plugins: [sqlite, exec, notify]
agents:
  idle:
    command: [sleep, "3600"]
    start_secs: 0
  other:
    command: [sh, -c, "exit 4"]
    start_secs: 0
    restart: never
  flappy:
    command: [sh, -c, "exit 3"]
    start_secs: 0
    restart: on-failure
    max_restarts: 4
    backoff_base: 0.05s
    backoff_max: 0.1s
notify:
  public_url: https://bosun.example.test/
  window: 3s
  rules:
    - on: [input.requested]
      to: [hook, phone, slack]
    - on: [approval.requested]
      to: [retry, deny, later]
    - on: [run.failed, run.fatal]
      agents: [flappy]
      to: [hook]
  channels:
    hook:
      type: webhook
      url: $U/ok/hook
      secret_file: $T/hook.secret
    phone:
      type: ntfy
      url: $U/ok/ntfy/bosun-topic
      token_file: $T/ntfy.token
    slack:
      type: webhook
      format: slack
      url: $U/ok/slack
    retry:
      type: webhook
      url: $U/fail-2/retry
      secret_file: $T/hook.secret
      backoff: 0.2s
      retries: 3
    deny:
      type: webhook
      url: $U/deny
      secret_file: $T/hook.secret
      backoff: 0.1s
    later:
      type: webhook
      url: $U/retry-after/x
      secret_file: $T/hook.secret
      backoff: 0.05s
EOF2
start_daemon || exit 1

# --- a real question
TK=$(ctl task create --title "Ship it" --agent idle --json)
TASK=$(printf '%s' "$TK" | jq -r .task)
RUN=$(printf '%s' "$TK" | jq -r .run)
wait_for 10 run_state_is "$RUN" RUNNING
I=$(ctl request cmd.input.create "{\"run\":\"$RUN\",\"question\":\"Deploy to prod? (line one)\\nsecond line\",\"blocking\":false}" --json | jq -r .data.input)
like "the question was created" "$I" '^[0-9A-Z]{26}$'
wait_for 5 recv_at_least /ok/hook 1
wait_for 5 recv_at_least /ok/ntfy 1
wait_for 5 recv_at_least /ok/slack 1
H=$(recv /ok/hook | head -1)
B=$(printf '%s' "$H" | jq -r .body)
is "webhook: the signature is the HMAC-SHA256 of the body under the secret" "$(printf '%s' "$H" | jq -r .sig_ok)" true
is "webhook: X-Bosun-Event names the kind" "$(printf '%s' "$H" | jq -r '.headers["x-bosun-event"]')" input.requested
is "webhook: X-Bosun-Delivery is the message's key" "$(printf '%s' "$H" | jq -r '.headers["x-bosun-delivery"]')" "input.requested:$I"
is "webhook: X-Bosun-Timestamp is the signed sent_at" "$(printf '%s' "$H" | jq -r '.headers["x-bosun-timestamp"]')" "$(printf '%s' "$B" | jq -r '.sent_at | round')"
is "webhook: JSON body" "$(printf '%s' "$H" | jq -r '.headers["content-type"]')" application/json
is "webhook body: kind, id, agent, task, run" "$(printf '%s' "$B" | jq -r '[.kind, .id, .agent, .task, .run] | join(" ")')" "input.requested $I idle $TASK $RUN"
like "webhook body: the question, on one line" "$(printf '%s' "$B" | jq -r .detail)" '^Deploy to prod\? \(line one\) second line$'
is "webhook body: the link to answer it, from public_url" "$(printf '%s' "$B" | jq -r .link)" "https://bosun.example.test/#/tasks/$TASK"
like "webhook body: the text says what, who and where" "$(printf '%s' "$B" | jq -r .text | tr '\n' '|')" "^bosun: agent idle asks a question\|agent: idle\|task: $TASK\|run: $RUN\|machine: test-machine\|Deploy to prod.*\|https://bosun.example.test/#/tasks/$TASK\|+$"
lat=$(printf '%s' "$H" | jq -r --argjson e "$(printf '%s' "$B" | jq .event_time)" '.time - $e')
check "webhook: received within 1 s of the event ($lat s)" awk -v l="$lat" 'BEGIN { exit !(l >= 0 && l < 1) }'

N=$(recv /ok/ntfy | head -1)
is "ntfy: posted to the topic URL" "$(printf '%s' "$N" | jq -r .path)" /ok/ntfy/bosun-topic
is "ntfy: Title" "$(printf '%s' "$N" | jq -r .headers.title)" "bosun: agent idle asks a question"
is "ntfy: Priority and Tags by kind" "$(printf '%s' "$N" | jq -r '.headers.priority + " " + .headers.tags')" "high question"
is "ntfy: Click opens the question" "$(printf '%s' "$N" | jq -r .headers.click)" "https://bosun.example.test/#/tasks/$TASK"
is "ntfy: the token from token_file as a bearer" "$(printf '%s' "$N" | jq -r .headers.authorization)" "Bearer $(cat "$T/ntfy.token")"
like "ntfy: the body is the text with the question" "$(printf '%s' "$N" | jq -r .body)" "Deploy to prod"
S=$(recv /ok/slack | head -1)
like "slack format: {\"text\"} with title and question" "$(printf '%s' "$S" | jq -r '.body | fromjson | .text' | tr '\n' '|')" "^bosun: agent idle asks a question\|.*Deploy to prod"
is "slack format: no signature without a secret" "$(printf '%s' "$S" | jq -r .sig_ok)" null

# --- the same event again (a replay) is not told twice; a new one is
ctl pub "evt.input.$I.requested" "{\"input\":\"$I\",\"run\":\"$RUN\",\"agent\":\"idle\",\"question\":\"again\"}"
ctl pub "evt.input.second.requested" "{\"input\":\"second\",\"agent\":\"idle\",\"question\":\"Second?\"}"
wait_for 5 recv_at_least /ok/hook 2
sleep 0.3
is "dedup: the repeated question was not sent again" "$(recv /ok/hook | jq -r 'select((.body | fromjson).id == "'"$I"'")' | jq -s length)" 1
is "dedup: the next question was" "$(recv /ok/hook | jq -r '(.body | fromjson).id' | tail -1)" second
check "every delivery is an event (evt.notify.hook.sent, 2 by now)" wait_for 5 sh -c "[ \$(\"$BOSUNCTL\" -s '$T/run/bosund.sock' request cmd.store.events '{\"subject\":\"evt.notify.hook.sent\"}' --json | jq '.data.events | length') -ge 2 ]"
like "a sent event says channel, kind, attempts and latency" "$(notify_events hook sent | jq -c '.[0].data')" '"channel":"hook".*"kind":"input.requested".*"attempts":1.*"latency":0\.'

# --- retries with back-off; a permanent refusal is not retried
ctl pub evt.approval.A1.requested '{"id":"A1","agent":"idle","tool":"Bash","input":{"command":"rm -rf build"},"status":"pending"}'
wait_for 10 recv_at_least /fail-2/retry 3
wait_for 5 sh -c "notify_events() { \"$BOSUNCTL\" -s '$T/run/bosund.sock' request cmd.store.events \"{\\\"subject\\\":\\\"evt.notify.\$1.\$2\\\"}\" --json | jq '.data.events | length'; }; [ \$(notify_events retry sent) -ge 1 ] && [ \$(notify_events deny failed) -ge 1 ]"
is "retry: the receiver got it on the third attempt" "$(recv /fail-2/retry | jq -s -c 'map(.seen)')" "[1,2,3]"
is "retry: the same X-Bosun-Delivery on every attempt" "$(recv /fail-2/retry | jq -r '.headers["x-bosun-delivery"]' | sort -u)" "approval.requested:A1"
is "retry: two failed attempts, not final, then sent on attempt 3" "$(notify_events retry failed | jq -c 'map([.data.attempts, .data.final])'),$(notify_events retry sent | jq -c 'map(.data.attempts)')" "[[1,false],[2,false]],[3]"
like "retry: the failure says why" "$(notify_events retry failed | jq -r '.[0].data.error')" '^HTTP 500'
gap=$(recv /fail-2/retry | jq -s '.[1].time - .[0].time')
check "retry: backed off (first gap $gap s, backoff 0.2 s +-20 %)" awk -v g="$gap" 'BEGIN { exit !(g >= 0.15 && g < 2) }'
sleep 0.5
is "deny: a 403 is not retried" "$(recv_count /deny),$(notify_events deny failed | jq -c 'map(.data.final)')" "1,[true]"

wait_for 5 recv_at_least /retry-after/ 2
rgap=$(recv /retry-after/ | jq -s '.[1].time - .[0].time')
check "429 with Retry-After: 1 waits that long, not the 0.05 s back-off ($rgap s)" awk -v g="$rgap" 'BEGIN { exit !(g >= 0.9 && g < 3) }'

# --- a flapping agent: told once at once, then once "failed N times"
ctl start other >/dev/null
FR=$(ctl start flappy)
wait_for 10 run_state_is "$FR" FATAL
wait_for 3 sh -c "[ \$(jq -c 'select(.path == \"/ok/hook\") | (.body | fromjson) | select(.kind == \"run.fatal\")' '$T/recv.log' | wc -l) -ge 1 ]"
flaps() { recv /ok/hook | jq -c '.body | fromjson | select(.kind == "run.failed")'; }
is "flapping: the first failure at once, the rest held (1 run.failed so far)" "$(flaps | wc -l | tr -d ' ')" 1
like "run.fatal told, with the run's reason" "$(recv /ok/hook | jq -r '.body | fromjson | select(.kind == "run.fatal") | .title + " / " + .link')" "^bosun: agent flappy gave up restarting \(FATAL\) / https://bosun.example.test/#/runs/$FR$"
wait_for 6 sh -c "[ \$(jq -c 'select(.path == \"/ok/hook\") | (.body | fromjson) | select(.kind == \"run.failed\")' '$T/recv.log' | wc -l) -ge 2 ]"
is "flapping: one coalesced message when the window ends: count 5" "$(flaps | tail -1 | jq -r '[.count, .title] | join(" / ")')" "5 / bosun: agent flappy failed 5 times within 3 s"
is "rules: agents: filters (nothing about 'other', which failed too)" "$(recv /ok/hook | jq -r '.body | fromjson | select(.agent == "other") | .id' | wc -l | tr -d ' ')" 0
is "status: channels counted, none failing" "$(notify_status | jq -c '[.failing, (.channels[] | select(.name == "hook") | .sent)]')" "[false,5]"
stop_daemon
is "daemon exits 0" "$DAEMON_STATUS" 0
