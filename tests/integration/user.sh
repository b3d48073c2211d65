#!/bin/sh
# Agents run as another user and group when bosund runs as root.
. "$top_srcdir/tests/integration/lib.sh"
plan 5

if [ "$(id -u)" -ne 0 ]; then
    for i in 1 2 3 4 5; do echo "ok $i # SKIP bosund must run as root to switch users"; done
    exit 0
fi
mkdir -p "$T/work" && chmod 755 "$T" && chown nobody "$T/work"
write_config <<EOF2
  plugins: [sqlite, exec]
agents:
  unprivileged:
    command: [sh, -c, 'id -un; id -gn; pwd; touch ./written']
    user: nobody
    group: nogroup
    workdir: $T/work
    start_secs: 0
    restart: never
EOF2
start_daemon || exit 1
run=$(ctl start unprivileged)
wait_for 10 run_state_is "$run" EXITED
out=$(ctl logs "$run")
is "runs as the configured user" "$(echo "$out" | sed -n 1p)" nobody
is "with the configured group" "$(echo "$out" | sed -n 2p)" nogroup
is "in its workdir" "$(echo "$out" | sed -n 3p)" "$T/work"
is "files it writes are the user's" "$(stat -c %U "$T/work/written")" nobody
stop_daemon
is "daemon stops: exit 0" "$DAEMON_STATUS" 0
done_testing
