# Shared part of the llm loop tests (tests/integration/llm_*.sh): the fake
# model API of tests/llm/fake_lib.sh and a daemon with the llm agent type.
#
#   llm_daemon SCRIPT_JSON [AGENT_KEYS]   a fake serving the script, then
#       bosund with sqlite, exec and llm and one agent `coder` of type llm
#       against it (openai; AGENT_KEYS, indented by 4, added to it; the
#       text on stdin, when any, appended after the agents section, with
#       @FAKE_URL@ replaced by the fake's base URL)
#   llm_run PROMPT                  starts coder with the prompt; RUN set
#   llm_ended RUN                   the run is over
#   llm_events RUN KIND             its events of that kind, one JSON a line
#   llm_exit_codes, llm_stderr      how the bosun-llm processes ended (below)
. "$top_srcdir/tests/integration/lib.sh"
if ! command -v node >/dev/null; then
    echo "1..0 # SKIP node is not installed"; exit 0
fi
. "$top_srcdir/tests/llm/fake_lib.sh"
BOSUN_PLUGIN_PATH="$BOSUN_PLUGIN_PATH:$top_builddir/plugins/llm"
LLM_PROGRAM="$top_builddir/bosun-llm"
mkdir -p "$T/ws"

llm_daemon() {
    fake_start fake "$1" || return 1
    _keys=${2:-}
    _extra=$(sed "s|@FAKE_URL@|$FAKE_URL|g")
    write_config <<EOF2
  plugins: [sqlite, exec, llm]
llm:
  program: $LLM_PROGRAM
agents:
  coder:
    type: llm
    workdir: $T/ws
    start_secs: 0
    restart: never
    llm: {provider: openai, base_url: "$FAKE_URL", model: fake-model, api_key_env: FAKE_KEY, retries: 0}
    env: {FAKE_KEY: sk-fake-key-1234567890}
$_keys
$_extra
EOF2
    start_daemon
}

llm_ended() { case $(runf "$1" state) in EXITED|FATAL|STOPPED|WAITING_INPUT|BACKOFF) return 0 ;; esac; return 1; }

llm_run() {
    RUN=$(ctl start coder --prompt "$1")
    wait_for 30 llm_ended "$RUN"
}

llm_events() { ctl events --subject "evt.run.*.$1.$2" --json | jq -c .data; }

# llm_exit_codes: the exit codes of every bosun-llm process so far, sorted
# and unique ("0" when all ended well: under the sanitizers an error or a
# leak is an exit code of its own); llm_stderr: what they wrote on stderr.
llm_exit_codes() { ctl events --subject 'evt.run.*.*.exited' --json | jq -r '.data.exit_code // .data.exit_signal' | sort -u | tr '\n' ' '; }
llm_stderr() { ctl events --subject 'evt.run.*.*.output' --json | jq -r 'select(.data.stream == "stderr") | .data.text // .data.base64'; }
