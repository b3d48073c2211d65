#!/bin/sh
# How llm runs end badly: a refused API key fails the run with a clear
# reason and the key (which the fake quotes back) appears nowhere; a run
# over its budget (tokens_per_run, from the loop's usage events) is
# stopped mid-loop and not restarted.
. "$top_srcdir/tests/integration/llm_lib.sh"
plan 13
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

# --- the budget: each turn reports 60 tokens and asks for another round.
fake_start fake2 '{"after": "repeat_last", "turns": [
  {"tool_calls": [{"id": "b1", "name": "list_files", "arguments": {}}], "usage": {"input_tokens": 50, "output_tokens": 10}}
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
stop_daemon
is "daemon stops: exit 0" "$DAEMON_STATUS" 0
done_testing
