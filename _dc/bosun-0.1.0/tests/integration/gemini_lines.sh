#!/bin/sh
# The gemini agent type's parse_line and exit classes on what no fake API
# makes the real CLI do: a transcript captured from the real Gemini CLI
# (0.61.0), with malformed and hostile lines mixed in, printed by a
# stand-in program that then exits 42 (Gemini's input error).  Every line
# not understood is kept as an output event, nothing crashes, token counts
# out of range are clamped, and exit 42 is needs_input, not restarted.
. "$top_srcdir/tests/integration/lib.sh"
BOSUN_PLUGIN_PATH="$BOSUN_PLUGIN_PATH:$top_builddir/plugins/mcp:$top_builddir/plugins/gemini"
plan 9

cat > "$T/lines" <<'EOF2'
{"type":"init","timestamp":"2026-12-02T05:38:44.672Z","session_id":"09175153-2e03-4cbd-8050-3303b301e422","model":"gemini-2.5-flash"}
{"type":"message","timestamp":"2026-12-02T05:38:44.673Z","role":"user","content":"SCENARIO:shell"}
not json at all
{"type":"message","role":"assistant","content":{"not":"text"}}
{"type":"tool_use","timestamp":"2026-12-02T05:40:11.275Z","tool_name":"run_shell_command","tool_id":"run_shell_command__1","parameters":{"command":"echo hi","api_key":"sk-secret-value"}}
{"type":"tool_result","timestamp":"2026-12-02T05:40:11.531Z","tool_id":"run_shell_command__1","status":"error","output":"no","error":{"type":"tool_not_registered","message":"no"}}
{"type":"message","timestamp":"2026-12-02T05:40:11.543Z","role":"assistant","content":"The command ran.","delta":true}
{"type":"result","status":"error","error":{"type":"FatalInputError","message":"bad input"},"stats":{"total_tokens":1,"input_tokens":9223372036854775807,"output_tokens":-5,"cached":-9223372036854775808}}
EOF2
printf '#!/bin/sh\ncat "%s"\nexit 42\n' "$T/lines" > "$T/gemini"
chmod +x "$T/gemini"

write_config <<EOF2
  plugins: [sqlite, exec, mcp, gemini]
agents:
  gm:
    type: gemini
    bin: $T/gemini
    start_secs: 0
EOF2
start_daemon || exit 1
run=$(ctl start gm --prompt "anything")
ended() { [ "$(runf "$run" state)" = EXITED ]; }
check "the run ended" wait_for 30 ended
is "the daemon is alive" "$(ctl status --json | jq -r .machine_id)" test-machine
is "bosun's session id stays (the CLI's init names another)" \
    "$(runf "$run" session_id) $(events "$run" session | jq -r '.[0].data.kept')" "$(events "$run" spawn_started | jq -r '.[0].data.session_id') false"
is "the lines not understood are output events, in order" \
    "$(events "$run" output | jq -c '[.[].data | select(.stream == "stdout") | .text | .[0:40]]')" \
    '["{\"type\":\"message\",\"timestamp\":\"2026-12-0","not json at all","{\"type\":\"message\",\"role\":\"assistant\",\"co"]'
is "a secret-looking tool input is redacted" "$(events "$run" tool_use | jq -c '.[0].data.input')" '{"command":"echo hi","api_key":"(redacted)"}'
is "a failed tool's result" "$(events "$run" tool_result | jq -c '[.[].data | [.id, .is_error, .error_type]]')" '[["run_shell_command__1",true,"tool_not_registered"]]'
is "token counts out of range are clamped, not wrapped" \
    "$(events "$run" usage | jq -c '[.[].data | [.input_tokens, .cache_read_tokens, .output_tokens]]')" '[[1125899906842624,0,0]]'
is "exit 42 is needs_input, with the CLI's reason" "$(events "$run" spawn_failed | jq -r '.[0].data | "\(.class) \(.reason)"')" \
    'needs_input exited with code 42: FatalInputError: bad input'
is "and not restarted" "$(runf "$run" restarts)" 0
done_testing
