#!/bin/sh
# Man pages: mandoc finds nothing above style level, and every command,
# option and config key that exists is documented.
. "$top_srcdir/tests/integration/lib.sh"
plan 18

M="$top_srcdir/man"
if [ -z "${MANDOC:-}" ]; then MANDOC=$(command -v mandoc); fi
if [ -z "$MANDOC" ]; then
    fail "mandoc is installed (apt-get install mandoc)"
else
    out=$("$MANDOC" -Tlint -Wwarning "$M"/*.[1-9] 2>&1)
    is "mandoc -Tlint -Wwarning reports nothing" "$out" ""
fi
missing=
# Multi-word commands are written with '_' here: "task_create" is the item
# ".It Cm task create ...".
for cmd in status plugins reload pub request sub ps start stop restart logs events \
           task_create task_list task_show input_list input_answer artifact_list \
           artifact_get mcp cost files chat changes; do
    words=$(printf '%s' "$cmd" | tr _ ' ')
    grep -Eq "^\.It Cm $words( |\$)" "$M/bosunctl.1" || missing="$missing $cmd"
done
is "bosunctl(1) documents every command" "$missing" ""
missing=
# Every long option bosunctl's parser knows, as an item of its own:
# ".It Fl j , Fl -json" or ".It Fl -relay".
opts=$(grep -o '"[a-z-]*", *[a-z_]*_argument' "$top_srcdir/core/cli/bosunctl.c" | cut -d'"' -f2 | sort -u)
[ -n "$opts" ] || missing="(no options found in core/cli/bosunctl.c)"
for opt in $opts; do
    grep -Eq -- "^\.It .*Fl -$opt( |\$)" "$M/bosunctl.1" || missing="$missing $opt"
done
is "bosunctl(1) documents every option" "$missing" ""
missing=
for key in machine_id state_dir runtime_dir log_level plugin_path plugins control_socket \
           control_socket_mode control_socket_group control_buffer_max adopt_orphans interval agent_socket \
           type command workdir env user group autostart restart start_secs max_restarts \
           restart_reset backoff_base backoff_max stop_signal stop_timeout kill_mode instances resume \
           log_max_bytes log_keep line_max \
           agent_token_ttl mcp_command \
           path synchronous batch_max artifact_max_bytes cache_size commit_delay retain_max_bytes llm_snapshot_bytes \
           hub registration_token registration_token_file token_file ca_file insecure_skip_verify \
           heartbeat connect_timeout name worktree repo base branch keep changes debounce poll \
           diff_max files_max watch_max; do
    grep -Eq "^\.It Cm $key( |\$)" "$M/bosun.yaml.5" || missing="$missing $key"
done
is "bosun.yaml(5) documents every key" "$missing" ""
missing=
for opt in check-config config version; do
    grep -Eq -- "^\.It .*Fl -$opt( |\$)" "$M/bosund.8" || missing="$missing $opt"
done
for word in BOSUN_PLUGIN_PATH NOTIFY_SOCKET WATCHDOG_USEC SIGHUP SIGTERM; do
    grep -q -- "$word" "$M/bosund.8" || missing="$missing $word"
done
is "bosund(8) documents options, environment and signals" "$missing" ""
like "bosund(8) says how to run it under systemd" "$(cat "$M/bosund.8")" "systemctl"
missing=
for word in '^\.Sh SUPERVISION' '^\.Sh CRASH SAFETY' STOPPED STARTING RUNNING BACKOFF STOPPING \
            EXITED FATAL LOST adopt_orphans stop_timeout SIGKILL BOSUN_RUN_ID BOSUN_AGENT \
            BOSUN_MACHINE_ID BOSUN_TASK_ID BOSUN_INSTANCE BOSUN_PROMPT BOSUN_PROMPT_FILE \
            output.log base64 pidfd; do
    grep -q -- "$word" "$M/bosund.8" || missing="$missing $word"
done
is "bosund(8) documents supervision, the agents' environment and crash safety" "$missing" ""
missing=
for word in WAITING_INPUT '^\.Ss Waiting for input' '^\.Ss Agent tokens and MCP' BOSUN_SOCKET \
            BOSUN_AGENT_TOKEN BOSUN_MCP_CONFIG BOSUN_RESUME BOSUN_RESUMED_FROM \
            BOSUN_INPUT_REQUEST_ID BOSUN_INPUT_ANSWER BOSUN_INPUT_ANSWER_FILE mcp.json \
            token_issued agent_token_ttl mcp_command resumed_from; do
    grep -q -- "$word" "$M/bosund.8" || missing="$missing $word"
done
is "bosund(8) documents waiting for input, resuming, agent tokens and the MCP config" "$missing" ""
missing=
for word in BOSUN_PLUGIN_ABI check init start reload stop pkg-config bosun/codec.h bosun/crypto.h bosun_sha256 \
            bosun/jwt.h bosun_jwt_verify; do
    grep -q -- "$word" "$M/bosun-plugin.7" || missing="$missing $word"
done
is "bosun-plugin(7) covers the descriptor, lifecycle and building" "$missing" ""
missing=
for word in BOSUN_AGENT_ABI bosun_agent_ops bosun_run_info bosun_launch build_launch parse_line \
            classify_exit BOSUN_EXIT_DONE BOSUN_EXIT_FAILED BOSUN_EXIT_NEEDS_INPUT BOSUN_EXIT_BUDGET \
            BOSUN_STORED_PREFIX cmd.store.events cmd.store.runs bus_has_subscribers; do
    grep -q -- "$word" "$M/bosun-plugin.7" || missing="$missing $word"
done
is "bosun-plugin(7) covers agent types and the store contract" "$missing" ""
like "bosun-bus(7) documents wildcards" "$(cat "$M/bosun-bus.7")" "wildcard"
missing=
for word in evt.run evt.agent stored. spawn_requested spawn_started spawn_completed spawn_failed \
            '\.state' '\.output' exited stop_escalated adopted orphan_stopping configured removed \
            cmd.proc.ps cmd.proc.start cmd.proc.stop cmd.proc.restart \
            cmd.store.events cmd.store.runs cmd.store.tasks cmd.store.status last_seq; do
    grep -q -- "$word" "$M/bosun-bus.7" || missing="$missing $word"
done
is "bosun-bus(7) documents the subject namespace, requests and replies" "$missing" ""
like "bosun-bus(7) documents _INBOX replies" "$(cat "$M/bosun-bus.7")" "_INBOX"
missing=
for word in cmd.task.create cmd.input.create cmd.input.answer cmd.auth.agent_token \
            cmd.mcp.open 'mcp\.session\.' '\.in$' '\.out$' '\.closed$' \
            evt.task evt.input evt.pr evt.artifact requested answered cancelled linked added \
            WAITING_INPUT waiting_input token_issued tool_call 'Li status$' 'Li log$' \
            cmd.store.inputs cmd.store.prs cmd.store.tokens cmd.store.artifacts.put \
            'cmd\.store\.artifacts$' pending_inputs status_message too_large; do
    grep -q -- "$word" "$M/bosun-bus.7" || missing="$missing $word"
done
is "bosun-bus(7) documents tasks, questions, artifacts, PRs, tokens and MCP sessions" "$missing" ""
missing=
for page in bosunctl.1 bosund.8 bosun.yaml.5 bosun-bus.7; do
    grep -q '^\.Xr bosun-mcp 7' "$M/$page" || missing="$missing $page"
done
is "the pages about agents' MCP access refer to bosun-mcp(7)" "$missing" ""
missing=
# Every REST route of the API's table, as an item: "/api/v1/runs/{}/stop" is
# ".It Li POST /api/v1/runs/ Ns Ar id Ns Li /stop".  The further patterns of
# a name with more parts ({}/{}) are the same route.
routes=$(sed -n 's/^ *{"\([A-Z]*\)", "\(\/api\/v1[^"]*\)".*/\1 \2/p' "$top_srcdir/plugins/http/http_api.c" \
    "$top_srcdir/plugins/http/http_auth_routes.c" |
    grep -v '{}/{}')
[ -n "$routes" ] || missing="(no routes found in plugins/http/http_api.c)"
items=$(sed -n 's/^\.It Li \([A-Z]*\) \(\/api\/v1.*\)/\1 \2/p' "$M/bosun-http.7" |
    sed -e 's/ Pq .*//' -e 's/ Ns Ar [a-z]* Ns Li /{}/g' -e 's/ Ns Ar [a-z]*$/{}/')
printf '%s\n' "$routes" | while read -r method path; do
    printf '%s\n' "$items" | grep -qxF "$method $path" || echo "$method $path"
done > "$T/routes.missing"
is "bosun-http(7) documents every REST route" "$missing$(tr '\n' ' ' < "$T/routes.missing")" ""
like "bosun-bus(7) documents cmd.daemon.status" "$(cat "$M/bosun-bus.7")" '^\.It Li cmd\.daemon\.status$'
# The claude-code type's keys, from its source and the shared list.
missing=
keys=$( (sed -n '/define BOSUN_AGENT_CLI_KEYS/,/extra_args"/p' "$top_srcdir/include/bosun/agent_stream.h"
         grep 'claude_keys\[\] =' "$top_srcdir/plugins/claude-code/claude_code.c") | grep -o '"[a-z_]*"' | tr -d '"')
[ -n "$keys" ] || missing="(no keys found in plugins/claude-code/claude_code.c)"
for key in $keys; do
    grep -Eq "^\.It Cm (.* )?$key( |\$)" "$M/bosun-claude-code.7" || missing="$missing $key"
done
is "bosun-claude-code(7) documents every key of the type" "$missing" ""
done_testing
