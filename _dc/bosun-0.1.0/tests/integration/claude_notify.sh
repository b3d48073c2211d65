#!/bin/sh
# The Notification hook as the real Claude Code CLI sends it: `claude`
# run interactively under a pseudo-terminal (tests/helpers/claude_tty.py),
# as a person would, against the fake Anthropic API, with bosun's hooks
# installed by `bosunctl hook install --project` and the default
# permission mode, so that the model's first Bash call shows a permission
# prompt and the CLI fires Notification (permission_prompt): the attached
# run needs attention; the person answering (Enter: "Yes") clears it and
# the call runs; the next prompt marks it again; ending the CLI ends the
# run.  (`claude -p` never sends Notification: claude_hook.sh feeds a
# hand-made one.)
. "$top_srcdir/tests/integration/lib.sh"
. "$top_srcdir/tests/integration/claude_lib.sh"
command -v jq >/dev/null || { echo "1..0 # SKIP needs jq"; exit 0; }
plan 12

write_config <<EOF2
  plugins: [sqlite]
EOF2
start_daemon || exit 1

P="$T/proj"
mkdir -p "$P/victim" "$T/tty"
# A person who has used the CLI before: onboarding done, the project
# trusted, the API key in the environment approved once (the CLI keeps
# its last 20 characters), so that no first-run dialog comes first.
KEY=sk-ant-fake-key-for-tests
jq -n --arg p "$P" --arg k "$(printf '%s' "$KEY" | tail -c 20)" \
    '{hasCompletedOnboarding: true, theme: "dark",
      projects: {($p): {hasTrustDialogAccepted: true, hasCompletedProjectOnboarding: true}},
      customApiKeyResponses: {approved: [$k], rejected: []}}' > "$T/home/.claude.json"
export BOSUNCTL
ctl hook install --project "$P" >/dev/null
check "the hooks are installed" grep -q 'hook --socket' "$P/.claude/settings.json"

(cd "$P" && HOME="$T/home" ANTHROPIC_BASE_URL="$FAKE_URL" ANTHROPIC_API_KEY="$KEY" \
    CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC=1 DISABLE_TELEMETRY=1 DISABLE_AUTOUPDATER=1 \
    DISABLE_ERROR_REPORTING=1 CLAUDE_CODE_MAX_RETRIES=0 \
    /usr/bin/python3 "$top_srcdir/tests/helpers/claude_tty.py" "$T/tty" 120 \
    "$CLAUDE_BIN" --permission-mode default "SCENARIO:perm DIR:$P") &
tty=$!
run_of_tty() { ctl ps --json | jq -r '.[] | select(.agent == "claude-code:attached") | .run' | head -1; }
wait_for 60 sh -c "[ -n \"\$(\"$BOSUNCTL\" -s \"$(SOCK)\" ps --json | jq -r '.[] | select(.agent == \"claude-code:attached\") | .run')\" ]"
run=$(run_of_tty)
like "the interactive session is an attached run" "$run" '^[0-9A-Z]{26}$'
attention() { [ "$(runf "$run" attention)" = "$1" ]; }
n_attention() { [ "$(events "$run" attention | jq length)" -ge "$1" ]; }
wait_for 60 n_attention 1
screen() { tr -d '\033' < "$T/tty/tty.log" | tail -c 1500; }
attention true || screen | sed 's/^/# /'
check "its permission prompt marks the run as needing attention" attention true
n=$(events "$run" notification | jq -c '.[0].data | [.message, .notification_type]')
is "the CLI's own Notification: its message and type" "$n" '["Claude needs your permission","permission_prompt"]'
raw=$(events "$run" hook | jq -c '[.[].data | select(.hook_event_name == "Notification")][0].input | keys')
like "kept raw as the CLI sent it" "$raw" '"hook_event_name".*"message".*"notification_type".*"session_id".*"transcript_path"'
like "ps shows it needs attention" "$(ctl ps | awk -v r="$run" '$2 == r')" "needs attention: Claude needs your permission"

printf '\r' > "$T/tty/keys" # "1. Yes", the choice the prompt has selected
wait_for 30 test -d "$P/made"
check "the person said yes: the call ran" test -d "$P/made"
wait_for 10 attention false
check "and the run no longer needs attention" attention false
wait_for 60 n_attention 2
is "the next call's prompt marks it again" "$(events "$run" attention | jq length)" 2
check "  that call waits for the person" test -d "$P/victim"

touch "$T/tty/stop"
wait "$tty"
wait_for 20 stored_state_is "$run" EXITED
is "the CLI ended: the run is EXITED" "$(stored_run "$run" state)" EXITED
is "the CLI's SessionEnd ended it" "$(events "$run" session_end | jq length)" 1
done_testing
