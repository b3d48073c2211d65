#!/bin/sh
# Every tool call of an llm run goes through the approval policy: a deny
# rule refuses it (the model is told, the loop goes on), an allow rule
# lets it run, ask waits for a person (allowed here), and ask with nobody
# answering is denied at the policy's timeout.
. "$top_srcdir/tests/integration/llm_lib.sh"
plan 15
llm_daemon '{"turns": [
  {"tool_calls": [{"id": "d1", "name": "bash", "arguments": {"command": "rm -rf /tmp/x"}}]},
  {"text": ["ok, not removing"]},
  {"tool_calls": [{"id": "a1", "name": "read_file", "arguments": {"path": "r.txt"}}]},
  {"text": ["read"]},
  {"tool_calls": [{"id": "q1", "name": "write_file", "arguments": {"path": "asked.txt", "content": "yes"}}]},
  {"text": ["written after asking"]},
  {"tool_calls": [{"id": "q2", "name": "write_file", "arguments": {"path": "never.txt", "content": "no"}}]},
  {"text": ["nobody answered"]}
]}' "    approvals:
      allow: [read_file]
      deny: ['bash(rm *)']
      ask: [write_file]
      timeout: 2s
      on_timeout: deny" </dev/null || exit 1
echo "readable" > "$T/ws/r.txt"

llm_run "remove things"
r=$(llm_events "$RUN" tool_result)
is "a deny rule refuses the call" "$(echo "$r" | jq -r .category)" denied
like "the model is told it was the policy" "$(echo "$r" | jq -r .content)" "denied by bosun's approval policy"
is "the loop goes on" "$(llm_events "$RUN" result | jq -r .subtype)" success
like "the decision is an event naming the rule" \
    "$(ctl events --subject 'evt.approval.*.decided' --json | jq -r 'select(.data.run == "'"$RUN"'") | .data.decided_by')" "rule:bash\(rm \*\)"

llm_run "read a file"
is "an allow rule lets it run" "$(llm_events "$RUN" tool_result | jq -r .content)" "readable"

RUN=$(ctl start coder --prompt "write after asking")
wait_for 20 sh -c "[ -n \"\$(\"$BOSUNCTL\" -s \"$T/run/bosund.sock\" approval list --json | jq -r '.[0].id // empty')\" ]"
id=$(ctl approval list --json | jq -r '.[0].id')
like "ask opens an approval request" "$id" '^[0-9A-Z]{26}$'
is "for the tool and run" "$(ctl approval show "$id" | jq -r '.tool + " " + .run')" "write_file $RUN"
is "the file is not written before the answer" "$(test -e "$T/ws/asked.txt" && echo yes || echo no)" no
is "the run waits, running" "$(runf "$RUN" state)" RUNNING
ctl approval allow "$id" >/dev/null
wait_for 20 llm_ended "$RUN"
is "allowed, the call ran" "$(cat "$T/ws/asked.txt")" yes
is "and the run ended well" "$(llm_events "$RUN" result | jq -r .subtype)" success

llm_run "write with nobody there"
r=$(llm_events "$RUN" tool_result)
is "ask without an answer is denied at the timeout" "$(echo "$r" | jq -r .category)" denied
like "saying nobody answered" "$(echo "$r" | jq -r .content)" "nobody answered"
is "nothing was written" "$(test -e "$T/ws/never.txt" && echo yes || echo no)" no
stop_daemon
is "daemon stops: exit 0" "$DAEMON_STATUS" 0
done_testing
