#!/bin/sh
# An answer to a blocking question that comes while the asking process
# still runs is kept and resumes the run once the process exits, exactly
# as an answer after the exit does.  Each exec agent here waits for a file
# the test makes before it exits, so the answer surely comes first; a
# resumed process prints what it got.  Also: two blocking questions (each
# answer resumes once, in turn), bosund restarted between the answer and
# the exit (the answer comes back from the store), and a run a person stops
# (nothing resumes it), bosund killed between the answer and the exit (the
# next one adopts the process and takes the answer from the store), and a
# resume that finds every instance busy (it comes when one is free).
. "$top_srcdir/tests/integration/lib.sh"
plan 52

# The agent: says what it was resumed with, then waits (60 s at most) for
# $T/go.<its run id>.
cat > "$T/asker.sh" <<EOF2
#!/bin/sh
if [ -n "\$BOSUN_RESUME" ]; then
    echo "resumed request=\$BOSUN_INPUT_REQUEST_ID answer=\$BOSUN_INPUT_ANSWER file=\$(cat "\$BOSUN_INPUT_ANSWER_FILE")"
fi
echo started
i=0
while [ ! -e "$T/go.\$BOSUN_RUN_ID" ] && [ \$i -lt 1200 ]; do sleep 0.05; i=\$((i + 1)); done
echo leaving
EOF2
agent() { printf '  %s:\n    command: [sh, %s]\n    start_secs: 0\n    restart: never\n' "$1" "$T/asker.sh"; }
write_config <<EOF2
  plugins: [sqlite, exec]
  adopt_orphans: true
agents:
$(agent early)
$(agent twice)
$(agent restarted)
$(agent stopped)
$(agent adopted)
$(agent busy)
EOF2
start_daemon || exit 1

started() { ctl logs "$1" 2>/dev/null | grep -q '^started$'; }
ask() { ctl request cmd.input.create "{\"run\":\"$1\",\"question\":\"$2\",\"blocking\":true}" --json | jq -r .data.input; }
task_run() { ctl task create --title "$1" --agent "$1" --json | jq -r .run; }
# resumed_from RUN: the stored runs resumed from RUN, one ID a line.
resumed_from() {
    ctl request cmd.store.runs '{}' --json | jq -r --arg r "$1" '.data.runs[] | select(.resumed_from == $r) | .run'
}
stored_answer() { [ "$(ctl request cmd.store.inputs "{\"input\":\"$1\"}" --json | jq -r '.data.inputs[0].status')" = answered ]; }
has_resumed() { [ -n "$(resumed_from "$1")" ]; }
gone() { [ "$(events "$1" exited | jq length)" -ge 1 ]; }

# --- answered before the exit: resumed once it exits.
r1=$(task_run early)
check "the run's process started" wait_for 20 started "$r1"
in1=$(ask "$r1" "Which colour?")
like "it asked a blocking question" "$in1" '^[0-9A-Z]{26}$'
is "it waits for input while its process still runs" "$(runf "$r1" state) $(runf "$r1" pid | grep -c .)" "WAITING_INPUT 1"
is "the answer while it runs resumes nothing yet" "$(ctl input answer "$in1" blue)" "answered $in1"
is "the run is RUNNING again and says what comes" "$(runf "$r1" state) $(runf "$r1" reason)" \
    "RUNNING input $in1 answered; resumed with it when its process exits"
is "it still knows the question" "$(runf "$r1" waiting_input)" "$in1"
touch "$T/go.$r1"
check "once it exits, it is resumed" wait_for 20 has_resumed "$r1"
r2=$(resumed_from "$r1")
like "as one new run" "$r2" '^[0-9A-Z]{26}$'
check "the resumed run started" wait_for 20 started "$r2"
is "it got the answer, in its env and its file" "$(ctl logs "$r2" | head -1)" "resumed request=$in1 answer=blue file=blue"
is "spawn_started says why" "$(events "$r2" spawn_started | jq -r '.[0].data.resume')" answer
is "the first run ended as resumed" "$(stored_run "$r1" state) $(stored_run "$r1" reason)" \
    "EXITED input $in1 answered; resumed as run $r2"
is "its exit was not classed" "$(events "$r1" spawn_completed | jq -c '.[0].data | [.waiting_input, .class]')" "[\"$in1\",null]"
touch "$T/go.$r2"
check "the resumed run ends" wait_for 20 stored_state_is "$r2" EXITED
is "and is not resumed again" "$(resumed_from "$r1" | wc -l) $(resumed_from "$r2" | wc -l)" "1 0"

# --- two blocking questions: the first answer resumes, the second resumes
# the resumed run in its turn.
t1=$(task_run twice)
check "the asking run started" wait_for 20 started "$t1"
qa=$(ask "$t1" "First?")
qb=$(ask "$t1" "Second?")
is "the first is answered while the process runs" "$(ctl input answer "$qa" one)" "answered $qa"
is "the run still waits, for the second" "$(runf "$t1" state) $(runf "$t1" reason)" "WAITING_INPUT waiting for input $qb"
touch "$T/go.$t1"
check "its exit resumes it with the first answer" wait_for 20 has_resumed "$t1"
t2=$(resumed_from "$t1")
check "the resumed run started" wait_for 20 started "$t2"
is "with the first answer" "$(ctl logs "$t2" | head -1)" "resumed request=$qa answer=one file=one"
is "it took the second question over" "$(runf "$t2" waiting_input)" "$qb"
is "the second, answered while the resumed run runs, resumes nothing yet" "$(ctl input answer "$qb" two)" "answered $qb"
touch "$T/go.$t2"
check "its exit resumes it with the second answer" wait_for 20 has_resumed "$t2"
t3=$(resumed_from "$t2")
check "the third run started" wait_for 20 started "$t3"
is "with the second answer" "$(ctl logs "$t3" | head -1)" "resumed request=$qb answer=two file=two"
touch "$T/go.$t3"
check "the third run ends" wait_for 20 stored_state_is "$t3" EXITED
is "one resume per answer" "$(resumed_from "$t1" | wc -l) $(resumed_from "$t2" | wc -l) $(resumed_from "$t3" | wc -l)" "1 1 0"

# --- a person stops the run after the answer: nothing resumes it.
s1=$(task_run stopped)
check "the run to stop started" wait_for 20 started "$s1"
qs=$(ask "$s1" "Stop me?")
ctl input answer "$qs" yes >/dev/null
ctl stop "$s1" >/dev/null
check "the stopped run ends STOPPED" wait_for 20 stored_state_is "$s1" STOPPED

# --- bosund stops between the answer and the exit (it stops the process):
# the next bosund finds the answer in the store and resumes the run.
b1=$(task_run restarted)
check "the run across the restart started" wait_for 20 started "$b1"
qr=$(ask "$b1" "Across a restart?")
ctl input answer "$qr" kept >/dev/null
stop_daemon
is "bosund stops cleanly, the answered run still waiting" "$DAEMON_STATUS" 0
start_daemon || exit 1
check "the next bosund resumes it" wait_for 20 has_resumed "$b1"
b2=$(resumed_from "$b1")
check "the resumed run started" wait_for 20 started "$b2"
is "with the answer from the store" "$(ctl logs "$b2" | head -1)" "resumed request=$qr answer=kept file=kept"
is "and the stopped run (stopped by a person) was not" "$(resumed_from "$s1" | wc -l)" 0
touch "$T/go.$b2"

# --- bosund killed between the answer and the exit: the next one adopts
# the process, and its exit resumes the run with the stored answer.
k1=$(task_run adopted)
check "the run to adopt started" wait_for 20 started "$k1"
qk=$(ask "$k1" "Across a crash?")
ctl input answer "$qk" adopted >/dev/null
# (A crash after the store has the answer: one before leaves the question
# pending, to be answered again.)
check "the store has the answer" wait_for 20 stored_answer "$qk"
kill -KILL "$DAEMON_PID"; wait "$DAEMON_PID" 2>/dev/null; DAEMON_PID=
start_daemon || exit 1
check "the next bosund adopted its process" wait_for 20 sh -c "[ \"\$(\"$BOSUNCTL\" -s \"$T/run/bosund.sock\" request cmd.store.events '{\"subject\":\"evt.run.adopted.$k1.adopted\"}' --json | jq '.data.events | length')\" -ge 1 ]"
touch "$T/go.$k1"
check "the adopted process's exit resumes the run" wait_for 20 has_resumed "$k1"
k2=$(resumed_from "$k1")
check "the resumed run started" wait_for 20 started "$k2"
is "with the answer from the store" "$(ctl logs "$k2" | head -1)" "resumed request=$qk answer=adopted file=adopted"
touch "$T/go.$k2"

# --- every instance busy when the answer comes: the resume waits for one.
w1=$(task_run busy)
check "the run that asks started" wait_for 20 started "$w1"
qw=$(ask "$w1" "When free?")
touch "$T/go.$w1"
check "it exited waiting" wait_for 20 gone "$w1"
w2=$(ctl start busy)
check "another run took the only instance" wait_for 20 started "$w2"
is "the answer finds no free instance" "$(ctl input answer "$qw" later)" "answered $qw"
is "the run still waits" "$(stored_run "$w1" state) $(resumed_from "$w1" | wc -l)" "WAITING_INPUT 0"
touch "$T/go.$w2"
check "once the other run ends, it is resumed" wait_for 20 has_resumed "$w1"
w3=$(resumed_from "$w1")
check "the resumed run started" wait_for 20 started "$w3"
is "with the answer" "$(ctl logs "$w3" | head -1)" "resumed request=$qw answer=later file=later"
touch "$T/go.$w3"
check "the last resumed run ends" wait_for 20 stored_state_is "$w3" EXITED
stop_daemon
is "bosund stops cleanly" "$DAEMON_STATUS" 0
done_testing
