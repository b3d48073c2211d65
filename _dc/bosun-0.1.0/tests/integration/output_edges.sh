#!/bin/sh
# Output edges: a line of exactly line_max bytes is one event; the pieces
# of a longer line are cut on all but the last, which closes the line, also
# when an unterminated line is a multiple of line_max; `bosunctl logs`
# prints exactly the bytes the agent wrote (CRLF, no final newline).
. "$top_srcdir/tests/integration/lib.sh"
plan 14

# Each agent writes what its script prints; the test makes the same bytes.
mkdir -p "$T/bin"
cat > "$T/bin/exact" <<'EOS'
#!/bin/sh
head -c 65536 /dev/zero | tr '\000' a; echo
EOS
cat > "$T/bin/multiple" <<'EOS'
#!/bin/sh
head -c 131072 /dev/zero | tr '\000' b
EOS
cat > "$T/bin/mixed" <<'EOS'
#!/bin/sh
printf 'dos\r\nunix\n\r\n'
head -c 196609 /dev/zero | tr '\000' c; echo
printf 'last'
EOS
chmod +x "$T/bin/exact" "$T/bin/multiple" "$T/bin/mixed"

write_config <<EOF2
  plugins: [sqlite, exec]
agents:
  exact:
    command: ["$T/bin/exact"]
    start_secs: 0
    restart: never
  multiple:
    command: ["$T/bin/multiple"]
    start_secs: 0
    restart: never
  mixed:
    command: ["$T/bin/mixed"]
    start_secs: 0
    restart: never
EOF2
start_daemon || exit 1

# --- 65536 bytes and a newline: one line, not a cut piece and an empty one
run=$(ctl start exact)
wait_for 10 run_state_is "$run" EXITED
ev=$(events "$run" output)
is "a line of exactly line_max bytes is one event" "$(printf "%s\n" "$ev" | jq length)" 1
is "and it is not marked cut" "$(printf "%s\n" "$ev" | jq '.[0].data.cut')" null
ctl logs "$run" > "$T/exact.out"
check "logs gives the bytes back exactly" sh -c "'$T/bin/exact' | cmp -s - '$T/exact.out'"

# --- an unterminated line of twice line_max: a cut piece, then the closing one
run=$(ctl start multiple)
wait_for 10 run_state_is "$run" EXITED
ev=$(events "$run" output)
is "two pieces" "$(printf "%s\n" "$ev" | jq length)" 2
is "the first is cut" "$(printf "%s\n" "$ev" | jq '.[0].data.cut')" true
is "the last closes the line" "$(printf "%s\n" "$ev" | jq '.[1].data.cut')" null
is "and says it had no newline" "$(printf "%s\n" "$ev" | jq -r '.[1].data.eol')" ""
ctl logs "$run" > "$T/multiple.out"
is "logs prints 131072 bytes, no newline added" "$(wc -c < "$T/multiple.out" | tr -d ' ')" 131072
check "the exact bytes" sh -c "'$T/bin/multiple' | cmp -s - '$T/multiple.out'"

# --- CRLF lines, a long line, an unterminated last line
run=$(ctl start mixed)
wait_for 10 run_state_is "$run" EXITED
ev=$(events "$run" output)
is "a CRLF line's text has no CR" "$(printf "%s\n" "$ev" | jq -r '.[0].data.text')" dos
is "and says how it ended" "$(printf "%s\n" "$ev" | jq -c '.[0].data.eol')" '"\r\n"'
is "pieces of the long line: cut on all but the last" \
    "$(printf "%s\n" "$ev" | jq -c '[.[3:7][] | .data.cut]')" '[true,true,true,null]'
ctl logs "$run" > "$T/mixed.out"
is "logs prints every byte" "$(wc -c < "$T/mixed.out" | tr -d ' ')" \
    "$("$T/bin/mixed" | wc -c | tr -d ' ')"
check "the exact bytes" sh -c "'$T/bin/mixed' | cmp -s - '$T/mixed.out'"
stop_daemon
done_testing
