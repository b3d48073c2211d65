#!/bin/sh
# A pull request's check runs and reviews past GitHub's first page of 100
# (tests/github/fake_github.py serves them a page at a time with Link):
# every page is read, and the summary comes from all of them -- a failing
# check on page 2 makes the checks fail, the latest review of a reviewer
# on page 2 decides; a refresh asks for each page with its own ETag (each a
# 304 while unchanged, only the changed page re-fetched); a list longer
# than the cap (10 pages) is read up to it and says it was cut.
. "$top_srcdir/tests/integration/lib.sh"
. "$top_srcdir/tests/integration/http_lib.sh"
. "$top_srcdir/tests/integration/github_lib.sh"
trap 'fake_stop; cleanup' EXIT
plan 16

command -v curl >/dev/null || { echo "1..0 # SKIP curl is not installed"; exit 0; }
command -v jq >/dev/null || { echo "1..0 # SKIP jq is not installed"; exit 0; }
fake_start
http_boot
# 150 check runs, the 131st failed; 120 reviews: alice approves first,
# bob approves, then comments, and alice asks for changes on page 2.
runs=$(jq -nc '[range(150) | if . == 130 then {status: "completed", conclusion: "failure"}
                                else {status: "completed", conclusion: "success"} end]')
reviews=$(jq -nc '[{user: {login: "alice"}, state: "APPROVED"}, {user: {login: "bob"}, state: "APPROVED"}]
                  + [range(117) | {user: {login: "carol"}, state: "COMMENTED"}]
                  + [{user: {login: "alice"}, state: "CHANGES_REQUESTED"}]')
fake /_fake/pull "{\"owner\":\"acme\",\"repo\":\"widgets\",\"number\":9,\"title\":\"Many checks\",
  \"check_runs\":$runs,\"status\":\"success\",\"reviews\":$reviews}" >/dev/null
gh_daemon "refresh_interval: 10s"
TASK=$(ctl task create --title "pages" --json | jq -r .task)
is "the pull request is linked: 201" "$(link "$TASK" acme/widgets 9)" 201
wait_for 20 sh -c "[ \"\$(curl -s -H 'Authorization: Bearer $TOKEN' $U/api/v1/tasks/$TASK/prs | jq -r '.items[0].pr.reviews')\" != null ]"
is "checks: all 150 counted, the failure on page 2 makes them fail" \
    "$(pr_field "$TASK" 9 '.pr.checks | [.conclusion, .total, .success, .failure, .pending] | @json')" '["failure",150,149,1,0]'
is "  not cut" "$(pr_field "$TASK" 9 '.pr.checks.truncated')" null
is "reviews: alice's latest, on page 2, asks for changes" "$(pr_field "$TASK" 9 .pr.review_decision)" changes_requested
is "  bob's approval from page 1 is counted" \
    "$(pr_field "$TASK" 9 '.pr.reviews | [.approved, .changes_requested] | @json')" '[1,1]'
is "two pages of check runs asked for, the second the one Link named" \
    "$(requests '[.[] | select(.path | endswith("/check-runs")) | .query]')" '["per_page=100","per_page=100&page=2"]'
is "two pages of reviews" \
    "$(requests '[.[] | select(.path | endswith("/reviews")) | .query]')" '["per_page=100","per_page=100&page=2"]'

# ---- the interval's refresh: each page conditional on its own ETag
fake /_fake/log/clear >/dev/null
wait_for 20 sh -c "[ \"\$(curl -s $GH/_fake/log | jq '[.[] | select(.path | endswith(\"/reviews\"))] | length')\" -ge 2 ]"
is "a refresh asks for every page again, each with If-None-Match, each a 304" \
    "$(requests '[.[] | select(.path | test("/check-runs$|/reviews$")) | [.query, .if_none_match != null, .status]]')" \
    '[["per_page=100",true,304],["per_page=100&page=2",true,304],["per_page=100",true,304],["per_page=100&page=2",true,304]]'
is "  the summary is the same (kept pages)" "$(pr_field "$TASK" 9 .pr.review_decision)" changes_requested

# alice approves again: only page 2 of the reviews changes
reviews2=$(printf '%s' "$reviews" | jq -c '. + [{user: {login: "alice"}, state: "APPROVED"}]')
fake /_fake/pull "{\"owner\":\"acme\",\"repo\":\"widgets\",\"number\":9,\"reviews\":$reviews2}" >/dev/null
fake /_fake/log/clear >/dev/null
wait_for 20 sh -c "[ \"\$(curl -s -H 'Authorization: Bearer $TOKEN' $U/api/v1/tasks/$TASK/prs | jq -r '.items[0].pr.review_decision')\" = approved ]"
is "alice's new approval on page 2 decides: approved" "$(pr_field "$TASK" 9 .pr.review_decision)" approved
is "  page 1 of the reviews a 304, page 2 fetched again" \
    "$(requests '[.[] | select(.path | endswith("/reviews")) | [.query, .status]] | .[0:2]')" \
    '[["per_page=100",304],["per_page=100&page=2",200]]'
like "  an update event with the new decision" \
    "$(ctl events --subject "evt.pr.$TASK.updated" --json)" '"review_decision":"approved"'

# ---- past the cap: 1050 check runs, 10 pages read
many=$(jq -nc '[range(1050) | {status: "completed", conclusion: "success"}]')
fake /_fake/pull "{\"owner\":\"acme\",\"repo\":\"widgets\",\"number\":10,\"title\":\"Too many\",\"check_runs\":$many}" >/dev/null
fake /_fake/log/clear >/dev/null
is "a second pull request is linked: 201" "$(link "$TASK" acme/widgets 10)" 201
wait_for 30 sh -c "[ \"\$(curl -s -H 'Authorization: Bearer $TOKEN' $U/api/v1/tasks/$TASK/prs | jq -r '.items[] | select(.number == 10) | .pr.checks.truncated')\" = true ]"
is "1050 check runs: 10 pages read, then cut" \
    "$(requests '[.[] | select(.path | endswith("/check-runs"))] | length')" 10
is "  said: truncated, the 50 not read pending" \
    "$(pr_field "$TASK" 10 '.pr.checks | [.truncated, .conclusion, .total, .success, .pending] | @json')" '[true,"pending",1050,1000,50]'
like "  and logged" "$(cat "$T/bosund.log")" 'acme/widgets#10: only the first 10 pages of its check runs are read'
requests . > "$T/fake_requests.json" # kept with $T when a check failed
done_testing
