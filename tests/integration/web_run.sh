#!/bin/sh
# The dashboard's run page (bosun-http(7), DASHBOARD) end to end in
# headless Debian chromium driven by playwright-core (tests/web/run.mjs):
# an exec agent in a git worktree of a repository made here, editing files
# on cue -> the Changes tab shows its paths and diff lines, live after a
# second edit, and the worktree with its fate; the real Claude Code CLI
# against the fake Anthropic API -> the Events tab shows its tool calls,
# whose input and result open by click and by keyboard, the usage per
# turn, the result and the cost so far; a question answered -> the resumed
# run and its predecessor link to each other; an exec agent that crashes
# and is restarted -> the History tab lists each start and exit; markup in
# a tool's input, its result, a message, a file name and a diff stays
# text.  Screenshots go to tests/web-shots/ in the build tree.
. "$top_srcdir/tests/integration/lib.sh"
. "$top_srcdir/tests/integration/git_lib.sh"
[ -x /usr/bin/chromium ] || { echo "1..0 # SKIP Debian chromium is not installed (./quickstart installs it)"; exit 0; }
[ -d "$top_srcdir/tests/web/node_modules/playwright-core" ] ||
    { echo "1..0 # SKIP tests/web has no node_modules (npm ci there; ./quickstart does it)"; exit 0; }
# The fake API and the CLI (skips when the CLI is not installed).
. "$top_srcdir/tests/integration/claude_lib.sh"
BOSUN_PLUGIN_PATH="$BOSUN_PLUGIN_PATH:$top_builddir/plugins/http"
CHECKS=42
plan $((CHECKS + 1))

mkrepo "$T/repo" || { echo "Bail out! cannot make a repository"; exit 1; }
# The editor edits when the page's test says so (a gate file each), so
# every snapshot is one the page saw arrive.
cat > "$T/edit.sh" <<'EOF3'
#!/bin/sh
gate() { i=0; while [ ! -f "$1" ] && [ $i -lt 1200 ]; do i=$((i + 1)); sleep 0.1; done; }
gate "$GATES/edit1"
printf 'two\n<script>window.__xss=4</script>\n' >> a.txt
printf 'x\n' > '<img src=x onerror=window.__xss=3>.txt'
gate "$GATES/edit2"
printf 'second edit\n' > b.txt && git add b.txt
gate "$GATES/edit3"
EOF3
chmod +x "$T/edit.sh"
mkdir -p "$T/gates"

PORT=$(/usr/bin/python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
write_config <<EOF2
  plugins: [sqlite, exec, http, mcp, claude-code]
http:
  listen: ["127.0.0.1:$PORT"]
  web_root: $top_srcdir/plugins/http/web
agents:
  editor:
    command: [$T/edit.sh]
    env: {GATES: $T/gates}
    restart: never
    start_secs: 0
    worktree: {repo: $T/repo, keep: always}
    changes: {debounce: 200ms}
  crasher:
    command: [sh, -c, 'echo "about to crash <i>here</i>"; exit 3']
    start_secs: 0
    restart: on-failure
    max_restarts: 2
    backoff_base: 0
$(claude_agent cc <<EOF3
    restart: never
    budget: {usd_per_run: 5}
EOF3
)
EOF2
start_daemon || exit 1
wait_for 10 curl -s -o /dev/null "http://127.0.0.1:$PORT/health" || echo "# the http listener did not come up"
TOKEN=$(ctl request cmd.auth.token.create '{"name":"web"}' --json | jq -r '.data.secret // empty')

BASE="http://127.0.0.1:$PORT" TOKEN=$TOKEN BOSUNCTL=$BOSUNCTL SOCK="$T/run/bosund.sock" GATES="$T/gates" \
    WORK="$T/work" SHOTS="$top_builddir/tests/web-shots" \
    timeout 300 node "$top_srcdir/tests/web/run.mjs" > "$T/web.out" 2>&1
n=0 ended=yes
while IFS= read -r line; do
    case $line in
    "PASS "*) n=$((n + 1)); ok "${line#PASS }" ;;
    "FAIL the scenario ran to its end"*) ended="${line#FAIL }" ;;
    "FAIL "*) n=$((n + 1)); fail "${line#FAIL }" ;;
    *) echo "# $line" ;;
    esac
done < "$T/web.out"
while [ $n -lt $CHECKS ]; do n=$((n + 1)); fail "check $n did not run"; done
if [ "$ended" = yes ]; then ok "the scenario ran to its end"; else fail "the scenario ran to its end" "$ended"; fi
touch "$T/gates/edit1" "$T/gates/edit2" "$T/gates/edit3"
done_testing
