#!/bin/sh
# Agent sessions in the core, with the test agent type "sessions"
# (tests/plugins/sessions.c): the first session id an agent reports is
# stored and a later one never replaces it; an id the type assigns before
# the start is the run's from its spawn on, in BOSUN_SESSION_ID, and wins
# over what the agent claims; resume: always resumes the session on a
# restart, on-answer starts afresh with a new session; resume: on-crash
# resumes a process killed by a signal, on-answer leaves it exited;
# resume: never records an answer without resuming; a run adopted after a
# daemon restart keeps its session.
. "$top_srcdir/tests/integration/lib.sh"
plan 29

agent() { # NAME SCRIPT [EXTRA LINES]
    printf '  %s:\n    type: sessions\n    command: [sh, -c, %s]\n    start_secs: 0\n%s\n' "$1" "'$2'" "${3:-}"
}
# (The configuration expands ${NAME} and $$: the scripts use $NAME, and
# $$$$ for the shell's $$.)
SHOW='echo "env=$BOSUN_SESSION_ID resumed=$RESUMED"'
write_config <<EOF2
  plugins: [sqlite, exec, sessions]
  adopt_orphans: true
agents:
$(agent reporter 'echo "SESSION first-1"; echo "SESSION second-2"; echo "env=$BOSUN_SESSION_ID"' '    restart: never')
$(agent assigned "$SHOW; echo \"SESSION claimed-3\"" '    assign: true
    restart: never')
$(agent keeper "$SHOW; sleep 30" '    assign: true
    resume: always')
$(agent fresh "$SHOW; sleep 30" '    assign: true')
$(agent crasher "$SHOW; [ -n \"\$RESUMED\" ] || kill -KILL \$\$\$\$" '    assign: true
    resume: on-crash
    restart: never
    backoff_base: 0')
$(agent adoptee "$SHOW; sleep 60" '    assign: true')
$(agent asker_never 'sleep 2' '    resume: never
    restart: never')
$(agent crasher_no "$SHOW; kill -KILL \$\$\$\$" '    assign: true
    restart: never')
EOF2
start_daemon || exit 1
exited() { [ "$(runf "$1" state)" = EXITED ]; }
UUID='[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}'

# --- reported: the first id is the run's.
r=$(ctl start reporter)
check "the reporting run exited" wait_for 20 exited "$r"
is "the first session id reported is the run's" "$(runf "$r" session_id)" first-1
is "both session events are published, the second not kept" \
    "$(events "$r" session | jq -c '[.[].data | [.session_id, .kept]]')" '[["first-1",null],["second-2",false]]'
is "the stored run has it too" "$(stored_run "$r" session_id)" first-1

# --- assigned before the start.
a=$(ctl start assigned)
check "the assigned run exited" wait_for 20 exited "$a"
sid=$(runf "$a" session_id)
like "the type assigned a UUID" "$sid" "^$UUID\$"
is "spawn_started carries it" "$(events "$a" spawn_started | jq -r '.[0].data.session_id')" "$sid"
is "the process had it in BOSUN_SESSION_ID" "$(ctl logs "$a" | head -1)" "env=$sid resumed="
is "what the agent claimed later did not replace it" \
    "$(events "$a" session | jq -c '[.[].data | [.session_id, .kept]]') $(runf "$a" session_id)" \
    "[[\"claimed-3\",false]] $sid"

# --- restarts: always resumes the session, on-answer starts afresh.
k=$(ctl start keeper)
f=$(ctl start fresh)
check "both long runs are running" wait_for 20 sh -c "[ \"\$(\"$BOSUNCTL\" -s \"$T/run/bosund.sock\" ps --json | jq '[.[] | select(.agent == \"keeper\" or .agent == \"fresh\") | select(.state == \"RUNNING\")] | length')\" = 2 ]"
ksid=$(runf "$k" session_id); fsid=$(runf "$f" session_id)
ctl restart "$k" >/dev/null
ctl restart "$f" >/dev/null
restarted() { [ "$(runf "$1" restarts)" = 1 ] && [ "$(runf "$1" state)" = RUNNING ]; }
check "keeper restarted" wait_for 20 restarted "$k"
check "fresh restarted" wait_for 20 restarted "$f"
is "resume: always resumed the session on the restart" \
    "$(events "$k" spawn_started | jq -c '[.[].data | [.resume, .session_id]]')" \
    "[[\"none\",\"$ksid\"],[\"crash\",\"$ksid\"]]"
logged() { ctl logs "$1" | grep -q "$2"; }
check "the resumed process had the same session and knew why" wait_for 10 logged "$k" "^env=$ksid resumed=crash\$"
is "resume: on-answer started afresh" "$(events "$f" spawn_started | jq -c '[.[].data.resume]')" '["none","none"]'
nsid=$(runf "$f" session_id)
like "with a new session" "$nsid" "^$UUID\$"
unlike "not the old one" "$nsid" "^$fsid\$"
ctl stop "$k" >/dev/null; ctl stop "$f" >/dev/null

# --- a process killed by a signal it did not get from bosun.
c=$(ctl start crasher)
check "the crashed run was resumed and exited" wait_for 20 sh -c "[ \"\$(\"$BOSUNCTL\" -s \"$T/run/bosund.sock\" ps --json | jq -r '.[] | select(.run == \"$c\") | \"\(.state) \(.restarts)\"')\" = 'EXITED 1' ]"
csid=$(runf "$c" session_id)
is "on-crash: restarted into its session despite restart: never" \
    "$(events "$c" spawn_started | jq -c '[.[].data | [.resume, .session_id]]')" \
    "[[\"none\",\"$csid\"],[\"crash\",\"$csid\"]]"
n=$(ctl start crasher_no)
check "without on-crash the killed run exited" wait_for 20 exited "$n"
is "and was not restarted" "$(runf "$n" restarts) $(runf "$n" reason)" "0 killed by signal 9 (SIGKILL)"

# --- resume: never: a blocking question answered after the exit ends the run.
q=$(ctl task create --title "never resumed" --agent asker_never --json | jq -r .run)
input=$(ctl request cmd.input.create "{\"run\":\"$q\",\"question\":\"which?\",\"blocking\":true}" --json | jq -r .data.input)
like "a blocking question was asked" "$input" '^[0-9A-Z]{26}$'
gone() { [ "$(events "$q" exited | jq length)" = 1 ]; }
check "its process exited" wait_for 20 gone
is "the run waits for the answer" "$(runf "$q" state)" WAITING_INPUT
is "answering resumes nothing" "$(ctl input answer "$input" "this one")" "answered $input"
like "the run ended with the answer recorded, not resumed" "$(runf "$q" state) $(runf "$q" reason)" \
    "^EXITED input $input answered; not resumed \\(resume: never\\)\$"

# --- bosund killed; its successor adopts the run, with its session.
o=$(ctl start adoptee)
check "the run to adopt is running" wait_for 20 run_state_is "$o" RUNNING
osid=$(runf "$o" session_id)
stored_has() { [ "$(stored_run "$o" session_id)" = "$osid" ]; }
wait_for 20 stored_has
kill -KILL "$DAEMON_PID"; wait "$DAEMON_PID" 2>/dev/null; DAEMON_PID=
start_daemon || exit 1
adopted() { [ "$(runf "$o" adopted)" = true ]; }
check "the new bosund adopted the run" wait_for 20 adopted
is "with its session" "$(runf "$o" session_id)" "$osid"
ctl stop "$o" >/dev/null
done_testing
