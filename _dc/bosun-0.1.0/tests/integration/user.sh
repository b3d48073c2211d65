#!/bin/sh
# Agents run as another user and group when bosund runs as root.
. "$top_srcdir/tests/integration/lib.sh"
if [ "$(id -u)" -ne 0 ]; then
    echo "1..0 # SKIP bosund must run as root to switch users"
    exit 0
fi
plan 9
mkdir -p "$T/work" && chmod 755 "$T" && chown nobody "$T/work"
write_config <<EOF2
  plugins: [sqlite, exec]
agents:
  unprivileged:
    command: [sh, -c, 'id -un; id -gn; pwd; touch ./written; cat "\$\$BOSUN_PROMPT_FILE"; echo; test -r "\$\$BOSUN_MCP_CONFIG" && echo mcp-readable; id -G']
    user: nobody
    group: nogroup
    workdir: $T/work
    start_secs: 0
    restart: never
EOF2
start_daemon || exit 1
run=$(ctl start unprivileged --prompt "secret plan")
wait_for 10 run_state_is "$run" EXITED
out=$(ctl logs "$run")
is "runs as the configured user" "$(echo "$out" | sed -n 1p)" nobody
is "with the configured group" "$(echo "$out" | sed -n 2p)" nogroup
is "in its workdir" "$(echo "$out" | sed -n 3p)" "$T/work"
is "files it writes are the user's" "$(stat -c %U "$T/work/written")" nobody
is "it can read its prompt file" "$(echo "$out" | sed -n 4p)" "secret plan"
is "and its MCP config" "$(echo "$out" | sed -n 5p)" mcp-readable
# The groups resolved when the configuration was loaded: those a login of
# nobody with primary group nogroup gets.
is "with the user's supplementary groups" "$(echo "$out" | sed -n 6p)" \
    "$(setpriv --reuid=nobody --regid=nogroup --init-groups id -G)"
is "other users cannot list the runs" "$(stat -c %a "$T/state/runs") $(stat -c %a "$T/run/runs")" "750 711"
stop_daemon
is "daemon stops: exit 0" "$DAEMON_STATUS" 0
done_testing
