#!/bin/sh
# An agent running as another user cannot make the daemon (root) write,
# truncate or read anything through links it plants, and cannot read the
# store: run directories are the daemon's, files are opened without
# following links, the state directory is 0750 and its files 0640.
. "$top_srcdir/tests/integration/lib.sh"
if [ "$(id -u)" -ne 0 ]; then
    echo "1..0 # SKIP bosund must run as root to switch users"
    exit 0
fi
plan 19
as_nobody() { setpriv --reuid=nobody --regid=nogroup --clear-groups "$@"; }
chmod 755 "$T"
mkdir -p "$T/work" && chown nobody "$T/work"
# Root's files an attacker aims at.
printf 'untouched\n' > "$T/victim" && chmod 600 "$T/victim"
printf 'also untouched\n' > "$T/victim2" && chmod 600 "$T/victim2"
# What an older bosund (or a umask) left world-readable.
mkdir -p "$T/state" "$T/run" && chmod 755 "$T/state"
sqlite3 "$T/state/bosun.db" 'create table old(x); insert into old values (42);'
chmod 644 "$T/state/bosun.db"
cat > "$T/attack.sh" <<'EOS'
#!/bin/sh
# Runs as nobody, before it prints anything (the log is made at the first
# output).
d="$STATE/runs/$BOSUN_RUN_ID"
rt=$(dirname "$BOSUN_MCP_CONFIG")
try() { if "$@" 2>/dev/null; then echo "ATTACK-DONE: $*"; else echo "refused: $1"; fi; }
r1=$(try ln -s "$VICTIM" "$d/output.log")
r2=$(try ln "$VICTIM2" "$d/output.log.1")
r3=$(try ln -s "$VICTIM" "$rt/answer")
r4=$(try mv "$BOSUN_PROMPT_FILE" "$rt/moved")
r5=$(try cat "$STATE/bosun.db")
echo "$r1"; echo "$r2"; echo "$r3"; echo "$r4"; echo "$r5"
[ "$1" = race ] || { echo finished; exit 0; }
# The rename race: output flows (and rotates) while the agent keeps trying
# to swap the log for a link.
i=0
while [ $i -lt 200 ]; do
    mv -f "$d/output.log" "$d/gone" 2>/dev/null && ln -sf "$VICTIM2" "$d/output.log" 2>/dev/null &&
        echo "ATTACK-DONE: swapped the log"
    printf '%0100d\n' $i; printf '%0100d\n' $i; printf '%0100d\n' $i
    i=$((i + 1))
done
echo finished
EOS
chmod 755 "$T/attack.sh"
write_config <<EOF2
  plugins: [sqlite, exec]
agents:
  attacker:
    command: [$T/attack.sh]
    user: nobody
    group: nogroup
    workdir: $T/work
    env: {STATE: $T/state, VICTIM: $T/victim, VICTIM2: $T/victim2}
    start_secs: 0
    restart: never
  racer:
    command: [$T/attack.sh, race]
    user: nobody
    group: nogroup
    workdir: $T/work
    env: {STATE: $T/state, VICTIM: $T/victim, VICTIM2: $T/victim2}
    start_secs: 0
    restart: never
    log_max_bytes: 4KiB
    log_keep: 0
EOF2
start_daemon || exit 1
run=$(ctl start attacker --prompt "do your worst")
wait_for 20 run_state_is "$run" EXITED
race=$(ctl start racer --prompt "race")
wait_for 20 run_state_is "$race" EXITED
out="$(ctl logs "$run")
$(ctl logs "$race")"
is "both agents ran to their end" "$(echo "$out" | grep -c '^finished$')" 2
unlike "no attack succeeded" "$out" 'ATTACK-DONE'
is "root's file was not written through a link" "$(cat "$T/victim")" untouched
is "nor truncated by a rotation" "$(cat "$T/victim2")" "also untouched"
is "and keeps its mode and owner" "$(stat -c '%a %U' "$T/victim" "$T/victim2" | sort -u)" "600 root"
is "the run's state directory is the daemon's" "$(stat -c '%U %a' "$T/state/runs/$run")" "root 750"
is "output.log is a file of the daemon's" "$(stat -c '%F %U %a %h' "$T/state/runs/$run/output.log")" \
    "regular file root 640 1"
rt="$T/run/runs/$run"
wait_for 10 test ! -e "$rt/mcp.json"
is "the prompt kept in the state directory is the daemon's" \
    "$(stat -c '%U %a' "$T/state/runs/$run/prompt") $(cat "$T/state/runs/$run/prompt")" \
    "root 640 do your worst"
is "state_dir made 0750 again" "$(stat -c %a "$T/state")" 750
is "bosun.db made 0640" "$(stat -c %a "$T/state/bosun.db")" 640
is "the WAL and SHM are 0640 too" "$(stat -c %a "$T/state/bosun.db-wal" "$T/state/bosun.db-shm" | sort -u)" 640
like "the change of state_dir's mode is logged as a notice" "$(cat "$T/bosund.log")" \
    "^<5>.*$T/state: directory was mode 0755 owner 0, now 0750"
like "and bosun.db's" "$(cat "$T/bosund.log")" "^<5>.*$T/state/bosun.db: file was mode 0644 owner 0, now 0640"
check "the old data is still there" test "$(sqlite3 "$T/state/bosun.db" 'select x from old')" = 42
# As another local user: nothing of the store can be read.
if as_nobody cat "$T/state/bosun.db" >/dev/null 2>&1; then
    fail "nobody cannot read bosun.db"
else ok "nobody cannot read bosun.db"; fi
if as_nobody sqlite3 "file:$T/state/bosun.db?immutable=1" 'select count(*) from events' >/dev/null 2>&1; then
    fail "nobody cannot query the events"
else ok "nobody cannot query the events"; fi
if as_nobody ls "$T/state/runs" >/dev/null 2>&1; then
    fail "nobody cannot list the runs"
else ok "nobody cannot list the runs"; fi
stop_daemon
is "daemon stops: exit 0" "$DAEMON_STATUS" 0
# Files an older version left to the agent are taken back at the next start.
chown -R nobody:nogroup "$T/state/runs/$run" && chmod 777 "$T/state/runs/$run"
start_daemon || exit 1
is "a run directory left to the agent is the daemon's again" \
    "$(stat -c '%U %a' "$T/state/runs/$run" "$T/state/runs/$run/prompt" | tr '\n' ' ')" "root 750 root 640 "
stop_daemon
done_testing
