#!/bin/sh
# Commands from the hub to its machines (bosun-fleet(7), "Hub to machine"),
# driven at the bus: links are made with fleet.link.in requests (as the
# http plugin relays /fleet frames), what the hub sends down a link is read
# on fleet.link.out.  Covers bosunctl start --machine (the frame, its h.<n>
# reply subject, the machine's answer as bosunctl's), stop RUN routed by the
# machine whose stored events name the run, an approval routed the same
# way, input answer --machine, task create --machine; an unknown, an
# offline and a revoked machine answered at once; a link that closes
# failing its waiting command at once; no answer in 10 s: gateway_timeout;
# answers for an unknown h.<n> or from another machine's link dropped and
# logged; REST start with "machine" (201, 503 for an offline machine).
. "$top_srcdir/tests/integration/lib.sh"
. "$top_srcdir/tests/integration/fleet_bus_lib.sh"
. "$top_srcdir/tests/integration/http_lib.sh"
plan 40

http_boot
hub_daemon "sqlite, http, fleet" "fleet:
  heartbeat_timeout: 60s" || exit 1

# register CONN ID: a fresh registration token traded on link CONN.
register() {
    _t=$(ctl machine token create 2>/dev/null)
    link "$1" machine.register "{\"token\":\"$_t\",\"machine_id\":\"$2\"}" r.1
}
# sent N: the Nth frame the hub sent down a link (1-based), when there.
sent() { sed -n 's/^[^{]*//p' "$T/out" | jq -c '.frames[]? // empty' 2>/dev/null | sed -n "$1p"; }
nsent() { sed -n 's/^[^{]*//p' "$T/out" | jq -c '.frames[]? // empty' 2>/dev/null | grep -c .; }
wait_sent() { wait_for 10 sh -c "[ \$(sed -n 's/^[^{]*//p' '$T/out' | jq -c '.frames[]? // empty' 2>/dev/null | grep -c .) -ge $1 ]"; }
ms_since() { echo $((($(date +%s%N) - $1) / 1000000)); }

like "m1 registers on link c1" "$(register c1 m1)" '"ok":true'
like "m2 registers on link c2" "$(register c2 m2)" '"ok":true'
watch_link_out

# --- start --machine: down m1's link, m1's answer is bosunctl's
ctl start --machine m1 worker --prompt hi > "$T/start.out" 2>&1 &
P=$!
wait_sent 1
f=$(sent 1)
is "start --machine m1 sends cmd.proc.start down m1's link" "$(sed -n 's/^[^{]*//p' "$T/out" | head -1 | jq -r .conn)" c1
is "  with the request's data, without 'machine'" "$(echo "$f" | jq -c '[.subject, .data]')" '["cmd.proc.start",{"agent":"worker","prompt":"hi"}]'
h=$(echo "$f" | jq -r .reply)
like "  and a reply subject h.<n>" "$h" '^h\.[0-9]+$'
out=$(link c1 "$h" '{"run":"R1","agent":"worker","instance":0,"state":"STARTING"}')
is "the machine's answer gets no frame back" "$(echo "$out" | jq -c .data)" '{"frames":[],"close":0}'
wait "$P"; rc=$?
is "bosunctl start prints the machine's run (exit $rc)" "$(cat "$T/start.out")" R1
like "the hub logged what it sent" "$(cat "$T/bosund.log")" "fleet: machine m1: cmd.proc.start sent as $h"

# --- answers nobody waits for
out=$(link c1 h.999 '{"run":"X"}')
is "an answer for an unknown h.<n> is dropped" "$(echo "$out" | jq -c .data)" '{"frames":[],"close":0}'
like "  with a log line" "$(cat "$T/bosund.log")" 'machine m1: answer h.999 dropped'
ctl start --machine m1 worker > "$T/start2.out" 2>&1 &
P=$!
wait_sent 2
h=$(sent 2 | jq -r .reply)
link c2 "$h" '{"run":"FORGED"}' >/dev/null
like "m2 answering m1's command is dropped and logged" "$(cat "$T/bosund.log")" "machine m2: answer $h dropped"
link c1 "$h" '{"run":"R2"}' >/dev/null
wait "$P"
is "  and m1's own answer still arrives" "$(cat "$T/start2.out")" R2

# --- stop RUN: routed to the machine whose stored events name the run
ctl pub evt.run.worker.R2.state '{"run":"R2","agent":"worker","machine":"m1","state":"RUNNING"}'
wait_for 10 sh -c "\"$BOSUNCTL\" -s \"$T/run/bosund.sock\" --json request cmd.store.events '{\"subject\":\"evt.run.*.R2.state\"}' | grep -q m1"
ctl stop R2 > "$T/stop.out" 2>&1 &
P=$!
wait_sent 3
is "stop R2 (a run of m1's) goes down m1's link" "$(sent 3 | jq -c '[.subject, .data]')" '["cmd.proc.stop",{"target":"R2"}]'
link c1 "$(sent 3 | jq -r .reply)" '{"stopped":["R2"]}' >/dev/null
wait "$P"
is "  and prints the machine's answer" "$(cat "$T/stop.out")" "stopped R2"
out=$(ctl stop NOSUCH 2>&1); rc=$?
like "stop of a run nobody has: the hub's own not_found (exit $rc)" "$out" "no run or agent named 'NOSUCH'"
is "  and nothing was sent" "$(nsent)" 3

# --- an approval of m1's, by its stored request
A=01JAAAAAAAAAAAAAAAAAAAAAA1
ctl pub "evt.approval.$A.requested" "{\"id\":\"$A\",\"machine\":\"m1\",\"tool\":\"Bash\"}"
wait_for 10 sh -c "\"$BOSUNCTL\" -s \"$T/run/bosund.sock\" --json request cmd.store.events '{\"subject\":\"evt.approval.$A.requested\"}' | grep -q m1"
ctl approval allow "$A" > "$T/appr.out" 2>&1 &
P=$!
wait_sent 4
is "approval allow of m1's request goes to m1" "$(sent 4 | jq -c '[.subject, .data.id, .data.decision]')" "[\"cmd.approval.answer\",\"$A\",\"allow\"]"
link c1 "$(sent 4 | jq -r .reply)" "{\"id\":\"$A\",\"decision\":\"allow\",\"decided_by\":\"me\"}" >/dev/null
wait "$P"; rc=$?
check "  and succeeds with m1's answer (exit $rc)" test "$rc" -eq 0

# --- input answer --machine and task create --machine
I=01JBBBBBBBBBBBBBBBBBBBBBB2
ctl input answer --machine m2 "$I" left > "$T/ans.out" 2>&1 &
P=$!
wait_sent 5
is "input answer --machine m2 goes to m2" "$(sent 5 | jq -c '[.subject, .data.input, .data.answer]')" "[\"cmd.input.answer\",\"$I\",\"left\"]"
is "  on m2's link" "$(sed -n 's/^[^{]*//p' "$T/out" | sed -n 5p | jq -r .conn)" c2
link c2 "$(sent 5 | jq -r .reply)" "{\"input\":\"$I\",\"answer\":\"left\",\"resumed\":\"R9\"}" >/dev/null
wait "$P"
is "  and prints the resumed run" "$(cat "$T/ans.out")" "answered $I; resumed as run R9"
ctl task create --machine m2 --title 'on m2' --agent worker > "$T/task.out" 2>&1 &
P=$!
wait_sent 6
is "task create --machine m2 goes to m2" "$(sent 6 | jq -c '[.subject, .data.title, .data.agent]')" '["cmd.task.create","on m2","worker"]'
link c2 "$(sent 6 | jq -r .reply)" '{"task":"T1","run":"R7"}' >/dev/null
wait "$P"
like "  and prints m2's task and run" "$(cat "$T/task.out")" 'started run R7 of worker'

# --- unknown, offline, revoked: at once
s=$(date +%s%N)
out=$(ctl start --machine m9 worker 2>&1); rc=$?
like "an unknown machine: not_found (exit $rc)" "$out" 'not_found|no machine m9'
ctl pub fleet.link.closed '{"conn":"c2"}'
wait_for 10 sh -c "\"$BOSUNCTL\" -s \"$T/run/bosund.sock\" machine list | grep -q 'm2 .*offline'"
s=$(date +%s%N)
out=$(ctl start --machine m2 worker 2>&1); rc=$?
ms=$(ms_since "$s")
like "an offline machine: machine_offline (exit $rc)" "$out" 'machine_offline|offline'
check "  at once ($ms ms < 1000)" test "$ms" -lt 1000
is "  nothing was sent" "$(nsent)" 6

# --- a link that closes while a command waits
ctl start --machine m1 worker > "$T/start3.out" 2>&1 &
P=$!
wait_sent 7
s=$(date +%s%N)
ctl pub fleet.link.closed '{"conn":"c1"}'
wait "$P"; rc=$?
ms=$(ms_since "$s")
like "a closed link fails its waiting command: machine_offline (exit $rc)" "$(cat "$T/start3.out")" 'closed before it answered'
check "  at once ($ms ms < 1000)" test "$ms" -lt 1000

# --- no answer in 10 s
like "m1 registers again on link c3" "$(register c3 m1)" '"ok":true'
s=$(date +%s%N)
out=$(ctl start --machine m1 worker 2>&1); rc=$?
ms=$(ms_since "$s")
like "a machine that does not answer: gateway_timeout (exit $rc)" "$out" 'gateway_timeout|did not answer'
check "  after 10 s ($ms ms)" test "$ms" -ge 9500 -a "$ms" -lt 14000
like "  logged" "$(cat "$T/bosund.log")" 'machine m1: no answer to cmd.proc.start'

# --- REST: POST /api/v1/agents/{name}/start with "machine"
TOK=$(cat "$T/boot.tok")
api() { curl -s -o "$T/body" -w '%{http_code}' -H "Authorization: Bearer $TOK" -H 'Content-Type: application/json' "$@"; }
api -X POST -d '{"machine":"m1","prompt":"p"}' "http://127.0.0.1:$PORT/api/v1/agents/worker/start" > "$T/code" &
P=$!
wait_sent 9
f=$(sent 9)
is "REST start with machine m1 sends cmd.proc.start to m1" "$(echo "$f" | jq -c '[.subject, .data.agent, .data.prompt]')" '["cmd.proc.start","worker","p"]'
link c3 "$(echo "$f" | jq -r .reply)" '{"run":"R5","agent":"worker","instance":0,"state":"STARTING"}' >/dev/null
wait "$P"
is "  201" "$(cat "$T/code")" 201
is "  with the machine's run" "$(jq -c .run.run "$T/body")" '"R5"'
code=$(api -X POST -d '{"machine":"m2"}' "http://127.0.0.1:$PORT/api/v1/agents/worker/start")
is "REST start on an offline machine: 503" "$code" 503
is "  machine_offline" "$(jq -r .error.code "$T/body")" machine_offline
ctl machine revoke m1 >/dev/null
out=$(ctl start --machine m1 worker 2>&1)
like "a revoked machine: machine_offline, revoked" "$out" 'revoked'
like "the fleet's error codes are bosunctl's exit message" "$out" 'machine_offline'
kill "$SUB" 2>/dev/null
stop_daemon
done_testing
