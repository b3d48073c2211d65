# Helpers for the llm tools tests: run tests/llm/tools_drive on a config
# and a list of calls, then pick results apart with jq.
#
#   drive NAME CONFIG_JSON <<CALLS   runs, output in $T/NAME.out
#   res NAME ID JQ                   jq filter on the result of call ID
#   events NAME JQ                   jq -r over every output line

. "$top_srcdir/tests/integration/lib.sh"

DRIVE="$top_builddir/tests/llm/tools_drive"
WS="$T/ws"
mkdir -p "$WS"
command -v jq >/dev/null || { echo "1..0 # SKIP jq is not installed"; exit 0; }

drive() {
    _name=$1
    printf '%s\n' "$2" > "$T/$_name.cfg"
    cat > "$T/$_name.calls"
    # Bounded: no call of the tests runs longer than this.
    timeout 60 "$DRIVE" "$T/$_name.cfg" < "$T/$_name.calls" > "$T/$_name.out" 2> "$T/$_name.err"
    echo $? > "$T/$_name.rc"
}

res() {
    jq -r --arg id "$2" "select(.event == \"result\" and .id == \$id) | $3" "$T/$1.out"
}

events() {
    jq -r "$2" "$T/$1.out"
}

# start_fetch_server: the fake web server on 127.0.0.1; sets FETCH_PORT.
FETCH_SERVER_PID=
start_fetch_server() {
    /usr/bin/python3 "$top_srcdir/tests/helpers/llm_fetch_server.py" "$T/fetch.port" &
    FETCH_SERVER_PID=$!
    wait_for 10 test -s "$T/fetch.port" || { echo "# the fake web server did not start"; return 1; }
    FETCH_PORT=$(cat "$T/fetch.port")
}
stop_fetch_server() {
    [ -n "$FETCH_SERVER_PID" ] && kill "$FETCH_SERVER_PID" 2>/dev/null
    FETCH_SERVER_PID=
}
trap 'stop_fetch_server; cleanup' EXIT

# alive PIDFILE: whether the process whose pid is in the file still runs
# (a zombie waiting for a reaper does not count: it is dead).
alive() {
    [ -s "$1" ] || return 1
    _state=$(sed 's/.*) //' "/proc/$(cat "$1")/stat" 2>/dev/null | cut -d' ' -f1)
    [ -n "$_state" ] && [ "$_state" != Z ]
}

# pstate PIDFILE: "no pid file", "alive" or "dead" (a check on a process
# that never wrote its pid must not pass as dead).
pstate() {
    if ! [ -s "$1" ]; then echo "no pid file"; elif alive "$1"; then echo alive; else echo dead; fi
}
