#!/bin/sh
# A git worktree per run (worktree: in bosun.yaml(5)): made from base
# before the first process and used as its workdir, kept or removed at the
# end per keep, the launch failing with a clear reason when the repository
# or the base is not there, and what a bosund killed with -9 left settled
# by the next one.  Against a real repository made here.
. "$top_srcdir/tests/integration/lib.sh"
. "$top_srcdir/tests/integration/git_lib.sh"
plan 39

R="$T/repo"
mkrepo "$R" || { echo "Bail out! cannot make a repository"; exit 1; }
mkdir -p "$T/plain"

# asker: writes a file and waits (60 s at most) for $T/go.RUN; resumed, it
# says where it is and what the file holds.
cat > "$T/asker.sh" <<EOF2
#!/bin/sh
if [ -n "\$BOSUN_RESUME" ]; then echo "resumed in \$(pwd) with \$(cat note.txt)"; exit 0; fi
echo draft > note.txt
echo started
i=0
while [ ! -e "$T/go.\$BOSUN_RUN_ID" ] && [ \$i -lt 1200 ]; do sleep 0.05; i=\$((i + 1)); done
EOF2

# Every agent runs once (restart: never) and ends by itself, but sleeper.
write_config <<EOF2
  plugins: [sqlite, exec]
agents:
  editor:
    command: [sh, -c, 'pwd; echo two >> a.txt; echo new > b.txt; git add -A; git commit -qm work']
    restart: never
    start_secs: 0
    worktree: {repo: $R, base: main, keep: never}
  dirty:
    command: [sh, -c, 'echo draft > notes.txt']
    restart: never
    start_secs: 0
    worktree: {repo: $R, base: main, branch: "work/{agent}-{run}"}
  idle:
    command: ["true"]
    restart: never
    start_secs: 0
    worktree: {repo: $R}
  keeper:
    command: ["true"]
    restart: never
    start_secs: 0
    worktree: {repo: $R, keep: always}
  sleeper:
    command: [sleep, "3600"]
    start_secs: 0
    worktree: {repo: $R, keep: never}
  asker:
    command: [sh, $T/asker.sh]
    restart: never
    start_secs: 0
    worktree: {repo: $R}
  notrepo:
    command: ["true"]
    max_restarts: 0
    worktree: {repo: $T/plain}
  nobase:
    command: ["true"]
    max_restarts: 0
    worktree: {repo: $R, base: nosuch}
EOF2
start_daemon || exit 1

ended() { s=$(stored_run "$1" state); [ "$s" = EXITED ] || [ "$s" = FATAL ] || [ "$s" = STOPPED ]; }
wt_event() { events "$1" worktree | jq -r "[.[] | select(.data.action == \"$2\")] | length"; }
settled() { [ "$(wt_event "$1" kept)" = 1 ] || [ "$(wt_event "$1" removed)" = 1 ]; }

# --- an agent that edits and commits, keep: never
e=$(ctl start editor)
wait_for 20 ended "$e" && wait_for 20 settled "$e"
is "editor: created event" "$(wt_event "$e" created)" 1
is "editor: ran in its worktree" "$(events "$e" output | jq -r '.[0].data.text')" "$T/state/worktrees/$e"
is "editor: exited 0" "$(stored_run "$e" exit_code)" 0
is "keep never: the worktree was removed" "$(wt_event "$e" removed)" 1
check "keep never: its directory is gone" test ! -e "$T/state/worktrees/$e"
unlike "keep never: git no longer lists it" "$(git -C "$R" worktree list)" "$e"
is "its commit stays on its branch (never thrown away)" \
    "$(git -C "$R" log -1 --format=%s "bosun/notask-$e" 2>&1)" work
is "the event says how many commits were ahead" \
    "$(events "$e" worktree | jq -r '.[] | select(.data.action == "removed") | .data.commits_ahead')" 1
is "the repository's own tree is untouched" "$(cat "$R/a.txt"; ls "$R")" "one
a.txt"
check "and the marker is gone" test ! -e "$T/state/worktrees/$e.json"

# --- uncommitted changes, keep: on-change (the default), a branch template
d=$(ctl start dirty)
wait_for 20 ended "$d" && wait_for 20 settled "$d"
is "on-change with changes: kept" "$(wt_event "$d" kept)" 1
is "the agent's file is in it" "$(cat "$T/state/worktrees/$d/notes.txt" 2>&1)" draft
like "git lists the kept worktree" "$(git -C "$R" worktree list)" "worktrees/$d .*\\[work/dirty-$d\\]"
is "the event names the branch from the template" \
    "$(events "$d" worktree | jq -r '.[0].data.branch')" "work/dirty-$d"

# --- no change, on-change: removed with its branch
i=$(ctl start idle)
wait_for 20 ended "$i" && wait_for 20 settled "$i"
is "on-change without changes: removed" "$(wt_event "$i" removed)" 1
check "its directory is gone" test ! -e "$T/state/worktrees/$i"
is "its empty branch is deleted" "$(git -C "$R" branch --list "bosun/notask-$i")" ""

# --- keep: always
k=$(ctl start keeper)
wait_for 20 ended "$k" && wait_for 20 settled "$k"
is "keep always: kept" "$(wt_event "$k" kept)" 1
check "its directory stays" test -f "$T/state/worktrees/$k/a.txt"

# --- a run resumed after an answer goes on in the same worktree
a=$(ctl task create --title asking --agent asker --json | jq -r .run)
wait_for 20 sh -c "\"$BOSUNCTL\" -s \"$T/run/bosund.sock\" logs $a | grep -q started"
in=$(ctl request cmd.input.create "{\"run\":\"$a\",\"question\":\"go on?\",\"blocking\":true}" --json | jq -r .data.input)
ctl input answer "$in" yes >/dev/null
touch "$T/go.$a"
resumed() { ctl request cmd.store.runs '{}' --json | jq -r --arg r "$a" '.data.runs[] | select(.resumed_from == $r) | .run'; }
wait_for 20 sh -c "[ -n \"\$(\"$BOSUNCTL\" -s \"$T/run/bosund.sock\" request cmd.store.runs '{}' --json | jq -r '.data.runs[] | select(.resumed_from == \"$a\") | .run')\" ]"
a2=$(resumed)
wait_for 20 ended "$a2" && wait_for 20 settled "$a2"
is "the resumed run works in the first one's worktree" "$(events "$a2" output | jq -r '.[0].data.text')" \
    "resumed in $T/state/worktrees/$a with draft"
is "the first run made it and left it to the resumed one" "$(wt_event "$a" created) $(wt_event "$a" kept) $(wt_event "$a" removed)" "1 0 0"
is "the resumed run settles it: kept (it holds a change)" "$(events "$a2" worktree | jq -r '.[-1].data | [.action, .path] | join(" ")')" \
    "kept $T/state/worktrees/$a"
check "no marker is left of either" sh -c "! ls '$T/state/worktrees' | grep -q '\\.json\$'"

# --- errors fail the launch with the reason
n=$(ctl start notrepo)
wait_for 20 ended "$n"
is "not a repository: FATAL" "$(stored_run "$n" state)" FATAL
like "not a repository: the reason says so" "$(stored_run "$n" reason)" "is not a git repository"
like "and the spawn_failed event too" "$(events "$n" spawn_failed | jq -r '.[0].data.reason')" \
    "worktree: $T/plain is not a git repository"
b=$(ctl start nobase)
wait_for 20 ended "$b"
like "missing base: the reason names it" "$(stored_run "$b" reason)" "base 'nosuch' is not a commit"
is "missing base: no worktree left" "$(ls "$T/state/worktrees" | grep -c "$b")" 0

# --- kill -9 of bosund (and of its agent): the next start settles it
s=$(ctl start sleeper)
wait_for 20 run_state_is "$s" RUNNING
check "sleeper's worktree exists" test -d "$T/state/worktrees/$s"
spid=$(runf "$s" pid)
kill -KILL "$DAEMON_PID"; wait "$DAEMON_PID" 2>/dev/null; DAEMON_PID=
kill -KILL "-$spid" 2>/dev/null || kill -KILL "$spid"
wait_for 10 pid_dead "$spid"
check "the marker outlives the killed bosund" test -f "$T/state/worktrees/$s.json"
start_daemon || exit 1
wait_for 20 settled "$s"
is "a stale worktree is removed at start-up" "$(wt_event "$s" removed)" 1
like "saying why" "$(events "$s" worktree | jq -r '.[-1].data.reason')" "earlier bosund"
check "its directory is gone" test ! -e "$T/state/worktrees/$s"
unlike "and git no longer lists it" "$(git -C "$R" worktree list)" "$s"
check "kept worktrees of ended runs stay" test -d "$T/state/worktrees/$d"
is "and their files keep their modes (bosund's start tightens the state dir, not them)" \
    "$(stat -c %a "$T/state/worktrees/$d/notes.txt")" "$(cd "$T" && umask 022 && : > m && stat -c %a m)"

# --- configuration errors, FILE:LINE:COL
bad() {
    write_config <<EOF2
agents:
  x:
    command: ["true"]
    worktree: $1
EOF2
    "$BOSUND" -t -c "$T/bosun.yaml" 2>&1
}
like "keep is checked" "$(bad "{repo: $R, keep: sometimes}")" "bosun.yaml:[0-9]+:[0-9]+: .*'sometimes' is not one of on-change, always, never"
like "branch placeholders are checked" "$(bad "{repo: $R, branch: 'b/{tsk}'}")" "bosun.yaml:[0-9]+:[0-9]+: .*unknown placeholder"
stop_daemon
is "bosund exits 0 (under ASan: nothing leaked)" "$DAEMON_STATUS" 0
done_testing
