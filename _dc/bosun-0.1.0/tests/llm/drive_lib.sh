# Running tests/llm/provider_drive (one provider call) against the fake of
# fake_lib.sh, for tests that sourced tests/integration/lib.sh and
# tests/llm/fake_lib.sh.
#
#   drive NAME PROVIDER EXTRA_CFG REQUEST
#       config {provider, base_url: $FAKE_URL, model, the key from
#       $LLM_KEY through the environment} merged with EXTRA_CFG (JSON);
#       REQUEST is the request JSON (default: one user message).  Output in
#       $T/NAME.out (JSON lines), stderr in $T/NAME.err; at most 60 s.
#   done_of NAME JQ     the jq expression JQ on the "done" line's result
#   lines_of NAME JQ    JQ on every line, one result a line

PROVIDER_DRIVE="$top_builddir/tests/llm/provider_drive"
LLM_KEY=${LLM_KEY:-sk-bosun-test-0123456789abcdef}
DEFAULT_REQUEST='{"system":"You are a test.","messages":[{"role":"user","content":"hi"}]}'

drive() {
    _dn=$1 _prov=$2 _extra=${3:-'{}'} _req=${4:-$DEFAULT_REQUEST}
    jq -n --arg p "$_prov" --arg u "$FAKE_URL" --argjson x "$_extra" \
        '{provider: $p, base_url: $u, model: "test-model", api_key_env: "LLM_TEST_KEY"} + $x' \
        > "$T/$_dn.cfg.json"
    printf '%s\n' "$_req" > "$T/$_dn.req.json"
    LLM_TEST_KEY=$LLM_KEY timeout 60 "$PROVIDER_DRIVE" "$T/$_dn.cfg.json" "$T/$_dn.req.json" \
        > "$T/$_dn.out" 2> "$T/$_dn.err"
    DRIVE_STATUS=$?
}

done_of() { jq -c "select(.done) | .done | $2" "$T/$1.out" 2>/dev/null; }
lines_of() { jq -c "$2" "$T/$1.out" 2>/dev/null; }
