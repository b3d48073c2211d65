#!/bin/sh
# An llm run's chat history (cmd.llm.chat.*, bosun-bus(7)) through
# bosunctl, curl and a /ws client (Node's ws): send, append, history in
# order, kept across a daemon restart, a send seen live on /ws as
# evt.run.<agent>.<run>.chat.user, clear, limits, and an agent identity
# refused for another run.  Exec runs: the history is keyed by the run id.
. "$top_srcdir/tests/integration/lib.sh"
. "$top_srcdir/tests/integration/ws_lib.sh"
plan 31

write_config <<EOF2
  plugins: [sqlite, exec, http]
$(ws_config)
agents:
  coder:
    command: [sh, -c, 'printf %s "\$BOSUN_AGENT_TOKEN" > "$T/token.\$BOSUN_RUN_ID"; exec sleep 3600']
    start_secs: 0
    instances: 2
EOF2
start_daemon || exit 1
wait_for 10 curl -s -o /dev/null "$H/health"
RUN=$(ctl start coder)
OTHER=$(ctl start coder)
wait_for 10 test -s "$T/token.$RUN"
A="$H/api/v1/runs"

ctl chat "$RUN" "hello there" </dev/null
ctl request cmd.llm.chat.append "{\"run\":\"$RUN\",\"role\":\"assistant\",\"content\":\"\",\"tool_calls\":[{\"id\":\"c1\",\"name\":\"read_file\",\"arguments\":{\"path\":\"a\"}}]}" --json >/dev/null
ctl request cmd.llm.chat.append "{\"run\":\"$RUN\",\"role\":\"tool\",\"tool_call_id\":\"c1\",\"name\":\"read_file\",\"content\":\"text\",\"is_error\":false}" --json >/dev/null
h=$(ctl chat "$RUN" --json </dev/null)
is "history: the messages in order" "$(printf '%s' "$h" | jq -c '[.items[] | [.seq, .role]]')" '[[1,"user"],[2,"assistant"],[3,"tool"]]'
is "  all of it: no older page" "$(printf '%s' "$h" | jq .next)" null
is "  in the neutral format" "$(printf '%s' "$h" | jq -c '.items[1].tool_calls[0] | [.id, .name, .arguments.path]')" '["c1","read_file","a"]'
is "  a tool result's fields" "$(printf '%s' "$h" | jq -c '.items[2] | [.tool_call_id, .is_error, .content]')" '["c1",false,"text"]'
like "bosunctl chat RUN prints the history off a terminal" "$(ctl chat "$RUN" </dev/null)" '^\[1\] user: hello there'

# An agent identity: its own run only.
ATOK=$(cat "$T/token.$RUN")
is "an agent reads its own run's history" "$(curl -s -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $ATOK" "$A/$RUN/messages")" 200
is "  but may not send to another run: 404" "$(curl -s -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $ATOK" -H 'Content-Type: application/json' -d '{"text":"x"}' "$A/$OTHER/messages")" 404
o=$(node_ws req "$U" "$ATOK" cmd.llm.chat.history '{}')
is "/ws req of an agent: its own run's history (the run forced)" "$(jf "$o" '[.data.session, (.data.items | length)]')" "[\"$RUN\",3]"
o=$(node_ws req "$U" "$ATOK" cmd.llm.chat.send "{\"run\":\"$OTHER\",\"text\":\"x\"}")
is "  another run's: not_found" "$(jf "$o" .error.code)" '"not_found"'
o=$(node_ws req "$U" "$ATOK" cmd.llm.files.record '{"path":"by-agent.txt","op":"write","content_base64":"","actor":"human"}')
is "  an agent's record is its own run's, never a human's" "$(ctl request cmd.llm.files.list "{\"run\":\"$RUN\",\"path\":\"by-agent.txt\"}" --json | jq -c '[.data.items[] | .actor]')" '["tool"]'
o=$(node_ws req "$U" "$TOK" cmd.llm.chat.history "{\"run\":\"$RUN\",\"limit\":1}")
is "/ws req of an admin: the newest message" "$(jf "$o" '[.data.items[0].seq, .data.next]')" '[3,3]'

stop_daemon
start_daemon || exit 1
wait_for 10 curl -s -o /dev/null "$H/health"
is "the history is kept across a restart" "$(ctl chat "$RUN" --json </dev/null | jq -c '[.items[].seq]')" '[1,2,3]'

# A send while a /ws client follows the run (llm_ws.mjs says when it is
# subscribed in $LLM_WS_READY).
LLM_WS_READY="$T/ws.ready"
export LLM_WS_READY
timeout $((WS_DEADLINE + 30)) node "$W/llm_ws.mjs" "$U" "$TOK" "evt.run.*.$RUN.chat.user" > "$T/ws.out" 2>>"$T/node.err" &
WSP=$!
wait_for 30 test -s "$T/ws.ready"
code=$(curl -s -o "$T/send" -w '%{http_code}' -H "Authorization: Bearer $TOK" -H 'Content-Type: application/json' -d '{"text":"from the web"}' "$A/$RUN/messages")
is "POST messages: 201" "$code" 201
is "  with the message's seq" "$(jq .seq "$T/send")" 4
wait "$WSP"
is "the /ws client saw it as chat.user" "$(jq -r .subject "$T/ws.out")" "evt.run.coder.$RUN.chat.user"
is "  with its text" "$(jq -r .data.text "$T/ws.out")" "from the web"
is "GET messages: the history as a list" "$(curl -s -H "Authorization: Bearer $TOK" "$A/$RUN/messages?limit=2" | jq -c '[[.items[].seq], .next]')" '[[3,4],3]'

# A file version is an event too, without its content.
rm -f "$T/ws.ready"
timeout $((WS_DEADLINE + 30)) node "$W/llm_ws.mjs" "$U" "$TOK" "evt.run.*.$RUN.file" > "$T/wsf.out" 2>>"$T/node.err" &
WSP=$!
wait_for 30 test -s "$T/ws.ready"
ctl request cmd.llm.files.record "{\"run\":\"$RUN\",\"path\":\"w.txt\",\"op\":\"write\",\"content_base64\":\"d3M=\",\"round\":2}" --json >/dev/null
wait "$WSP"
is "/ws sees a file version as evt.run.<agent>.<run>.file" "$(jq -r .subject "$T/wsf.out")" "evt.run.coder.$RUN.file"
is "  with path, op, version, actor, round" "$(jq -c '.data | [.path, .op, .version, .actor, .round]' "$T/wsf.out")" '["w.txt","write",2,"tool",2]'
is "  never the content" "$(jq -c '.data | has("content_base64")' "$T/wsf.out")" false

# Over --url (the daemon's /ws): a message and the history.
"$BOSUNCTL" --url "$H" --token-file "$T/boot.tok" chat "$RUN" "over http" </dev/null
is "over --url: chat RUN MESSAGE, then the history" "$("$BOSUNCTL" --url "$H" --token-file "$T/boot.tok" chat "$RUN" --json </dev/null | jq -r '.items[-1].content')" "over http"

# Limits.
code=$(curl -s -o "$T/e" -w '%{http_code}' -H "Authorization: Bearer $TOK" -H 'Content-Type: application/json' -d '{"text":""}' "$A/$RUN/messages")
like "an empty text is refused" "$code $(jq -r .error.code "$T/e")" '^400 bad_request'
r=$(ctl request cmd.llm.chat.append "{\"run\":\"$RUN\",\"role\":\"boss\",\"content\":\"x\"}" --json | jq -r .data.error.message)
like "an unknown role is refused, naming the roles" "$r" 'user, assistant, tool or system'
r=$(ctl request cmd.llm.chat.send "{\"run\":\"NOPE\",\"text\":\"x\"}" --json | jq -r .data.error.code)
is "a send to an unknown run: not_found" "$r" not_found

# The prompt on a terminal: the reply streamed from the run's events.
o=$(/usr/bin/python3 "$top_srcdir/tests/helpers/llm_pty.py" "$BOSUNCTL" "$(SOCK)" "$RUN" coder "on the terminal")
out=$(printf '%s' "$o" | jq -r .output | tr -d '\r')
like "the prompt shows the history first" "$out" '\[4\] user: from the web'
like "  then sends the typed line" "$out" 'sent \(message [0-9]+\)'
like "  and streams the reply's deltas" "$out" '^Hello, human$'
is "  the whole message not printed again" "$(printf '%s\n' "$out" | grep -c 'Hello, human')" 1
is "  a prompt again after the status idle, and EOF ends it with 0" "$(printf '%s' "$o" | jq .exit)" 0
is "the typed line is in the history" "$(ctl chat "$RUN" --json </dev/null | jq -r '.items[-1].content')" "on the terminal"

code=$(curl -s -o "$T/clr" -w '%{http_code}' -X POST -H "Authorization: Bearer $TOK" "$A/$RUN/messages/clear")
is "clear: 200 with the count, and the history is empty" "$code $(jq .cleared "$T/clr") $(ctl chat "$RUN" --json </dev/null | jq '.items | length')" "200 6 0"
done_testing
