#!/bin/sh
# Cost of Gemini runs (issue 14): the real Gemini CLI against the fake
# Gemini API, which answers 90 prompt (5 of them cached) and 12 output
# tokens a request.  Gemini reports no cost, so bosun prices the result's
# usage at the list price of the model the CLI names (gemini-2.5-flash,
# bosun.yaml(5)); the expected cost is computed here from the fake's
# numbers, independently of bosun.
. "$top_srcdir/tests/integration/lib.sh"
. "$top_srcdir/tests/integration/gemini_lib.sh"

plan 5

write_config <<EOF2
  plugins: [sqlite, exec, mcp, gemini]
agents:
$(gemini_agent gm </dev/null)
EOF2
start_daemon || exit 1

requests() { jq -c 'select(.body.contents)' "$FAKE_LOG" | wc -l; }
same() { awk -v a="$1" -v b="$2" 'BEGIN { d = a - b; exit !(d < 1e-12 && d > -1e-12 && a != "") }'; }

before=$(requests)
run=$(ctl start gm --prompt "SCENARIO:plain")
wait_for 90 ended "$run" || fail "the run ended" "$(ctl ps --json)"
n=$(($(requests) - before))
is "the run exited" "$(runf "$run" state)" EXITED
is "the run's tokens are the fake's ($n requests)" \
    "$(runf "$run" tokens | jq -c '[.input_tokens, .output_tokens, .cache_read_tokens]')" \
    "[$((85 * n)),$((12 * n)),$((5 * n))]"
want=$(awk -v n="$n" 'BEGIN { printf "%.12f", n * (85 * 0.30 + 12 * 2.50 + 5 * 0.03) / 1e6 }')
got=$(runf "$run" cost_usd)
check "its cost is the fake's tokens at gemini-2.5-flash's list price (want $want, got $got)" \
    same "$got" "$want"
is "the result event carries it, priced from the table, with the model" \
    "$(ev "$run" result '[.[] | [.cost_source, .model]]')" '[["prices","gemini-2.5-flash"]]'
check "the result's cost is the run's" same "$(ev "$run" result '.[0].cost_usd')" "$got"
done_testing
