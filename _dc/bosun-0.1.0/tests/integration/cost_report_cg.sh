#!/bin/sh
# What runs spent (issue 14, cost), for the CLIs that report tokens only:
# the real Codex and Gemini CLIs against their fake APIs, both at once.
# The fake OpenAI API answers 120 input (20 of them cached) and 30 output
# tokens a request, the fake Gemini API 90 prompt (5 cached) and 12 output;
# bosun prices them from its table (gpt-5-codex, gemini-2.5-flash; see
# bosun.yaml(5)).  Every Codex turn is reported live (usage) and then as a
# result with the same counts: the projection must count it once.  The
# expected tokens and costs are computed here from the requests the fakes
# logged and the list prices, not from what bosun stored; `bosunctl cost`
# and GET /api/v1/cost must agree with them, by run, task, agent and day,
# and again after a daemon restart; --machine keeps this daemon's runs
# only, and bosunctl cost over --url (its /ws) answers what the socket does.
. "$top_srcdir/tests/integration/lib.sh"
. "$top_srcdir/tests/integration/codex_lib.sh"
# Both fakes log to $T/fake.log (the Codex requests go to /v1/responses,
# the Gemini ones carry "contents"); the Gemini one writes a new port file.
OPENAI_PID=$FAKE_PID
rm -f "$T/fake.port"
. "$top_srcdir/tests/integration/gemini_lib.sh"
trap 'kill "$OPENAI_PID" "$FAKE_PID" 2>/dev/null; cleanup' EXIT
BOSUN_PLUGIN_PATH="$BOSUN_PLUGIN_PATH:$top_builddir/plugins/http"
PORT=$(/usr/bin/python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')

plan 14

write_config <<EOF2
  plugins: [sqlite, exec, mcp, codex, gemini, http]
http:
  listen: ["127.0.0.1:$PORT"]
agents:
$(codex_agent cx <<EOF3
    model: gpt-5-codex
EOF3
)
$(gemini_agent gm </dev/null)
EOF2
start_daemon || exit 1
TOKEN=$(ctl request cmd.auth.token.create '{"name":"cost"}' --json | jq -r '.data.secret // empty')
cost() { ctl cost "$@" --json; }
same() { awk -v a="$1" -v b="$2" 'BEGIN { d = a - b; exit !(d < 1e-12 && d > -1e-12 && a != "") }'; }

codex_requests() { jq -c 'select(.url == "/v1/responses")' "$FAKE_LOG" | wc -l; }
gemini_requests() { jq -c 'select(.body.contents)' "$FAKE_LOG" | wc -l; }
# run_one AGENT KIND [--task T]: a plain run to its end (runs go one after
# the other); sets RUN and N, the requests the fake of KIND served it.
run_one() {
    _agent=$1 _kind=$2; shift 2
    _before=$(${_kind}_requests)
    RUN=$(ctl start "$_agent" "$@" --prompt "SCENARIO:plain")
    wait_for 120 ended "$RUN" || fail "the run of $_agent ended" "$(ctl ps --json)"
    N=$(($(${_kind}_requests) - _before))
}
# want AGENT-KIND N: [input, output, cache read, cache creation, usd] for N
# requests of the fake, at the list price.
want() {
    case $1 in
    codex) awk -v n="$2" 'BEGIN { printf "[%d,%d,%d,0,%.12f]\n", 100 * n, 30 * n, 20 * n, n * (100 * 1.25 + 30 * 10 + 20 * 0.125) / 1e6 }' ;;
    gemini) awk -v n="$2" 'BEGIN { printf "[%d,%d,%d,0,%.12f]\n", 85 * n, 12 * n, 5 * n, n * (85 * 0.30 + 12 * 2.50 + 5 * 0.03) / 1e6 }' ;;
    esac
}
# close A B: two arrays [tokens..., usd] equal, the cost to 1e-12.
close() {
    [ "$(printf '%s\n' "$1" | jq -c '.[0:4]')" = "$(printf '%s\n' "$2" | jq -c '.[0:4]')" ] &&
        same "$(printf '%s\n' "$1" | jq '.[4]')" "$(printf '%s\n' "$2" | jq '.[4]')"
}
item() { jq -c --arg k "$1" '.items[] | select(.key == $k) | [.input_tokens, .output_tokens, .cache_read_tokens, .cache_creation_tokens, .cost_usd]'; }
add() { jq -nc --argjson a "$1" --argjson b "$2" '[range(5)] | map($a[.] + $b[.])'; }

run_one cx codex --task T1; C1=$RUN nc1=$N
run_one gm gemini --task T1; G1=$RUN ng1=$N
run_one cx codex; C2=$RUN nc2=$N
check "the fakes answered every run ($nc1 $ng1 $nc2 requests)" test "$nc1" -ge 1 -a "$ng1" -ge 1 -a "$nc2" -ge 1
wc1=$(want codex "$nc1") wg1=$(want gemini "$ng1") wc2=$(want codex "$nc2")

BY_RUN=$(cost --by run)
ok_runs=yes
for pair in "$C1 $wc1" "$G1 $wg1" "$C2 $wc2"; do
    set -- $pair
    got=$(printf '%s\n' "$BY_RUN" | item "$1")
    close "$got" "$2" || ok_runs="no: $1 got $got want $2"
done
is "by run: each run's tokens and cost are the fake's at the list price (once, not live + result)" "$ok_runs" yes
check "by task: T1 is the Codex and the Gemini run" close \
    "$(cost --by task | item T1)" "$(add "$wc1" "$wg1")"
check "by agent: cx is its two runs" close "$(cost --by agent | item cx)" "$(add "$wc1" "$wc2")"
check "by agent: gm its one" close "$(cost --by agent | item gm)" "$wg1"
check "by day: today is all three" close "$(cost --by day | item "$(date -u +%F)")" \
    "$(add "$(add "$wc1" "$wg1")" "$wc2")"
is "runs per agent" "$(cost | jq -c '[.items[] | [.key, .runs]]')" '[["cx",2],["gm",1]]'
curl -s --max-time 30 -o "$T/rest.body" -H "Authorization: Bearer $TOKEN" \
    "http://127.0.0.1:$PORT/api/v1/cost?by=agent"
is "GET /api/v1/cost: the same items and total" "$(jq -cS '[.items, .total]' "$T/rest.body")" \
    "$(cost --by agent | jq -cS '[.items, .total]')"
MID=$(ctl status --json | jq -r '.machine_id')
is "cost --machine (this daemon's id): every run" "$(cost --by agent --machine "$MID" | jq -cS .total)" \
    "$(cost --by agent | jq -cS .total)"
is "cost --machine of another machine: nothing" "$(cost --by agent --machine elsewhere | jq -c '[.items, .total.runs]')" '[[],0]'
( umask 077 && printf '%s\n' "$TOKEN" > "$T/token" )
url_cost() { "$BOSUNCTL" --url "http://127.0.0.1:$PORT" --token-file "$T/token" cost --json "$@"; }
is "bosunctl cost --url: the same items and total as over the socket" \
    "$(url_cost --by task | jq -cS '[.items, .total]')" "$(cost --by task | jq -cS '[.items, .total]')"
is "  and with --machine" "$(url_cost --by run --machine "$MID" | jq -cS '[.items, .total]')" \
    "$(cost --by run | jq -cS '[.items, .total]')"
check "ps: the Codex run's cost so far is its priced total" same \
    "$(runf "$C2" cost_usd)" "$(printf '%s\n' "$wc2" | jq '.[4]')"
ALL=$(cost --by run | jq -cS .)
stop_daemon
start_daemon || exit 1
is "after a restart: the same totals" "$(cost --by run | jq -cS .)" "$ALL"
done_testing
