#!/bin/sh
# A hub's copy of its machines' events, driven through the bus interface of
# the fleet plugin (fleet.link.in as the http plugin relays /fleet frames,
# fleet.link.out for what the hub sends on its own): machine.events checked
# (a bad batch is refused naming what was wrong, the link closed 1008,
# nothing of it stored), stored with machine and machine seq, acknowledged
# once committed (in the answer to its fleet.link.in), a batch sent again
# stored once; runs, tasks and inputs
# projected per machine and filterable; the events only on the stored.*
# feed, never on evt.>; acked_seq at register read from the store, also
# after a restart and a kill -9.
. "$top_srcdir/tests/integration/lib.sh"
BOSUN_PLUGIN_PATH="$top_builddir/plugins/fleet:${BOSUN_PLUGIN_PATH:-}"
export BOSUN_PLUGIN_PATH
command -v jq >/dev/null 2>&1 || { echo "1..0 # SKIP jq not installed"; exit 77; }
plan 56

write_config <<'EOF2'
  plugins: [sqlite, fleet]
EOF2
start_daemon || exit 1

# link CONN SUBJECT DATA [REPLY]: one frame in, the hub's answer out.
link() {
    _r=${4:+,\"reply\":\"$4\"}
    ctl --json request fleet.link.in \
        "{\"conn\":\"$1\",\"peer\":\"127.0.0.1:5$1\",\"frame\":{\"subject\":\"$2\",\"data\":$3$_r}}"
}
# ev SEQ SUBJECT DATA: one event of a batch.
ev() { printf '{"seq":%s,"subject":"%s","time":1700000%03d.5,"data":%s}' "$1" "$2" "$1" "$3"; }
# A batch's answer waits for its commit and holds its machine.ack: kept in
# $T/answers (with its conn) for acks, as frames on fleet.link.out are.
batch() {
    _c=$1; shift; _e=$(printf '%s,' "$@")
    _a=$(link "$_c" machine.events "{\"events\":[${_e%,}]}")
    printf '{"conn":"%s","answer":%s}\n' "$_c" "$_a" >> "$T/answers"
    printf '%s\n' "$_a"
}
q() { ctl --json request "$1" "$2" | jq -c ".data | ${3:-.}"; }
acks() { cat "$T/out" "$T/answers" 2>/dev/null | grep -c "\"conn\":\"$1\".*\"machine.ack\".*\"seq\":$2\b"; }
has_ack() { [ "$(acks "$1" "$2")" -ge "${3:-1}" ]; }
mseqs() { q cmd.store.events "{\"machine\":\"$1\",\"subject\":\"evt.fleettest.>\"}" '[.events[].machine_seq]'; }

reg1=$(ctl machine token create 2>/dev/null)
reg2=$(ctl machine token create 2>/dev/null)
out=$(link 1 machine.register "{\"token\":\"$reg1\",\"machine_id\":\"m1\"}" r.1)
like "m1 registers: acked_seq 0, from the store" "$out" '"ok":true.*"acked_seq":0'
mch1=$(printf '%s' "$out" | sed -n 's/.*"machine_token":"\(bsn_mch_[^"]*\)".*/\1/p')
like "m2 registers" "$(link 2 machine.register "{\"token\":\"$reg2\",\"machine_id\":\"m2\"}" r.1)" '"ok":true'

ctl sub 'fleet.link.out' > "$T/out" 2>&1 &
S1=$!
ctl sub 'stored.evt.>' > "$T/stored" 2>&1 &
S2=$!
ctl sub 'evt.>' > "$T/live" 2>&1 &
S3=$!
wait_subs 3

R1='{"run":"R1","agent":"a","instance":0,"task":"K1","machine":"liar","state":"RUNNING","pid":7,"created_at":1700000001,"updated_at":1700000001}'
out=$(batch 1 "$(ev 1 evt.fleettest.e '{"i":1}')" "$(ev 2 evt.run.a.R1.state "$R1")" \
    "$(ev 3 evt.task.K1.updated '{"task":"K1","title":"m1 task","status":"open"}')" \
    "$(ev 4 evt.input.I1.requested '{"input":"I1","run":"R1","task":"K1","agent":"a","question":"why?","blocking":true}')" \
    "$(ev 5 evt.run.a.R1.token_issued '{"run":"R1","task":"K1","agent":"a","hash":"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa","expires_at":1900000000}')" \
    "$(ev 6 evt.fleettest.e '{"i":2}')")
is "a good batch is answered once committed: machine.ack {seq: 6}" \
    "$(printf '%s' "$out" | jq -c '[.data.frames[0].subject, .data.frames[0].data.seq, .data.close]')" '["machine.ack",6,0]'
check "  and only there, not on fleet.link.out as well" sh -c "! grep -q machine.ack '$T/out'"
is "the hub has m1's events by machine seq" "$(mseqs m1)" '[1,6]'
ev1=$(q cmd.store.events '{"machine":"m1","subject":"evt.fleettest.>","limit":1}' '.events[0]')
is "stored with machine m1 and its data" "$(printf '%s' "$ev1" | jq -c '[.machine, .machine_seq, .data.i, .data.machine, .time]')" \
    '["m1",1,1,"m1",1700000001.5]'

batch 2 "$(ev 3 evt.fleettest.e '{"i":1}')" "$(ev 9 evt.fleettest.e '{"i":2}')" \
    "$(ev 10 evt.run.a.R2.state '{"run":"R2","agent":"a","state":"EXITED","created_at":1700000002}')" \
    "$(ev 11 evt.run.a.R1.state '{"run":"R1","agent":"a","state":"EXITED","created_at":1700000003}')" >/dev/null
check "m2's batch acknowledged up to 11" wait_for 10 has_ack 2 11
is "m2's events have m2's seqs (gaps kept)" "$(mseqs m2)" '[3,9]'

# Sent again after a reconnect: skipped, acknowledged, not stored twice.
batch 1 "$(ev 1 evt.fleettest.e '{"i":1}')" "$(ev 6 evt.fleettest.e '{"i":2}')" \
    "$(ev 7 evt.fleettest.e '{"i":3}')" >/dev/null
check "a resent batch is acknowledged up to its new event" wait_for 10 has_ack 1 7
is "each of m1's events once" "$(mseqs m1)" '[1,6,7]'
batch 1 "$(ev 2 evt.fleettest.e '{"i":1}')" >/dev/null
check "a batch of old events only: acknowledged with the highest stored" wait_for 10 has_ack 1 7 2
unlike "no store error for the duplicates" "$(cat "$T/bosund.log")" 'UNIQUE|cannot commit'

# Projections, per machine.
is "runs of m1: R1, as m1's (not what its data said)" \
    "$(q cmd.store.runs '{"machine":"m1"}' '[.runs[] | [.run, .machine, .state]]')" '[["R1","m1","RUNNING"]]'
is "runs of m2: R2 only (its R1 is another machine's id)" \
    "$(q cmd.store.runs '{"machine":"m2"}' '[.runs[] | [.run, .state]]')" '[["R2","EXITED"]]'
like "the id clash is logged" "$(cat "$T/bosund.log")" 'the run of event evt.run.a.R1.state \(machine m2\) has the id of another machine'
is "no runs of the hub itself" "$(q cmd.store.runs '{"machine":"test-machine"}' '.runs | length')" 0
is "tasks of m1, with machine" "$(q cmd.store.tasks '{"machine":"m1"}' '[.tasks[] | [.task, .title, .machine, .pending_inputs]]')" \
    '[["K1","m1 task","m1",1]]'
is "tasks of the hub: none" "$(q cmd.store.tasks '{"machine":"test-machine"}' '.tasks | length')" 0
is "inputs of m1, with machine" "$(q cmd.store.inputs '{"machine":"m1"}' '[.inputs[] | [.input, .status, .machine]]')" \
    '[["I1","pending","m1"]]'
is "inputs of m2: none" "$(q cmd.store.inputs '{"machine":"m2"}' '.inputs | length')" 0
is "a machine's token hash is not the hub's" \
    "$(q cmd.store.tokens '{"hash":"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"}' '.tokens | length')" 0
ctl pub evt.task.K9.updated '{"task":"K9","title":"the hub'"'"'s"}'
wait_for 10 sh -c "grep -q stored.evt.task.K9 '$T/stored'"
is "a local task: the hub's machine" "$(q cmd.store.tasks '{"machine":"test-machine"}' '[.tasks[] | [.task, .machine]]')" \
    '[["K9","test-machine"]]'
is "all tasks: both" "$(q cmd.store.tasks '{}' '[.tasks[].task] | sort')" '["K1","K9"]'

# bosunctl on the hub: every machine, with a MACHINE column, --machine.
like "ps: m1's active run, with its machine" "$(ctl ps)" 'a +R1 +RUNNING .* m1$'
is "ps --json: the run carries machine m1" "$(ctl --json ps | jq -c '[.[] | select(.run == "R1") | .machine]')" '["m1"]'
is "ps --machine m2: nothing active" "$(ctl --json ps --machine m2 | jq -c 'length')" 0
like "task list: K1 of m1 and K9 of the hub" "$(ctl task list)" 'K1 +m1 task +open .* m1
.*K9|K9 .* test-machine
.*K1 +m1 task +open .* m1'
is "task list --machine m1" "$(ctl --json task list --machine m1 | jq -c '[.[].task]')" '["K1"]'
like "input list --machine m1: I1" "$(ctl input list --machine m1)" 'I1 +K1 +R1 +pending +why\? +m1'
is "events --machine m2: m2's four" "$(ctl events --machine m2 | grep -c ' @m2 evt\.')" 4
is "events: a local event has no @machine" "$(ctl events --subject 'evt.task.K9.>' | grep -c '@')" 0

# Live: on the stored feed with machine and machine_seq, never as evt.>.
like "stored feed: m1's event with machine and machine_seq" "$(cat "$T/stored")" \
    'stored.evt.fleettest.e.*"machine":"m1".*"machine_seq":7'
is "stored feed: each machine event once" "$(grep -c 'stored.evt.fleettest.e' "$T/stored")" 5
unlike "nothing of the machines' on evt.>" "$(cat "$T/live")" 'evt\.fleettest|evt\.run\.a\.R'
like "the local event is on evt.>" "$(cat "$T/live")" 'evt.task.K9.updated'

# Bad batches: refused, named, 1008, nothing stored.
n0=$(q cmd.store.status '{}' '.events')
bad() { out=$(link 1 machine.events "$2"); like "$1" "$out" "\"subject\":\"machine.error\".*\"code\":\"bad_request\".*$3.*\"close\":1008"; }
bad "seq not increasing" "{\"events\":[$(ev 20 evt.x.a '{}'),$(ev 20 evt.x.a '{}')]}" 'events\[1\]\.seq: 20 after 20'
bad "not an evt. subject" "{\"events\":[$(ev 21 cmd.proc.stop '{}')]}" 'events\[0\]\.subject'
bad "an invalid subject" "{\"events\":[$(ev 21 'evt..x' '{}')]}" 'events\[0\]\.subject'
bad "data not an object" "{\"events\":[$(ev 21 evt.x.a '[1]')]}" 'events\[0\]\.data: not an object'
bad "time not a number" '{"events":[{"seq":21,"subject":"evt.x.a","time":"now","data":{}}]}' 'events\[0\]\.time'
bad "an unknown key" "{\"events\":[$(ev 21 evt.x.a '{}')],\"more\":1}" "unknown key 'more'"
bad "an unknown key in an event" '{"events":[{"seq":21,"subject":"evt.x.a","time":1.5,"data":{},"colour":1}]}' \
    "events\\[0\\]: unknown key 'colour'"
bad "no events" '{"events":[]}' "1 to 256 events"
# The store's own guard, for any plugin that calls it: a bad event refuses
# the whole request, the good one before it is not stored either.
remote() { ctl --json request cmd.store.append_remote "{\"machine\":\"m1\",\"events\":[$(ev 21 evt.x.a '{}'),$1]}"; }
like "store: an unknown key in an event refused" \
    "$(remote '{"seq":22,"subject":"evt.x.a","time":1.5,"data":{},"colour":1}')" '"code":"bad_request".*events\[1\]: an object'
like "store: an event without data refused" "$(remote '{"seq":22,"subject":"evt.x.a","time":1.5}')" \
    '"code":"bad_request".*events\[1\]\.data: an object'
like "store: a seq not above the one before refused" "$(remote "$(ev 21 evt.x.a '{}')")" \
    '"code":"bad_request".*events\[1\]\.seq: an integer above 21'
like "store: a non-evt. subject refused" "$(remote "$(ev 22 cmd.x.a '{}')")" \
    '"code":"bad_request".*events\[1\]\.subject: an evt\. subject'
many=$(seq 21 277 | while read -r i; do ev "$i" evt.x.a '{}'; echo; done | paste -sd, -)
bad "257 events" "{\"events\":[$many]}" "1 to 256 events"
# Too large for one argument of bosunctl: straight to the control socket.
out=$(/usr/bin/python3 - "$T/run/bosund.sock" <<'PY'
import json, socket, sys
ev = lambda i: {"seq": i, "subject": "evt.x.a", "time": 1.5, "data": {"b": "x" * 140000}}
frame = {"subject": "machine.events", "data": {"events": [ev(21), ev(22)]}}
req = {"op": "request", "subject": "fleet.link.in", "timeout": 10, "id": 1,
       "data": {"conn": "1", "frame": frame}}
s = socket.socket(socket.AF_UNIX)
s.settimeout(20)
s.connect(sys.argv[1])
s.sendall(json.dumps(req).encode() + b"\n")
buf = b""
while b"\n" not in buf:
    chunk = s.recv(65536)
    if not chunk:
        break
    buf += chunk
print(buf.split(b"\n")[0].decode())
PY
)
like "over 256 KiB: refused, 1008" "$out" '"code":"bad_request".*bytes in 2 events, over 262144.*"close":1008'
is "nothing of the bad batches stored" "$(q cmd.store.status '{}' '.events')" "$n0"
like "a bad batch is logged with its reason" "$(cat "$T/bosund.log")" 'machine m1: bad batch, link 1 closed: events\[1\]\.seq'

# acked_seq at register comes from the store: after a restart, and after a
# kill -9 right behind an acknowledgement.
kill "$S1" "$S2" "$S3" 2>/dev/null
stop_daemon
start_daemon || exit 1
is "after a restart: m1's acked_seq is its highest stored" \
    "$(link 3 machine.register "{\"token\":\"$mch1\",\"machine_id\":\"m1\"}" r.2 | jq -c '.data.frames[0].data.acked_seq')" 7
ctl sub 'fleet.link.out' > "$T/out" 2>&1 &
S1=$!
wait_subs 1
batch 3 "$(ev 8 evt.fleettest.e '{"i":4}')" >/dev/null
check "the next batch acknowledged" wait_for 10 has_ack 3 8
kill "$S1" 2>/dev/null
kill -KILL "$DAEMON_PID"
wait "$DAEMON_PID" 2>/dev/null
start_daemon || exit 1
is "after kill -9: acked_seq is the acknowledged one" \
    "$(link 4 machine.register "{\"token\":\"$mch1\",\"machine_id\":\"m1\"}" r.2 | jq -c '.data.frames[0].data.acked_seq')" 8
is "and the hub has each of m1's events once" "$(mseqs m1)" '[1,6,7,8]'
stop_daemon
is "the hub stops cleanly" "$DAEMON_STATUS" 0
done_testing
