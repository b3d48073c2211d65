#!/bin/sh
# Pull requests linked to a task, against the fake GitHub
# (tests/github/fake_github.py): POST /api/v1/tasks/{id}/prs links one and
# its metadata (state, head/base, author, checks, status, review decision)
# is fetched with the token, GitHub's media type and API version; GET
# .../prs, pr-diff (text/x-diff) and pr-files (every page of GitHub's
# Link) give it; asking again, or the interval's refresh, sends
# If-None-Match and GitHub's 304 costs no re-fetch; a change upstream
# shows as evt.pr.<task>.updated; after a restart the first refresh is
# conditional too (the ETag kept in the store); bosunctl pr list|show|diff
# and status say the same.
. "$top_srcdir/tests/integration/lib.sh"
. "$top_srcdir/tests/integration/http_lib.sh"
. "$top_srcdir/tests/integration/github_lib.sh"
trap 'fake_stop; cleanup' EXIT
plan 38

command -v curl >/dev/null || { echo "1..0 # SKIP curl is not installed"; exit 0; }
command -v jq >/dev/null || { echo "1..0 # SKIP jq is not installed"; exit 0; }
fake_start
http_boot
fake /_fake/pull '{"owner":"acme","repo":"widgets","number":7,"title":"Add the frobnicator",
  "check_runs":[{"status":"completed","conclusion":"success"},{"status":"completed","conclusion":"skipped"}],
  "status":"success","reviews":[{"user":{"login":"alice"},"state":"CHANGES_REQUESTED"},
  {"user":{"login":"alice"},"state":"APPROVED"},{"user":{"login":"bob"},"state":"COMMENTED"}],
  "files":250}' >/dev/null
gh_daemon "refresh_interval: 10s"
TASK=$(ctl task create --title "frobnicate" --json | jq -r .task)
like "a task to link to" "$TASK" '^[0-9A-Z]{26}$'

is "POST .../prs links the pull request: 201" "$(link "$TASK" acme/widgets 7)" 201
is "  the reply names it" "$(jq -r .url "$T/body")" "https://github.com/acme/widgets/pull/7"
wait_for 15 sh -c "[ \"\$(curl -s -H 'Authorization: Bearer $TOKEN' $U/api/v1/tasks/$TASK/prs | jq -r '.items[0].pr.review_decision')\" = approved ]"
prs=$(api "$U/api/v1/tasks/$TASK/prs")
is "GET .../prs: the title" "$(printf '%s' "$prs" | jq -r '.items[0].pr.title')" "Add the frobnicator"
is "  state, draft, merged" "$(printf '%s' "$prs" | jq -c '.items[0].pr | [.state, .draft, .merged, .mergeable]')" '["open",false,false,true]'
is "  head and base" "$(printf '%s' "$prs" | jq -c '.items[0].pr | [.head.ref, .base.ref]')" '["feature","main"]'
is "  author" "$(printf '%s' "$prs" | jq -r '.items[0].pr.author')" octocat
is "  checks: both passed" "$(printf '%s' "$prs" | jq -c '.items[0].pr.checks | [.conclusion, .total, .success, .failure, .pending]')" '["success",2,2,0,0]'
is "  combined status" "$(printf '%s' "$prs" | jq -r '.items[0].pr.status.state')" success
is "  review decision: alice's latest review approves" "$(printf '%s' "$prs" | jq -r '.items[0].pr.review_decision')" approved
is "  as a list with next null" "$(printf '%s' "$prs" | jq -c '.next')" null

first=$(requests '[.[] | select(.path == "/repos/acme/widgets/pulls/7")][0]')
is "the request carries the token" "$(printf '%s' "$first" | jq -r .authorization)" "Bearer $GH_TOKEN"
is "  GitHub's media type" "$(printf '%s' "$first" | jq -r .accept)" "application/vnd.github+json"
is "  the API version" "$(printf '%s' "$first" | jq -r .api_version)" "2022-11-28"
like "  a User-Agent" "$(printf '%s' "$first" | jq -r .user_agent)" '^bosun/'
is "  the first one is not conditional" "$(printf '%s' "$first" | jq -r .if_none_match)" null
like "evt.pr.<task>.updated is stored" "$(ctl events --subject "evt.pr.$TASK.updated" --json)" '"title":"Add the frobnicator"'

# ---- diff and files
h=$(curl -s -D - -o "$T/diff" -H "Authorization: Bearer $TOKEN" "$U/api/v1/tasks/$TASK/pr-diff?pr=7")
like "pr-diff is text/x-diff" "$h" '[Cc]ontent-[Tt]ype: text/x-diff'
like "  the unified diff" "$(cat "$T/diff")" '^\+new 7$'
is "  asked as GitHub's diff media type" "$(requests '[.[] | select(.accept == "application/vnd.github.diff")] | length')" 1
curl -s -o "$T/diff2" -H "Authorization: Bearer $TOKEN" "$U/api/v1/tasks/$TASK/pr-diff?pr=7"
is "pr-diff again: the same diff" "$(cmp "$T/diff" "$T/diff2" && echo same)" same
is "  from a conditional request GitHub answered 304" \
    "$(requests '[.[] | select(.accept == "application/vnd.github.diff")] | .[1] | [.if_none_match != null, .status]')" '[true,304]'
files=$(api "$U/api/v1/tasks/$TASK/pr-files?pr=7")
is "pr-files: every file of the three pages" "$(printf '%s' "$files" | jq '.items | length')" 250
is "  each with path, status, additions, deletions, patch" \
    "$(printf '%s' "$files" | jq -c '.items[3] | [.path, .status, .additions, .deletions, (.patch | length > 0)]')" '["src/file3.c","modified",4,3,true]'
is "  three requests, following Link" "$(requests '[.[] | select(.path | endswith("/files"))] | length')" 3
api "$U/api/v1/tasks/$TASK/pr-files?pr=7" > "$T/files2"
is "pr-files again: the same" "$(jq '.items | length' "$T/files2")" 250
is "  three conditional requests, all 304" \
    "$(requests '[.[] | select(.path | endswith("/files"))][3:] | map([.if_none_match != null, .status]) | unique')" '[[true,304]]'
is "pr-diff of a PR not linked: 404" "$(code "$U/api/v1/tasks/$TASK/pr-diff?pr=8")" 404
is "pr-diff without pr: 400" "$(code "$U/api/v1/tasks/$TASK/pr-diff")" 400
is "linking to a task that does not exist: 404" "$(link 01ARZ3NDEKTSV4RRFFQ69G5FAV acme/widgets 7)" 404
is "a repo that is not OWNER/REPO: 400" "$(link "$TASK" 'acme/wid gets' 7)" 400

# ---- the interval's refresh: conditional, nothing re-fetched, no event
fake /_fake/log/clear >/dev/null
n_updates=$(ctl events --subject "evt.pr.$TASK.updated" --json | grep -c '"subject"')
wait_for 15 sh -c "[ \"\$(curl -s $GH/_fake/log | jq '[.[] | select(.path | endswith(\"/reviews\"))] | length')\" -ge 1 ]"
is "the refresh sends If-None-Match on all four requests, each 304" \
    "$(requests 'map([.if_none_match != null, .status]) | unique')" '[[true,304]]'
is "  and publishes no update" "$(ctl events --subject "evt.pr.$TASK.updated" --json | grep -c '"subject"')" "$n_updates"
fake /_fake/pull '{"owner":"acme","repo":"widgets","number":7,"title":"Add the frobnicator, v2","draft":true}' >/dev/null
wait_for 15 sh -c "[ \"\$(curl -s -H 'Authorization: Bearer $TOKEN' $U/api/v1/tasks/$TASK/prs | jq -r '.items[0].pr.title')\" = 'Add the frobnicator, v2' ]"
like "a change upstream: evt.pr.<task>.updated with the new title" \
    "$(ctl events --subject "evt.pr.$TASK.updated" --json)" '"title":"Add the frobnicator, v2"'

# ---- bosunctl
like "bosunctl pr list" "$(ctl pr list "$TASK")" '^7 +acme/widgets +open +success +approved +Add the frobnicator, v2$'
like "bosunctl pr show" "$(ctl pr show "$TASK" 7)" 'draft: +yes'
like "bosunctl pr diff" "$(ctl pr diff "$TASK" 7)" '^\+new 7$'
like "bosunctl status: GitHub's rate budget" "$(ctl status)" 'github: +rate [0-9]+ of 5000 left'

# ---- a restart: the first refresh is conditional with the kept ETag
wait_for 10 sh -c "\"$BOSUNCTL\" -s \"$T/run/bosund.sock\" request cmd.store.github '{}' --json | grep -q 'frobnicator, v2'"
stop_daemon
fake /_fake/log/clear >/dev/null
start_daemon || exit 1
wait_for 20 sh -c "[ \"\$(curl -s $GH/_fake/log | jq '[.[] | select(.path == \"/repos/acme/widgets/pulls/7\")] | length')\" -ge 1 ]"
is "after a restart the first request for the PR is conditional: 304" \
    "$(requests '[.[] | select(.path == "/repos/acme/widgets/pulls/7")][0] | [.if_none_match != null, .status]')" '[true,304]'
requests . > "$T/fake_requests.json" # kept with $T when a check failed
done_testing
