#!/bin/sh
# Approvals with the real Claude Code CLI (fake Anthropic API): launched
# with --permission-prompt-tool mcp__bosun__approve, every permission prompt
# comes to bosun's approve tool.  A call allowed by a rule runs, one denied
# by a rule (deny wins over allow) does not, one the policy asks about
# waits for `bosunctl approval allow --always`, and the same call again is
# not asked: the sticky rule allows it.  Every decision is an event naming
# the rule or the person.
. "$top_srcdir/tests/integration/lib.sh"
. "$top_srcdir/tests/integration/claude_lib.sh"

plan 19

{
    write_config <<EOF2
  plugins: [sqlite, exec, mcp, claude-code]
approvals:
  allow: ["Bash(mkdir:*)", "Bash(rm:*)"]
  deny: ["Bash(rm -rf *)"]
  default: deny
agents:
$(claude_agent cc <<EOF3 | sed 's/allowed_tools: \[Bash, /allowed_tools: [/'
    approvals:
      ask: ["Bash(touch:*)"]
      timeout: 2m
EOF3
)
EOF2
}
start_daemon || exit 1
mkdir -p "$T/work/victim"

pending() { ctl approval list --json | jq -r '.[0].id // empty'; }
decided() { ctl events --subject 'evt.approval.*.decided' --json 2>/dev/null | jq -sc '[.[] | .data | {tool, decision, decided_by, always}]'; }

run=$(ctl start cc --prompt "SCENARIO:perm DIR:$T/work")
like "the run started" "$run" '^[0-9A-Z]{26}$'
argv=$(events "$run" spawn_started | jq -c '.[0].data.argv')
like "the CLI gets the approve tool as its permission prompt" "$argv" '"--permission-prompt-tool","mcp__bosun__approve"'

check "a request waits for a person" wait_for 90 sh -c "[ -n \"\$(\"$BOSUNCTL\" -s \"$T/run/bosund.sock\" approval list --json | jq -r '.[0].id // empty')\" ]"
id=$(pending)
shown=$(ctl approval show "$id")
is "the request shows the tool" "$(printf '%s\n' "$shown" | jq -r .tool)" Bash
is "and its input" "$(printf '%s\n' "$shown" | jq -r .input.command)" "touch $T/work/asked"
is "and the run and agent" "$(printf '%s\n' "$shown" | jq -r '[.run, .agent] | join(",")')" "$run,cc"
like "bosunctl approval list prints a table" "$(ctl approval list)" "$id +cc +- +$run"
check "the file is not touched before the answer" test ! -e "$T/work/asked"
out=$(ctl approval allow "$id" --always)
like "allow --always says which rule sticks" "$out" "allowed $id; from now on =Bash\(touch $T/work/asked\)"
wait_for 90 ended "$run" || fail "the run ended" "$(ctl ps --json)"
is "the run exited" "$(runf "$run" state)" EXITED
check "the calls allowed ran" test -e "$T/work/asked" -a -d "$T/work/made"
check "the denied call did not" test -d "$T/work/victim"
res=$(events "$run" tool_result | jq -c '[.[].data | {id, is_error}]')
is "the mkdir ran, the rm was refused, both touches ran" "$(printf '%s\n' "$res" | jq -r '[.[] | "\(.id):\(.is_error)"] | join(",")')" \
    "toolu_perm1:false,toolu_perm2:true,toolu_perm3:false,toolu_perm4:false"
d=$(decided)
is "four decisions, each naming who decided" "$(printf '%s\n' "$d" | jq -r '[.[] | "\(.decision):\(.decided_by)"] | join(";")')" \
    "allow:rule:Bash(mkdir:*);deny:rule:Bash(rm -rf *);allow:${USER:-cli};allow:rule:=Bash(touch $T/work/asked)"
is "only one request was asked" "$(ctl events --subject 'evt.approval.*.requested' --json | jq -s length)" 1
is "no request is left pending" "$(ctl approval list --json | jq length)" 0
stop_daemon
is "bosund stops cleanly" "$DAEMON_STATUS" 0

# The sticky rule outlives a restart: rebuilt from the stored decisions.
start_daemon || exit 1
wait_for 10 sh -c "grep -q 'sticky rules restored' '$T/bosund.log'"
out=$(ctl request cmd.approval.check "{\"agent\":\"cc\",\"tool\":\"Bash\",\"input\":{\"command\":\"touch $T/work/asked\"}}" --json)
like "after a restart the same call is still allowed by the sticky rule" "$out" '"decision":"allow","rule":"=Bash\(touch .*/asked\)","source":"sticky"'
out=$(ctl request cmd.approval.check "{\"agent\":\"cc\",\"tool\":\"Bash\",\"input\":{\"command\":\"touch $T/work/other\"}}" --json)
like "and only that call" "$out" '"decision":"ask","rule":"Bash\(touch:\*\)","source":"agent"'
stop_daemon
done_testing
