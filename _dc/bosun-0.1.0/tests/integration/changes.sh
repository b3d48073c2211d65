#!/bin/sh
# Change snapshots (evt.run.AGENT.RUN.changes, bosun-bus(7)) of runs whose
# workdir is a git work tree: an agent that edits, rewrites a file as it
# was, commits, adds a large file and changes one more file as it exits;
# the events carry the right paths, counts and diff, no snapshot repeats
# the one before, the diff is cut at changes.diff_max and says so, the
# last change is caught at the end; polling when inotify may not watch
# (watch_max: 0); nothing for a workdir outside git; bosunctl changes
# [--diff] and GET /api/v1/runs/{id}/changes read them back.
. "$top_srcdir/tests/integration/lib.sh"
. "$top_srcdir/tests/integration/git_lib.sh"
. "$top_srcdir/tests/integration/http_lib.sh"
command -v curl >/dev/null || { echo "1..0 # SKIP curl is not installed"; exit 0; }
plan 34

mkrepo "$T/w" && mkrepo "$T/p" && mkrepo "$T/b" || { echo "Bail out! cannot make a repository"; exit 1; }
mkdir -p "$T/plain"
cat > "$T/edit.sh" <<'EOF3'
#!/bin/sh
# after the first snapshot (of a clean tree); each phase well past the
# debounce (0.3 s), so that each is one snapshot
sleep 1.5
printf 'two\n' >> a.txt; mkdir -p sub/deep; printf 'n\n' > sub/deep/new.txt; sleep 2
cp a.txt a.bak && cp a.bak a.txt && rm a.bak; sleep 2
git add -A && git commit -qm work; sleep 2
seq 1 5000 > big.txt; git add big.txt; sleep 2
printf 'last\n' >> a.txt
EOF3
chmod +x "$T/edit.sh"
# writes a line every 0.1 s for 4 s, after the first snapshot
cat > "$T/busy.sh" <<'EOF3'
#!/bin/sh
sleep 1.5
i=0
while [ $i -lt 40 ]; do echo $i >> a.txt; sleep 0.1; i=$((i + 1)); done
EOF3
chmod +x "$T/busy.sh"
http_boot # PORT and U

write_config <<EOF2
  plugins: [sqlite, exec, http]
http:
  listen: ["127.0.0.1:$PORT"]
agents:
  writer:
    command: [$T/edit.sh]
    workdir: $T/w
    restart: never
    start_secs: 0
    changes: {debounce: 300ms, diff_max: 2KiB}
  poller:
    command: [sh, -c, 'sleep 1; printf "x\\n" > polled.txt; sleep 3']
    workdir: $T/p
    restart: never
    start_secs: 0
    changes: {watch_max: 0, poll: 500ms, debounce: 100ms}
  busy:
    command: [$T/busy.sh]
    workdir: $T/b
    restart: never
    start_secs: 0
    changes: {debounce: 300ms}
  outside:
    command: [sh, -c, 'printf "x\\n" > f.txt']
    workdir: $T/plain
    restart: never
    start_secs: 0
EOF2
start_daemon || exit 1
ended() { s=$(stored_run "$1" state); [ "$s" = EXITED ] || [ "$s" = FATAL ]; }
nth() { events "$1" changes | jq -c ".[$2].data"; }

w=$(ctl start writer)
wait_for 30 ended "$w"
sleep 1 # the last snapshot is taken after the exit
ev=$(events "$w" changes)
n=$(printf '%s' "$ev" | jq length)
is "four snapshots: edits, commit, large file, exit (the rewrite as it was makes none)" "$n" 4
dups=$(printf '%s' "$ev" | jq '[range(1; length) as $i | select((.[$i].data | del(.final)) == (.[$i - 1].data | del(.final)))] | length')
is "no snapshot repeats the one before" "$dups" 0
s1=$(nth "$w" 0)
is "1st: the edited and the new file, with their status" \
    "$(printf '%s' "$s1" | jq -c '[.files[] | [.path, .status]]')" '[["a.txt",".M"],["sub/deep/new.txt","??"]]'
is "1st: numstat of the tracked one" "$(printf '%s' "$s1" | jq -c '[.numstat[] | [.path, .added, .deleted]]')" '[["a.txt",1,0]]'
like "1st: the diff" "$(printf '%s' "$s1" | jq -r .diff)" '^\+two$'
is "1st: not final, not cut" "$(printf '%s' "$s1" | jq -c '[.final, .diff_truncated]')" '[false,false]'
is "1st: the base is the commit the run began on" "$(printf '%s' "$s1" | jq -r .base)" "$(git -C "$T/w" rev-parse main~1)"
s2=$(nth "$w" 1)
is "2nd (after the commit): nothing uncommitted" "$(printf '%s' "$s2" | jq -c .files)" '[]'
is "2nd: both files still changed since the base" "$(printf '%s' "$s2" | jq -c '[.numstat[] | .path]')" '["a.txt","sub/deep/new.txt"]'
is "2nd: head is the new commit" "$(printf '%s' "$s2" | jq -r .head)" "$(git -C "$T/w" rev-parse main)"
s3=$(nth "$w" 2)
is "3rd: the staged large file" "$(printf '%s' "$s3" | jq -c '[.files[] | [.path, .status]]')" '[["big.txt","A."]]'
is "3rd: its counts" "$(printf '%s' "$s3" | jq -c '.numstat[] | select(.path == "big.txt") | [.added, .deleted]')" '[5000,0]'
is "3rd: the diff is cut at diff_max and says so" "$(printf '%s' "$s3" | jq -c '[.diff_truncated, .diff_max, (.diff | length <= 2048)]')" '[true,2048,true]'
s4=$(nth "$w" 3)
is "4th: the change made as it exited, in the final snapshot" "$(printf '%s' "$s4" | jq -c '[.final, [.files[] | .path]]')" '[true,["a.txt","big.txt"]]'
is "4th: a.txt counts both lines" "$(printf '%s' "$s4" | jq -c '.numstat[] | select(.path == "a.txt") | [.added, .deleted]')" '[2,0]'
is "events carry run, agent and machine" "$(printf '%s' "$s4" | jq -c '[.run == "'"$w"'", .agent, .machine]')" '[true,"writer","test-machine"]'

# --- polling, and a workdir outside git
p=$(ctl start poller)
o=$(ctl start outside)
wait_for 30 ended "$p"
wait_for 30 ended "$o"
sleep 1
is "polling: the new file is recorded" "$(events "$p" changes | jq -c '[.[0].data.files[] | .path]')" '["polled.txt"]'
like "polling: the log says why" "$(cat "$T/bosund.log")" "changes of $T/p: polling every 0.5 s \(watch_max directories reached\)"
is "polling: no repeated snapshot" "$(events "$p" changes | jq 'length')" 1
is "outside git: no change events" "$(events "$o" changes | jq 'length')" 0
is "outside git: the run itself went fine" "$(stored_run "$o" exit_code)" 0

# --- a tree written without a pause: the debounce waits for quiet, but
# never more than five times its length
b=$(ctl start busy)
wait_for 30 ended "$b"
sleep 1
like "snapshots come while it writes (not only at the end)" \
    "$(events "$b" changes | jq '[.[] | select(.data.final == false)] | length')" '^[1-9]'

# --- bosunctl changes
out=$(ctl changes "$w")
like "bosunctl changes: a header with the totals" "$out" "^run $w: 2 uncommitted, \+5003 -0 since "
like "  each path with its status and counts" "$out" "^\.M +a\.txt \+2 -0$"
like "  committed paths too" "$out" "^c +sub/deep/new\.txt \+1 -0$"
d=$(ctl changes "$w" --diff 2>"$T/err")
like "bosunctl changes --diff: the diff" "$d" '^\+last$'
like "  saying it was cut" "$(cat "$T/err")" "the diff was cut at 2048 bytes"
like "bosunctl changes of a run without snapshots fails clearly" "$(ctl changes "$o" 2>&1)" "has no change snapshot"

# --- REST
wait_for 10 curl -s -o /dev/null "$U/health" || fail "the listener is up"
ctl token create --name changes > "$T/token" 2>/dev/null
chmod 600 "$T/token"
api() { curl -s -H "Authorization: Bearer $(cat "$T/token")" "$@"; }
r=$(api "$U/api/v1/runs/$w/changes")
is "GET .../changes: the latest, with its diff" "$(printf '%s' "$r" | jq -c '[.latest.final, (.latest.diff | test("\\+last"))]')" '[true,true]'
is "  and the history, without diffs" "$(printf '%s' "$r" | jq -c '[(.items | length), .items[0].data.diff]')" '[4,null]'
is "  diff=true keeps them" "$(api "$U/api/v1/runs/$w/changes?diff=true&tail=1" | jq -c '[(.items | length), (.items[0].data.diff | length > 0)]')" '[1,true]'
is "  an unknown run: 404" "$(api -o /dev/null -w '%{http_code}' "$U/api/v1/runs/01ZZZZZZZZZZZZZZZZZZZZZZZZ/changes")" 404
is "bosunctl --url changes gives the same" "$("$BOSUNCTL" --url "$U" --token-file "$T/token" changes "$w")" "$out"
stop_daemon
is "bosund exits 0 (under ASan: nothing leaked)" "$DAEMON_STATUS" 0
done_testing
