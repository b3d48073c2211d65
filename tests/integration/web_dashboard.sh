#!/bin/sh
# The dashboard (bosun-http(7), DASHBOARD) end to end in headless Debian
# chromium driven by playwright-core (tests/web): login, a question shown at
# once and answered in the page (checked on the daemon), one answered
# elsewhere disappearing, an agent started from the page, the runs view,
# XSS payloads staying text, the phone and laptop layouts, the keyboard,
# logout.  Screenshots go to tests/web-shots/ in the build tree.
. "$top_srcdir/tests/integration/lib.sh"
BOSUN_PLUGIN_PATH="$BOSUN_PLUGIN_PATH:$top_builddir/plugins/http"
CHECKS=51
# A skip is said before any plan (a plan then no test would be an error).
[ -x /usr/bin/chromium ] || { echo "1..0 # SKIP Debian chromium is not installed (./quickstart installs it)"; exit 0; }
[ -d "$top_srcdir/tests/web/node_modules/playwright-core" ] ||
    { echo "1..0 # SKIP tests/web has no node_modules (npm ci there; ./quickstart does it)"; exit 0; }
plan $((CHECKS + 1))

PORT=$(/usr/bin/python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
write_config <<EOF2
  plugins: [sqlite, exec, http]
http:
  listen: ["127.0.0.1:$PORT"]
  web_root: $top_srcdir/plugins/http/web
approvals:
  default: ask
agents:
  asker:
    command: [sh, -c, 'i=0; while [ ! -f "$T/go" ] && [ \$i -lt 600 ]; do i=\$((i+1)); sleep 0.1; done']
    start_secs: 0
    restart: never
    instances: 6
  talker:
    command: [sh, -c, 'i=0; while [ \$i -lt 30 ]; do i=\$((i+1)); echo "line \$i <b>bold</b>"; done; exec sleep 600']
    start_secs: 0
    instances: 3
  fast:
    command: [sh, -c, 'sleep 2; seq 1 20000 | sed "s/^/row /"; exec sleep 600']
    start_secs: 0
EOF2
start_daemon || exit 1
wait_for 10 curl -s -o /dev/null "http://127.0.0.1:$PORT/health" || echo "# the http listener did not come up"
TOKEN=$(ctl request cmd.auth.token.create '{"name":"web"}' --json | jq -r '.data.secret // empty')
TASK=$(curl -s -H "Authorization: Bearer $TOKEN" -H 'Content-Type: application/json' \
    -d '{"title":"web test","prompt":"wait"}' "http://127.0.0.1:$PORT/api/v1/tasks" | jq -r '.task // empty')

BASE="http://127.0.0.1:$PORT" TOKEN=$TOKEN BOSUNCTL=$BOSUNCTL SOCK="$T/run/bosund.sock" TASK=$TASK \
    SHOTS="$top_builddir/tests/web-shots" BOSUND=$BOSUND CONFIG="$T/bosun.yaml" DAEMON_PID=$DAEMON_PID \
    DAEMON_LOG="$T/bosund.log" PID2="$T/daemon2.pid" \
    timeout 180 node "$top_srcdir/tests/web/dashboard.mjs" > "$T/web.out" 2>&1
# The scenario restarts the daemon: the new one is this script's to stop.
[ -s "$T/daemon2.pid" ] && DAEMON_PID=$(cat "$T/daemon2.pid")
. "$top_srcdir/tests/integration/web_lib.sh"
web_tap "$T/web.out" "$CHECKS"
touch "$T/go"
done_testing
