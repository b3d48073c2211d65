#!/bin/sh
# Login with GitHub, the device flow: bosunctl --url URL login --github
# against bosund and the fake GitHub, which answers pending, then
# slow_down, then a token (the polls must keep GitHub's interval, 5 s
# longer after slow_down); the session kept 0600 in ~/.config/bosun/session
# and used by a later bosunctl --url call; access_denied, expired_token and
# a refused user ending the login; early polls answered without asking
# GitHub.
. "$top_srcdir/tests/integration/lib.sh"
plan 28
. "$top_srcdir/tests/integration/http_lib.sh"
. "$top_srcdir/tests/integration/github_login_lib.sh"
http_boot
fake_start || exit 1
login_daemon || exit 1
mkdir -p "$T/home"
cli() { HOME="$T/home" XDG_CONFIG_HOME= BOSUN_TOKEN_FILE= "$BOSUNCTL" --url "$U" "$@"; }
SESSION="$T/home/.config/bosun/session"

# ---- pending, slow_down, then a token
fake_config '{"user": "alice", "orgs": [], "interval": 1, "clear_log": true,
              "device_script": ["authorization_pending", "slow_down", "ok"]}'
out=$(cli login --github 2>"$T/err"); st=$?
is "login --github exits 0" "$st" 0
like "  it showed the code and where to enter it" "$(cat "$T/err")" "^Open $FAKE/login/device and enter the code WDJB-MJHT\$"
like "  it told of the slow_down" "$(cat "$T/err")" 'poll more slowly: every 6 s'
like "  and says who logged in" "$out" "^Logged in as github:alice \\(admin\\) until .*; the session is in $SESSION\$"
is "the session file is 0600" "$(stat -c %a "$SESSION" 2>&1)" 600
is "  in a 0700 directory" "$(stat -c %a "$T/home/.config/bosun" 2>&1)" 700
log=$(fake_log)
is "GitHub was polled three times" "$(printf '%s' "$log" | jq -c '[.[] | select(.grant == "device") | .answer]')" '["authorization_pending","slow_down","ok"]'
gaps=$(printf '%s' "$log" | jq -r '[.[] | select(.grant == "device_code" or .grant == "device") | .time] | [.[1] - .[0], .[2] - .[1], .[3] - .[2]] | map(. * 10 | floor) | map(tostring) | join(" ")')
set -- $gaps
check "  the first poll waited the interval, 1 s (${1:-?}/10 s)" test "${1:-0}" -ge 10
check "  the next one too (${2:-?}/10 s)" test "${2:-0}" -ge 10
check "  the one after slow_down 6 s (${3:-?}/10 s)" test "${3:-0}" -ge 60
is "  it asked for read:user and read:org" "$(printf '%s' "$log" | jq -r '[.[] | select(.grant == "device_code")][0].answer')" "read:user read:org"

# ---- the stored session, used without --token-file
out=$(cli token list 2>&1); st=$?
is "a later --url call uses the session (an admin's: token list)" "$st" 0
like "  /auth/me over it: github:alice" "$(curl -s -H "Authorization: Bearer $(cat "$SESSION")" "$U/api/v1/auth/me")" '"kind":"user","id":"github:alice","credential":"session","role":"admin"'
out=$(HOME="$T/nohome" BOSUN_TOKEN_FILE= "$BOSUNCTL" --url "$U" token list 2>&1); st=$?
like "without a session or --token-file: refused, saying how to get one" "$out" 'needs a token: --token-file FILE, BOSUN_TOKEN_FILE, or a session from bosunctl --url URL login --github'

# ---- ends
fake_config '{"user": "alice", "device_script": ["authorization_pending", "access_denied"]}'
out=$(cli login --github --token-file "$T/denied.session" 2>&1); st=$?
is "access_denied: login fails" "$st" 1
like "  saying it was refused on GitHub" "$out" 'the login was refused on GitHub \(access_denied\)'
check "  and writes no session" test ! -e "$T/denied.session"
fake_config '{"user": "alice", "device_script": ["expired_token"]}'
out=$(cli login --github --token-file "$T/expired.session" 2>&1); st=$?
is "expired_token: login fails" "$st" 1
like "  saying the code expired" "$out" 'the code expired before it was entered on GitHub: log in again \(expired\)'
fake_config '{"user": "eve", "orgs": [], "device_script": ["ok"]}'
out=$(cli login --github --token-file "$T/eve.session" 2>&1); st=$?
like "a refused user: login fails, saying why" "$out" 'the GitHub user eve is not a member of an allowed organisation \(forbidden\)'
check "  and writes no session" test ! -e "$T/eve.session"
fake_config '{"user": "alice", "device_script": ["ok"], "fail": ["/login/device/code"]}'
out=$(cli login --github --token-file "$T/gone.session" 2>&1); st=$?
like "GitHub's device endpoint failing: login fails, saying so" "$out" 'GitHub answered 500 for a device code \(unavailable\)'
fake_config '{"fail": []}'

# ---- the daemon keeps the interval whatever the client does
fake_config '{"user": "alice", "device_script": ["ok"], "interval": 5, "clear_log": true}'
h=$(curl -s -X POST "$U/api/v1/auth/github/device" | jq -r .handle)
r=$(curl -s -H 'Content-Type: application/json' -d "{\"handle\":\"$h\"}" "$U/api/v1/auth/github/device/poll")
is "a poll before the interval: pending at once" "$r" '{"status":"pending","interval":5}'
is "  without asking GitHub" "$(fake_log | jq '[.[] | select(.grant == "device")] | length')" 0
code=$(curl -s -o /dev/null -w '%{http_code}' -H 'Content-Type: application/json' -d '{"handle":"ghd_nosuch"}' "$U/api/v1/auth/github/device/poll")
is "an unknown handle: 404" "$code" 404

# ---- the stop, with one login waiting and another's poll of GitHub in flight
fake_config '{"device_script": ["ok"], "interval": 1, "delay": 20, "clear_log": true}'
h=$(curl -s -X POST "$U/api/v1/auth/github/device" | jq -r .handle)
sleep 1.2
curl -s -m 30 -H 'Content-Type: application/json' -d "{\"handle\":\"$h\"}" "$U/api/v1/auth/github/device/poll" >/dev/null &
POLL=$!
check "the poll reached GitHub (which holds it)" wait_for 10 sh -c "curl -s '$FAKE/_fake/log' | grep -q '\"device_wait\"'"
stop_daemon
kill "$POLL" 2>/dev/null; wait "$POLL" 2>/dev/null
is "bosund exits 0 with a device login waiting and a poll in flight" "$DAEMON_STATUS" 0
unlike "no sanitizer report in its log (a sanitizer build)" "$(cat "$T/bosund.log")" 'Sanitizer|leaked in|runtime error'
done_testing
