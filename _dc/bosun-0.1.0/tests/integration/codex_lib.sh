# Shared by the codex tests: the real Codex CLI against the fake OpenAI
# Responses API (tests/agents-cg/fake_openai.mjs).  Codex reads its model
# provider from $CODEX_HOME/config.toml: the test's own, pointing at the
# fake, with no retries so that a refused turn fails at once.
. "$top_srcdir/tests/integration/cg_lib.sh"
CODEX_BIN="$CG_DIR/node_modules/.bin/codex"
cg_need "$CODEX_BIN" Codex
cg_start_fake fake_openai.mjs
mkdir -p "$T/codex-home" "$T/codex-tmp"
cat > "$T/codex-home/config.toml" <<EOF2
model = "fake-model"
model_provider = "fake"
[model_providers.fake]
name = "fake"
base_url = "$FAKE_URL/v1"
env_key = "FAKE_OPENAI_KEY"
wire_api = "responses"
request_max_retries = 0
stream_max_retries = 0
EOF2

# codex_agent NAME [EXTRA YAML LINES ON STDIN]: an agent section running
# the real CLI offline, with its own HOME and CODEX_HOME.  Its TMPDIR is
# not above CODEX_HOME: Codex refuses to make its sandbox helper
# (codex-linux-sandbox, run through the system's bwrap when bubblewrap is
# installed) in a temporary directory, and $T is under /tmp.
codex_agent() {
    cat <<EOF2
  $1:
    type: codex
    bin: $CODEX_BIN
    workdir: $T/work
    start_secs: 0
    permission_mode: workspace-write
    env:
      HOME: $T/home
      CODEX_HOME: $T/codex-home
      TMPDIR: $T/codex-tmp
      FAKE_OPENAI_KEY: sk-fake-key-for-tests
EOF2
    cat
}

# fake_inputs: the conversations (input items) the fake saw, one a line.
fake_inputs() { jq -c 'select(.url == "/v1/responses") | .body.input' "$FAKE_LOG"; }
