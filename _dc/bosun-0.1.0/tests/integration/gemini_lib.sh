# Shared by the gemini tests: the real Gemini CLI against the fake Gemini
# API (tests/agents-cg/fake_gemini.mjs), reached through
# GOOGLE_GEMINI_BASE_URL with an API key; the CLI's home is the one bosun
# makes for the agent under the state directory.
. "$top_srcdir/tests/integration/cg_lib.sh"
GEMINI_BIN="$CG_DIR/node_modules/.bin/gemini"
cg_need "$GEMINI_BIN" Gemini
cg_start_fake fake_gemini.mjs

# gemini_agent NAME [EXTRA YAML LINES ON STDIN]: an agent section running
# the real CLI offline, with its own HOME; a fixed model, so that the CLI
# does not ask a router model first.
gemini_agent() {
    cat <<EOF2
  $1:
    type: gemini
    bin: $GEMINI_BIN
    workdir: $T/work
    start_secs: 0
    model: gemini-2.5-flash
    permission_mode: yolo
    env:
      HOME: $T/home
      GEMINI_API_KEY: fake-gemini-key-for-tests
      GOOGLE_GEMINI_BASE_URL: $FAKE_URL
EOF2
    cat
}

# fake_contents: the conversations the fake saw (requests with tools).
fake_contents() { jq -c 'select(.body.tools) | .body.contents' "$FAKE_LOG"; }
