#!/bin/sh
# Cost of Codex runs (issue 14): the real Codex CLI against the fake
# OpenAI API, which answers 120 input (20 of them cached) and 30 output
# tokens a request.  Codex reports no cost, so bosun prices each turn's
# usage from its price table: the built-in list price of the agent's model
# (gpt-5-codex) or the user's `prices:` entry (my-model), the cost written
# into the result event and added to the run's cost_usd.  The expected
# costs are computed here from the fake's numbers and the prices in
# bosun.yaml(5), not from what bosun stored.  A wrong `prices:` map is
# refused with FILE:LINE:COL.
. "$top_srcdir/tests/integration/lib.sh"
. "$top_srcdir/tests/integration/codex_lib.sh"

plan 12

write_config <<EOF2
  plugins: [sqlite, exec, mcp, codex]
prices:
  my-model: {input_per_mtok: 2, output_per_mtok: -8}
agents:
$(codex_agent cx </dev/null)
EOF2
out=$("$BOSUND" --check-config -c "$T/bosun.yaml" 2>&1); st=$?
is "a negative price is refused" "$st" 1
like "named with FILE:LINE:COL and why" "$out" "bosun.yaml:[0-9]+:[0-9]+: 'prices.my-model.output_per_mtok': a price in USD per million tokens"

write_config <<EOF2
  plugins: [sqlite, exec, mcp, codex]
prices:
  my-model: {input_per_mtok: 2, output_per_mtok: 8, cached_input_per_mtok: 0.5}
agents:
$(codex_agent cxa <<EOF3
    model: gpt-5-codex
EOF3
)
$(codex_agent cxb <<EOF3
    model: my-model
EOF3
)
$(codex_agent cxn </dev/null)
EOF2
start_daemon || exit 1

requests() { jq -c 'select(.url == "/v1/responses")' "$FAKE_LOG" | wc -l; }
# same A B: two costs equal to 1e-12 USD.
same() { awk -v a="$1" -v b="$2" 'BEGIN { d = a - b; exit !(d < 1e-12 && d > -1e-12 && a != "") }'; }

# run_plain AGENT: a plain run of AGENT to its end; sets RUN and N, the
# requests the fake served it.
run_plain() {
    _before=$(requests)
    RUN=$(ctl start "$1" --prompt "SCENARIO:plain")
    wait_for 90 ended "$RUN" || fail "the run of $1 ended" "$(ctl ps --json)"
    N=$(($(requests) - _before))
}

run_plain cxa
is "the gpt-5-codex run exited" "$(runf "$RUN" state)" EXITED
want=$(awk -v n="$N" 'BEGIN { printf "%.12f", n * (100 * 1.25 + 30 * 10 + 20 * 0.125) / 1e6 }')
got=$(runf "$RUN" cost_usd)
check "its cost is the fake's tokens at gpt-5-codex's list price ($N requests: want $want, got $got)" \
    same "$got" "$want"
is "the result event carries the cost, priced from the table, with the model" \
    "$(ev "$RUN" result '[.[] | [.cost_source, .model]]')" '[["prices","gpt-5-codex"]]'
check "the result's cost is the run's" same "$(ev "$RUN" result '.[0].cost_usd')" "$got"

run_plain cxb
want=$(awk -v n="$N" 'BEGIN { printf "%.12f", n * (100 * 2 + 30 * 8 + 20 * 0.5) / 1e6 }')
got=$(runf "$RUN" cost_usd)
check "a model priced by the user's prices: entry ($N requests: want $want, got $got)" \
    same "$got" "$want"
like "it is not the default price" "$got" '^0\.000[0-9]+$'

run_plain cxn
is "no model known: no cost (the tokens are still counted)" \
    "$(runf "$RUN" cost_usd) $(runf "$RUN" tokens | jq -c .output_tokens)" "null $((30 * N))"
is "and the result event has no cost" "$(ev "$RUN" result '.[0].cost_usd')" null

# A reload with a new price prices later turns with it; a wrong one is
# refused and the old table stays.
write_config <<EOF2
  plugins: [sqlite, exec, mcp, codex]
prices:
  gpt-5-codex: {input_per_mtok: 4, output_per_mtok: 40}
agents:
$(codex_agent cxa <<EOF3
    model: gpt-5-codex
EOF3
)
EOF2
ctl reload >/dev/null 2>&1
run_plain cxa
want=$(awk -v n="$N" 'BEGIN { printf "%.12f", n * (100 * 4 + 30 * 40 + 20 * 4) / 1e6 }')
got=$(runf "$RUN" cost_usd)
check "after a reload the user's price overrides the default; cached input at the input price (want $want, got $got)" \
    same "$got" "$want"
check "the daemon still answers" ctl status
done_testing
