#!/bin/sh
# bosun's approvals for the real Codex CLI (against the fake OpenAI API).
# codex exec asks nobody and has no per-call route to bosun, so the policy
# becomes its sandbox and the tools of bosun's MCP server: denying Bash
# lowers permission_mode to the read-only sandbox (the command the fake
# scripts then cannot write its marker file: the model is told "Read-only
# file system"), allowing Bash opens workspace-write (the file is
# written), a denied mcp__bosun__TOOL is not offered to the model; the
# rules Codex cannot take are logged once at notice; Codex decided these
# calls, not bosun: no approval request or decision event appears.
. "$top_srcdir/tests/integration/lib.sh"
. "$top_srcdir/tests/integration/codex_lib.sh"

plan 16

write_config <<EOF2
  plugins: [sqlite, exec, mcp, codex]
agents:
$(codex_agent c_deny <<EOF3
    approvals:
      deny: [Bash, "Bash(rm -rf:*)"]
EOF3
)
$(codex_agent c_allow <<EOF3
    approvals:
      allow: [Bash]
EOF3
)
$(codex_agent c_mcp <<EOF3
    approvals:
      deny: [mcp__bosun__request_input]
EOF3
)
EOF2
# No permission_mode for c_allow: its sandbox comes from the policy.
sed -i '/^  c_allow:/,/^  c_mcp:/{/permission_mode:/d}' "$T/bosun.yaml"
start_daemon || exit 1

# argv_has RUN WORD: the run's first process had WORD in its argv.
argv_has() { events "$1" spawn_started | jq -e --arg w "$2" '.[0].data.argv | index($w)' >/dev/null; }
shell_run() { # shell_run AGENT: a run of SCENARIO:shell writing $T/work/AGENT/note.txt
    mkdir -p "$T/work/$1"
    ctl start "$1" --prompt "SCENARIO:shell DIR:$T/work/$1"
}
r_deny=$(shell_run c_deny)
r_allow=$(shell_run c_allow)
r_mcp=$(ctl start c_mcp --prompt "SCENARIO:ask")
for r in "$r_deny" "$r_allow" "$r_mcp"; do
    wait_for 120 ended "$r" || fail "run $r ended" "$(ctl ps --json)"
done

# --- deny Bash: the read-only sandbox, whatever permission_mode says.
check "deny Bash: the sandbox is read-only (permission_mode said workspace-write)" \
    argv_has "$r_deny" 'sandbox_mode="read-only"'
is "the command could not write its file" "$(ls "$T/work/c_deny")" ""
outputs() { jq -r --arg d "DIR:$T/work/$1" 'select(.url == "/v1/responses") | select(tostring | contains($d)) |
    .body.input[] | select(.type == "function_call_output") | .output' "$FAKE_LOG"; }
like "the model was told why: the file system is read-only" "$(outputs c_deny)" 'Read-only file system'
is "the run itself finished" "$(runf "$r_deny" state)" EXITED

# --- allow Bash, no permission_mode: workspace-write.
check "allow Bash: the sandbox is workspace-write" argv_has "$r_allow" 'sandbox_mode="workspace-write"'
is "the command wrote its file" "$(cat "$T/work/c_allow/note.txt" 2>/dev/null)" hello

# --- a denied tool of bosun's server is not offered.
check "the denied bosun tool is in the server's disabled_tools" \
    argv_has "$r_mcp" 'mcp_servers.bosun.disabled_tools=["request_input"]'
is "the model did not get request_input" "$(ev "$r_mcp" message '.[-1].text')" '"bosun tool missing"'
is "so no input request was made" "$(ctl input list --pending --json | jq length)" 0
is "the run finished" "$(runf "$r_mcp" state)" EXITED

# --- what Codex cannot take is said once.
r_deny2=$(shell_run c_deny)
wait_for 120 ended "$r_deny2" || fail "the second deny run ended" "$(ctl ps --json)"
notices() { grep -c "^<5>.*codex: agent c_deny: approvals rule $1" "$T/bosund.log"; }
is "Bash: Codex cannot refuse a command, said once for two runs" "$(notices 'Bash: Codex cannot refuse shell commands')" 1
is "a per-command rule is left out, said once" "$(notices 'Bash(rm -rf:\*): Codex takes no per-command')" 1
is "permission_mode lowered, said once" "$(notices 'permission_mode: lowered to read-only')" 1
check "the second run was read-only too" argv_has "$r_deny2" 'sandbox_mode="read-only"'

# --- nobody asked bosun.
is "no approval request was made" "$(ctl approval list --json | jq length)" 0
is "no approval decision events" "$(ctl events --subject 'evt.approval.*.decided' --json 2>/dev/null | jq -s length)" 0
done_testing
