# Shell helpers around tests/llm/fake_llm.mjs (the scripted model API), for
# tests that already sourced tests/integration/lib.sh ($T, cleanup).
#
#   fake_start NAME SCRIPT_JSON   starts a fake serving the script (text);
#                                 sets FAKE_PORT, FAKE_URL (base_url with
#                                 /v1), FAKE_LOG ($T/NAME.log, one request
#                                 a line) and FAKE_PID
#   fake_stop                     ends it (by its pid)
#   fake_requests                 how many requests it logged
# Every fake started is stopped when the test exits.

FAKE_LLM="$top_srcdir/tests/llm/fake_llm.mjs"
FAKE_PIDS=
FAKE_PID=

fake_start() {
    _name=$1
    printf '%s\n' "$2" > "$T/$_name.script.json"
    FAKE_LOG="$T/$_name.log"
    : > "$FAKE_LOG"
    rm -f "$T/$_name.port"
    node "$FAKE_LLM" --script "$T/$_name.script.json" --port-file "$T/$_name.port" \
        --log "$FAKE_LOG" 2>> "$T/$_name.fake.err" &
    FAKE_PID=$!
    FAKE_PIDS="$FAKE_PIDS $FAKE_PID"
    if ! wait_for 10 test -s "$T/$_name.port"; then
        echo "# fake_llm did not start: $(cat "$T/$_name.fake.err")"
        return 1
    fi
    FAKE_PORT=$(cat "$T/$_name.port")
    FAKE_URL="http://127.0.0.1:$FAKE_PORT/v1"
}

fake_stop() {
    [ -n "$FAKE_PID" ] && kill "$FAKE_PID" 2>/dev/null && wait "$FAKE_PID" 2>/dev/null
    FAKE_PID=
    return 0
}

fake_requests() { wc -l < "$FAKE_LOG" | tr -d ' '; }

_fake_cleanup() {
    for _p in $FAKE_PIDS; do kill "$_p" 2>/dev/null; done
    cleanup
}
trap _fake_cleanup EXIT
