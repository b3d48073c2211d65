# Shared helpers for the integration tests: TAP output, a temporary
# configuration and state directory per test, and a real bosund.
#
# Tests source this file, call plan N, then ok/fail/is/like; start_daemon
# writes $T/bosun.yaml (from the caller's $CONFIG text) and starts bosund.

set -u
: "${top_builddir:?run through make check}"
: "${top_srcdir:?run through make check}"

BOSUND="$top_builddir/bosund"
BOSUNCTL="$top_builddir/bosunctl"
# The libtool wrappers live at the top of the build tree.
[ -x "$BOSUND" ] || BOSUND="$top_builddir/core/bosund"
[ -x "$BOSUNCTL" ] || BOSUNCTL="$top_builddir/core/bosunctl"
HEARTBEAT_DIR="$top_builddir/plugins/heartbeat"
TEST_PLUGIN_DIR="$top_builddir/tests/plugins"

T=$(mktemp -d "${TMPDIR:-/tmp}/bosun-test.XXXXXX")
DAEMON_PID=
_n=0
_failed=0

cleanup() {
    if [ -n "$DAEMON_PID" ] && kill -0 "$DAEMON_PID" 2>/dev/null; then
        kill -TERM "$DAEMON_PID" 2>/dev/null
        for _i in $(seq 1 50); do kill -0 "$DAEMON_PID" 2>/dev/null || break; sleep 0.1; done
        kill -KILL "$DAEMON_PID" 2>/dev/null
    fi
    if [ "$_failed" -eq 0 ]; then rm -rf "$T"; else echo "# kept $T for inspection"; fi
}
trap cleanup EXIT

plan() { echo "1..$1"; }
ok() { _n=$((_n + 1)); echo "ok $_n - $1"; }
fail() {
    _n=$((_n + 1)); _failed=$((_failed + 1))
    echo "not ok $_n - $1"
    shift
    for line in "$@"; do printf '%s\n' "$line" | sed 's/^/#   /'; done
}
# check DESCRIPTION COMMAND...: passes when the command succeeds.
check() { _d=$1; shift; if "$@"; then ok "$_d"; else fail "$_d" "command failed: $*"; fi; }
# is DESCRIPTION GOT EXPECTED
is() {
    if [ "$2" = "$3" ]; then ok "$1"; else fail "$1" "got:      '$2'" "expected: '$3'"; fi
}
# like DESCRIPTION TEXT REGEX (grep -E)
like() {
    if printf '%s\n' "$2" | grep -Eq -- "$3"; then ok "$1"; else fail "$1" "text:  '$2'" "regex: '$3'"; fi
}
# unlike DESCRIPTION TEXT REGEX: TEXT does not match.  Empty TEXT fails: it
# is what a command that failed prints, and a check that cannot fail proves
# nothing; pair unlike with a like on the same text that shows it holds what
# it must.  unlike_empty_ok is for where empty is a right answer.
unlike() {
    if [ -z "$2" ]; then
        fail "$1" "text is empty (did the command that made it fail?)" "should not match: '$3'"
    else
        unlike_empty_ok "$@"
    fi
}
unlike_empty_ok() {
    if printf '%s\n' "$2" | grep -Eq -- "$3"; then fail "$1" "text:  '$2'" "should not match: '$3'"; else ok "$1"; fi
}

# wait_for SECONDS COMMAND...: polls until the command succeeds.
wait_for() {
    _limit=$1; shift
    _tries=$(awk "BEGIN { print int($_limit * 20) }")
    for _i in $(seq 1 "$_tries"); do "$@" >/dev/null 2>&1 && return 0; sleep 0.05; done
    return 1
}

# write_config: $T/bosun.yaml with a daemon section using the temp dirs,
# followed by whatever the test passes on stdin.
write_config() {
    mkdir -p "$T/state" "$T/run"
    {
        echo "daemon:"
        echo "  machine_id: test-machine"
        echo "  state_dir: $T/state"
        echo "  runtime_dir: $T/run"
        echo "  log_level: ${LOG_LEVEL:-info}"
        echo "  plugin_path: [$HEARTBEAT_DIR, $TEST_PLUGIN_DIR]"
        echo "  mcp_command: $BOSUNCTL"
        cat
    } > "$T/bosun.yaml"
}

# idle_mcp_daemon: bosund with sqlite, exec and mcp (put on the plugin
# path) and one agent, idle (sleep 3600, RUNNING at once), on write_config.
idle_mcp_daemon() {
    BOSUN_PLUGIN_PATH="$BOSUN_PLUGIN_PATH:$top_builddir/plugins/mcp"
    write_config <<EOF2
  plugins: [sqlite, exec, mcp]
agents:
  idle:
    command: [sleep, "3600"]
    start_secs: 0
EOF2
    start_daemon
}

SOCK() { echo "$T/run/bosund.sock"; }
ctl() { "$BOSUNCTL" -s "$T/run/bosund.sock" "$@"; }

# start_daemon: bosund in the background, stderr to $T/bosund.log; waits
# until the control socket answers.
start_daemon() {
    "$BOSUND" -c "$T/bosun.yaml" 2>>"$T/bosund.log" &
    DAEMON_PID=$!
    if ! wait_for 20 ctl status; then
        echo "# bosund did not come up; its log:"
        sed 's/^/#   /' "$T/bosund.log"
        return 1
    fi
}

# stop_daemon: SIGTERM and wait, 30 s at most before SIGKILL (a hung stop
# then shows as status 137); the exit status is left in DAEMON_STATUS.
# (Not in a $(...) subshell: only this shell can wait for its child.)
stop_daemon() {
    kill -TERM "$DAEMON_PID"
    for _i in $(seq 1 300); do kill -0 "$DAEMON_PID" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$DAEMON_PID" 2>/dev/null
    wait "$DAEMON_PID"
    DAEMON_STATUS=$?
    DAEMON_PID=
}

done_testing() {
    [ "$_failed" -eq 0 ]
}

# Number of live bus subscriptions, from status.
sub_count() { ctl status --json | sed -n 's/.*"subscriptions":\([0-9]*\).*/\1/p'; }
# wait_subs N: until at least N subscriptions exist (a subscriber is ready).
wait_subs() { wait_for 10 sh -c "[ \"\$(\"$BOSUNCTL\" -s \"$T/run/bosund.sock\" status --json | sed -n 's/.*\"subscriptions\":\([0-9]*\).*/\1/p')\" -ge $1 ]"; }

# --- supervision helpers (need jq)
BOSUN_PLUGIN_PATH="$top_builddir/plugins/sqlite:$top_builddir/plugins/exec"
export BOSUN_PLUGIN_PATH

# slot AGENT FIELD [INSTANCE]: a field of the agent's row in `ps --json`.
slot() {
    ctl ps --json | jq -r --arg a "$1" --argjson i "${3:-0}" \
        ".[] | select(.agent == \$a and .instance == \$i) | .$2"
}
# runf RUN FIELD: a field of a live run, from `ps --json`.
runf() { ctl ps --json | jq -r --arg r "$1" ".[] | select(.run == \$r) | .$2"; }
# stored_run RUN FIELD: a field of a run as the store has it.
stored_run() {
    ctl request cmd.store.runs "{\"run\":\"$1\"}" --json | jq -r ".data.runs[0].$2"
}
# state_is AGENT STATE: for wait_for.
state_is() { [ "$(slot "$1" state)" = "$2" ]; }
run_state_is() { [ "$(runf "$1" state)" = "$2" ]; }
stored_state_is() { [ "$(stored_run "$1" state)" = "$2" ]; }
# events RUN KIND: the stored events of a run of that kind, as a JSON array.
events() {
    ctl request cmd.store.events "{\"subject\":\"evt.run.*.$1.$2\",\"limit\":10000}" --json |
        jq -c '.data.events'
}
# pid_alive PID: running, not a zombie (a reparented child may stay a
# zombie when nothing reaps it in a container).
pid_alive() {
    kill -0 "$1" 2>/dev/null || return 1
    # A zombie reaped between kill -0 and this read leaves no stat to read:
    # gone, not alive (read as alive, killmode.sh failed once under load).
    _pid_state=$(sed 's/.*) \(.\).*/\1/' "/proc/$1/stat" 2>/dev/null)
    [ -n "$_pid_state" ] && [ "$_pid_state" != Z ]
}
pid_dead() { ! pid_alive "$1"; }

# store_rewind DB VERSION: makes a stopped daemon's database look as a
# bosun of schema VERSION (2 or more) left it, by undoing the migrations
# above it (sqlite3 3.35 or later), so that a test can watch the next start
# migrate it again.
store_rewind() {
    _sql=
    [ "$2" -lt 10 ] && _sql="$_sql DROP TABLE IF EXISTS github_deliveries;"
    [ "$2" -lt 9 ] && _sql="$_sql DROP TABLE IF EXISTS task_prs;"
    [ "$2" -lt 8 ] && _sql="$_sql DROP TABLE IF EXISTS chat_messages;"
    [ "$2" -lt 7 ] && _sql="$_sql DROP TABLE IF EXISTS file_snapshots;
        DROP TABLE IF EXISTS file_versions; DROP TABLE IF EXISTS blobs;"
    [ "$2" -lt 6 ] && _sql="$_sql DROP TABLE IF EXISTS machines;
        DROP TABLE IF EXISTS machine_registrations;"
    [ "$2" -lt 5 ] && _sql="$_sql DROP INDEX IF EXISTS events_machine_mseq;
        DROP INDEX IF EXISTS runs_machine; ALTER TABLE events DROP COLUMN mseq;
        ALTER TABLE tasks DROP COLUMN machine; ALTER TABLE inputs DROP COLUMN machine;"
    [ "$2" -lt 4 ] && _sql="$_sql DROP TABLE approvals;"
    [ "$2" -lt 3 ] && _sql="$_sql DROP TABLE usage;"
    sqlite3 "$1" "$_sql PRAGMA user_version = $2;"
}
