#!/bin/sh
# The dashboard's Chat (bosun-http(7), DASHBOARD) end to end in headless
# Debian chromium (playwright-core, tests/web/chat.mjs) with a real bosund
# running an interactive llm agent against the fake model API
# (tests/llm/fake_llm.mjs): a message sent from the page, its reply seen
# growing delta by delta, tool calls collapsible with input and result, the
# status in words, the file the model wrote with its version, edited and
# saved in the page (a new version by human, checked over REST), a version
# diffed, a binary file said and not shown, XSS payloads in a reply and in
# a file name staying text, a dropped /ws connection (history reloaded,
# nothing doubled), clearing the history, the phone layout and the
# keyboard.  Screenshots go to tests/web-shots/chat-*.png in the build tree.
. "$top_srcdir/tests/integration/llm_lib.sh"
. "$top_srcdir/tests/integration/web_lib.sh"
BOSUN_PLUGIN_PATH="$BOSUN_PLUGIN_PATH:$top_builddir/plugins/http"
CHECKS=55
web_require_browser
plan $((CHECKS + 1))

# The model's turns, one per request: a first reply streamed slowly (each
# chunk 300 ms apart, past the 50 ms coalescing of bosun-llm, so the page
# gets one delta per chunk) with a file write and a bash call, the answer
# after their results, then a file and a reply carrying markup, then the
# answer to the message sent while the page's /ws is down.
SCRIPT=$(cat <<'EOF2'
{"turns": [
  {"text": ["Let me ", "write it."], "chunk_delay_ms": 300,
   "tool_calls": [{"id": "c1", "name": "write_file", "arguments": {"path": "notes/hello.txt", "content": "first line\nsecond line\n"}},
                  {"id": "c2", "name": "bash", "arguments": {"command": "sleep 1; echo built-ok"}}]},
  {"delay_ms": 300, "text": ["Wrote ", "the file ", "and ran ", "the build."], "chunk_delay_ms": 300},
  {"tool_calls": [{"id": "c3", "name": "write_file", "arguments": {"path": "<img src=x onerror=window.__xss=3>.txt", "content": "odd\n"}}]},
  {"text": ["Here: <img src=x onerror=\"window.__xss=4\">", "<script>window.__xss=5</script> done"], "chunk_delay_ms": 100},
  {"text": ["answered ", "while you were away"], "chunk_delay_ms": 100}
]}
EOF2
)
PORT=$(/usr/bin/python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
fake_start fake "$SCRIPT" || exit 1
write_config <<EOF2
  plugins: [sqlite, exec, llm, http]
http:
  listen: ["127.0.0.1:$PORT"]
  web_root: $top_srcdir/plugins/http/web
llm:
  program: $LLM_PROGRAM
agents:
  chatter:
    type: llm
    workdir: $T/ws
    start_secs: 0
    restart: never
    interactive: true
    llm: {provider: openai, base_url: "$FAKE_URL", model: fake-model, api_key_env: FAKE_KEY, retries: 0}
    env: {FAKE_KEY: sk-fake-key-1234567890}
  plain:
    command: [sh, -c, 'exec sleep 600']
    start_secs: 0
EOF2
start_daemon || exit 1
wait_for 10 curl -s -o /dev/null "http://127.0.0.1:$PORT/health" || echo "# the http listener did not come up"
TOKEN=$(ctl request cmd.auth.token.create '{"name":"web"}' --json | jq -r '.data.secret // empty')
RUN=$(ctl start chatter)
PLAIN=$(ctl start plain)
wait_for 20 sh -c "\"$BOSUNCTL\" -s \"$T/run/bosund.sock\" events --subject 'evt.run.*.$RUN.status' --json | grep -q idle" ||
    echo "# the chatter run did not become idle"

BASE="http://127.0.0.1:$PORT" TOKEN=$TOKEN BOSUNCTL=$BOSUNCTL SOCK="$T/run/bosund.sock" RUN=$RUN PLAIN=$PLAIN \
    SHOTS="$top_builddir/tests/web-shots" \
    timeout 240 node "$top_srcdir/tests/web/chat.mjs" > "$T/web.out" 2>&1
web_tap "$CHECKS" "$T/web.out"
done_testing
