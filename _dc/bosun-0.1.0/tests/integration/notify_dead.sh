#!/bin/sh
# Dead channels do not hold up live ones: beside a port that refuses
# connections and a black hole that accepts and never answers, 20
# questions reach the live webhook and ntfy channels each within 1 s; the
# refusing channel is reported failing (cmd.notify.status, bosunctl status,
# the log), the black hole's queue stays within its bound (the oldest
# dropped, counted, told as failed), and bosund still answers and stops at
# once.
. "$top_srcdir/tests/integration/notify_lib.sh"
plan 18

start_receiver || exit 1
U="http://127.0.0.1:$RPORT"
DEAD=$(free_port)
write_config <<EOF2
  plugins: [sqlite, notify]
notify:
  rules:
    - on: [input.requested]
      to: [refused, hole, good, phone]
  channels:
    refused:
      type: webhook
      url: http://127.0.0.1:$DEAD/never
      secret_file: $T/hook.secret
      backoff: 0.1s
      backoff_max: 0.5s
      retries: 2
    hole:
      type: webhook
      url: $U/hole
      secret_file: $T/hook.secret
      timeout: 30s
      queue: 5
    good:
      type: webhook
      url: $U/ok/good
      secret_file: $T/hook.secret
    phone:
      type: ntfy
      url: $U/ok/phone
EOF2
start_daemon || exit 1

for i in $(seq 1 20); do
    ctl pub "evt.input.q$i.requested" "{\"input\":\"q$i\",\"agent\":\"a\",\"question\":\"question $i\"}"
done
wait_for 10 recv_at_least /ok/good 20
wait_for 10 recv_at_least /ok/phone 20
is "all 20 reached the live webhook" "$(recv /ok/good | jq -r '.body | fromjson | .id' | sort -u | wc -l | tr -d ' ')" 20
is "all 20 reached the live ntfy topic" "$(recv_count /ok/phone)" 20
max=$(recv /ok/good | jq -s 'map(.time - (.body | fromjson).event_time) | max')
check "each within 1 s of its event beside the dead channels (slowest $max s)" awk -v m="$max" 'BEGIN { exit !(m >= 0 && m < 1) }'
is "the black hole holds its 4 transfers, nothing more" "$(recv_count /hole)" 4

t0=$(date +%s.%N)
ST=$(notify_status)
t1=$(date +%s.%N)
check "the daemon answers at once meanwhile ($(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.3f", b - a }') s)" awk -v a="$t0" -v b="$t1" 'BEGIN { exit !(b - a < 1) }'
wait_for 10 sh -c "\"$BOSUNCTL\" -s '$T/run/bosund.sock' request cmd.notify.status '{}' --json | jq -e '.data.channels[] | select(.name == \"refused\") | .state == \"failing\"' >/dev/null"
ST=$(notify_status)
ch() { printf '%s' "$ST" | jq -c --arg n "$1" ".channels[] | select(.name == \$n) | $2"; }
is "status: the refusing channel and the dropping black hole are failing, the live ones not" "$(printf '%s' "$ST" | jq -c '[.failing, (.channels | map(.state))]')" '[true,["failing","failing","ok","ok"]]'
like "status: with the reason" "$(ch refused .last_error)" "Could.*connect|refused"
is "the black hole: 4 in flight, 5 queued (its bound), 11 dropped" "$(ch hole '[.in_flight, .queued, .dropped]')" "[4,5,11]"
is "every drop is a final failed event" "$(notify_events hole failed | jq -c 'map(select(.data.final and (.data.error | test("queue is full")))) | length')" 11
like "bosunctl status reports it" "$(ctl status)" "notify FAILING: channel refused \(webhook\): [0-9]+ attempts in a row failed"
like "bosunctl status: the notify line" "$(ctl status)" "notify: +4 channels, [0-9]+ sent, [0-9]+ failed, 2 failing"
like "the log says so" "$(cat "$T/bosund.log")" "notify: channel refused is failing: [0-9]+ attempts in a row"
wait_for 10 sh -c "[ \$(\"$BOSUNCTL\" -s '$T/run/bosund.sock' request cmd.store.events '{\"subject\":\"evt.notify.refused.failed\",\"limit\":1000}' --json | jq '[.data.events[] | select(.data.final)] | length') -ge 20 ]"
is "refused: each given up after 1 + 2 retries, told as final" "$(notify_events refused failed | jq -c '[map(select(.data.final)) | length, (map(.data.attempts) | max)]')" "[20,3]"

# A reload replaces the channels: the black hole's transfers are given up
# (said so), the live channel serves the next question.
sed -i '/^    refused:$/,/^    good:$/{/^    good:$/!d}; s/to: \[refused, hole, good, phone\]/to: [good]/' "$T/bosun.yaml"
ctl reload >/dev/null
wait_for 10 sh -c "\"$BOSUNCTL\" -s '$T/run/bosund.sock' request cmd.notify.status '{}' --json | jq -e '.data.channels | length == 2' >/dev/null"
is "reload: the channels of the new section" "$(notify_status | jq -c '[.channels[].name]')" '["good","phone"]'
like "reload: the dead channels' deliveries given up, logged" "$(cat "$T/bosund.log")" "notify: channel hole: 9 deliveries not made"
ctl pub evt.input.after.requested '{"input":"after","agent":"a","question":"after the reload"}'
check "reload: the next question reaches the live channel" wait_for 5 sh -c "jq -e 'select((.body | fromjson? | .id) == \"after\")' '$T/recv.log' >/dev/null"

t0=$(date +%s)
stop_daemon
t1=$(date +%s)
is "bosund stops 0 with the black hole's transfers open" "$DAEMON_STATUS" 0
check "and at once ($((t1 - t0)) s)" test $((t1 - t0)) -le 3
