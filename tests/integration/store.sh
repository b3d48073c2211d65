#!/bin/sh
# The sqlite store against a real daemon: events stored with growing seqs,
# queries and their filters, the stored.* feed, projections, reload, clean
# and kill -9 restarts, WAL mode, and a database from a newer bosun refused.
. "$top_srcdir/tests/integration/lib.sh"
plan 62

# bosund searches $BOSUN_PLUGIN_PATH before daemon.plugin_path.
BOSUN_PLUGIN_PATH="$top_builddir/plugins/sqlite"
export BOSUN_PLUGIN_PATH
DB="$T/state/bosun.db"

events() { ctl request cmd.store.events "$1" --json; }
request() { ctl request "$1" "$2" --json; }
# seqs TEXT / ns TEXT: the "seq" / "n" numbers in TEXT, space-separated.
seqs() { printf '%s\n' "$1" | grep -o '"seq":[0-9]*' | cut -d: -f2 | tr '\n' ' ' | sed 's/ $//'; }
ns() { printf '%s\n' "$1" | grep -o '"n":[0-9]*' | cut -d: -f2 | tr '\n' ' ' | sed 's/ $//'; }
last_seq() { printf '%s\n' "$1" | sed -n 's/.*"last_seq":\([0-9]*\).*/\1/p'; }
last_word() { printf '%s\n' "$1" | awk '{ print $NF }'; }
# increasing "3 5 9": non-empty and strictly increasing.
increasing() { printf '%s\n' "$1" | awk '{ for (i = 2; i <= NF; i++) if ($i + 0 <= $(i - 1) + 0) exit 1; exit NF == 0 }'; }
# wait_count PATTERN N: until at least N committed events match PATTERN.
wait_count() {
    for _i in $(seq 1 200); do
        [ "$(seqs "$(events "{\"subject\":\"$1\"}")" | wc -w)" -ge "$2" ] && return 0
        sleep 0.05
    done
    return 1
}
run_object() { # AGENT ID STATE CREATED
    printf '{"run":"%s","agent":"%s","instance":0,"task":null,"machine":"test-machine","state":"%s","pid":0,"pid_start":0,"exit_code":null,"exit_signal":null,"created_at":%s,"started_at":%s,"ended_at":null,"restarts":0,"reason":null,"resumed_from":null,"updated_at":%s}' \
        "$2" "$1" "$3" "$4" "$4" "$4"
}

# --- configuration checks
write_config <<'EOF2'
  plugins: [sqlite]
sqlite:
  bogus: 1
  synchronous: sometimes
  batch_max: 0
EOF2
out=$("$BOSUND" --check-config -c "$T/bosun.yaml" 2>&1); st=$?
is "check-config with bad sqlite settings: exit 1" "$st" 1
like "unknown key rejected" "$out" "unknown key 'bogus'"
like "synchronous must be normal or full" "$out" "sqlite.synchronous': must be normal or full, got 'sometimes'"
like "batch_max range checked" "$out" "sqlite.batch_max': must be between 1 and 1000000"

write_config <<'EOF2'
  plugins: [sqlite]
sqlite:
  batch_max: 100
EOF2
start_daemon || exit 1
like "opened in state_dir by default" "$(cat "$T/bosund.log")" "sqlite: $DB open: schema version 1"

# --- the stored feed: subscribe first, then publish (under timeout, so that
# a lost message fails the test instead of hanging it)
base=$(sub_count)
timeout 20 "$BOSUNCTL" -s "$(SOCK)" sub 'stored.evt.test.>' --count 3 --json > "$T/stored.out" &
SUBPID=$!
wait_subs $((base + 1))
ctl pub evt.test.x '{"run":"r1","n":1}'
ctl pub evt.test.y '{"run":"r2","n":2}'
ctl pub evt.test.x '{"run":"r1","n":3}'
wait $SUBPID
stored=$(cat "$T/stored.out")
feed=$(seqs "$stored")
is "stored feed: three messages" "$(printf '%s\n' "$stored" | wc -l | tr -d ' ')" 3
like "stored feed: on stored.<subject>, in the stored form" "$(printf '%s\n' "$stored" | head -1)" \
    '"subject":"stored\.evt\.test\.x".*\{"seq":[0-9]+,"time":[0-9.]+,"subject":"evt\.test\.x","machine":"test-machine","run":"r1","task":null,"data":\{"run":"r1","n":1\}\}'
check "stored feed: seqs increase" increasing "$feed"
is "stored feed: in publish order" "$(ns "$stored")" "1 2 3"
check "WAL mode: bosun.db-wal exists while running" test -e "$DB-wal"

# --- queries
out=$(events '{"since":0,"subject":"evt.test.>"}')
is "events since 0: the same seqs as the feed" "$(seqs "$out")" "$feed"
like "events: last_seq and more" "$out" '"last_seq":[0-9]+,"more":false'
check "last_seq is at least the highest seq" test "$(last_seq "$out")" -ge "$(last_word "$feed")"
is "subject without wildcards" "$(ns "$(events '{"subject":"evt.test.x"}')")" "1 3"
is "subject with '*'" "$(ns "$(events '{"subject":"evt.*.y"}')")" "2"
is "run filter" "$(ns "$(events '{"subject":"evt.test.>","run":"r1"}')")" "1 3"
for n in 4 5 6 7; do ctl pub evt.test.z "{\"run\":\"r3\",\"task\":\"k1\",\"n\":$n}"; done
wait_count 'evt.test.>' 7
is "task filter" "$(ns "$(events '{"task":"k1"}')")" "4 5 6 7"
out=$(events '{"subject":"evt.test.>","tail":2}')
is "tail 2: the last two, ascending" "$(ns "$out")" "6 7"
like "tail: more, since older ones exist" "$out" '"more":true'
out=$(events '{"subject":"evt.test.>","limit":3}')
is "limit 3: the first three" "$(ns "$out")" "1 2 3"
like "limit: more is true" "$out" '"more":true'
third=$(last_word "$(seqs "$out")")
out=$(events "{\"subject\":\"evt.test.>\",\"since\":$third,\"limit\":4}")
is "since the third seq: exactly the rest" "$(ns "$out")" "4 5 6 7"
like "nothing more after the last one" "$out" '"more":false'
out=$(events '{"subject":"evt.test.x","since":0,"run":"nobody"}')
like "no match: empty list" "$out" '"events":\[\],"last_seq":[0-9]+,"more":false'

# --- bad arguments
for args in '{"limit":0}' '{"limit":10001}' '{"limit":"5"}' '{"since":-1}' '{"since":1.5}' \
    '{"subject":"evt..x"}' '{"subject":"a.>.b"}' '{"run":7}' '{"tail":2,"since":1}' \
    '{"bogus":1}' '[1]'; do
    like "events $args: bad_request" "$(events "$args")" '"data":\{"error":\{"code":"bad_request","message":"[^"]+"\}\}'
done
like "runs with a non-boolean active: bad_request" "$(request cmd.store.runs '{"active":"yes"}')" '"code":"bad_request"'
like "tasks with limit 0: bad_request" "$(request cmd.store.tasks '{"limit":0}')" '"code":"bad_request"'
ctl pub cmd.store.events '{}'
like "a request without a reply subject is ignored" "$(request cmd.store.status '{}')" '"backend":"sqlite"'

# --- status
out=$(request cmd.store.status '{}')
like "status: backend and path" "$out" "\"backend\":\"sqlite\",\"path\":\"$DB\""
like "status: counts, schema version, nothing pending" "$out" \
    '"events":[0-9]+,"last_seq":[0-9]+,"schema_version":1,"pending":0'

# --- projections
ctl pub evt.run.a.R1.state "$(run_object a R1 RUNNING 1000)"
ctl pub evt.run.a.R2.state "$(run_object a R2 EXITED 2000)"
ctl pub evt.run.b.R3.state "$(run_object b R3 STARTING 3000)"
wait_count 'evt.run.>' 3
out=$(request cmd.store.runs '{}')
like "runs: newest first" "$out" '"runs":\[\{"run":"R3".*\{"run":"R2".*\{"run":"R1"'
like "runs by id: the whole run object" "$(request cmd.store.runs '{"run":"R1"}')" \
    '"runs":\[\{"run":"R1","agent":"a","instance":0,"task":null,"machine":"test-machine","state":"RUNNING",.*"updated_at":1000\}\]'
out=$(request cmd.store.runs '{"active":true}')
is "active runs: not the EXITED one" "$(printf '%s' "$out" | grep -o '"run":"R[0-9]"' | tr '\n' ' ')" \
    '"run":"R3" "run":"R1" '
is "active runs of agent a" "$(request cmd.store.runs '{"active":true,"agent":"a"}' | grep -o '"run":"R[0-9]"' | tr '\n' ' ')" \
    '"run":"R1" '
ctl pub evt.run.a.R1.state "$(run_object a R1 EXITED 1000)"
ctl pub evt.run.b.R3.state "$(run_object b R3 STOPPED 3000)"
wait_count 'evt.run.>' 5
like "runs ended: no active run left" "$(request cmd.store.runs '{"active":true}')" '"runs":\[\]'
like "the projection holds the last state" "$(request cmd.store.runs '{"run":"R1"}')" '"state":"EXITED"'
ctl pub evt.task.K1.updated '{"task":"K1","title":"first","status":"open","owner":"ann"}'
ctl pub evt.task.K1.updated '{"task":"K1","status":"done"}'
wait_count 'evt.task.>' 2
like "tasks: an update keeps the fields it does not carry" "$(request cmd.store.tasks '{"task":"K1"}')" \
    '"tasks":\[\{"task":"K1","title":"first","prompt":null,"status":"done","agent":null,"owner":"ann","created_at":[0-9.]+,"updated_at":[0-9.]+\}\]'

# --- reload
cp "$T/bosun.yaml" "$T/good.yaml"
sed -i 's/batch_max: 100/batch_max: 2\n  synchronous: full/' "$T/bosun.yaml"
is "reload with synchronous full, batch_max 2" "$(ctl reload)" "configuration reloaded"
like "status shows the new settings" "$(request cmd.store.status '{}')" '"synchronous":"full","batch_max":2'
for n in 1 2 3 4 5; do ctl pub evt.test.batch "{\"n\":$n}"; done
wait_count 'evt.test.batch' 5
is "small batches still store everything in order" "$(ns "$(events '{"subject":"evt.test.batch"}')")" "1 2 3 4 5"
printf '  path: elsewhere.db\n' >> "$T/bosun.yaml"
ctl reload >/dev/null
like "a new path needs a restart, said" "$(cat "$T/bosund.log")" "sqlite: path changed to $T/state/elsewhere.db; $DB stays in use"
cp "$T/good.yaml" "$T/bosun.yaml"
ctl reload >/dev/null

# --- clean restart
before=$(seqs "$(events '{"subject":"evt.test.>"}')")
before_last=$(last_seq "$(events '{"tail":1}')")
stop_daemon
is "SIGTERM: exit 0" "$DAEMON_STATUS" 0
check "clean stop: the WAL is checkpointed away" test ! -e "$DB-wal"
start_daemon || exit 1
is "after restart: the same events, same seqs" "$(seqs "$(events '{"subject":"evt.test.>"}')")" "$before"
check "after restart: last_seq is not lower" test "$(last_seq "$(events '{"tail":1}')")" -ge "$before_last"
ctl pub evt.test.after '{"n":100}'
wait_count 'evt.test.after' 1
check "a new event's seq continues above the old ones" \
    test "$(seqs "$(events '{"subject":"evt.test.after"}')")" -gt "$before_last"

# --- kill -9 after the events were committed (seen on the stored feed)
base=$(sub_count)
timeout 20 "$BOSUNCTL" -s "$(SOCK)" sub 'stored.evt.crash.>' --count 5 --json > "$T/crash.out" &
SUBPID=$!
wait_subs $((base + 1))
for n in 1 2 3 4 5; do ctl pub evt.crash.x "{\"n\":$n}"; done
wait $SUBPID
crash=$(seqs "$(cat "$T/crash.out")")
kill -KILL "$DAEMON_PID"
wait "$DAEMON_PID" 2>/dev/null
DAEMON_PID=
check "kill -9 left the WAL behind" test -e "$DB-wal"
start_daemon || exit 1
is "after kill -9: every committed event is there" "$(seqs "$(events '{"subject":"evt.crash.>"}')")" "$crash"
ctl pub evt.crash.y '{"n":6}'
wait_count 'evt.crash.y' 1
check "after kill -9: seq continues above" \
    test "$(seqs "$(events '{"subject":"evt.crash.y"}')")" -gt "$(last_word "$crash")"
stop_daemon
is "final stop: exit 0" "$DAEMON_STATUS" 0

# --- a database written by a newer bosun is refused
set_version() {
    if command -v sqlite3 >/dev/null 2>&1; then
        sqlite3 "$DB" "PRAGMA user_version = $1"
    elif command -v python3 >/dev/null 2>&1 && python3 -c 'import sqlite3' 2>/dev/null; then
        python3 -c 'import sqlite3, sys
c = sqlite3.connect(sys.argv[1]); c.execute("PRAGMA user_version = " + sys.argv[2]); c.commit()' \
            "$DB" "$1"
    else
        return 2
    fi
}
set_version 99; st=$?
if [ "$st" -eq 2 ]; then
    ok "too-new schema refused # SKIP neither sqlite3 nor python3's sqlite3 available"
    ok "refusal names the file and both versions # SKIP neither sqlite3 nor python3's sqlite3 available"
else
    out=$(timeout 20 "$BOSUND" -c "$T/bosun.yaml" 2>&1); st=$?
    is "too-new schema: bosund refuses to start (exit 1)" "$st" 1
    like "refusal names the file and both versions" "$out" \
        "$DB: schema version 99 is newer than this bosun knows \\(1\\)"
fi
done_testing
