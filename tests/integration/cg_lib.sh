# Shared by the codex and gemini tests: the real CLIs (pinned in
# tests/agents-cg/package-lock.json, installed there once per suite run by
# `npm ci`, as ./quickstart test does) run by bosund against the fake model
# APIs of tests/agents-cg/ on 127.0.0.1.  Without node or the CLI the test
# is skipped (exit 77), never passed.
#
# cg_start_fake SCRIPT: the fake API in the background; sets FAKE_URL,
# FAKE_LOG (one JSON line per request the fake saw).
CG_DIR="$top_srcdir/tests/agents-cg"
BOSUN_PLUGIN_PATH="$BOSUN_PLUGIN_PATH:$top_builddir/plugins/mcp:$top_builddir/plugins/codex:$top_builddir/plugins/gemini"

cg_need() { # cg_need BIN NAME
    if ! command -v node >/dev/null; then
        echo "1..0 # SKIP node is not installed"; exit 77
    fi
    if ! [ -x "$1" ] || ! timeout 30 "$1" --version >/dev/null 2>&1; then
        echo "1..0 # SKIP the $2 CLI is not installed (cd tests/agents-cg && npm ci)"; exit 77
    fi
}

cg_start_fake() {
    FAKE_LOG="$T/fake.log"
    : > "$FAKE_LOG"
    node "$CG_DIR/$1" "$T/fake.port" "$FAKE_LOG" 2>"$T/fake.err" &
    FAKE_PID=$!
    trap 'kill "$FAKE_PID" 2>/dev/null; cleanup' EXIT
    wait_for 20 test -s "$T/fake.port" || { echo "1..1"; echo "not ok 1 - the fake API listens"; exit 1; }
    FAKE_URL="http://127.0.0.1:$(cat "$T/fake.port")"
    mkdir -p "$T/home" "$T/work"
}

# ended RUN: the run reached a state it stays in.
ended() { case $(runf "$1" state) in EXITED|FATAL|STOPPED|WAITING_INPUT) return 0 ;; esac; return 1; }
# restarted RUN: its process was restarted at least once.
restarted() { [ "$(runf "$1" restarts)" -ge 1 ] 2>/dev/null; }
# ev RUN KIND JQ: a jq filter over the data of the run's events of a kind.
ev() { events "$1" "$2" | jq -c "[.[].data] | $3"; }
