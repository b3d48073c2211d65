#!/bin/sh
# bosun-llm decides its calls from its copy of the approval policies
# (cmd.approval.policy, kept fresh by evt.approval.policy.changed) when a
# rule or a default decides: no approval request, the decision recorded
# with cmd.approval.record as an event naming the rule ("local": true).
# An ask still goes to bosund; a sticky rule made by answering it with
# --always, and a reload, take effect for the run already running.
. "$top_srcdir/tests/integration/llm_lib.sh"
plan 24
llm_daemon '{"turns": [
  {"tool_calls": [{"id": "a1", "name": "read_file", "arguments": {"path": "r.txt"}}]},
  {"tool_calls": [{"id": "d1", "name": "bash", "arguments": {"command": "rm -rf /tmp/x"}}]},
  {"tool_calls": [{"id": "f1", "name": "bash", "arguments": {"command": "true"}}]},
  {"text": ["rules done"]},
  {"tool_calls": [{"id": "q1", "name": "write_file", "arguments": {"path": "asked.txt", "content": "one"}}]},
  {"tool_calls": [{"id": "q2", "name": "write_file", "arguments": {"path": "asked.txt", "content": "one"}}]},
  {"text": ["sticky done"]},
  {"tool_calls": [{"id": "h1", "name": "write_file", "arguments": {"path": "held.txt", "content": "x"}}]},
  {"tool_calls": [{"id": "r2", "name": "read_file", "arguments": {"path": "r.txt"}}]},
  {"text": ["reload done"]}
]}' "    approvals:
      allow: [read_file]
      deny: ['bash(rm *)']
      ask: [write_file]
      default: allow
      timeout: 120s
      on_timeout: deny" </dev/null || exit 1
echo "readable" > "$T/ws/r.txt"

# decided RUN: the run's decision events, one JSON a line, oldest first
decided() { ctl events --subject 'evt.approval.*.decided' --json | jq -c "select(.data.run == \"$1\") | .data"; }
requested() { ctl events --subject 'evt.approval.*.requested' --json | jq -c "select(.data.run == \"$1\") | .data" | wc -l | tr -d ' '; }
result_of() { llm_events "$RUN" tool_result | jq -c "select(.id == \"$1\")"; }

llm_run "rules"
R1=$RUN
is "an allow rule lets the call run" "$(result_of a1 | jq -r .content)" readable
is "a deny rule refuses the call" "$(result_of d1 | jq -r .category)" denied
like "the model is told the rule" "$(result_of d1 | jq -r .content)" "denied by bosun's approval policy \(rule bash\(rm \*\)\)"
is "the default (allow) lets a call no rule names run" "$(result_of f1 | jq -r .is_error)" false
is "no approval request was opened" "$(requested "$R1")" 0
ev=$(decided "$R1")
is "each decision is an event, in the calls' order" \
    "$(echo "$ev" | jq -r '.tool + " " + .decision + " " + .decided_by' | tr '\n' '|')" \
    "read_file allow rule:read_file|bash deny rule:bash(rm *)|bash allow default|"
is "all decided by bosun-llm's copy, of the current generation" \
    "$(echo "$ev" | jq -r '"\(.local) \(.stale)"' | sort -u | tr '\n' '|')" "true false|"
is "the run ended well" "$(llm_events "$R1" result | jq -r .subtype)" success

RUN=$(ctl start coder --prompt "sticky")
R2=$RUN
wait_for 30 sh -c "[ -n \"\$(\"$BOSUNCTL\" -s \"$T/run/bosund.sock\" approval list --json | jq -r '.[0].id // empty')\" ]"
id=$(ctl approval list --json | jq -r '.[0].id')
is "an ask rule still opens a request" "$(ctl approval show "$id" | jq -r '.tool + " " + .run')" "write_file $R2"
ctl approval allow "$id" --always >/dev/null
wait_for 30 llm_ended "$R2"
is "the identical call after --always opened no new request" "$(requested "$R2")" 1
ev=$(decided "$R2")
is "the first was decided by the person" "$(echo "$ev" | jq -r 'select(.always) | .decided_by')" cli
is "the second by the sticky rule, in bosun-llm" \
    "$(echo "$ev" | jq -r 'select(.local) | .decision + " " + .decided_by + " " + (.stale | tostring)')" \
    "allow rule:=write_file(asked.txt) false"
is "both calls ran" "$(llm_events "$R2" tool_result | jq -r .is_error | tr '\n' ' ')" "false false "
is "and the run ended well" "$(llm_events "$R2" result | jq -r .subtype)" success

RUN=$(ctl start coder --prompt "reload")
R3=$RUN
wait_for 30 sh -c "[ -n \"\$(\"$BOSUNCTL\" -s \"$T/run/bosund.sock\" approval list --json | jq -r '.[0].id // empty')\" ]"
id=$(ctl approval list --json | jq -r '.[0].id')
is "the run waits on its ask" "$(runf "$R3" state)" RUNNING
sed -i "s/      allow: \[read_file\]/      allow: []/; s/      deny: \['bash(rm \*)'\]/      deny: ['bash(rm *)', read_file]/" "$T/bosun.yaml"
is "the configuration now denies read_file" "$(grep -c "deny: \['bash(rm \*)', read_file\]" "$T/bosun.yaml")" 1
ctl reload >/dev/null
ctl approval allow "$id" >/dev/null
wait_for 30 llm_ended "$R3"
is "after the reload the running run's read is denied" "$(result_of r2 | jq -r .category)" denied
ev=$(decided "$R3" | jq -c 'select(.tool == "read_file")')
is "by the new rule, in bosun-llm, not stale" "$(echo "$ev" | jq -r '.decision + " " + .decided_by + " \(.local) \(.stale)"')" \
    "deny rule:read_file true false"
g1=$(decided "$R1" | jq -r '.generation' | head -1)
g3=$(echo "$ev" | jq -r .generation)
is "of a newer policy generation ($g1 -> $g3)" "$([ "${g3:-0}" -gt "${g1:-0}" ] && echo newer || echo not)" newer
is "no request was opened for it" "$(requested "$R3")" 1

# A decision of an older generation is recorded as what was applied,
# marked stale, and refused.
out=$(ctl request cmd.approval.record '{"agent":"coder","tool":"read_file","input":{"path":"r.txt"},"decision":"allow","generation":1}' --json 2>&1)
like "a stale decision is refused" "$out" "stale"
is "and its event says so" \
    "$(ctl events --subject 'evt.approval.*.decided' --json | jq -r 'select(.data.stale) | .data.decided_by + " " + .data.decision' | tail -1)" \
    "agent allow"

is "every bosun-llm ended well" "$(llm_exit_codes)" "0 "
stop_daemon
is "daemon stops: exit 0" "$DAEMON_STATUS" 0
done_testing
