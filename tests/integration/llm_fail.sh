#!/bin/sh
# How llm runs end badly: a refused API key fails the run with a clear
# reason and the key (which the fake quotes back) appears nowhere; a run
# over its budget (tokens_per_run, from the loop's usage events) is
# stopped mid-loop and not restarted; so is one over a dollar budget
# (usd_per_run), its usage events priced from the prices table as they
# arrive, long before any result.
. "$top_srcdir/tests/integration/llm_lib.sh"
plan 22
llm_daemon '{"key": "the-right-key", "turns": []}' "" <<EOF2
  spender:
    type: llm
    workdir: $T/ws
    start_secs: 0
    restart: always
    backoff_base: 0
    budget: {tokens_per_run: 100}
    llm: {provider: openai, base_url: "@FAKE_URL@", model: fake-model, api_key_env: FAKE_KEY, retries: 0}
    env: {FAKE_KEY: the-right-key}
  dollars:
    type: llm
    workdir: $T/ws
    start_secs: 0
    restart: always
    backoff_base: 0
    budget: {usd_per_run: 1.2}
    llm: {provider: openai, base_url: "@FAKE_URL@", model: fake-priced, api_key_env: FAKE_KEY, retries: 0}
    env: {FAKE_KEY: the-right-key}
prices:
  fake-priced: {input_per_mtok: 10000, output_per_mtok: 0}
EOF2
[ $? -eq 0 ] || exit 1

llm_run "anything"
res=$(llm_events "$RUN" result)
is "a refused key fails the run" "$(echo "$res" | jq -r .subtype)" error_auth
like "with a reason that says so" "$(runf "$RUN" reason)" "refused the credentials.*api_key"
is "the run is not a success" "$(runf "$RUN" state)" EXITED
is "the status says error" "$(llm_events "$RUN" status | jq -r .status | tail -n 1)" error
is "the fake was asked once" "$(fake_requests)" 1
unlike "the key is in no event" "$(ctl events --json)" "sk-fake-key-1234567890"
unlike "nor in the daemon's log" "$(cat "$T/bosund.log")" "sk-fake-key-1234567890"
fake_stop

# --- the budget: each turn reports 60 tokens and asks for another round,
# 200 ms after the request (a model takes time: the stop lands within a turn).
fake_start fake2 '{"after": "repeat_last", "turns": [
  {"delay_ms": 200, "tool_calls": [{"id": "b1", "name": "list_files", "arguments": {}}], "usage": {"input_tokens": 50, "output_tokens": 10}}
]}' || exit 1
sed -i "s|base_url: \"http://127.0.0.1:[0-9]*/v1\"|base_url: \"$FAKE_URL\"|" "$T/bosun.yaml"
ctl reload >/dev/null
RUN=$(ctl start spender --prompt "spend")
wait_for 30 llm_ended "$RUN"
is "over tokens_per_run the run is stopped" "$(runf "$RUN" state)" EXITED
like "the reason names the budget" "$(runf "$RUN" reason)" "budget tokens_per_run exceeded"
check "stopped mid-loop: 2 or 3 model calls, not 21" test "$(fake_requests)" -le 3
sleep 1
is "not restarted (restart: always)" "$(runf "$RUN" restarts)" 0
is "usage events carry the tokens" "$(llm_events "$RUN" usage | jq -r .input_tokens | head -n 1)" 50
is "a model without a price: no cost on its usage" "$(llm_events "$RUN" usage | jq -r '.cost_usd // "none"' | sort -u)" none

# --- a dollar budget: each turn's 50 input tokens cost $0.50 by the table,
# so the third passes $1.20; no result comes before the stop.
n0=$(fake_requests)
RUN=$(ctl start dollars --prompt "spend dollars")
wait_for 30 llm_ended "$RUN"
is "over usd_per_run the run is stopped" "$(runf "$RUN" state)" EXITED
like "the reason names the dollar budget" "$(runf "$RUN" reason)" "budget usd_per_run exceeded"
n=$(( $(fake_requests) - n0 ))
check "stopped at the turn that passed it: 3 or 4 model calls, not 21 ($n)" test "$n" -ge 3 -a "$n" -le 4
is "each usage event is priced as it arrives" "$(llm_events "$RUN" usage | jq -r '[.cost_usd, .cost_source, .model] | @tsv' | sort -u)" "$(printf '0.5\tprices\tfake-priced')"
check "the run's cost so far is over the budget" \
    awk -v c="$(runf "$RUN" cost_usd)" 'BEGIN { exit !(c >= 1.5 && c < 2.5) }'
is "the stored usage projection agrees" "$(ctl cost --by run --json | jq -r --arg r "$RUN" '.items[] | select(.key == $r) | .cost_usd' )" "$(runf "$RUN" cost_usd)"
sleep 1
is "not restarted (restart: always)" "$(runf "$RUN" restarts)" 0
is "the budget event names usd_per_run and its limit" "$(llm_events "$RUN" budget | jq -r '"\(.budget) \(.limit)"')" "usd_per_run 1.2"
stop_daemon
is "daemon stops: exit 0" "$DAEMON_STATUS" 0
done_testing
