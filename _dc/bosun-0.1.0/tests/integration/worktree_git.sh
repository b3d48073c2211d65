#!/bin/sh
# Worktrees when git is slow or missing: a run stopped while its worktree
# is being made ends STOPPED with git killed and nothing left behind (no
# directory, marker, registration or branch); without git on bosund's PATH
# the launch fails saying so.  bosund runs with a PATH of its own: a git
# that waits before `worktree add` while $T/slow exists.
. "$top_srcdir/tests/integration/lib.sh"
. "$top_srcdir/tests/integration/git_lib.sh"
plan 10

R="$T/repo"
mkrepo "$R" || { echo "Bail out! cannot make a repository"; exit 1; }
mkdir -p "$T/bin"
for p in sh sleep true; do ln -s "$(command -v $p)" "$T/bin/$p"; done
cat > "$T/bin/git" <<EOF3
#!/bin/sh
case " \$* " in *" worktree add "*) echo \$\$ > "$T/git.pid"; while [ -e "$T/slow" ]; do sleep 0.1; done ;; esac
exec "$REAL_GIT" "\$@"
EOF3
chmod +x "$T/bin/git"

write_config <<EOF2
  plugins: [sqlite, exec]
agents:
  coder:
    command: [sleep, "3600"]
    start_secs: 0
    max_restarts: 0
    worktree: {repo: $R}
EOF2
env PATH="$T/bin" "$BOSUND" -c "$T/bosun.yaml" 2>>"$T/bosund.log" &
DAEMON_PID=$!
wait_for 20 ctl status || { sed 's/^/#   /' "$T/bosund.log"; exit 1; }

touch "$T/slow"
r=$(ctl start coder)
making() { [ "$(runf "$r" state)" = STARTING ] && [ "$(runf "$r" reason)" = "making its worktree" ]; }
check "while git works the run is STARTING, making its worktree" wait_for 20 making
check "git worktree add is under way" wait_for 20 test -s "$T/git.pid"
ctl stop "$r" >/dev/null 2>&1
check "stopped then: STOPPED" wait_for 20 stored_state_is "$r" STOPPED
check "the waiting git was killed" wait_for 10 pid_dead "$(cat "$T/git.pid")"
rm -f "$T/slow"
sleep 1
check "no worktree directory is left" test ! -e "$T/state/worktrees/$r"
check "nor its marker" test ! -e "$T/state/worktrees/$r.json"
is "nor a registration or a branch" "$(git -C "$R" worktree list | wc -l) $(git -C "$R" branch --list "bosun/*")" "1 "
is "no process was ever started" "$(events "$r" spawn_started | jq length)" 0

rm "$T/bin/git"
m=$(ctl start coder)
wait_for 20 stored_state_is "$m" FATAL
like "without git the launch fails saying so" "$(stored_run "$m" reason)" "worktree: cannot execute 'git'"
stop_daemon
is "bosund exits 0" "$DAEMON_STATUS" 0
done_testing
