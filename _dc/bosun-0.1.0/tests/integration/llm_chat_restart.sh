#!/bin/sh
# An interactive llm run: it waits idle for a person's message (bosunctl
# chat), answers it, and waits again.  Its conversation is in the store:
# killed (resume: on-crash), the run restarts with the same session, reloads the history and
# answers the message that came while it was down, with the whole
# conversation as context.
. "$top_srcdir/tests/integration/llm_lib.sh"
plan 16
llm_daemon '{"turns": [
  {"text": ["first answer"]},
  {"text": ["second answer"]},
  {"text": ["third answer"]},
  {"text": ["plain one"]},
  {"text": ["plain two"]}
]}' <<EOF2
  chatter:
    type: llm
    workdir: $T/ws
    start_secs: 0
    restart: on-failure
    backoff_base: 3s
    resume: on-crash
    interactive: true
    llm: {provider: openai, base_url: "@FAKE_URL@", model: fake-model, retries: 0}
  plain:
    type: llm
    workdir: $T/ws
    start_secs: 0
    restart: on-failure
    backoff_base: 0
    interactive: true
    llm: {provider: openai, base_url: "@FAKE_URL@", model: fake-model, retries: 0}
EOF2
[ $? -eq 0 ] || exit 1
status_of() { llm_events "$1" status | jq -r .status | tail -n 1; }
msgs() { llm_events "$1" message | jq -r .text | tr '\n' '|'; }

RUN=$(ctl start chatter)
wait_for 20 test "$(status_of "$RUN")" = idle
is "without a prompt an interactive run waits idle" "$(status_of "$RUN")" idle
is "and asks the model nothing" "$(fake_requests)" 0
ctl chat "$RUN" "hello" >/dev/null
wait_for 20 sh -c "ctl() { \"$BOSUNCTL\" -s \"$T/run/bosund.sock\" \"\$@\"; }; ctl events --subject 'evt.run.*.$RUN.message' --json | grep -q 'first answer'"
is "a person's message is answered" "$(msgs "$RUN")" "first answer|"
wait_for 10 test "$(status_of "$RUN")" = idle
is "then it is idle again" "$(status_of "$RUN")" idle
is "still running" "$(runf "$RUN" state)" RUNNING
session=$(llm_events "$RUN" session | jq -r .session_id | head -n 1)

pid=$(runf "$RUN" pid)
kill -KILL "$pid"
wait_for 10 sh -c "[ \"\$(\"$BOSUNCTL\" -s \"$T/run/bosund.sock\" ps --json | jq -r '.[] | select(.run == \"$RUN\") | .state')\" = BACKOFF ]"
is "killed, the run backs off before its restart" "$(runf "$RUN" state)" BACKOFF
ctl chat "$RUN" "are you back?" >/dev/null
wait_for 20 sh -c "\"$BOSUNCTL\" -s \"$T/run/bosund.sock\" events --subject 'evt.run.*.$RUN.message' --json | grep -q 'second answer'"
is "restarted, it answers the message that came meanwhile" "$(msgs "$RUN")" "first answer|second answer|"
is "it is the same run" "$(runf "$RUN" restarts)" 1
is "with the same session" "$(llm_events "$RUN" session | jq -r .session_id | sort -u)" "$session"
last=$(tail -n 1 "$FAKE_LOG")
is "the model got the whole conversation back" \
    "$(echo "$last" | jq -r '[.body.messages[] | select(.role != "system") | .role + ":" + .content] | join("|")')" \
    "user:hello|assistant:first answer|user:are you back?"
ctl chat "$RUN" "and now?" >/dev/null
wait_for 20 sh -c "\"$BOSUNCTL\" -s \"$T/run/bosund.sock\" events --subject 'evt.run.*.$RUN.message' --json | grep -q 'third answer'"
is "live messages are answered after the restart" "$(msgs "$RUN")" "first answer|second answer|third answer|"
hist=$(ctl request cmd.llm.chat.history "{\"run\":\"$RUN\"}" | jq -r '[.items[] | .role] | join(",")')
is "the history holds the whole conversation once" "$hist" "user,assistant,user,assistant,user,assistant"
ctl stop "$RUN" >/dev/null
wait_for 20 llm_ended "$RUN"
is "stopped, the run ends" "$(runf "$RUN" state)" STOPPED

# Restarted without resume (restart: on-failure): the same session too.
P=$(ctl start plain)
wait_for 20 test "$(status_of "$P")" = idle
ctl chat "$P" "one" >/dev/null
wait_for 20 sh -c "\"$BOSUNCTL\" -s \"$T/run/bosund.sock\" events --subject 'evt.run.*.$P.message' --json | grep -q 'plain one'"
psession=$(llm_events "$P" session | jq -r .session_id | head -n 1)
kill -KILL "$(runf "$P" pid)"
wait_for 20 sh -c "[ \"\$(\"$BOSUNCTL\" -s \"$T/run/bosund.sock\" ps --json | jq -r '.[] | select(.run == \"$P\") | .restarts')\" = 1 ]"
wait_for 20 sh -c "[ \$(\"$BOSUNCTL\" -s \"$T/run/bosund.sock\" events --subject 'evt.run.*.$P.session' --json | wc -l) -ge 2 ]"
is "a plain restart keeps the session as well" "$(llm_events "$P" session | jq -r .session_id | sort -u)" "$psession"
ctl chat "$P" "two" >/dev/null
wait_for 20 sh -c "\"$BOSUNCTL\" -s \"$T/run/bosund.sock\" events --subject 'evt.run.*.$P.message' --json | grep -q 'plain two'"
is "and its conversation" \
    "$(tail -n 1 "$FAKE_LOG" | jq -r '[.body.messages[] | select(.role != "system") | .content] | join("|")')" "one|plain one|two"
stop_daemon
is "daemon stops: exit 0" "$DAEMON_STATUS" 0
done_testing
