#!/bin/sh
# The dashboard's Cost view, GitHub sign-in, machine choice at Start and
# the keyboard/names pass (bosun-http(7), DASHBOARD), end to end in
# headless Debian chromium (playwright-core, tests/web/cost.mjs) against a
# real hub bosund (sqlite, exec, mcp, claude-code, http, fleet, github)
# and one machine bosund uplinked to it.  Two real Claude Code runs
# against the fake Anthropic API record cost; one agent has a day budget
# its run exceeds.  Also, with curl: GET /api/v1/auth/methods with and
# without the github plugin, GET /api/v1/budgets against the run's cost,
# and the GitHub callback's refusal sent to the login page for a browser
# but kept as JSON for curl.  Screenshots in tests/web-shots/ of the build
# tree.
. "$top_srcdir/tests/integration/lib.sh"
BOSUN_PLUGIN_PATH="$BOSUN_PLUGIN_PATH:$top_builddir/plugins/http:$top_builddir/plugins/github"
CHECKS=30
. "$top_srcdir/tests/integration/web_lib.sh"
web_require_browser
. "$top_srcdir/tests/integration/claude_lib.sh"
. "$top_srcdir/tests/integration/http_lib.sh"
. "$top_srcdir/tests/integration/fleet_lib.sh"
GH_PID=
trap 'kill "$FAKE_PID" 2>/dev/null; [ -n "$GH_PID" ] && kill "$GH_PID" 2>/dev/null; fleet_cleanup' EXIT
plan $((CHECKS + 16))

http_boot
# The fake GitHub (tests/github/fake_github_oauth.py).
CLIENT_ID=Iv1.webcost
CLIENT_SECRET="cs-$(head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n')"
printf '%s\n' "$CLIENT_SECRET" > "$T/client.secret"
chmod 600 "$T/client.secret"
/usr/bin/python3 "$top_srcdir/tests/github/fake_github_oauth.py" "$T/gh.port" "$CLIENT_ID" "$CLIENT_SECRET" \
    2>"$T/gh.log" &
GH_PID=$!
wait_for 10 test -s "$T/gh.port" || echo "# the fake GitHub did not start"
GH="http://127.0.0.1:$(cat "$T/gh.port")"

# hub_config PLUGINS: the hub (plain http on loopback: an uplink may use
# ws:// to this host).  cc_a has room, cc_b a day budget its first run
# goes over; builder is on the hub and on m1.
hub_config() {
    node_config hub hub <<EOF2
  plugins: [$1]
http:
  listen: "127.0.0.1:$PORT"
  bootstrap_token_file: $T/boot.tok
  web_root: $top_srcdir/plugins/http/web
fleet:
  heartbeat_timeout: 3s
$(case $1 in *github*) printf 'github:\n  api_url: %s\n  web_url: %s\n  client_id: %s\n  client_secret_file: %s\n  allowed_users: [alice]\n  admins: [alice]\n' \
    "$GH" "$GH" "$CLIENT_ID" "$T/client.secret" ;; esac)
budget:
  usd_per_day: 1000
agents:
$(claude_agent cc_a <<EOF3
    budget:
      usd_per_day: 500
EOF3
)
$(claude_agent cc_b <<EOF3
    budget:
      usd_per_day: 0.000001
      tokens_per_run: 1000000
EOF3
)
  builder:
    command: [sleep, "120"]
    restart: never
EOF2
}

# hub_up PLUGINS: the hub with them, started, its listener up.
hub_up() {
    hub_config "$1"
    node_start hub || exit 1
    wait_for 10 curl -s -o /dev/null "$U/health"
}

# --- without the github plugin the login page is told there is no GitHub
hub_up "sqlite, exec, mcp, claude-code, http, fleet"
is "auth/methods without the github plugin" "$(curl -s "$U/api/v1/auth/methods")" '{"token":true,"github":false}'
code=$(curl -s -o "$T/b" -w '%{http_code}' "$U/api/v1/auth/methods?x=1")
is "  an unknown parameter is refused: 400" "$code" 400
node_stop hub

hub_up "sqlite, exec, mcp, claude-code, http, fleet, github"
is "auth/methods with it, no credential needed" "$(curl -s "$U/api/v1/auth/methods")" '{"token":true,"github":true}'

# --- the GitHub callback refused: JSON for curl, the login page for a browser
code=$(curl -s -o "$T/b" -w '%{http_code}' "$U/api/v1/auth/github/callback?error=access_denied&state=x")
is "callback with ?error for curl: 403" "$code" 403
like "  with the JSON error" "$(cat "$T/b")" '"code":"access_denied"'
hdrs=$(curl -s -o /dev/null -D - -H 'Accept: text/html,application/xhtml+xml' \
    "$U/api/v1/auth/github/callback?error=access_denied&state=x" | tr -d '\r')
like "  for a browser: 302 to the login page with the code" "$hdrs" '^Location: /\?login_error=access_denied$'

# --- the machine
TOKEN=$(nctl hub request cmd.auth.token.create '{"name":"web"}' --json | jq -r '.data.secret // empty')
(umask 077 && reg_token m1 > "$T/m1.reg")
node_config m1 m1 <<EOF2
  plugins: [sqlite, exec, uplink]
uplink:
  hub: ws://127.0.0.1:$PORT
  registration_token_file: $T/m1.reg
  token_file: $T/m1/state/machine.tok
  name: m1
  heartbeat: 1s
  reconnect_splay: 0s
agents:
  builder:
    command: [sleep, "120"]
    restart: never
  remote_only:
    command: [sleep, "120"]
    restart: never
EOF2
node_start m1 || exit 1
check "m1 online on the hub" wait_for 30 machine_status_is m1 online

# --- two runs that cost something (the fake's usage, Claude's price)
hub_ended() { case $(nctl hub ps --json | jq -r --arg r "$1" '.[] | select(.run == $r) | .state') in
    EXITED|FATAL|STOPPED|WAITING_INPUT) return 0 ;; esac; return 1; }
TASK=$(curl -s -H "Authorization: Bearer $TOKEN" -H 'Content-Type: application/json' \
    -d '{"title":"cost test","prompt":"count"}' "$U/api/v1/tasks" | jq -r '.task // empty')
RA=$(nctl hub start cc_a --task "$TASK" --prompt "SCENARIO:plain DIR:$T/work tag_a")
check "cc_a's run ended" wait_for 120 hub_ended "$RA"
RB=$(nctl hub start cc_b --prompt "SCENARIO:plain DIR:$T/work tag_b")
check "cc_b's run ended" wait_for 120 hub_ended "$RB"
CB=$(nctl hub cost --by agent --agent cc_b --json | jq -r '.total.cost_usd')
check "cc_b's run cost something ($CB USD)" awk "BEGIN { exit !($CB > 0) }"
budgets=$(curl -s -H "Authorization: Bearer $TOKEN" "$U/api/v1/budgets")
is "GET /budgets: cc_b's day budget spent what the run cost, exceeded" \
    "$(printf '%s' "$budgets" | jq -c --argjson c "$CB" '.items[] | select(.agent == "cc_b" and .budget == "usd_per_day") | [.per, .limit, ((.spent - $c) | fabs < 1e-9), .left, .exceeded]')" \
    '["day",1e-06,true,0,true]'
is "  its tokens_per_run applies to each run: no one figure" \
    "$(printf '%s' "$budgets" | jq -c '.items[] | select(.agent == "cc_b" and .budget == "tokens_per_run") | [.unit, .limit, .spent, .exceeded]')" \
    '["tokens",1000000,null,null]'
code=$(curl -s -o "$T/b" -w '%{http_code}' -H "Authorization: Bearer $TOKEN" "$U/api/v1/budgets?task=a.b")
is "  a task that is no id: 400" "$code" 400

fake_gh() { curl -s -o /dev/null -H 'Content-Type: application/json' -d "$1" "$GH/_fake/config"; }
fake_gh '{"user": "alice", "orgs": []}'

BASE="$U" TOKEN=$TOKEN BOSUNCTL=$BOSUNCTL SOCK="$T/hub/run/bosund.sock" M1SOCK="$T/m1/run/bosund.sock" \
    GH="$GH" TASK="$TASK" WORK="$T/work" SHOTS="$top_builddir/tests/web-shots" M1PID="$(node_pid m1)" \
    timeout 300 node "$top_srcdir/tests/web/cost.mjs" > "$T/web.out" 2>&1
web_tap "$CHECKS" "$T/web.out"
node_stop hub
is "the hub exits 0" "$NODE_STATUS" 0
unlike "no sanitizer report in the hub's or m1's log (a sanitizer build)" \
    "$(cat "$T/hub/bosund.log" "$T/m1/bosund.log")" 'Sanitizer|leaked in|runtime error'
done_testing
