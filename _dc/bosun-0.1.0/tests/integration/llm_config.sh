#!/bin/sh
# The llm agent's keys are checked at load with FILE:LINE:COL and the key
# named; a valid agent passes; the run's llm.json is 0600 and holds where
# the key is, never the key.
. "$top_srcdir/tests/integration/lib.sh"
plan 14
BOSUN_PLUGIN_PATH="$BOSUN_PLUGIN_PATH:$top_builddir/plugins/llm"
checkcfg() { "$BOSUND" --check-config -c "$T/bosun.yaml" 2>&1; }
agent() {
    write_config <<EOF2
  plugins: [sqlite, exec, llm]
agents:
  coder:
    type: llm
$1
EOF2
}

agent "    llm: {provider: openai, model: m, api_key_env: KEY}"
out=$(checkcfg); st=$?
is "a valid llm agent passes" "$st" 0
agent "    tools: [bash]"
like "the llm section is required" "$(checkcfg)" "bosun.yaml:[0-9]+:[0-9]+: .*needs an 'llm' section"
agent "    llm: {provider: gpt, model: m}"
like "an unknown provider is named" "$(checkcfg)" "bosun.yaml:12:21: .*agents.coder.llm.provider.*openai or anthropic"
agent "    llm: {provider: openai}"
like "the model is required" "$(checkcfg)" "bosun.yaml:12:10: .*'model' is required"
agent "    llm: {provider: openai, model: m, api_key_env: A, api_key_file: /k}"
like "both key sources are refused" "$(checkcfg)" "bosun.yaml:12:52: .*api_key_file or api_key_env, not both"
agent "    llm: {provider: openai, model: m, api_key_file: key.txt}"
like "a relative key file is refused" "$(checkcfg)" "agents.coder.llm.api_key_file.*absolute"
agent "    llm: {provider: openai, model: m, base_url: ftp://x}"
like "a base_url must be http(s)" "$(checkcfg)" "agents.coder.llm.base_url.*http"
agent "    llm: {provider: openai, model: m, temperature: 3}"
like "temperature is bounded" "$(checkcfg)" "agents.coder.llm.temperature.*0 to 2"
agent "    llm: {provider: openai, model: m}
    tools: [bash, teleport]"
like "an unknown tool is named" "$(checkcfg)" "bosun.yaml:13:19: .*agents.coder.tools\\[1\\].*tools are bash"
agent "    llm: {provider: openai, model: m}
    sandbox: docker"
like "sandbox is none or bwrap" "$(checkcfg)" "bosun.yaml:13:14: .*agents.coder.sandbox.*none or bwrap"
agent "    llm: {provider: openai, model: m}
    bash: {timeout: 5m, max_timeout: 1m}"
like "bash.timeout above max_timeout is refused" "$(checkcfg)" "agents.coder.bash.timeout.*max_timeout"
agent "    llm: {provider: openai, model: m}
    fetch: {allow: [example.com], methods: [GET, BREW]}"
out=$(checkcfg)
like "fetch prefixes must be URLs and methods known" "$out" "fetch.allow.*http.*
.*fetch.methods.*methods are"
agent "    llm: {provider: openai, model: m}
    max_rounds: 0"
like "max_rounds is bounded" "$(checkcfg)" "agents.coder.max_rounds"

# The run's llm.json: 0600, where the key is, not the key.
write_config <<EOF2
  plugins: [sqlite, exec, llm]
llm:
  program: /bin/sleep
agents:
  coder:
    type: llm
    workdir: $T
    start_secs: 0
    llm: {provider: anthropic, model: m, api_key_env: SECRET_KEY}
    env: {SECRET_KEY: sk-very-secret}
EOF2
start_daemon || exit 1
run=$(ctl start coder --prompt "x")
wait_for 10 test -f "$T/run/runs/$run/llm.json"
f="$T/run/runs/$run/llm.json"
is "llm.json is 0600 and names the key's variable, not the key" \
    "$(stat -c %a "$f") $(jq -r .llm.api_key_env "$f") $(grep -c sk-very-secret "$f")" "600 SECRET_KEY 0"
stop_daemon
done_testing
