#!/bin/sh
# GitHub's rate limits, from the fake GitHub: a secondary limit with
# Retry-After (403, then 429) holds every request to GitHub for that long
# and the refused request is sent again once after it (a client's pr-diff
# then succeeds, late); the primary limit spent (X-RateLimit-Remaining 0)
# holds until X-RateLimit-Reset; a secondary limit said only in the body
# holds for a minute; nothing is sent while held; bosunctl status shows the
# budget left and the hold.
. "$top_srcdir/tests/integration/lib.sh"
. "$top_srcdir/tests/integration/http_lib.sh"
. "$top_srcdir/tests/integration/github_lib.sh"
trap 'fake_stop; cleanup' EXIT
plan 18

command -v curl >/dev/null || { echo "1..0 # SKIP curl is not installed"; exit 0; }
command -v jq >/dev/null || { echo "1..0 # SKIP jq is not installed"; exit 0; }
fake_start
http_boot
fake /_fake/pull '{"owner":"acme","repo":"widgets","number":7}' >/dev/null
fake /_fake/pull '{"owner":"acme","repo":"widgets","number":8}' >/dev/null
gh_daemon "refresh_interval: 1h"
TASK=$(ctl task create --title "limits" --json | jq -r .task)
is "linked" "$(link "$TASK" acme/widgets 7)" 201
wait_for 15 sh -c "[ \"\$(curl -s -H 'Authorization: Bearer $TOKEN' $U/api/v1/tasks/$TASK/prs | jq -r '.items[0].pr.state')\" = open ]"
like "bosunctl status: the budget GitHub said" "$(ctl status)" 'github: +rate 499[0-9] of 5000 left'

# timed_diff: pr-diff of PR 7; prints "STATUS SECONDS-IT-TOOK"
timed_diff() {
    _t0=$(date +%s.%N)
    _c=$(curl -s -o "$T/diff" -w '%{http_code}' -H "Authorization: Bearer $TOKEN" "$U/api/v1/tasks/$TASK/pr-diff?pr=7")
    echo "$_c $(awk "BEGIN { print $(date +%s.%N) - $_t0 }")"
}
gap_after_refusal() { # the seconds between the refused request and the next one
    requests "[.[] | select(.time > $1)] | (map(select(.status == $2))[0].time) as \$r | [.[] | select(.time > \$r)][0].time - \$r"
}

# ---- a secondary limit with Retry-After: 3
t=$(date +%s.%N)
fake /_fake/limit '{"count":1,"status":403,"retry_after":3}' >/dev/null
set -- $(timed_diff)
is "pr-diff under a secondary limit (403, Retry-After 3): 200 in the end" "$1" 200
check "  after the wait (${2}s >= 3)" awk "BEGIN { exit !($2 >= 3) }"
like "  the diff" "$(cat "$T/diff")" '^\+new 7$'
gap=$(gap_after_refusal "$t" 403)
check "  nothing sent for Retry-After after the refusal (${gap}s)" awk "BEGIN { exit !($gap >= 2.9) }"
is "  counted in the status" "$(ctl request cmd.github.status '{}' --json | jq .data.secondary_limits)" 1

# ---- the same with 429
t=$(date +%s.%N)
fake /_fake/limit '{"count":1,"status":429,"retry_after":2}' >/dev/null
set -- $(timed_diff)
is "a 429 with Retry-After 2: 200 in the end" "$1" 200
gap=$(gap_after_refusal "$t" 429)
check "  nothing sent for 2 s after it (${gap}s)" awk "BEGIN { exit !($gap >= 1.9) }"

# ---- the primary limit spent: held until the reset
t=$(date +%s.%N)
fake /_fake/limit '{"count":1,"status":403,"primary":true,"reset_in":2}' >/dev/null
set -- $(timed_diff)
is "the primary limit spent (reset in 2 s): 200 in the end" "$1" 200
gap=$(gap_after_refusal "$t" 403)
check "  nothing sent until the reset (${gap}s)" awk "BEGIN { exit !($gap >= 1) }"
is "  counted" "$(ctl request cmd.github.status '{}' --json | jq .data.primary_limits)" 1

# ---- a secondary limit said only in the body: a minute, nothing sent meanwhile
t=$(date +%s)
fake /_fake/limit '{"count":1,"status":403}' >/dev/null
is "a second PR linked under the limit" "$(link "$TASK" acme/widgets 8)" 201
wait_for 10 sh -c "[ \"\$(curl -s $GH/_fake/log | jq '[.[] | select(.status == 403 and .time > $t)] | length')\" -ge 1 ]"
held=$(ctl request cmd.github.status '{}' --json | jq .data.held_until)
check "  held for at least a minute (until $held)" awk "BEGIN { exit !($held - $t >= 55) }"
like "  bosunctl status says so" "$(ctl status)" 'github HELD: +a rate limit was hit'
n=$(requests 'length')
sleep 3
is "  no request in the next 3 s" "$(requests 'length')" "$n"
code=$(curl -s -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $TOKEN" "$U/api/v1/tasks/$TASK/prs")
is "  what the task holds is still served" "$code" 200
# A diff asked for now waits in the queue: a stop ends it cleanly.
curl -s -o /dev/null --max-time 30 -H "Authorization: Bearer $TOKEN" "$U/api/v1/tasks/$TASK/pr-diff?pr=7" &
CURL_PID=$!
wait_for 10 sh -c "[ \"\$(\"$BOSUNCTL\" -s \"$T/run/bosund.sock\" request cmd.github.status '{}' --json | jq .data.queued)\" -ge 1 ]"
stop_daemon
is "a stop with a request to GitHub queued: clean (exit 0, nothing leaked)" "$DAEMON_STATUS" 0
wait "$CURL_PID"
done_testing
