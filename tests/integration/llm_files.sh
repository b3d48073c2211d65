#!/bin/sh
# An llm run's versioned files (cmd.llm.files.*, bosun-bus(7)) through
# bosunctl, curl and the bus: record, list, get, replay, diff; a replay to
# every version of a random history gives exactly the workspace after that
# change (snapshots included); identical content is stored once; a human's
# PUT/DELETE changes the workspace on disk and is a version by "human",
# never through a symbolic link; limits; an agent identity sees its own
# run's files only.  The runs are exec runs (no session): their files are
# keyed by the run id.
. "$top_srcdir/tests/integration/lib.sh"
. "$top_srcdir/tests/integration/http_lib.sh"
plan 52

http_boot
mkdir -p "$T/ws" "$T/outside"
write_config <<EOF2
  plugins: [sqlite, exec, http, sessions]
sqlite:
  llm_snapshot_bytes: 1K
http:
  listen: ["127.0.0.1:$PORT"]
  bootstrap_token_file: $T/boot.tok
agents:
  coder:
    command: [sh, -c, 'printf %s "\$BOSUN_AGENT_TOKEN" > "$T/token.\$BOSUN_RUN_ID"; exec sleep 3600']
    start_secs: 0
    instances: 2
    workdir: $T/ws
  sess:
    type: sessions
    assign: true
    command: [sleep, "3600"]
    start_secs: 0
EOF2
start_daemon || exit 1
wait_for 10 curl -s -o /dev/null "$U/health"
RUN=$(ctl start coder)
OTHER=$(ctl start coder)
wait_for 10 test -s "$T/token.$RUN"
DB="$T/state/bosun.db"
b64() { printf '%s' "$1" | base64 -w0; }
rec() { ctl request cmd.llm.files.record "$1" --json | jq -c .data; }

# ---- record, identical content once, list, get
r=$(rec "{\"run\":\"$RUN\",\"path\":\"a.txt\",\"op\":\"write\",\"content_base64\":\"$(b64 one)\",\"round\":1,\"tool_call\":\"c1\"}")
is "a record is version 1" "$(printf '%s' "$r" | jq .version)" 1
is "  with the content's sha256" "$(printf '%s' "$r" | jq -r .sha256)" "$(printf one | sha256sum | cut -d' ' -f1)"
r=$(rec "{\"run\":\"$RUN\",\"path\":\"dir/same.txt\",\"op\":\"write\",\"content_base64\":\"$(b64 one)\"}")
is "the same content at another path is version 2" "$(printf '%s' "$r" | jq .version)" 2
is "identical content is stored once" "$(sqlite3 "$DB" 'SELECT count(*) FROM blobs')" 1
rec "{\"run\":\"$RUN\",\"path\":\"a.txt\",\"op\":\"write\",\"content_base64\":\"$(b64 two)\"}" >/dev/null
l=$(ctl files "$RUN" --json)
is "files lists the latest version of each path" "$(printf '%s' "$l" | jq -c '[.items[] | [.path, .version]]')" '[["a.txt",3],["dir/same.txt",2]]'
is "  and the session's latest version" "$(printf '%s' "$l" | jq .latest)" 3
is "every version of one path" "$(ctl request cmd.llm.files.list "{\"run\":\"$RUN\",\"path\":\"a.txt\"}" --json | jq -c '[.data.items[] | .version]')" '[1,3]'
is "round and tool call are kept" "$(ctl request cmd.llm.files.list "{\"run\":\"$RUN\",\"path\":\"a.txt\"}" --json | jq -c '.data.items[0] | [.round, .tool_call, .actor]')" '[1,"c1","tool"]'
is "bosunctl files RUN --version 2: the workspace's paths then" "$(ctl files "$RUN" --version 2 | tr '\n' ' ')" 'a.txt dir/same.txt '
is "bosunctl files RUN PATH: the latest content" "$(ctl files "$RUN" a.txt)" two
is "  --version 2: as of version 2" "$(ctl files "$RUN" a.txt --version 2)" one
t=$(ctl files "$RUN" 2>&1)
like "the table names paths and versions" "$t" 'a\.txt'
like "  and the latest version" "$t" 'latest version: 3'
d=$(ctl files "$RUN" a.txt --diff 1..3)
like "--diff 1..3 is a unified diff: the old line" "$d" '^-one$'
like "  the new line" "$d" '^\+two$'
like "  labelled with path and version" "$d" '^\+\+\+ b/a\.txt@3'
d=$(ctl files "$RUN" --diff 0..2)
like "--diff without a path covers every changed path" "$d" 'b/dir/same\.txt@2'
URLCTL() { "$BOSUNCTL" --url "$U" --token-file "$T/boot.tok" "$@"; }
is "over --url (the daemon's /ws): files RUN PATH" "$(URLCTL files "$RUN" a.txt)" two
is "  files RUN --json: the latest version" "$(URLCTL files "$RUN" --json | jq .latest)" 3
like "  files --diff" "$(URLCTL files "$RUN" a.txt --diff 1..3)" '^\+two$'
is "replay 2: the workspace after change 2" "$(ctl request cmd.llm.files.replay "{\"run\":\"$RUN\",\"version\":2}" --json | jq -c '[.data.files[] | [.path, (.content_base64 | @base64d)]]')" '[["a.txt","one"],["dir/same.txt","one"]]'
r=$(ctl request cmd.llm.files.replay "{\"run\":\"$RUN\",\"version\":9}" --json | jq -r .data.error.message)
like "a replay past the latest version says where the session is" "$r" 'at version 3'

# ---- the property: replay N == the state after the Nth change
p=$(/usr/bin/python3 "$top_srcdir/tests/helpers/llm_replay.py" "$BOSUNCTL" "$(SOCK)" "$OTHER" 1515 70)
is "70 random changes: every replay gives the workspace as it was" "$(printf '%s' "$p" | jq -c .mismatches)" '[]'
is "  over 71 versions (0 to 70)" "$(printf '%s' "$p" | jq .versions)" 71
n=$(sqlite3 "$DB" "SELECT count(*) FROM file_snapshots WHERE session = '$OTHER'")
check "  with snapshots taken on the way (llm_snapshot_bytes 1K): $n" test "$n" -ge 3

# ---- a human's edits over REST
code=$(curl -s -o "$T/put" -w '%{http_code}' -X PUT -H "Authorization: Bearer $BOOT" --data-binary 'by hand' "$U/api/v1/runs/$RUN/files/notes/h.txt")
is "PUT a file: 200" "$code" 200
is "  written into the workspace" "$(cat "$T/ws/notes/h.txt")" 'by hand'
is "  recorded as a version by human" "$(ctl request cmd.llm.files.list "{\"run\":\"$RUN\",\"path\":\"notes/h.txt\"}" --json | jq -c '[.data.items[] | [.version, .actor]]')" '[[4,"human"]]'
is "GET the file: its raw bytes" "$(curl -s -H "Authorization: Bearer $BOOT" "$U/api/v1/runs/$RUN/files/notes/h.txt")" 'by hand'
is "GET ?version=1 of a.txt" "$(curl -s -H "Authorization: Bearer $BOOT" "$U/api/v1/runs/$RUN/files/a.txt?version=1")" one
is "a deep path as one %2F-encoded segment" "$(curl -s -H "Authorization: Bearer $BOOT" "$U/api/v1/runs/$RUN/files/dir%2Fsame.txt")" one
code=$(curl -s -o /dev/null -w '%{http_code}' -X DELETE -H "Authorization: Bearer $BOOT" "$U/api/v1/runs/$RUN/files/notes/h.txt")
is "DELETE the file: 200" "$code" 200
check "  gone from the workspace" test ! -e "$T/ws/notes/h.txt"
is "  a deleted version by human" "$(ctl files "$RUN" --json | jq -c '.items[] | select(.path == "notes/h.txt") | [.version, .deleted, .actor]')" '[5,true,"human"]'
is "GET files?path=: every version of that path, oldest first" "$(curl -s -H "Authorization: Bearer $BOOT" "$U/api/v1/runs/$RUN/files?path=notes%2Fh.txt" | jq -c '[.items[] | [.path, .version, .deleted, .actor]]')" '[["notes/h.txt",4,false,"human"],["notes/h.txt",5,true,"human"]]'
code=$(curl -s -o "$T/badp" -w '%{http_code}' -H "Authorization: Bearer $BOOT" "$U/api/v1/runs/$RUN/files?path=..%2Fx")
like "  a path that is not one: 400 naming it" "$code $(jq -r '.error.code + " " + .error.message' "$T/badp")" '^400 bad_request .*path'
code=$(curl -s -o "$T/badq" -w '%{http_code}' -H "Authorization: Bearer $BOOT" "$U/api/v1/runs/$RUN/files?paths=a")
like "  another parameter: 400" "$code $(jq -r .error.message "$T/badq")" '^400 .*paths'
ln -s "$T/outside" "$T/ws/evil"
code=$(curl -s -o "$T/evil" -w '%{http_code}' -X PUT -H "Authorization: Bearer $BOOT" --data-binary 'x' "$U/api/v1/runs/$RUN/files/evil/x")
like "a PUT through a symbolic link is refused" "$code $(jq -r .error.message "$T/evil")" '^[45][0-9][0-9] .*symbolic link'
check "  and nothing is written outside" test ! -e "$T/outside/x"
is "  nor recorded" "$(ctl files "$RUN" --json | jq '[.items[] | select(.path | startswith("evil"))] | length')" 0

# ---- limits
long=$(head -c 1100 /dev/zero | tr '\0' a)
r=$(ctl request cmd.llm.files.record "{\"run\":\"$RUN\",\"path\":\"$long\",\"op\":\"write\",\"content_base64\":\"\"}" --json | jq -r '.data.error | .code + ": " + .message')
like "a path over 1024 bytes is refused, saying so" "$r" '^bad_request: .*1 to 1024 bytes'
r=$(ctl request cmd.llm.files.record "{\"run\":\"$RUN\",\"path\":\"../up\",\"op\":\"write\",\"content_base64\":\"\"}" --json | jq -r .data.error.message)
like "a '..' segment is refused" "$r" "'\.\.' segment"
r=$(ctl request cmd.llm.files.record "{\"run\":\"$RUN\",\"path\":\"x\",\"op\":\"write\",\"content_base64\":\"%%%%\"}" --json | jq -r '.data.error | .code + ": " + .message')
like "bad base64 is refused, saying so" "$r" '^bad_request: .*content_base64.*base64'
head -c 4194305 /dev/zero > "$T/big"
code=$(curl -s -o "$T/bigr" -w '%{http_code}' -X PUT -H "Authorization: Bearer $BOOT" --data-binary @"$T/big" "$U/api/v1/runs/$RUN/files/big")
like "content over 4 MiB is too_large" "$code $(jq -r '.error | .code + ": " + .message' "$T/bigr")" '^4[0-9][0-9] too_large: .*4194305 bytes'
check "  and not written" test ! -e "$T/ws/big"

# ---- a run with a session (pre-assigned by its type): keyed by the
# session, its default workspace under state_dir/llm/<session>
SR=$(ctl start sess)
wait_for 10 sh -c "[ -n \"\$(\"$BOSUNCTL\" -s \"$(SOCK)\" request cmd.store.runs '{\"run\":\"$SR\"}' --json | jq -r '.data.runs[0].session_id // empty')\" ]"
SID=$(stored_run "$SR" session_id)
rec "{\"run\":\"$SR\",\"path\":\"s.txt\",\"op\":\"write\",\"content_base64\":\"$(b64 sess)\"}" >/dev/null
is "a session's files are keyed by the session" "$(sqlite3 "$DB" "SELECT session FROM file_versions WHERE run = '$SR'")" "$SID"
is "  and listed as its" "$(ctl files "$SR" --json | jq -r .session)" "$SID"
code=$(curl -s -o /dev/null -w '%{http_code}' -X PUT -H "Authorization: Bearer $BOOT" --data-binary 'into the default' "$U/api/v1/runs/$SR/files/d/x.txt")
is "a PUT without a workdir: 200" "$code" 200
is "  written into state_dir/llm/<session>/workspace" "$(cat "$T/state/llm/$SID/workspace/d/x.txt")" 'into the default'
is "  which is private (0700)" "$(stat -c %a "$T/state/llm/$SID/workspace")" 700

# ---- an agent identity: its own run only
ATOK=$(cat "$T/token.$RUN")
is "an agent lists its own run's files" "$(curl -s -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $ATOK" "$U/api/v1/runs/$RUN/files")" 200
is "  but not another run's: 404" "$(curl -s -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $ATOK" "$U/api/v1/runs/$OTHER/files")" 404
done_testing
