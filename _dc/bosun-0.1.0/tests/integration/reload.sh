#!/bin/sh
# Reload (bosunctl reload and SIGHUP): new settings reach plugins, plugins
# come and go, and an invalid file is refused with the old one kept.
. "$top_srcdir/tests/integration/lib.sh"
plan 27

write_config <<'EOF2'
  plugins: [heartbeat, order_a]
heartbeat:
  interval: 1h
order_a:
  tag: first
EOF2
start_daemon || exit 1

# --- a plugin setting changes: reload with the new subtree
sed -i 's/interval: 1h/interval: 0.1s/; s/tag: first/tag: second/' "$T/bosun.yaml"
out=$(ctl reload); st=$?
is "bosunctl reload: exit 0" "$st" 0
is "bosunctl reload: says so" "$out" "configuration reloaded"
like "plugin got reload with its new settings" "$(cat "$T/bosund.log")" "order_a: reload tag=second"
timeout 20 "$BOSUNCTL" -s "$T/run/bosund.sock" sub 'evt.machine.test-machine.heartbeat' --count 3 --json > "$T/hb.out"
is "heartbeat follows its new 0.1 s interval" "$(wc -l < "$T/hb.out" | tr -d ' ')" 3
like "heartbeat data carries the new interval" "$(head -1 "$T/hb.out")" '"interval":0.1'
like "status counts the reload" "$(ctl status --json)" '"reloads":1'

# --- an invalid file is refused, nothing changes
cp "$T/bosun.yaml" "$T/good.yaml"
sed -i 's/tag: second/tag: third\n  bogus: 1/' "$T/bosun.yaml"
out=$(ctl reload 2>&1); st=$?
is "invalid config: reload exits 1" "$st" 1
like "invalid config: error with file:line:col" "$out" "bosun.yaml:13:3: .*unknown key 'bogus'"
like "invalid config: old one kept, said" "$out" "old one keeps running"
log=$(cat "$T/bosund.log")
like "invalid config: refusal logged at error priority" "$log" "^<3>reload refused"
like "the log has the plugin's earlier reload" "$log" "order_a: reload tag=second"
unlike "invalid config: plugin not reloaded" "$log" "tag=third"
check "daemon still running" kill -0 "$DAEMON_PID"
like "and still answers on the bus" "$(ctl request sys.ping '{}')" '"pong": true'

# --- SIGHUP with a syntax error: logged, still running
printf 'daemon: [\n' >> "$T/bosun.yaml"
kill -HUP "$DAEMON_PID"
wait_for 10 sh -c "grep -c '^<3>reload refused' '$T/bosund.log' | grep -q 2"
like "SIGHUP with a broken file: refused in the log" "$(grep -c '^<3>reload refused' "$T/bosund.log")" "^2$"
check "daemon survives a broken file on SIGHUP" kill -0 "$DAEMON_PID"

# --- plugins added and removed by reload
cp "$T/good.yaml" "$T/bosun.yaml"
sed -i 's/plugins: \[heartbeat, order_a\]/plugins: [heartbeat, order_b]/; s/^order_a:/order_b:/' "$T/bosun.yaml"
kill -HUP "$DAEMON_PID"
wait_for 10 grep -q "order_b: start" "$T/bosund.log"
like "removed plugin stopped" "$(cat "$T/bosund.log")" "order_a: stop"
like "added plugin started with its settings" "$(cat "$T/bosund.log")" "order_b: init tag=second"
json=$(ctl plugins --json)
like "plugins now: heartbeat and order_b" "$json" '"name":"heartbeat".*"name":"order_b"'
unlike "order_a no longer listed" "$json" '"name":"order_a"'

# --- a plugin whose init fails when a reload adds it is dropped
sed -i 's/plugins: \[heartbeat, order_b\]/plugins: [heartbeat, order_b, init_fails]/' "$T/bosun.yaml"
out=$(ctl reload 2>&1)
like "failed init on reload: reported" "$out" "init_fails.*init failed"
json=$(ctl plugins --json)
like "failed init on reload: the others still listed" "$json" '"name":"heartbeat".*"name":"order_b"'
unlike "failed init on reload: not listed" "$json" '"name":"init_fails"'

# --- a removed plugin that forgot a timer: its code stays mapped
sed -i 's/plugins: \[heartbeat, order_b, init_fails\]/plugins: [heartbeat, order_b, forgetful]/' "$T/bosun.yaml"
ctl reload >/dev/null 2>&1
like "forgetful plugin added" "$(ctl plugins --json)" '"name":"forgetful"'
sed -i 's/plugins: \[heartbeat, order_b, forgetful\]/plugins: [heartbeat, order_b]/' "$T/bosun.yaml"
ctl reload >/dev/null 2>&1
wait_for 10 grep -q "forgetful: timer ran after stop" "$T/bosund.log"
like "removed plugin's forgotten timer ran its own code" "$(cat "$T/bosund.log")" "forgetful: timer ran after stop"
check "daemon survives the forgotten timer" kill -0 "$DAEMON_PID"
like "and still answers" "$(ctl request sys.ping '{}')" '"pong": true'
stop_daemon
done_testing
