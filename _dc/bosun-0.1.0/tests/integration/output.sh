#!/bin/sh
# Output capture: a fast writer loses no line, a huge line without newline
# is cut and marked, binary output is kept exactly (base64), log files
# rotate, and `bosunctl logs` gives the lines back.
. "$top_srcdir/tests/integration/lib.sh"
plan 20

N=200000
write_config <<EOF2
  plugins: [sqlite, exec]
agents:
  fast:
    command: [seq, "1", "$N"]
    start_secs: 0
    restart: never
  huge:
    command: [sh, -c, 'head -c 300000 /dev/zero | tr "\\\\000" a']
    start_secs: 0
    restart: never
  binary:
    command: [sh, -c, 'printf "ok\\\\n\\\\377\\\\376\\\\000bin\\\\n"']
    start_secs: 0
    restart: never
  rotating:
    command: [seq, "1", "20000"]
    start_secs: 0
    restart: never
    log_max_bytes: 8KiB
    log_keep: 2
EOF2
start_daemon || exit 1

# --- a writer as fast as it can: every line, in order
run=$(ctl start fast)
wait_for 60 run_state_is "$run" EXITED
last=$(ctl request cmd.store.events "{\"subject\":\"evt.run.fast.$run.output\",\"tail\":1}" --json | jq '.data.events[0].data.n')
is "last stored line number is $N" "$last" "$N"
ctl logs "$run" > "$T/fast.out"
is "logs gives back $N lines" "$(wc -l < "$T/fast.out" | tr -d ' ')" "$N"
check "identical to the writer's output" sh -c "seq 1 $N | cmp -s - '$T/fast.out'"
is "exited event counts $N stdout lines" "$(events "$run" exited | jq '.[0].data.stdout_lines')" "$N"
is "log file has every line too" "$(wc -l < "$T/state/runs/$run/output.log" | tr -d ' ')" "$N"
is "logs --tail 3" "$(ctl logs "$run" --tail 3 | tr '\n' ' ')" "$((N-2)) $((N-1)) $N "

# --- a 300000-byte line without newline, line_max 64 KiB
run=$(ctl start huge)
wait_for 10 run_state_is "$run" EXITED
ev=$(events "$run" output)
is "cut into 5 pieces" "$(echo "$ev" | jq length)" 5
is "the first 4 are marked cut" "$(echo "$ev" | jq '[.[] | select(.data.cut == true)] | length')" 4
is "pieces are at most 65536 bytes" "$(echo "$ev" | jq '[.[].data.text | length] | max')" 65536
is "nothing lost: 300000 bytes in all" "$(echo "$ev" | jq '[.[].data.text | length] | add')" 300000
is "logs joins the cut pieces back, without a newline the agent did not write" "$(ctl logs "$run" | wc -c | tr -d ' ')" 300000

# --- binary output
run=$(ctl start binary)
wait_for 10 run_state_is "$run" EXITED
ev=$(events "$run" output)
is "text line stays text" "$(echo "$ev" | jq -r '.[0].data.text')" ok
is "binary line stored as base64" "$(echo "$ev" | jq -r '.[1].data.base64')" "//4AYmlu"
is "binary line has no text field" "$(echo "$ev" | jq -r '.[1].data.text')" null
ctl logs "$run" > "$T/bin.out"
check "logs writes the exact bytes back" sh -c "printf 'ok\\n\\377\\376\\000bin\\n' | cmp -s - '$T/bin.out'"
check "daemon survived binary output" kill -0 "$DAEMON_PID"

# --- log rotation
run=$(ctl start rotating)
wait_for 10 run_state_is "$run" EXITED
d="$T/state/runs/$run"
check "output.log.1 and .2 exist" test -f "$d/output.log.1" -a -f "$d/output.log.2"
check "no third old file (log_keep: 2)" test ! -e "$d/output.log.3"
big=$(find "$d" -name 'output.log*' -size +9k | wc -l)
is "no log file over log_max_bytes" "$big" 0
is "newest file ends with the last line" "$(tail -1 "$d/output.log")" 20000
stop_daemon
done_testing
