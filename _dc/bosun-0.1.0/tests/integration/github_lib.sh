# Helpers for the github plugin's tests, after lib.sh and http_lib.sh: the
# fake GitHub (tests/github/fake_github.py) on a free loopback port, a
# daemon with sqlite, http and github pointed at it, and clients.
BOSUN_PLUGIN_PATH="$BOSUN_PLUGIN_PATH:$top_builddir/plugins/github"
export BOSUN_PLUGIN_PATH
FAKE_PID=
GH_TOKEN="ghp_$(head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n')"
HOOK_SECRET="whsec-$(head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n')"

# fake_start: the fake in the background, its URL in GH.
fake_start() {
    /usr/bin/python3 "$top_srcdir/tests/github/fake_github.py" "$T/fake.port" --token "$GH_TOKEN" \
        > "$T/fake.log" 2>&1 &
    FAKE_PID=$!
    wait_for 10 test -s "$T/fake.port" || { fail "the fake GitHub starts" "$(cat "$T/fake.log")"; exit 1; }
    GH="http://127.0.0.1:$(cat "$T/fake.port")"
}
fake_stop() {
    [ -n "$FAKE_PID" ] && kill "$FAKE_PID" 2>/dev/null && wait "$FAKE_PID" 2>/dev/null
    FAKE_PID=
}
# fake PATH [JSON]: a control request to the fake (GET without JSON).
fake() {
    if [ $# -ge 2 ]; then curl -s -H 'Content-Type: application/json' -d "$2" "$GH$1"
    else curl -s "$GH$1"; fi
}
# requests JQ-FILTER: the fake's log filtered (a count, a list).
requests() { fake /_fake/log | jq -c "$1"; }

# gh_daemon [LINES...]: bosund with sqlite, http (on PORT) and github (the
# lines added to its section); the admin token in $T/token, TOKEN.
gh_daemon() {
    printf '%s\n' "$GH_TOKEN" > "$T/gh.tok"; chmod 600 "$T/gh.tok"
    printf '%s\n' "$HOOK_SECRET" > "$T/hook.secret"; chmod 600 "$T/hook.secret"
    {
        echo "  plugins: [sqlite, http, github]"
        echo "http:"
        echo "  listen: [\"127.0.0.1:$PORT\"]"
        echo "github:"
        echo "  api_url: $GH"
        echo "  web_url: https://github.com"
        echo "  token_file: $T/gh.tok"
        echo "  webhook_secret_file: $T/hook.secret"
        for _l in "$@"; do echo "  $_l"; done
    } | write_config
    start_daemon || exit 1
    wait_for 10 curl -s -o /dev/null "$U/health" || fail "the listener is up"
    ctl token create --name github > "$T/token" 2>/dev/null
    chmod 600 "$T/token"
    TOKEN=$(cat "$T/token")
}
api() { curl -s -H "Authorization: Bearer $TOKEN" -H 'Content-Type: application/json' "$@"; }
code() { curl -s -o "$T/body" -w '%{http_code}' -H "Authorization: Bearer $TOKEN" -H 'Content-Type: application/json' "$@"; }
# link TASK OWNER/REPO N: POST /api/v1/tasks/TASK/prs, the status.
link() { code -d "{\"repo\":\"$2\",\"number\":$3}" "$U/api/v1/tasks/$1/prs"; }
# pr_field TASK N JQ: a field of the task's PR N as GET .../prs gives it.
pr_field() { api "$U/api/v1/tasks/$1/prs" | jq -r ".items[] | select(.number == $2) | $3"; }
# hook EVENT PAYLOAD [DELIVERY] [SIGNATURE-MODE]: a delivery through the
# fake to the daemon's webhook; prints {"status","body","delivery"}.
hook() {
    _d=$(jq -nc --arg url "$U/api/v1/github/webhook" --arg s "$HOOK_SECRET" --arg e "$1" \
        --argjson p "$2" --arg dl "${3:-}" --arg sig "${4:-}" \
        '{url: $url, secret: $s, event: $e, payload: $p} + (if $dl != "" then {delivery: $dl} else {} end) + (if $sig != "" then {signature: $sig} else {} end)')
    fake /_fake/webhook "$_d"
}
now_iso() { date -u +%Y-%m-%dT%H:%M:%SZ; }
