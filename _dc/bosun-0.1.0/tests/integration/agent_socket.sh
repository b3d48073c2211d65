#!/bin/sh
# Agents get their own socket, not the control socket: whatever their uid,
# a connection may do nothing before it presents its run token and then
# only its own MCP session; every escalation is refused and logged.  Run
# with the agent as root and as nobody.
. "$top_srcdir/tests/integration/lib.sh"
if [ "$(id -u)" -ne 0 ]; then
    echo "1..0 # SKIP bosund must run as root to switch users"
    exit 0
fi
plan 25
mkdir -p "$T/out" && chmod 755 "$T" && chmod 777 "$T/out"
BOSUN_PLUGIN_PATH="$BOSUN_PLUGIN_PATH:$top_builddir/plugins/mcp"
PROBE="$top_srcdir/tests/helpers/agent_probe.py"
write_config <<EOF2
  plugins: [sqlite, exec, mcp]
agents:
  idle:
    command: [sleep, "3600"]
    start_secs: 0
  probe-root:
    command: [sh, -c, '/usr/bin/python3 $PROBE "\$\$(cat $T/out/other)" $T/run/bosund.sock > $T/out/root 2>&1; sleep 3600']
    start_secs: 0
    restart: never
  probe-nobody:
    command: [sh, -c, '/usr/bin/python3 $PROBE "\$\$(cat $T/out/other)" $T/run/bosund.sock > $T/out/nobody 2>&1; sleep 3600']
    user: nobody
    group: nogroup
    start_secs: 0
    restart: never
EOF2
start_daemon || exit 1
other=$(ctl start idle)
wait_for 10 run_state_is "$other" RUNNING
echo "$other" > "$T/out/other" && chmod 644 "$T/out/other"
for who in root nobody; do
    ctl start "probe-$who" >/dev/null
    wait_for 100 sh -c "grep -q 'mcp report_status' $T/out/$who"
    out=$(cat "$T/out/$who")
    is "$who: BOSUN_SOCKET is the agent socket" "$(echo "$out" | sed -n 's/^socket: //p')" agent.sock
    for p in "forged state" "stop other" "sub cmd" "sub inbox" "sub all" status reload; do
        is "$who: $p is refused" "$(echo "$out" | sed -n "s/^$p: //p")" forbidden
    done
    is "$who: a bad token is refused" "$(echo "$out" | sed -n 's/^bad token: //p')" unauthorized
    is "$who: its MCP session works" "$(echo "$out" | grep '^mcp' | tr '\n' ' ')" "mcp open: ok mcp initialize: ok mcp report_status: ok "
done
is "nobody cannot reach the control socket" "$(sed -n 's/^admin socket: //p' "$T/out/nobody")" refused
is "the other run still runs" "$(runf "$other" state)" RUNNING
unlike "no forged state event was stored" "$(ctl events --subject "evt.run.idle.$other.state" --json)" FATAL
like "the refusals are logged" "$(cat "$T/bosund.log")" "agent client #[0-9]+ .*refused publish to evt\.run\.idle\.$other\.state"
stop_daemon
is "daemon stops: exit 0" "$DAEMON_STATUS" 0
done_testing
