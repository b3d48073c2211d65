# Shared by the MCP integration tests: the SDK scripts of tests/mcp, run
# from a copy next to their node_modules (the source tree may be read-only,
# as in distcheck), and node_tap to embed their TAP output.  The copy is in
# the test's own $T, never in the build tree other tests use.
# MCP_RUN_DIR (optional) names the copy's directory.
if ! command -v node >/dev/null; then
    echo "1..1"; echo "not ok 1 - node is installed (apt-get install nodejs)"; exit 1
fi
M="$T/${MCP_RUN_DIR:-mcp-run}"
mkdir -p "$M"
cp "$top_srcdir"/tests/mcp/*.mjs "$top_srcdir"/tests/mcp/package.json "$top_srcdir"/tests/mcp/package-lock.json "$M/"
if [ -d "$top_srcdir/tests/mcp/node_modules/@modelcontextprotocol/sdk" ]; then
    ln -sfn "$top_srcdir/tests/mcp/node_modules" "$M/node_modules"
elif [ ! -d "$M/node_modules/@modelcontextprotocol/sdk" ]; then
    (cd "$M" && npm ci --no-audit --no-fund >/dev/null 2>&1) || { echo "1..1"; echo "not ok 1 - npm ci in tests/mcp"; exit 1; }
fi
export TAP_COUNT_FILE="$T/tap.count"
# node_tap SCRIPT ARGS...: runs a TAP-producing node script inside this test.
node_tap() {
    _script=$1; shift
    TAP_OFFSET=$_n timeout 300 node "$M/$_script" "$@" 2>"$T/node.err" | grep -v '^1\.\.'
    if [ -s "$TAP_COUNT_FILE" ]; then
        read -r _n _f < "$TAP_COUNT_FILE"; _failed=$((_failed + _f)); rm -f "$TAP_COUNT_FILE"
    else
        fail "$_script ran to the end" "$(tail -20 "$T/node.err")"
    fi
}
BOSUN_PLUGIN_PATH="$BOSUN_PLUGIN_PATH:$top_builddir/plugins/mcp"
# answer_when QUESTION ANSWER: in the background, as a human would, answers
# the pending input request asking QUESTION a second after it shows (for
# at most 30 s).
answer_when() {
    (
        for _i in $(seq 1 300); do
            _id=$(ctl input list --pending --json | jq -r --arg q "$1" '.[] | select(.question == $q) | .id')
            if [ -n "$_id" ]; then sleep 1; ctl input answer "$_id" "$2" >/dev/null; exit 0; fi
            sleep 0.1
        done
    ) &
}
