#!/bin/sh
# bosun's approvals for the real Gemini CLI (against the fake Gemini API):
# the policy becomes a Gemini policy file passed with --policy, and the
# CLI itself refuses or runs the shell call the fake scripts.  A deny rule
# refuses it even in yolo mode (the command never ran: no marker file; the
# model is told why); an allow rule runs it where Gemini's headless default
# refuses it; an ask rule refuses it (headless Gemini cannot ask), with a
# notice logged once; a global rule is in every agent's file; default: deny
# leaves bosun's own MCP tools usable.  Gemini decides these calls, not
# bosun: no approval request or decision event appears.
. "$top_srcdir/tests/integration/lib.sh"
. "$top_srcdir/tests/integration/gemini_lib.sh"

plan 23

write_config <<EOF2
  plugins: [sqlite, exec, mcp, gemini]
approvals:
  deny: ["Bash(rm -rf:*)"]
agents:
$(gemini_agent g_deny <<EOF3
    approvals:
      deny: ["Bash(echo:*)"]
EOF3
)
$(gemini_agent g_allow <<EOF3
    approvals:
      allow: [Bash]
EOF3
)
$(gemini_agent g_plain </dev/null)
$(gemini_agent g_ask <<EOF3
    approvals:
      ask: [Bash]
EOF3
)
$(gemini_agent g_default <<EOF3
    approvals:
      default: deny
EOF3
)
EOF2
# Gemini's default mode (it refuses shell commands when headless) for the
# allow and plain agents: the policy, not yolo, decides.
sed -i '/^  g_allow:/,/^  g_plain:/s/permission_mode: yolo/permission_mode: default/; /^  g_plain:/,/^  g_ask:/s/permission_mode: yolo/permission_mode: default/' "$T/bosun.yaml"
start_daemon || exit 1

flat() { tr '\n' ' ' < "$1"; } # a file on one line, for like
shell_run() { # shell_run AGENT: a run of SCENARIO:shell writing $T/work/AGENT/note.txt
    mkdir -p "$T/work/$1"
    ctl start "$1" --prompt "SCENARIO:shell DIR:$T/work/$1"
}
r_deny=$(shell_run g_deny)
r_allow=$(shell_run g_allow)
r_plain=$(shell_run g_plain)
r_ask=$(shell_run g_ask)
for r in "$r_deny" "$r_allow" "$r_plain" "$r_ask"; do
    wait_for 120 ended "$r" || fail "run $r ended" "$(ctl ps --json)"
done

# --- deny, in yolo mode.
policy="$T/state/gemini/g_deny/.gemini/bosun-policy.toml"
like "the CLI got the policy file" "$(events "$r_deny" spawn_started | jq -c '.[0].data.argv')" \
    "\"--approval-mode\",\"yolo\",\"--policy\",\"$policy\""
like "the deny rule is in it, Gemini's way, at the top priority" "$(flat "$policy")" \
    'toolName = "run_shell_command" commandPrefix = "echo" decision = "deny" priority = 999 '
is "deny: the command never ran" "$(ls "$T/work/g_deny")" ""
is "the tool result is an error" "$(ev "$r_deny" tool_result '.[0].is_error')" true
like "the model is told that bosun's policy refused it and which rule" \
    "$(ev "$r_deny" tool_result '.[0].content')" "denied by policy.*bosun's approval policy \\(agent rule Bash\\(echo:\\*\\)\\) denies this call"
like "the global rule is in the agent's file too" "$(cat "$policy")" '# deny Bash\(rm -rf:\*\) \(global\)'
is "the run itself finished" "$(runf "$r_deny" state)" EXITED

# --- allow, where Gemini's headless default refuses.
is "allow: the command ran" "$(cat "$T/work/g_allow/note.txt" 2>/dev/null)" hello
is "its tool result is not an error" "$(ev "$r_allow" tool_result '.[0].is_error')" false
is "without the rule the same call is refused (Gemini's own headless default)" \
    "$(ev "$r_plain" tool_result '.[0].is_error') $(ls "$T/work/g_plain")" "true "
like "an agent with only the global policy gets a file" \
    "$(events "$r_plain" spawn_started | jq -c '.[0].data.argv')" '"--policy","[^"]*/g_plain/.gemini/bosun-policy.toml"'

# --- ask: refused, and the daemon says so once.
is "ask: headless Gemini refuses the call" "$(ev "$r_ask" tool_result '.[0].is_error') $(ls "$T/work/g_ask")" "true "
like "the rule is ask_user in the file" "$(flat "$T/state/gemini/g_ask/.gemini/bosun-policy.toml")" \
    'toolName = "run_shell_command" decision = "ask_user" priority = 700'
r_ask2=$(shell_run g_ask)
wait_for 120 ended "$r_ask2" || fail "the second ask run ended" "$(ctl ps --json)"
is "a notice says ask cannot be honoured, logged once for two runs" \
    "$(grep -c '^<5>.*gemini: agent g_ask: approvals rule Bash: headless Gemini cannot ask' "$T/bosund.log")" 1

# --- nobody asked bosun.
is "no approval request was made" "$(ctl approval list --json | jq length)" 0
is "no approval decision events" "$(ctl events --subject 'evt.approval.*.decided' --json 2>/dev/null | jq -s length)" 0

# --- default: deny, and bosun's own tools still work (its server is trusted).
cg_ask g_default
like "default deny is a '*' rule under every other" "$(flat "$T/state/gemini/g_default/.gemini/bosun-policy.toml")" \
    'toolName = "\*" decision = "deny" priority = 1 '
is "bosun's request_input ran under default: deny" "$(ev "$RUN" tool_result '.[0].is_error')" false

# --- an agent whose approvals go away loses its file.
write_config <<EOF2
  plugins: [sqlite, exec, mcp, gemini]
agents:
$(gemini_agent g_deny </dev/null)
EOF2
ctl reload >/dev/null
r5=$(shell_run g_deny)
wait_for 120 ended "$r5" || fail "the run without approvals ended" "$(ctl ps --json)"
unlike "without approvals no --policy" "$(events "$r5" spawn_started | jq -c '.[0].data.argv')" '"--policy"'
check "and the old file is gone" test ! -e "$policy"
is "yolo alone runs the command" "$(cat "$T/work/g_deny/note.txt" 2>/dev/null)" hello
done_testing
