#!/bin/sh
# bosun-llm's bash tool: output and exit codes, the timeout ending the
# command's whole process group (a double-forked grandchild, one that
# ignores SIGTERM), leftovers of a finished command, cancel, the head/tail
# output cap, the filtered environment, and the workspace scan after each
# call (changes reported once, nothing when nothing changed, its limits).
. "$top_srcdir/tests/integration/llm_tools_lib.sh"

plan 32

CFG="{\"workspace\":\"$WS\",\"bash\":{\"output_max\":1024,\"timeout\":10,\"max_timeout\":20}}"
BOSUN_AGENT_TOKEN=agent-token-must-not-leak; export BOSUN_AGENT_TOKEN
echo before > "$WS/kept.txt"
echo old > "$WS/changed.txt"
echo bye > "$WS/gone.txt"

drive bash "$CFG" <<'CALLS'
{"id":"b1","name":"bash","args":{"command":"echo out; echo err >&2; pwd"}}
{"id":"b2","name":"bash","args":{"command":"echo failing; exit 3"}}
{"id":"b3","name":"bash","args":{"command":"kill -9 $$"}}
{"id":"t1","name":"bash","args":{"timeout":1,"command":"sh -c '(sleep 300 & echo $! > gc.pid) &'; (trap '' TERM; exec sleep 300) & echo $! > stubborn.pid; echo started; sleep 300"}}
{"id":"lo","name":"bash","args":{"command":"sleep 300 & echo $! > bg.pid; echo finished"}}
{"id":"cap","name":"bash","args":{"command":"seq 1 2000"}}
{"id":"max","name":"bash","args":{"command":"true","timeout":21}}
{"id":"env","name":"bash","args":{"command":"echo \"[$BOSUN_AGENT_TOKEN]\"; test -n \"$PATH\" && echo path-kept"}}
{"id":"in","name":"bash","args":{"command":"cat; echo stdin-closed"}}
{"id":"s1","name":"bash","args":{"command":"echo new > made.txt; echo newer > changed.txt; rm gone.txt; mkdir -p d/e; echo deep > d/e/f.txt"}}
{"id":"s2","name":"bash","args":{"command":"true"}}
{"id":"w1","name":"write_file","args":{"path":"by_tool.txt","content":"tool\n"}}
{"id":"s3","name":"bash","args":{"command":"cat by_tool.txt >/dev/null; touch kept.txt"}}
{"id":"c1","name":"bash","args":{"command":"sleep 300 & echo $! > cancelled.pid; wait"},"cancel_after":0.5}
CALLS

is "the driver ran every call" "$(cat "$T/bash.rc")" 0
is "stdout and stderr together, run in the workspace" "$(res bash b1 .content)" "$(printf 'out\nerr\n%s' "$WS")"
is "exit code 0 in the detail" "$(res bash b1 .detail.exit_code)" 0
is "a non-zero exit: runtime, with the code" "$(res bash b2 .category):$(res bash b2 .detail.exit_code)" "runtime:3"
like "... the error carries the output" "$(res bash b2 .error)" 'exited with code 3; output:'
is "... and so does the content" "$(res bash b2 .content)" failing
is "killed by a signal: named in the detail" "$(res bash b3 .detail.signal_name)" KILL
is "a timeout: category timeout" "$(res bash t1 .category):$(res bash t1 .detail.timed_out)" "timeout:true"
like "... the output so far is kept" "$(res bash t1 .error | tr '\n' ' ')" 'timed out after 1 s.*output so far: started'
is "... the double-forked grandchild is gone" "$(pstate "$WS/gc.pid")" dead
is "... the child ignoring SIGTERM is gone too (SIGKILL)" "$(pstate "$WS/stubborn.pid")" dead
like "... which took the 2 s grace" "$(res bash t1 .detail.duration)" '^(3|2\.[0-9]|[4-9])'
is "a command that leaves a background job answers" "$(res bash lo .content):$(res bash lo .ok)" "finished:true"
is "... and the job does not outlive the call" "$(pstate "$WS/bg.pid")" dead
like "output past output_max keeps the head" "$(res bash cap .content)" '^1$'
like "... and the tail" "$(res bash cap .content)" '^2000$'
like "... with a marker saying how much was cut" "$(res bash cap .content)" '^\[\.\.\. 7869 bytes cut \.\.\.\]$'
is "... and the sizes in the detail" "$(res bash cap '"\(.detail.bytes) \(.detail.cut_bytes)"')" "8893 7869"
like "a timeout above max_timeout is refused" "$(res bash max .category):$(res bash max .error)" 'invalid:.*above the maximum of 20 s'
is "the agent token does not reach the command; PATH does" "$(res bash env .content)" "$(printf '[]\npath-kept')"
is "stdin is /dev/null" "$(res bash in .content)" stdin-closed
is "the scan reports new, changed and deep files with content" \
    "$(events bash 'select(.event=="file" and .id=="s1" and .op=="write") | "\(.path)=\(.content | rtrimstr("\n"))"' | sort | tr '\n' ' ')" \
    "changed.txt=newer d/e/f.txt=deep made.txt=new "
is "... and the deleted one" "$(events bash 'select(.event=="file" and .id=="s1" and .op=="delete") | .path')" gone.txt
is "... counted in the detail" "$(res bash s1 .detail.scan.changed)" 4
is "nothing changed: nothing reported" "$(res bash s2 .detail.scan.changed):$(events bash 'select(.event=="file" and .id=="s2")' | wc -l)" "0:0"
is "a tool's own write is not reported again by the scan; a touch without change neither" \
    "$(res bash s3 .detail.scan.changed)" 0
is "the earlier calls' own files were reported by the scan once (pid files)" \
    "$(events bash 'select(.event=="file" and .path=="bg.pid") | .id')" lo
is "a cancelled call: no result" "$(events bash 'select(.id=="c1") | .event')" cancelled
wait_for 5 sh -c "! { test -s '$WS/cancelled.pid' && kill -0 \$(cat '$WS/cancelled.pid') 2>/dev/null && ! grep -q ') Z' /proc/\$(cat '$WS/cancelled.pid')/stat; }"
is "... and its process group is killed" "$(pstate "$WS/cancelled.pid")" dead

# bosun-llm killed outright: the command's first process dies with it.
mkdir -p "$T/ws4"
printf '{"workspace":"%s"}\n' "$T/ws4" > "$T/orphan.cfg"
echo '{"id":"o","name":"bash","args":{"command":"echo $$ > sh.pid; exec sleep 300"}}' > "$T/orphan.calls"
"$DRIVE" "$T/orphan.cfg" < "$T/orphan.calls" > "$T/orphan.out" 2>&1 &
DRIVER=$!
wait_for 10 test -s "$T/ws4/sh.pid"
kill -KILL "$DRIVER"
wait "$DRIVER" 2>/dev/null
wait_for 5 sh -c "! kill -0 \$(cat '$T/ws4/sh.pid') 2>/dev/null || grep -q ') Z' /proc/\$(cat '$T/ws4/sh.pid')/stat"
is "a command whose bosun-llm is SIGKILLed is killed too" \
    "$(pstate "$T/ws4/sh.pid")" dead

# The scan is bounded.
mkdir -p "$T/ws2"
drive limit "{\"workspace\":\"$T/ws2\",\"files\":{\"scan_max_files\":3}}" <<'CALLS'
{"id":"many","name":"bash","args":{"command":"for i in 1 2 3 4 5; do echo $i > f$i; done"}}
CALLS
mkdir -p "$T/ws3"
drive names "{\"workspace\":\"$T/ws3\",\"files\":{\"scan_file_max\":10}}" <<'CALLS'
{"id":"bad","name":"bash","args":{"command":"echo x > \"$(printf 'bad\\377name')\"; echo y > good; head -c 100 /dev/zero > big"}}
CALLS
is "a scan past scan_max_files says so and reports what it indexed" \
    "$(res limit many '"\(.detail.scan.limit) \(.detail.scan.changed)"')" "scan_max_files 3"
is "names that are not UTF-8 and files over scan_file_max are skipped and counted; the rest is reported" \
    "$(res names bad '"\(.detail.scan.skipped_names) \(.detail.scan.too_large) \(.detail.scan.changed)"'):$(events names 'select(.event=="file") | .path')" "1 1 1:good"
