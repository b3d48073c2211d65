#!/bin/sh
# GitHub's webhooks at POST /api/v1/github/webhook, delivered by the fake
# GitHub signed with the secret: a good X-Hub-Signature-256 is taken (a
# review, a check run, a comment on a linked PR become evt.pr.<task>.review,
# .checks, .comment and refresh the PR at once), a bad, malformed or
# missing one is 401, a delivery id seen before is 409 (also after a
# restart: the ids are in the store), an event older than
# webhook_max_age is stale (400), a ping is answered, an event for a PR no
# task links is ignored; neither secret is ever in the log.
. "$top_srcdir/tests/integration/lib.sh"
. "$top_srcdir/tests/integration/http_lib.sh"
. "$top_srcdir/tests/integration/github_lib.sh"
trap 'fake_stop; cleanup' EXIT
plan 31

command -v curl >/dev/null || { echo "1..0 # SKIP curl is not installed"; exit 0; }
command -v jq >/dev/null || { echo "1..0 # SKIP jq is not installed"; exit 0; }
fake_start
http_boot
fake /_fake/pull '{"owner":"acme","repo":"widgets","number":7,"check_runs":[{"status":"in_progress"}]}' >/dev/null
gh_daemon "refresh_interval: 1h" "webhook_max_age: 30m"
TASK=$(ctl task create --title "hooks" --json | jq -r .task)
is "the PR is linked" "$(link "$TASK" acme/widgets 7)" 201
wait_for 15 sh -c "[ \"\$(curl -s -H 'Authorization: Bearer $TOKEN' $U/api/v1/tasks/$TASK/prs | jq -r '.items[0].pr.checks.conclusion')\" = pending ]"
is "  fetched: its checks are pending" "$(pr_field "$TASK" 7 .pr.checks.conclusion)" pending

NOW=$(now_iso)
OLD=$(date -u -d '-2 hours' +%Y-%m-%dT%H:%M:%SZ)
REPO='"repository":{"name":"widgets","owner":{"login":"acme"}},"sender":{"login":"alice"}'
review="{\"action\":\"submitted\",\"review\":{\"state\":\"approved\",\"submitted_at\":\"$NOW\"},\"pull_request\":{\"number\":7,\"updated_at\":\"$NOW\"},$REPO}"
D1=$(cat /proc/sys/kernel/random/uuid)

fake /_fake/log/clear >/dev/null
out=$(hook pull_request_review "$review" "$D1")
is "a signed review: 200" "$(printf '%s' "$out" | jq -r .status)" 200
is "  accepted for one linked PR" "$(printf '%s' "$out" | jq -r '.body | fromjson | [.result, .prs] | @tsv')" "$(printf 'accepted\t1')"
wait_for 10 sh -c "\"$BOSUNCTL\" -s \"$T/run/bosund.sock\" events --subject 'evt.pr.$TASK.review' --json | grep -q approved"
ev=$(ctl events --subject "evt.pr.$TASK.review" --json)
like "  evt.pr.<task>.review with the state" "$ev" '"state":"approved"'
like "  the sender and the delivery" "$ev" "\"sender\":\"alice\".*\"delivery\":\"$D1\"|\"delivery\":\"$D1\".*\"sender\":\"alice\""
wait_for 10 sh -c "[ \"\$(curl -s $GH/_fake/log | jq '[.[] | select(.path == \"/repos/acme/widgets/pulls/7\")] | length')\" -ge 1 ]"
is "  and the PR is refreshed at once, conditionally" \
    "$(requests '[.[] | select(.path == "/repos/acme/widgets/pulls/7")][0] | .if_none_match != null')" true

out=$(hook pull_request_review "$review" "$D1")
is "the same delivery again: 409" "$(printf '%s' "$out" | jq -r .status)" 409
is "  replayed" "$(printf '%s' "$out" | jq -r '.body | fromjson | .error.code')" replayed
out=$(hook pull_request_review "$review" "" bad)
is "a signature under another secret: 401" "$(printf '%s' "$out" | jq -r .status)" 401
like "  says it does not match" "$(printf '%s' "$out" | jq -r '.body | fromjson | .error.message')" 'does not match'
out=$(hook pull_request_review "$review" "" none)
is "no signature: 401" "$(printf '%s' "$out" | jq -r .status)" 401
like "  says it is missing" "$(printf '%s' "$out" | jq -r '.body | fromjson | .error.message')" 'no X-Hub-Signature-256'
out=$(hook pull_request_review "$review" "" sha1)
is "a sha1= signature only: 401" "$(printf '%s' "$out" | jq -r .status)" 401
stale="{\"action\":\"submitted\",\"review\":{\"state\":\"approved\",\"submitted_at\":\"$OLD\"},\"pull_request\":{\"number\":7,\"updated_at\":\"$OLD\"},$REPO}"
out=$(hook pull_request_review "$stale")
is "an event two hours old (webhook_max_age 30m): 400" "$(printf '%s' "$out" | jq -r .status)" 400
is "  stale" "$(printf '%s' "$out" | jq -r '.body | fromjson | .error.code')" stale
notime="{\"action\":\"submitted\",\"review\":{\"state\":\"approved\"},\"pull_request\":{\"number\":7},$REPO}"
is "an event without a time: stale" "$(hook pull_request_review "$notime" | jq -r '.body | fromjson | .error.code')" stale

# ---- checks: the refresh sees what the check run says
fake /_fake/pull '{"owner":"acme","repo":"widgets","number":7,"check_runs":[{"status":"completed","conclusion":"failure"}]}' >/dev/null
run="{\"action\":\"completed\",\"check_run\":{\"status\":\"completed\",\"conclusion\":\"failure\",\"completed_at\":\"$NOW\",\"pull_requests\":[{\"number\":7}]},$REPO}"
out=$(hook check_run "$run")
is "a check run: 200" "$(printf '%s' "$out" | jq -r .status)" 200
wait_for 10 sh -c "\"$BOSUNCTL\" -s \"$T/run/bosund.sock\" events --subject 'evt.pr.$TASK.checks' --json | grep -q failure"
like "  evt.pr.<task>.checks" "$(ctl events --subject "evt.pr.$TASK.checks" --json)" '"event":"check_run".*"state":"failure"|"state":"failure".*"event":"check_run"'
wait_for 10 sh -c "[ \"\$(curl -s -H 'Authorization: Bearer $TOKEN' $U/api/v1/tasks/$TASK/prs | jq -r '.items[0].pr.checks.conclusion')\" = failure ]"
is "  the PR's checks now fail (refreshed at once, refresh_interval is 1h)" "$(pr_field "$TASK" 7 .pr.checks.conclusion)" failure
like "  evt.pr.<task>.updated says the webhook caused it" "$(ctl events --subject "evt.pr.$TASK.updated" --json)" '"cause":"webhook"'

comment="{\"action\":\"created\",\"issue\":{\"number\":7,\"pull_request\":{\"url\":\"x\"}},\"comment\":{\"updated_at\":\"$NOW\"},$REPO}"
is "a comment on the PR: 200" "$(hook issue_comment "$comment" | jq -r .status)" 200
wait_for 10 sh -c "\"$BOSUNCTL\" -s \"$T/run/bosund.sock\" events --subject 'evt.pr.$TASK.comment' --json | grep -q created"
like "  evt.pr.<task>.comment" "$(ctl events --subject "evt.pr.$TASK.comment" --json)" '"action":"created"'
other="{\"action\":\"opened\",\"pull_request\":{\"number\":99,\"updated_at\":\"$NOW\"},$REPO}"
is "an event for a PR no task links: ignored" "$(hook pull_request "$other" | jq -r '.body | fromjson | .result')" ignored
is "a ping: pong" "$(hook ping '{"zen":"Keep it logically awesome.","hook_id":1}' | jq -r '.body | fromjson | .result')" pong
code=$(curl -s -o /dev/null -w '%{http_code}' -H 'Content-Type: text/plain' -H 'X-GitHub-Event: ping' -d x "$U/api/v1/github/webhook")
is "a body that is not JSON: 415" "$code" 415
sig="sha256=$(printf 'not json' | openssl dgst -sha256 -hmac "$HOOK_SECRET" | sed 's/.*= //')"
code=$(curl -s -o /dev/null -w '%{http_code}' -H 'Content-Type: application/json' -H 'X-GitHub-Event: issue_comment' \
    -H "X-GitHub-Delivery: $(cat /proc/sys/kernel/random/uuid)" -H "X-Hub-Signature-256: $sig" --data-binary 'not json' "$U/api/v1/github/webhook")
is "signed, but not JSON: 400" "$code" 400

# ---- the ids outlive a restart
stop_daemon
is "bosund stops cleanly (no leak, no error)" "$DAEMON_STATUS" 0
start_daemon || exit 1
wait_for 10 grep -q "recent webhook deliveries" "$T/bosund.log"
out=$(hook pull_request_review "$review" "$D1")
is "after a restart the delivery seen before: still 409" "$(printf '%s' "$out" | jq -r .status)" 409
unlike "the webhook secret is not in the log" "$(cat "$T/bosund.log")" "$HOOK_SECRET"
unlike "nor the API token" "$(cat "$T/bosund.log")" "$GH_TOKEN"
done_testing
