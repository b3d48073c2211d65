# Shared by the codex and gemini tests: the real CLIs (pinned in
# tests/agents-cg/package-lock.json, installed there once per suite run by
# `npm ci`, as ./quickstart test does) run by bosund against the fake model
# APIs of tests/agents-cg/ on 127.0.0.1.  Without node or the CLI the test
# is skipped (a TAP skip: "1..0 # SKIP", exit 0), never passed.
#
# cg_start_fake SCRIPT: the fake API in the background; sets FAKE_URL,
# FAKE_LOG (one JSON line per request the fake saw).
CG_DIR="$top_srcdir/tests/agents-cg"
BOSUN_PLUGIN_PATH="$BOSUN_PLUGIN_PATH:$top_builddir/plugins/mcp:$top_builddir/plugins/codex:$top_builddir/plugins/gemini"

cg_need() { # cg_need BIN NAME
    if ! command -v node >/dev/null; then
        echo "1..0 # SKIP node is not installed"; exit 0
    fi
    if ! [ -x "$1" ] || ! timeout 30 "$1" --version >/dev/null 2>&1; then
        echo "1..0 # SKIP the $2 CLI is not installed (cd tests/agents-cg && npm ci)"; exit 0
    fi
}

cg_start_fake() {
    FAKE_LOG="$T/fake.log"
    : > "$FAKE_LOG"
    node "$CG_DIR/$1" "$T/fake.port" "$FAKE_LOG" 2>"$T/fake.err" &
    FAKE_PID=$!
    trap 'kill "$FAKE_PID" 2>/dev/null; cleanup' EXIT
    wait_for 20 test -s "$T/fake.port" || { echo "1..1"; echo "not ok 1 - the fake API listens"; exit 1; }
    FAKE_URL="http://127.0.0.1:$(cat "$T/fake.port")"
    mkdir -p "$T/home" "$T/work"
}

# ended RUN: the run reached a state it stays in.
ended() { case $(runf "$1" state) in EXITED|FATAL|STOPPED|WAITING_INPUT) return 0 ;; esac; return 1; }
# restarted RUN: its process was restarted at least once.
restarted() { [ "$(runf "$1" restarts)" -ge 1 ] 2>/dev/null; }
# ev RUN KIND JQ: a jq filter over the data of the run's events of a kind.
ev() { events "$1" "$2" | jq -c "[.[].data] | $3"; }

# cg_ask AGENT: a task for AGENT whose run asks a blocking question
# (SCENARIO:ask), until the CLI has exited waiting for the answer (an answer
# to a live process is its to read, not a resume).  Sets RUN and SID.
# Two tests.
cg_ask() {
    RUN=$(ctl task create --title "pick a colour" --prompt "SCENARIO:ask" --agent "$1" --json | jq -r .run)
    like "the task's run started" "$RUN" '^[0-9A-Z]{26}$'
    cli_gone() { run_state_is "$RUN" WAITING_INPUT && [ "$(events "$RUN" exited | jq length)" = 1 ]; }
    check "the run waits for input once the CLI has exited" wait_for 90 cli_gone
    SID=$(runf "$RUN" session_id)
}

# cg_answer AGENT: answers RUN's pending request with "ANSWER: blue", until
# the run resumed from it has ended.  Sets RUN2.  Five tests.
cg_answer() {
    _input=$(ctl input list --pending --json | jq -r --arg r "$RUN" '.[] | select(.run == $r) | .input')
    like "the input request is pending" "$_input" '^[0-9A-Z]{26}$'
    ctl input answer "$_input" "ANSWER: blue" >/dev/null
    resumed_is() { [ "$(slot "$1" resumed_from)" = "$RUN" ]; }
    check "the answer resumed the run as a new one" wait_for 30 resumed_is "$1"
    RUN2=$(slot "$1" run)
    check "the resumed run ended" wait_for 90 ended "$RUN2"
    is "the resumed run exited done" "$(runf "$RUN2" state) $(ev "$RUN2" spawn_completed '.[0].class')" 'EXITED "done"'
    is "in the same session" "$(runf "$RUN2" session_id)" "$SID"
}

# cg_crash AGENT: a run of AGENT (resume: on-crash) that runs `sleep 60`
# (SCENARIO:slow), its CLI killed with SIGKILL, until the run restarted
# once has ended.  Sets RUN3 and SID3.  Two tests.
cg_crash() {
    RUN3=$(ctl start "$1" --prompt "SCENARIO:slow")
    sleeping() { events "$RUN3" tool_use | jq -e '.[] | select(.data.input.command | test("sleep 60"))' >/dev/null; }
    check "the CLI is running its command (sleep)" wait_for 90 sleeping
    SID3=$(runf "$RUN3" session_id)
    kill -KILL "$(runf "$RUN3" pid)"
    restarted_once() { [ "$(runf "$RUN3" restarts)" = 1 ] && ended "$RUN3"; }
    check "killed, the run was restarted once and then ended" wait_for 90 restarted_once
}

# cg_resume_daemon TYPE: bosund with the TYPE agent plugin (codex, gemini;
# TYPE_agent from its lib) and two agents of it: asker, and crashy
# (resume: on-crash, never restarted otherwise).
cg_resume_daemon() {
    write_config <<EOF2
  plugins: [sqlite, exec, mcp, $1]
agents:
$("$1"_agent asker </dev/null)
$("$1"_agent crashy <<EOF3
    resume: on-crash
    restart: never
    backoff_base: 0
EOF3
)
EOF2
    start_daemon
}
