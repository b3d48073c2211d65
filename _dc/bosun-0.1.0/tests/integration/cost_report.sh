#!/bin/sh
# What runs spent (issue 14, cost): the real Claude Code CLI against the
# fake Anthropic API, which answers 11 input, 7 output, 3 cache-read and 2
# cache-creation tokens a model turn.  Two agents, four runs (three on one
# task, one on none); the store's usage projection, read through
# `bosunctl cost --by run|task|agent|day` and GET /api/v1/cost, must hold
# exactly the fake's tokens -- counted here from the requests the fake
# logged, not from what bosun stored -- although the CLI reports each turn
# live (usage events) and then the run's totals (the result): a double
# count would show.  Costs are Claude's own (the result's total_cost_usd),
# equal to the runs' cost_usd.  --since/--until filter; a daemon restart
# and a rebuild of the projection from the events (the schema migration,
# on a store whose table was dropped) give the same totals; `ps` and
# `task show` (and the REST runs and tasks) show cost so far; a bad --by,
# date or parameter is refused naming what was wrong.
. "$top_srcdir/tests/integration/lib.sh"
if ! command -v sqlite3 >/dev/null; then
    echo "1..0 # SKIP the sqlite3 command is not installed (the rebuild drops a table with it)"; exit 0
fi
. "$top_srcdir/tests/integration/claude_lib.sh"
BOSUN_PLUGIN_PATH="$BOSUN_PLUGIN_PATH:$top_builddir/plugins/http"
PORT=$(/usr/bin/python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')

plan 47

write_config <<EOF2
  plugins: [sqlite, exec, mcp, claude-code, http]
http:
  listen: ["127.0.0.1:$PORT"]
agents:
$(claude_agent cc_a </dev/null)
$(claude_agent cc_b </dev/null)
EOF2
start_daemon || exit 1
TOKEN=$(ctl request cmd.auth.token.create '{"name":"cost"}' --json | jq -r '.data.secret // empty')
# api PATH: GET it with the admin token; the body in $T/rest.body, the
# status printed.
api() {
    curl -s --max-time 30 -o "$T/rest.body" -w '%{http_code}' -H "Authorization: Bearer $TOKEN" \
        "http://127.0.0.1:$PORT$1"
}
# cost ARGS: `bosunctl cost ARGS --json`.
cost() { ctl cost "$@" --json; }
# same A B: two costs equal to 1e-9 USD.
same() { awk -v a="$1" -v b="$2" 'BEGIN { d = a - b; exit !(d < 1e-9 && d > -1e-9 && a != "") }'; }

# run_one AGENT TAG SCENARIO [--task T]: a run to its end; prints its id.
run_one() {
    _agent=$1 _tag=$2 _scen=$3; shift 3
    _run=$(ctl start "$_agent" "$@" --prompt "SCENARIO:$_scen DIR:$T/work $_tag")
    wait_for 120 ended "$_run" || fail "the run $_tag ended" "$(ctl ps --json)"
    printf '%s\n' "$_run"
}
# turns TAG: the model turns the fake answered for the run with that tag.
turns() {
    jq -c 'select(.body.tools and (.body.tools | length) > 0) | .body.messages[0] | tostring' \
        "$FAKE_LOG" | grep -c -- "$1"
}
# fake RUN TAG: [run, input, output, cache read, cache creation] from the
# fake's numbers.
fake() { _n=$(turns "$2"); printf '["%s",%d,%d,%d,%d]\n' "$1" $((11 * _n)) $((7 * _n)) $((3 * _n)) $((2 * _n)); }
rows() { jq -c '[.items[] | [.key, .input_tokens, .output_tokens, .cache_read_tokens, .cache_creation_tokens]]'; }

R1=$(run_one cc_a tag_r1_x plain --task T1)
R2=$(run_one cc_a tag_r2_x tools --task T1)
sleep 1.1
MID=$(date -u +%Y-%m-%dT%H:%M:%SZ)
sleep 1.1
R3=$(run_one cc_b tag_r3_x plain --task T1)
R4=$(run_one cc_b tag_r4_x tools)
check "the fake answered every run (turns: $(turns tag_r1_x) $(turns tag_r2_x) $(turns tag_r3_x) $(turns tag_r4_x))" \
    test "$(turns tag_r1_x)" -ge 1 -a "$(turns tag_r2_x)" -ge 4 -a "$(turns tag_r3_x)" -ge 1 -a "$(turns tag_r4_x)" -ge 4

want_runs=$(printf '%s\n' "$(fake "$R1" tag_r1_x)" "$(fake "$R2" tag_r2_x)" "$(fake "$R3" tag_r3_x)" \
    "$(fake "$R4" tag_r4_x)" | jq -sc 'sort')
BY_RUN=$(cost --by run)
is "by run: each run's tokens are the fake's (live usage then the result: no double count)" \
    "$(printf '%s\n' "$BY_RUN" | rows | jq -c 'sort')" "$want_runs"
sum() { printf '%s\n' "$want_runs" | jq -c "[.[] | select($1)] | [(map(.[1]) | add), (map(.[2]) | add), (map(.[3]) | add), (map(.[4]) | add)]"; }
totals() { jq -c '.total | [.input_tokens, .output_tokens, .cache_read_tokens, .cache_creation_tokens]'; }
is "by run: the total is the fake's sum" "$(printf '%s\n' "$BY_RUN" | totals)" "$(sum true)"
is "by run: four runs, each with its agent and task" \
    "$(printf '%s\n' "$BY_RUN" | jq -c '[.total.runs, ([.items[] | [.agent, .task]] | sort)]')" \
    '[4,[["cc_a","T1"],["cc_a","T1"],["cc_b",null],["cc_b","T1"]]]'
costs_ok=yes
for r in "$R1" "$R2" "$R3" "$R4"; do
    got=$(printf '%s\n' "$BY_RUN" | jq -r --arg r "$r" '.items[] | select(.key == $r) | .cost_usd')
    same "$got" "$(stored_run "$r" cost_usd)" || costs_ok="no: $r $got $(stored_run "$r" cost_usd)"
done
is "by run: each cost is the run's own (Claude's total_cost_usd)" "$costs_ok" yes
check "the costs are not nothing" awk "BEGIN { exit !($(printf '%s\n' "$BY_RUN" | jq .total.cost_usd) > 0) }"

BY_TASK=$(cost --by task)
is "by task: T1 is the sum of its three runs" \
    "$(printf '%s\n' "$BY_TASK" | jq -c '.items[] | select(.key == "T1") | [.input_tokens, .output_tokens, .cache_read_tokens, .cache_creation_tokens]')" \
    "$(sum '.[0] != "'"$R4"'"')"
is "by task: the run without a task has the key null" \
    "$(printf '%s\n' "$BY_TASK" | jq -c '[.items[] | [.key, .runs]]')" '[[null,1],["T1",3]]'
BY_AGENT=$(cost --by agent)
is "by agent: cc_a and cc_b, two runs each" \
    "$(printf '%s\n' "$BY_AGENT" | jq -c '[.items[] | [.key, .runs, .input_tokens]]')" \
    "[[\"cc_a\",2,$(sum '.[0] == "'"$R1"'" or .[0] == "'"$R2"'"' | jq '.[0]')],[\"cc_b\",2,$(sum '.[0] == "'"$R3"'" or .[0] == "'"$R4"'"' | jq '.[0]')]]"
is "the default grouping is by agent" "$(cost | jq -c '[.items[].key]')" '["cc_a","cc_b"]'
BY_DAY=$(cost --by day)
is "by day: today (UTC) holds it all" \
    "$(printf '%s\n' "$BY_DAY" | jq -c '[.items[] | [.key, .input_tokens, .runs]]')" \
    "[[\"$(date -u +%F)\",$(sum true | jq '.[0]'),4]]"
is "by machine: this machine" "$(cost --by machine | jq -c '[.items[] | [.key, .runs]]')" '[["test-machine",4]]'
is "--agent: only that agent's runs" "$(cost --by run --agent cc_b | jq -c '[.items[].key] | sort')" \
    "$(printf '["%s","%s"]' "$R3" "$R4" | jq -c sort)"

# --- --since / --until
is "--since a time: the runs after it" "$(cost --by run --since "$MID" | jq -c '[.items[].key] | sort')" \
    "$(printf '["%s","%s"]' "$R3" "$R4" | jq -c sort)"
is "--until that time: the runs before it" "$(cost --by run --until "$MID" | jq -c '[.items[].key] | sort')" \
    "$(printf '["%s","%s"]' "$R1" "$R2" | jq -c sort)"
is "--since today (a day): everything" "$(cost --since "$(date -u +%F)" | totals)" "$(sum true)"
is "--until today takes today in" "$(cost --until "$(date -u +%F)" | jq .total.runs)" 4
is "--since tomorrow: nothing" "$(cost --since "$(date -u -d tomorrow +%F)" | jq -c '[(.items | length), .total.runs, .total.cost_usd]')" '[0,0,0]'

# --- the table
out=$(ctl cost --by task)
like "the table: a header" "$out" '^TASK +INPUT +OUTPUT +CACHE_READ +CACHE_WRITE +COST +RUNS'
like "and a total line" "$out" "TOTAL +$(sum true | jq '.[0]') +$(sum true | jq '.[1]') .*\\\$[0-9]+\\.[0-9]{4} +4"

# --- REST
# rest CHECK NAME PATH FILTER WANT: GET PATH, then CHECK (is, like) NAME
# with "STATUS FILTER-of-the-body" against WANT.
rest() {
    _hc=$(api "$3")
    "$1" "$2" "$_hc $(jq -rc "$4" "$T/rest.body" 2>/dev/null)" "$5"
}
rest is "GET /api/v1/cost?by=run: 200, the same items and total" "/api/v1/cost?by=run" \
    '[(.items | rows), .total]' "200 $(printf '%s\n' "$BY_RUN" | jq -c '[(.items | rows), .total]')"
rest is "GET /api/v1/cost?since=: filtered the same way" "/api/v1/cost?by=agent&since=$MID" \
    '[.items[] | [.key, .runs]]' '200 [["cc_b",2]]'
rest is "GET /api/v1/cost?task=T1&limit=1: one item, no next page" "/api/v1/cost?by=task&task=T1&limit=1" \
    '[.items[].key, .next, .total.runs]' '200 ["T1",null,3]'
hc=$(api "/api/v1/cost?by=run&limit=3")
next=$(jq -r .next "$T/rest.body")
hc2=$(api "/api/v1/cost?by=run&limit=3&cursor=$next")
is "GET /api/v1/cost pages by key: 3 items and a cursor, then the last one" \
    "$hc $hc2 $(jq -c '[.items[].key, .next]' "$T/rest.body")" \
    "200 200 $(printf '%s\n' "$BY_RUN" | jq -c '[.items[3].key, null]')"
rest is "by=week: 400 naming 'by'" "/api/v1/cost?by=week" .error.message \
    "400 'by' must be run, task, agent, machine or day, not 'week'"
rest like "since=2026-02-30: 400 naming since and why" "/api/v1/cost?since=2026-02-30" .error.message \
    "^400 'since': '2026-02-30' is not a date .*no such day"
hc=$(api "/api/v1/cost?sinse=2026-01-01")
is "an unknown parameter: 400" "$hc" 400
hc=$(curl -s --max-time 30 -o /dev/null -w '%{http_code}' "http://127.0.0.1:$PORT/api/v1/cost")
is "without a token: 401" "$hc" 401

# --- bad options
out=$(ctl cost --by week 2>&1); st=$?
is "--by week: usage error (64) naming it" "$st $out" \
    "64 bosunctl: --by: 'week' is not one of run, task, agent, machine, day"
out=$(ctl cost --since 2026-1-5 2>&1); st=$?
like "--since 2026-1-5: usage error (64) naming it" "$st $out" \
    "^64 bosunctl: --since: '2026-1-5' is not a date \\(YYYY-MM-DD\\) or an RFC 3339 time"
out=$(ctl cost --until 2026-12-01T10:00:00 2>&1); st=$?
like "--until without an offset: usage error naming it" "$st $out" "^64 bosunctl: --until: .*offset"

# --- ps, task show, REST runs and tasks
like "ps: a COST column" "$(ctl ps | head -n 1)" 'EXIT +COST +REASON'
last=$(printf '%s\n' "$BY_RUN" | jq -r --arg r "$R4" '.items[] | select(.key == $r) | .cost_usd')
like "ps: the last run's cost" "$(ctl ps | grep "$R4")" "\\\$$(printf '%.4f' "$last")"
t1=$(printf '%s\n' "$BY_TASK" | jq -r '.items[] | select(.key == "T1") | .cost_usd')
like "task show: the task's cost" "$(ctl task show T1)" "cost: +\\\$$(printf '%.4f' "$t1")"
hc=$(api "/api/v1/tasks/T1")
check "GET /api/v1/tasks/T1: the task's cost_usd" \
    same "$(jq -r '.task.cost_usd' "$T/rest.body")" "$t1"
hc=$(api "/api/v1/runs/$R2")
check "GET /api/v1/runs/{id}: cost_usd" same "$(jq -r '.run.cost_usd // .cost_usd' "$T/rest.body")" \
    "$(printf '%s\n' "$BY_RUN" | jq -r --arg r "$R2" '.items[] | select(.key == $r) | .cost_usd')"

# --- a live run: its usage counts before its result, and a run stopped
# before any result keeps what it reported.
R5=$(ctl start cc_a --task T2 --prompt "SCENARIO:costly tag_r5_x")
live() { [ "$(cost --by run --task T2 | jq '.total.input_tokens')" -gt 0 ] 2>/dev/null; }
check "a live run's usage shows before its result" wait_for 60 live
ctl stop "$R5" >/dev/null
wait_for 30 ended "$R5"
n5=$(turns tag_r5_x)
is "stopped without a result: the turns it reported ($n5 at 60000 input)" \
    "$(cost --by run --task T2 | jq -c '[.total.input_tokens, .total.runs, (.total.cost_usd == 0)]')" \
    "[$((60000 * n5)),1,true]"

# --- ps while a run lives: what it reported so far.  No CLI reports a
# cost before its end: Claude Code's live turns carry tokens only (its cost
# is the result's total_cost_usd), and Codex and Gemini report a turn's
# usage (priced by bosun) when the turn ends, just before the process does.
# So a run held in a long tool call shows its first turn's tokens live and
# no cost yet ("-", not $0).
R6=$(ctl start cc_b --task T3 --prompt "SCENARIO:hold DIR:$T/work tag_r6_x")
ps_of() { ctl ps --json | jq -c --arg r "$1" '.[] | select(.run == $r) | [.state, .tokens.input_tokens, .cost_usd]'; }
held() { [ "$(ps_of "$R6")" = '["RUNNING",11,null]' ]; }
check "ps --json: a live run's first turn's tokens, and no cost yet" wait_for 60 held
# cost_cell RUN: the COST column's cell of RUN's row in `bosunctl ps`.
cost_cell() { ctl ps | awk -v r="$1" 'NR == 1 { for (i = 1; i <= NF; i++) if ($i == "COST") c = i } $2 == r { print $c }'; }
is "  ps: its COST is '-'" "$(cost_cell "$R6")" "-"
is "  the store has the same live turn" "$(cost --by run --task T3 | jq -c '[.total.input_tokens, .total.runs]')" '[11,1]'
ctl stop "$R6" >/dev/null
wait_for 30 ended "$R6" || fail "the run R6 ended" "$(ctl ps --json)"
is "  stopped before its result: ps keeps the turn (the stored state's tokens are the results')" "$(ps_of "$R6")" '["STOPPED",11,null]'
ALL=$(cost --by run | jq -cS .)

# --- a restart, then a rebuild from the events
stop_daemon
start_daemon || exit 1
is "after a restart: the same totals" "$(cost --by run | jq -cS .)" "$ALL"
stop_daemon
DB="$T/state/bosun.db"
store_rewind "$DB" 2
start_daemon || exit 1
like "the store rebuilt the projection from the events" "$(cat "$T/bosund.log")" \
    "migrated from schema version 2 to 3"
is "rebuilt: the same totals by run" "$(cost --by run | jq -cS .)" "$ALL"
is "rebuilt: the same by day" "$(cost --by day | jq -c '[.items[] | [.key, .input_tokens, .runs]]')" \
    "[[\"$(date -u +%F)\",$(printf '%s\n' "$ALL" | jq .total.input_tokens),6]]"
stop_daemon
is "clean stop" "$DAEMON_STATUS" 0
done_testing
