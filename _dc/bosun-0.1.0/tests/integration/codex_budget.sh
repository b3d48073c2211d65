#!/bin/sh
# Budgets with the real Codex CLI against the fake OpenAI Responses API:
# the turn's usage (the fake reports 120 input and more tokens) reaches the
# agent's tokens_per_run, so the run is stopped with class BUDGET and a
# "budget" event and is not restarted although restart: always; an agent
# with a limit above it completes.  (Codex reports no dollars: USD budgets
# for it need a price table.)
. "$top_srcdir/tests/integration/lib.sh"
. "$top_srcdir/tests/integration/codex_lib.sh"

plan 8

write_config <<EOF2
  plugins: [sqlite, exec, mcp, codex]
agents:
$(codex_agent cx_tight <<EOF3
    restart: always
    backoff_base: 0
    budget:
      tokens_per_run: 50
EOF3
)
$(codex_agent cx_loose <<EOF3
    budget:
      tokens_per_run: 100000000
EOF3
)
EOF2
start_daemon || exit 1

run=$(ctl start cx_tight --prompt "SCENARIO:shell DIR:$T/work")
like "the run started" "$run" '^[0-9A-Z]{26}$'
wait_for 90 ended "$run" || fail "the run ended" "$(ctl ps --json)"
b=$(events "$run" budget | jq -c '.[0].data')
is "a budget event: tokens_per_run, limit 50" "$(printf '%s\n' "$b" | jq -c '[.budget, .limit]')" '["tokens_per_run",50]'
check "spent over the limit" test "$(printf '%s\n' "$b" | jq '.spent > 50')" = true
is "the exit class is budget" "$(events "$run" spawn_failed | jq -r '.[-1].data.class')" budget
like "the reason names the budget" "$(runf "$run" reason)" 'budget tokens_per_run exceeded'
sleep 2
is "not restarted (restart: always)" "$(runf "$run" restarts)" 0

run2=$(ctl start cx_loose --prompt "SCENARIO:shell DIR:$T/work")
wait_for 90 ended "$run2" || fail "the loose run ended" "$(ctl ps --json)"
is "under its limit the run completes" "$(events "$run2" spawn_completed | jq -r '.[0].data.class')" done
is "and has no budget event" "$(events "$run2" budget | jq length)" 0

done_testing
