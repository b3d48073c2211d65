#!/bin/sh
# bosun-llm's file tools on a real workspace: read/write/edit/list/delete,
# their errors, the escapes (.., absolute, symlink out, hard link to an
# outside file), the size limits, the same escapes on the O_NOFOLLOW
# walk used where the kernel has no openat2, and the replaced files'
# descriptors (held until the loop is idle) all closed.
. "$top_srcdir/tests/integration/llm_tools_lib.sh"

plan 55

CFG="{\"workspace\":\"$WS\",\"files\":{\"read_max\":64,\"write_max\":100}}"
mkdir -p "$T/outside"
echo "secret outside" > "$T/outside/secret"
ln -s "$T/outside" "$WS/out_link"
ln -s ../outside/secret "$WS/rel_out"
ln "$T/outside/secret" "$WS/hard"
mkdir "$WS/dir"
echo inside > "$WS/dir/real"
ln -s real "$WS/dir/in_link"
mkfifo "$WS/fifo"

drive files "$CFG" <<'CALLS'
{"id":"w1","name":"write_file","args":{"path":"src/new/a.txt","content":"one\ntwo\nthree\n"}}
{"id":"r1","name":"read_file","args":{"path":"src/new/a.txt"}}
{"id":"r2","name":"read_file","args":{"path":"./src//new/../new/a.txt","offset":2,"limit":1}}
{"id":"r3","name":"read_file","args":{"path":"src/new/a.txt","offset":9}}
{"id":"e1","name":"edit_file","args":{"path":"src/new/a.txt","search":"two","replace":"TWO"}}
{"id":"e2","name":"edit_file","args":{"path":"src/new/a.txt","search":"e","replace":"E"}}
{"id":"e3","name":"edit_file","args":{"path":"src/new/a.txt","search":"e","replace":"E","count":3}}
{"id":"e4","name":"edit_file","args":{"path":"src/new/a.txt","search":"absent","replace":"x"}}
{"id":"l1","name":"list_files","args":{}}
{"id":"l2","name":"list_files","args":{"path":"src","glob":"*.txt"}}
{"id":"d1","name":"delete_file","args":{"path":"src/new/a.txt"}}
{"id":"d2","name":"delete_file","args":{"path":"src/new/a.txt"}}
{"id":"d3","name":"delete_file","args":{"path":"dir"}}
{"id":"x1","name":"read_file","args":{"path":"../outside/secret"}}
{"id":"x2","name":"read_file","args":{"path":"dir/../../outside/secret"}}
{"id":"x3","name":"read_file","args":{"path":"/etc/passwd"}}
{"id":"x4","name":"read_file","args":{"path":"out_link/secret"}}
{"id":"x5","name":"read_file","args":{"path":"rel_out"}}
{"id":"x6","name":"write_file","args":{"path":"out_link/planted","content":"x"}}
{"id":"x7","name":"read_file","args":{"path":"hard"}}
{"id":"x8","name":"write_file","args":{"path":"hard","content":"overwritten"}}
{"id":"s1","name":"read_file","args":{"path":"dir/in_link"}}
{"id":"big1","name":"write_file","args":{"path":"big","content":"0123456789012345678901234567890123456789012345678901234567890123456789012345678901234567890123456789X"}}
{"id":"big2","name":"write_file","args":{"path":"big","content":"0123456789\n0123456789\n0123456789\n0123456789\n0123456789\n0123456789\n0123456789\n"}}
{"id":"big3","name":"read_file","args":{"path":"big"}}
{"id":"bad1","name":"read_file","args":{"path":"dir"}}
{"id":"bad2","name":"read_file","args":{"path":"a","extra":1}}
{"id":"bad3","name":"write_file","args":{"path":"."," content":"x"}}
{"id":"bad4","name":"read_file","args":{"path":"nothing-here"}}
{"id":"fifo","name":"read_file","args":{"path":"fifo"}}
CALLS

is "the driver ran every call" "$(cat "$T/files.rc")" 0
is "write_file makes the directories and the file" "$(res files w1 .detail.created):$(res files w1 .ok)" "true:true"
is "the write is reported to the host with its content" \
    "$(events files 'select(.event=="file" and .id=="w1") | [.op,.path,.content] | join("|")')" \
    "$(printf 'write|src/new/a.txt|one\ntwo\nthree\n')"
is "read_file returns the content" "$(res files r1 .content)" "$(printf 'one\ntwo\nthree')"
like "offset and limit select lines, and it says there is more" "$(res files r2 .content)" \
    '^two$|more lines: read on with offset=3'
is "a normalised path reads the same file" "$(res files r2 '.detail.path')" "src/new/a.txt"
like "an offset past the end says how many lines there are" "$(res files r3 .content)" 'the file has 3 lines'
is "edit_file replaces one exact match (the new content reported)" \
    "$(events files 'select(.event=="file" and .id=="e1") | .content')" "$(printf 'one\nTWO\nthree')"
like "several matches without count: an error saying how many" "$(res files e2 .error)" \
    'occurs 3 times in src/new/a.txt, more than count \(1\)'
is "... of category invalid" "$(res files e2 .category)" invalid
is "count allows up to that many, all replaced" "$(res files e3 .detail.replacements)" 3
is "zero matches: not_found" "$(res files e4 .category)" not_found
like "list_files lists recursively, directories with /" "$(res files l1 .content)" '^src/new/$'
like "... and files with their size" "$(res files l1 .content)" '^src/new/a.txt \(14 bytes\)$'
like "... symlinks with their target, never entered" "$(res files l1 .content)" "^out_link -> $T/outside$"
unlike "... nothing of the outside directory" "$(res files l1 .content)" 'out_link/secret'
is "a glob filters names under the path" "$(res files l2 .content)" "src/new/a.txt (14 bytes)"
is "delete_file deletes" "$(test -e "$WS/src/new/a.txt" && echo present || echo gone)" gone
is "... reported as a delete" "$(events files 'select(.event=="file" and .id=="d1") | .op')" delete
is "deleting it again: not_found" "$(res files d2 .category)" not_found
like "delete_file refuses a directory" "$(res files d3 .error)" 'is a directory'
is "../ out of the workspace: denied" "$(res files x1 .category)" denied
is ".. climbing out from a subdirectory: denied" "$(res files x2 .category)" denied
like "an absolute path: denied, saying so" "$(res files x3 .error)" 'absolute paths are refused'
like "a symlinked directory leading out: denied" "$(res files x4 .category):$(res files x4 .error)" \
    '^denied:.*leads out of the workspace'
is "a relative symlink climbing out: denied" "$(res files x5 .category)" denied
is "a write through a symlink out: denied" "$(res files x6 .category)" denied
is "... and nothing was planted outside" "$(test -e "$T/outside/planted" && echo planted || echo none)" none
like "a hard link to an outside file is not read" "$(res files x7 .category):$(res files x7 .error)" \
    '^denied:.*2 hard links'
is "writing the hard link replaces the workspace's name (copy on write)" "$(cat "$WS/hard")" overwritten
is "... the outside file keeps its content" "$(cat "$T/outside/secret")" "secret outside"
is "... and the result says the link was broken" "$(res files x8 .detail.hard_link_broken)" true
is "a symlink that stays inside is followed" "$(res files s1 .content)" inside
like "a write above write_max is refused with both sizes" "$(res files big1 .error)" '101 bytes, more than the 100'
is "... and not written" "$(res files big1 .category):$(test -e "$WS/big.x" || echo ok)" "invalid:ok"
like "a read stops at read_max and says where to go on" "$(res files big3 .content)" 'cut at 64 bytes: read on with offset=6'
is "... flagged truncated" "$(res files big3 .detail.truncated)" true
like "reading a directory: invalid, pointing at list_files" "$(res files bad1 .error)" 'a directory \(use list_files\)'
like "an unknown argument is refused by the schema" "$(res files bad2 .error)" 'unknown property "extra"'
is "... as invalid" "$(res files bad2 .category)" invalid
like "a missing required argument is named" "$(res files bad3 .error)" '"content" is required'
is "a missing file: not_found" "$(res files bad4 .category)" not_found
like "a FIFO is refused without hanging" "$(res files fifo .category):$(res files fifo .error)" 'invalid:fifo is a special file'

is "no temporary file is left behind" "$(find "$WS" -name '.*bosun-*' | wc -l)" 0

# tools: limits what the model is shown and what it may call.
drive some "{\"workspace\":\"$WS\",\"tools\":[\"read_file\",\"list_files\",\"fetch\"]}" <<'CALLS'
{"id":"w","name":"write_file","args":{"path":"x","content":"x"}}
CALLS
is "only the enabled tools are shown" "$(events some 'select(.event=="schemas") | [.tools[].name] | join(",")')" "read_file,list_files,fetch"
like "... each with its JSON Schema" "$(events some 'select(.event=="schemas") | .tools[0].input_schema | tojson')" '"required":\["path"\]'
is "... and a disabled one cannot be called" "$(res some w .category):$(res some w .error)" 'invalid:unknown tool "write_file"'
is "reads may run in parallel: read_file, list_files, and fetch while only GET/HEAD/OPTIONS are allowed" \
    "$(events some 'select(.event=="schemas") | .parallel | join(",")')" "read_file,list_files,fetch"
drive post "{\"workspace\":\"$WS\",\"fetch\":{\"methods\":[\"GET\",\"POST\"]}}" </dev/null
is "... fetch not once POST is allowed (its calls are judged one by one)" \
    "$(events post 'select(.event=="schemas") | .parallel | join(",")')" "read_file,list_files"

# The same escapes on the walk without openat2 (every symlink refused).
LLM_TOOLS_NO_OPENAT2=1; export LLM_TOOLS_NO_OPENAT2
drive walk "$CFG" <<'CALLS'
{"id":"x4","name":"read_file","args":{"path":"out_link/secret"}}
{"id":"x5","name":"read_file","args":{"path":"rel_out"}}
{"id":"x6","name":"write_file","args":{"path":"out_link/planted","content":"x"}}
{"id":"ok","name":"read_file","args":{"path":"dir/real"}}
CALLS
unset LLM_TOOLS_NO_OPENAT2
is "walk: a symlinked directory is refused" "$(res walk x4 .category)" denied
is "walk: a symlink file is refused" "$(res walk x5 .category)" denied
is "walk: a write through a symlink is refused" "$(res walk x6 .category):$(test -e "$T/outside/planted" && echo planted || echo none)" "denied:none"

# A file replaced 40 times: the old inodes are held open only until the
# loop is idle (their blocks are freed then), never more than 16 at once,
# and none once a call has waited.
{
    echo '{"id":"w0","name":"write_file","args":{"path":"churn.txt","content":"v0"}}'
    for i in $(seq 1 40); do
        echo "{\"id\":\"e$i\",\"name\":\"edit_file\",\"args\":{\"path\":\"churn.txt\",\"search\":\"v$((i - 1))\",\"replace\":\"v$i\"}}"
    done
    echo '{"id":"b1","name":"bash","args":{"command":"ls -l /proc/$PPID/fd 2>/dev/null | grep -c churn.txt; sleep 0.3"}}'
    echo '{"id":"b2","name":"bash","args":{"command":"ls -l /proc/$PPID/fd 2>/dev/null | grep -c churn.txt"}}'
} | drive churn "{\"workspace\":\"$WS\"}"
is "40 edits in a row all applied" "$(cat "$WS/churn.txt")" v40
check "at most 16 replaced files held open right after them ($(res churn b1 .content | head -n 1))" \
    test "$(res churn b1 .content | head -n 1)" -le 16
is "none once the loop has been idle" "$(res churn b2 .content | head -n 1)" 0
