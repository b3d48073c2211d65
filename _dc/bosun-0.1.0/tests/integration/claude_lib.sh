# Shared by the claude-code tests: the real Claude Code CLI (pinned in
# tests/agents/package-lock.json, installed there once per suite run by
# `npm ci`, as ./quickstart test does) run by bosund against the fake
# Anthropic Messages API of tests/agents/fake_anthropic.mjs on 127.0.0.1.
# Without the CLI installed the test is skipped ("1..0 # SKIP", as the
# other tests skip), never passed.
CLAUDE_BIN="$top_srcdir/tests/agents/node_modules/@anthropic-ai/claude-code/bin/claude.exe"
if ! command -v node >/dev/null; then
    echo "1..0 # SKIP node is not installed"; exit 0
fi
if ! [ -x "$CLAUDE_BIN" ] || ! timeout 30 "$CLAUDE_BIN" --version >/dev/null 2>&1; then
    echo "1..0 # SKIP the Claude Code CLI is not installed (cd tests/agents && npm ci)"; exit 0
fi
BOSUN_PLUGIN_PATH="$BOSUN_PLUGIN_PATH:$top_builddir/plugins/mcp:$top_builddir/plugins/claude-code"

# The fake API: its port (the kernel's choice on 127.0.0.1), its log of
# request bodies (one JSON line each).
FAKE_LOG="$T/fake.log"
: > "$FAKE_LOG"
node "$top_srcdir/tests/agents/fake_anthropic.mjs" "$T/fake.port" "$FAKE_LOG" 2>"$T/fake.err" &
FAKE_PID=$!
trap 'kill "$FAKE_PID" 2>/dev/null; cleanup' EXIT
wait_for 20 test -s "$T/fake.port" || { echo "1..1"; echo "not ok 1 - the fake API listens"; exit 1; }
FAKE_URL="http://127.0.0.1:$(cat "$T/fake.port")"
mkdir -p "$T/home" "$T/work"

# claude_agent NAME [EXTRA YAML LINES ON STDIN]: an agent section running
# the real CLI offline: its own HOME, the fake API, no telemetry, no update
# checks, no retries of a refused request.
claude_agent() {
    cat <<EOF2
  $1:
    type: claude-code
    bin: $CLAUDE_BIN
    workdir: $T/work
    start_secs: 0
    allowed_tools: [Bash, Read, Edit, mcp__bosun__request_input]
    env:
      HOME: $T/home
      ANTHROPIC_BASE_URL: $FAKE_URL
      ANTHROPIC_API_KEY: sk-ant-fake-key-for-tests
      CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC: "1"
      DISABLE_TELEMETRY: "1"
      DISABLE_AUTOUPDATER: "1"
      DISABLE_ERROR_REPORTING: "1"
      CLAUDE_CODE_MAX_RETRIES: "0"
EOF2
    cat
}

# ended RUN: the run reached a state it stays in.
ended() { case $(runf "$1" state) in EXITED|FATAL|STOPPED|WAITING_INPUT) return 0 ;; esac; return 1; }
# kinds RUN: the kinds of the run's stored events, one a line, in order.
kinds() { events "$1" '*' | jq -r '.[].subject | split(".")[4]'; }
# fake_requests: the conversations the fake saw (main requests, with tools).
fake_requests() { jq -c 'select(.body.tools and (.body.tools | length) > 0) | .body.messages' "$FAKE_LOG"; }
