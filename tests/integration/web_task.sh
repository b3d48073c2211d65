#!/bin/sh
# The dashboard's task pages (bosun-http(7), DASHBOARD) end to end in
# headless Debian chromium driven by playwright-core (tests/web/task.mjs):
# a real bosund with the github plugin pointed at the fake GitHub
# (tests/github/fake_github.py).  The index sorted, searched and paged with
# the cursor; a task with a run, questions, three linked PRs (open with an
# XSS payload in its title and a file's path, draft, merged) and artifacts
# of several versions; the PR's state, checks, diff and files; v1 diffed
# against v3; a version downloaded and its bytes checked; updates live in
# place (a webhook, a new version, an answer given elsewhere); a share
# link's page sees the task and downloads with its token.  Screenshots go to tests/web-shots/ in the build tree.
. "$top_srcdir/tests/integration/lib.sh"
. "$top_srcdir/tests/integration/web_lib.sh"
. "$top_srcdir/tests/integration/http_lib.sh"
. "$top_srcdir/tests/integration/github_lib.sh"
trap 'fake_stop; cleanup' EXIT
CHECKS=73
SETUP=7
web_require_browser
command -v jq >/dev/null || { echo "1..0 # SKIP jq is not installed"; exit 0; }
plan $((SETUP + CHECKS + 1))

XSS='<img src=x onerror="window.__xss=1"><script>window.__xss=2</script>'
fake_start
http_boot
DIFF='diff --git a/src/frob.c b/src/frob.c
--- a/src/frob.c
+++ b/src/frob.c
@@ -1,2 +1,3 @@
-old line
+new line one
+new line two
 context
'
fake /_fake/pull "$(jq -nc --arg t "$XSS" --arg d "$DIFF" '{owner: "acme", repo: "widgets", number: 7, title: $t, diff: $d,
  check_runs: [{status: "completed", conclusion: "success"}, {status: "completed", conclusion: "failure"}],
  status: "failure", reviews: [{user: {login: "alice"}, state: "APPROVED"}],
  files: [{filename: "src/frob.c", status: "modified", additions: 2, deletions: 1, changes: 3,
           patch: "@@ -1 +1,2 @@\n-int frob(void) { return 1; }\n+int frob(void) { return 2; }\n+/* two */"},
          {filename: ("docs/" + $t + ".md"), status: "added", additions: 1, deletions: 0, changes: 1, patch: null}]}')" >/dev/null
fake /_fake/pull '{"owner":"acme","repo":"widgets","number":8,"title":"Work in progress","draft":true}' >/dev/null
fake /_fake/pull '{"owner":"acme","repo":"widgets","number":9,"title":"Done already","state":"closed","merged":true}' >/dev/null

printf '%s\n' "$GH_TOKEN" > "$T/gh.tok"; chmod 600 "$T/gh.tok"
printf '%s\n' "$HOOK_SECRET" > "$T/hook.secret"; chmod 600 "$T/hook.secret"
write_config <<EOF2
  plugins: [sqlite, exec, http, github]
http:
  listen: ["127.0.0.1:$PORT"]
  web_root: $top_srcdir/plugins/http/web
github:
  api_url: $GH
  web_url: https://github.com
  token_file: $T/gh.tok
  webhook_secret_file: $T/hook.secret
  refresh_interval: 1h
agents:
  worker:
    command: [sh, -c, 'echo working; i=0; while [ ! -f "$T/go" ] && [ \$i -lt 1800 ]; do i=\$((i+1)); sleep 0.1; done']
    start_secs: 0
    restart: never
EOF2
start_daemon || exit 1
wait_for 10 curl -s -o /dev/null "$U/health" || echo "# the http listener did not come up"
TOKEN=$(ctl token create --name web-task 2>/dev/null)

# 100 fillers, then the tasks the page is asked about: the index's first
# page is the newest 100, so the fillers' oldest ones are on the second.
FILLERS=100
i=0
while [ $i -lt $FILLERS ]; do
    i=$((i + 1))
    api -o /dev/null -d "{\"title\":\"filler $i\"}" "$U/api/v1/tasks"
done
for t in 'zulu last by name' 'Alpha first by name' 'mango <b>in between</b>'; do
    api -o /dev/null -d "$(jq -nc --arg t "$t" '{title: $t}')" "$U/api/v1/tasks"
done
made=$(api -d '{"title":"deploy the frobnicator","prompt":"make it so","agent":"worker"}' "$U/api/v1/tasks")
TASK=$(printf '%s' "$made" | jq -r '.task // empty')
RUN=$(printf '%s' "$made" | jq -r '.run // empty')
like "the task is made with its run" "$TASK $RUN" '^[0-9A-Z]{26} [0-9A-Z]{26}$'
TITLES='["zulu last by name","Alpha first by name","mango <b>in between</b>","deploy the frobnicator"]'

for n in 7 8 9; do link "$TASK" acme/widgets $n > "$T/link.$n"; done
is "three pull requests linked" "$(cat "$T/link.7" "$T/link.8" "$T/link.9")" 201201201
wait_for 15 sh -c "[ \"\$(curl -s -H 'Authorization: Bearer $TOKEN' $U/api/v1/tasks/$TASK/prs | jq '[.items[] | select(.pr.review_decision != null)] | length')\" = 3 ]"
is "their metadata fetched from the fake" "$(api "$U/api/v1/tasks/$TASK/prs" | jq -r '[.items[].pr.title] | sort | .[0]')" "$XSS"

# Artifacts through the store's bus route, as bosunctl request gives it.
PLAN1='# Plan
step one
step two
step three
'
PLAN2='# Plan
step one
step 2
step three
'
PLAN3='# Plan
step one
step 2 (revised)
step three
step four
'
for body in "$PLAN1" "$PLAN2" "$PLAN3"; do
    ctl request cmd.store.artifacts.put "$(jq -nc --arg t "$TASK" --arg r "$RUN" --arg b "$body" \
        '{task: $t, run: $r, name: "notes/plan.md", mime_type: "text/markdown", text: $b}')" >/dev/null
done
BIN1=AAEC//4K
ctl request cmd.store.artifacts.put "{\"task\":\"$TASK\",\"name\":\"blob.bin\",\"base64\":\"$BIN1\"}" >/dev/null
ctl request cmd.store.artifacts.put "{\"task\":\"$TASK\",\"name\":\"blob.bin\",\"base64\":\"AAEC//4KCw==\"}" >/dev/null
ctl request cmd.store.artifacts.put "$(jq -nc --arg t "$TASK" --arg n "$XSS.txt" '{task: $t, name: $n, text: "hi"}')" >/dev/null
# Two versions with nothing in common, past the page's diff bound.
for p in a b; do
    ctl request cmd.store.artifacts.put "$(seq 1 3000 | sed "s/^/$p/" | jq -Rsc --arg t "$TASK" '{task: $t, name: "big.txt", text: .}')" >/dev/null
done
is "the artifacts stored with their versions" \
    "$(api "$U/api/v1/tasks/$TASK/artifacts" | jq -c '[.items[] | [.name, .versions]] | sort')" \
    "$(jq -nc --arg x "$XSS.txt" '[[$x, 1], ["big.txt", 2], ["blob.bin", 2], ["notes/plan.md", 3]] | sort')"
curl -s -D "$T/dl.h" -o "$T/dl.b" -H "Authorization: Bearer $TOKEN" "$U/api/v1/tasks/$TASK/artifacts/notes%2Fplan.md?version=2"
like "the route names the file in Content-Disposition (inline for markdown)" "$(cat "$T/dl.h")" '[Cc]ontent-[Dd]isposition: inline; filename="plan.md"'

# A question answered, one left open (blocking: the task waits).
wait_for 10 sh -c "[ \"\$(curl -s -H 'Authorization: Bearer $TOKEN' $U/api/v1/runs/$RUN | jq -r .run.state)\" = RUNNING ]"
Q1=$(ctl request cmd.input.create "{\"run\":\"$RUN\",\"question\":\"Which colour?\",\"blocking\":false}" --json | jq -r '.data.input // empty')
is "a question answered" "$(code -d '{"text":"blue"}' "$U/api/v1/inputs/$Q1/answer")" 200
PENDING=$(ctl request cmd.input.create "{\"run\":\"$RUN\",\"question\":\"Ship it?\",\"blocking\":true}" --json | jq -r '.data.input // empty')
wait_for 10 sh -c "[ \"\$(curl -s -H 'Authorization: Bearer $TOKEN' $U/api/v1/tasks/$TASK | jq -r .task.pending_inputs)\" = 1 ]"
is "one left open" "$(api "$U/api/v1/tasks/$TASK" | jq -r .task.pending_inputs)" 1

BASE=$U TOKEN=$TOKEN BOSUNCTL=$BOSUNCTL SOCK="$T/run/bosund.sock" TASK=$TASK TITLES=$TITLES FILLERS=$((FILLERS)) \
    PENDING=$PENDING GH=$GH HOOK_SECRET=$HOOK_SECRET XSS=$XSS PLAN1=$PLAN1 PLAN2=$PLAN2 PLAN3=$PLAN3 BIN1=$BIN1 \
    SHOTS="$top_builddir/tests/web-shots" timeout 180 node "$top_srcdir/tests/web/task.mjs" > "$T/web.out" 2>&1
web_tap "$CHECKS" "$T/web.out"
touch "$T/go"
done_testing
