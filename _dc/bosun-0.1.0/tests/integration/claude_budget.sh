#!/bin/sh
# Budgets with the real Claude Code CLI against the fake Anthropic API: a
# run over tokens_per_run is stopped mid-run (the fake reports 60000 input
# tokens a turn), ends with class BUDGET and a "budget" event, and is not
# restarted whatever restart: says; a task's runs add up to usd_per_task
# and the next run of that task is refused (budget_exceeded, also after a
# daemon restart: the totals come back from the store) until a reload
# raises the limit; the global usd_per_day adds up over agents; the
# per-run limit is passed to the CLI as --max-budget-usd; budget mistakes
# are config errors at FILE:LINE:COL.
. "$top_srcdir/tests/integration/lib.sh"
. "$top_srcdir/tests/integration/claude_lib.sh"
BOSUN_PLUGIN_PATH="$BOSUN_PLUGIN_PATH:$top_builddir/plugins/http"
PORT=$(/usr/bin/python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')

plan 40

# The cost the CLI reports for one SCENARIO:pricey answer (1e6 input
# tokens at its model's price) sets the limits below: measured, not assumed.
conf() {
    write_config <<EOF2
  plugins: [sqlite, exec, mcp, claude-code, http]
http:
  listen: ["127.0.0.1:$PORT"]
budget:
  usd_per_day: $GLOBAL_DAY
agents:
$(claude_agent cc_tok <<EOF3
    restart: always
    backoff_base: 0
    budget:
      tokens_per_run: 100000
EOF3
)
$(claude_agent cc_task <<EOF3
    budget:
      usd_per_task: $TASK_LIMIT
      usd_per_run: 1000
EOF3
)
$(claude_agent cc_a </dev/null)
$(claude_agent cc_b </dev/null)
EOF2
}
GLOBAL_DAY=1000000 TASK_LIMIT=1000000 conf
start_daemon || exit 1

# --- one priced answer: what it costs.
run0=$(ctl start cc_a --prompt "SCENARIO:pricey")
wait_for 90 ended "$run0" || fail "the priced run ended" "$(ctl ps --json)"
C=$(runf "$run0" cost_usd)
like "a priced answer costs something ($C USD)" "$C" '^[0-9.e-]+$'
check "more than a dollar" awk "BEGIN { exit !($C > 1) }"
stop_daemon

# limits: a task may spend 1.5 answers, a day (all agents) 3.5 answers.
TASK_LIMIT=$(awk "BEGIN { printf \"%.6f\", $C * 1.5 }")
GLOBAL_DAY=$(awk "BEGIN { printf \"%.6f\", $C * 3.5 }")
conf
start_daemon || exit 1

# --- tokens_per_run: stopped mid-run.
run=$(ctl start cc_tok --prompt "SCENARIO:costly")
like "the costly run started" "$run" '^[0-9A-Z]{26}$'
wait_for 120 ended "$run" || fail "the costly run ended" "$(ctl ps --json)"
is "it ended EXITED" "$(runf "$run" state)" EXITED
b=$(events "$run" budget | jq -c '.[0].data')
is "a budget event names tokens_per_run and its limit" "$(printf '%s\n' "$b" | jq -c '[.budget, .limit]')" '["tokens_per_run",100000]'
check "spent at least the limit" test "$(printf '%s\n' "$b" | jq '.spent >= 100000')" = true
like "the run's reason says which budget" "$(runf "$run" reason)" 'budget tokens_per_run exceeded'
is "its exit class is budget" "$(events "$run" spawn_failed | jq -r '.[-1].data.class')" budget
turns=$(jq -c 'select(.body.tools and (.body.tools | length) > 0) | select(.body.messages[0] | tostring | test("SCENARIO:costly"))' "$FAKE_LOG" | wc -l)
check "stopped mid-run: the fake saw $turns of 31 turns" test "$turns" -lt 10
check "the stop signal went to the CLI (no result line)" test "$(events "$run" result | jq length)" -eq 0
sleep 2
is "not restarted (restart: always)" "$(runf "$run" restarts)" 0
is "still EXITED" "$(runf "$run" state)" EXITED
unlike "no spawn after the stop" "$(kinds "$run" | tail -n 3 | tr '\n' ' ')" 'spawn_started'

# --- usd_per_task over two runs; the third is refused.
r1=$(ctl start cc_task --task T1 --prompt "SCENARIO:pricey")
wait_for 90 ended "$r1" || fail "the task's first run ended" "$(ctl ps --json)"
is "the first run of the task completed" "$(events "$r1" spawn_completed | jq -r '.[0].data.class')" done
argv=$(events "$r1" spawn_started | jq -c '.[0].data.argv')
like "budget.usd_per_run is passed as --max-budget-usd" "$argv" '"--max-budget-usd","1000"'
r2=$(ctl start cc_task --task T1 --prompt "SCENARIO:pricey")
like "the second run of the task started" "$r2" '^[0-9A-Z]{26}$'
wait_for 90 ended "$r2" || fail "the task's second run ended" "$(ctl ps --json)"
is "the second run was stopped by usd_per_task" "$(events "$r2" budget | jq -r '.[0].data.budget')" usd_per_task
is "its exit class is budget" "$(events "$r2" spawn_failed | jq -r '.[-1].data.class')" budget
out=$(ctl start cc_task --task T1 --prompt "SCENARIO:pricey" 2>&1); st=$?
check "a third run of the task is refused (exit $st)" test "$st" -ne 0
like "with budget_exceeded naming the budget and the task" "$out" 'budget usd_per_task exceeded.*task T1'
like "and saying what lifts it" "$out" 'until a reload raises the limit'
r3=$(ctl start cc_task --task T2 --prompt "SCENARIO:plain")
like "another task of the same agent still starts" "$r3" '^[0-9A-Z]{26}$'
wait_for 90 ended "$r3"
code=$(ctl request cmd.proc.start '{"agent":"cc_task","task":"T1","prompt":"x"}' --json | jq -r '.data.error.code // .data.code // .error.code')
is "the bus answers code budget_exceeded" "$code" budget_exceeded
TOKEN=$(ctl request cmd.auth.token.create '{"name":"budget"}' --json | jq -r '.data.secret // empty')
hc=$(curl -s --max-time 30 -o "$T/rest.body" -w '%{http_code}' -X POST -H "Authorization: Bearer $TOKEN" \
    -H 'Content-Type: application/json' --data-binary '{"task":"T1","prompt":"x"}' \
    "http://127.0.0.1:$PORT/api/v1/agents/cc_task/start")
is "REST start: 402 budget_exceeded" "$hc $(jq -r .error.code "$T/rest.body")" "402 budget_exceeded"
like "with the message" "$(jq -r .error.message "$T/rest.body")" 'budget usd_per_task exceeded'

# --- the totals survive a daemon restart (seeded from the store).
stop_daemon
start_daemon || exit 1
out=$(ctl start cc_task --task T1 --prompt "SCENARIO:pricey" 2>&1); st=$?
check "after a restart the task is still refused (exit $st)" test "$st" -ne 0
like "with the same reason" "$out" 'budget usd_per_task exceeded'

# --- a reload with a higher limit lifts the refusal.
TASK_LIMIT=$(awk "BEGIN { printf \"%.6f\", $C * 100 }")
conf
check "reload" ctl reload
r4=$(ctl start cc_task --task T1 --prompt "SCENARIO:plain" 2>&1)
like "a raised limit lets the task run again" "$r4" '^[0-9A-Z]{26}$'
wait_for 90 ended "$r4"

# --- the global usd_per_day over agents: 3.5 answers; spent so far today:
# run0 (before the limits, same day), r1, r2 = 3 answers and a bit.
r5=$(ctl start cc_b --prompt "SCENARIO:pricey")
like "cc_b starts" "$r5" '^[0-9A-Z]{26}$'
wait_for 90 ended "$r5" || fail "cc_b's run ended" "$(ctl ps --json)"
is "cc_b's run was stopped by the global day budget" "$(events "$r5" budget | jq -r '.[0].data.budget')" "global usd_per_day"
out=$(ctl start cc_a --prompt "SCENARIO:plain" 2>&1); st=$?
check "any agent is refused now (exit $st)" test "$st" -ne 0
like "naming the global day budget and the next UTC day" "$out" 'budget global usd_per_day exceeded.*next UTC day'

# --- config errors.
stop_daemon
is "bosund stopped cleanly" "$DAEMON_STATUS" 0
unlike_empty_ok "no sanitizer report in bosund's log" "$(cat "$T/bosund.log")" 'AddressSanitizer|LeakSanitizer|runtime error'
cp "$T/bosun.yaml" "$T/good.yaml"
bad() {
    cp "$T/good.yaml" "$T/bosun.yaml"
    cat >> "$T/bosun.yaml"
    "$BOSUND" --check-config -c "$T/bosun.yaml" 2>&1
}
out=$(bad <<EOF2
$(claude_agent bad1 <<EOF3
    budget:
      usd_per_run: -1
EOF3
)
EOF2
)
like "a negative limit: FILE:LINE:COL" "$out" "bosun.yaml:[0-9]+:[0-9]+: .*budget.usd_per_run.*expected a number above 0"
out=$(bad <<EOF2
$(claude_agent bad2 <<EOF3
    budget:
      usd_per_week: 3
EOF3
)
EOF2
)
like "an unknown key: FILE:LINE:COL" "$out" "bosun.yaml:[0-9]+:[0-9]+: unknown key 'usd_per_week'"
out=$(bad <<EOF2
$(claude_agent bad3 <<EOF3
    budget:
      tokens_per_run: 1.5
EOF3
)
EOF2
)
like "a fractional token count" "$out" "bosun.yaml:[0-9]+:[0-9]+: .*whole number of tokens"
out=$(bad <<EOF2
$(claude_agent bad4 <<EOF3
    budget: 5
EOF3
)
EOF2
)
like "a budget that is not a map" "$out" "bosun.yaml:[0-9]+:[0-9]+: .*budget.*expected a map"
sed -i 's/^  usd_per_day: .*/  usd_per_run: 3/' "$T/good.yaml"
out=$(bad </dev/null)
like "the global budget has only usd_per_day" "$out" "bosun.yaml:[0-9]+:[0-9]+: unknown key 'usd_per_run'.*only usd_per_day is global"

done_testing
