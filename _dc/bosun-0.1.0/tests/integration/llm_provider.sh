#!/bin/sh
# bosun-llm's providers (OpenAI Chat Completions, Anthropic Messages)
# against the scripted fake model API: streamed text and thinking deltas,
# one and several (interleaved) tool calls assembled by index, malformed
# tool-call arguments kept as arguments_raw with arguments_error, a call to
# a tool that was not offered passed on as it came, usage mapped to the
# neutral counters, stop reasons, and the requests as the fake received
# them (messages, tools, headers, no key in the log).
. "$top_srcdir/tests/integration/lib.sh"
if ! command -v node >/dev/null; then
    echo "1..0 # SKIP node is not installed (the fake model API is a Node program)"; exit 0
fi
. "$top_srcdir/tests/llm/fake_lib.sh"
. "$top_srcdir/tests/llm/drive_lib.sh"

plan 47

TOOLS='[{"name":"read_file","description":"Read a file","input_schema":{"type":"object","properties":{"path":{"type":"string"}},"required":["path"]}},
        {"name":"list_files","description":"List files","input_schema":{"type":"object","properties":{}}}]'
CONVERSATION=$(jq -nc --argjson tools "$TOOLS" '{system: "Be brief.", tools: $tools, messages: [
  {role: "user", content: "look at a.txt"},
  {role: "assistant", content: "", tool_calls: [{id: "c1", name: "read_file", arguments: {path: "a.txt"}},
                                                {id: "c2", name: "list_files", arguments: {}}]},
  {role: "tool", tool_call_id: "c1", name: "read_file", content: "A", is_error: false},
  {role: "tool", tool_call_id: "c2", name: "list_files", content: "no such dir", is_error: true},
  {role: "user", content: "and now?"}]}')

for prov in openai anthropic; do
    # 1. Text in three deltas, thinking first, usage with cache counters.
    fake_start "$prov-text" '{"key":"'"$LLM_KEY"'","turns":[{"thinking":["hmm"],"text":["Hel","lo ","world"],
        "usage":{"input_tokens":100,"output_tokens":7,"cache_read_tokens":40,"cache_write_tokens":'"$([ $prov = anthropic ] && echo 5 || echo 0)"'}}]}'
    drive "$prov-text" "$prov" '{}' "$CONVERSATION"
    is "$prov: text deltas arrive in order" "$(lines_of "$prov-text" 'select(.delta) | .delta' | tr -d '"\n')" "Hello world"
    is "$prov: thinking delta" "$(lines_of "$prov-text" 'select(.thinking) | .thinking')" '"hmm"'
    is "$prov: the turn's message" "$(done_of "$prov-text" '.message')" '{"role":"assistant","content":"Hello world"}'
    is "$prov: stop reason end_turn" "$(done_of "$prov-text" '.stop_reason')" '"end_turn"'
    if [ $prov = anthropic ]; then want='{"input_tokens":100,"output_tokens":7,"cache_read_tokens":40,"cache_write_tokens":5}'
    else want='{"input_tokens":100,"output_tokens":7,"cache_read_tokens":40,"cache_write_tokens":0}'; fi
    is "$prov: usage in neutral counters" "$(done_of "$prov-text" '.usage')" "$want"
    is "$prov: the fake got the right key" "$(jq -c '.key_ok' "$FAKE_LOG")" true
    unlike "$prov: the request log shows no key" "$(cat "$FAKE_LOG")" "$LLM_KEY"
    fake_stop

    # 2. Two tool calls (interleaved pieces on OpenAI), one malformed, one
    # to a tool nobody offered.
    fake_start "$prov-tools" '{"turns":[{"text":["Reading."],"interleave":true,"tool_calls":[
        {"id":"t1","name":"read_file","arguments":{"path":"dir/a b.txt","n":[1,2,{"x":"\u00e9"}]},"chunks":5},
        {"id":"t2","name":"list_files","arguments":{},"chunks":1},
        {"id":"t3","name":"read_file","arguments":"{\"path\": \"x\",","chunks":3},
        {"id":"t4","name":"no_such_tool","arguments":{"q":1},"chunks":2}]}]}'
    drive "$prov-tools" "$prov" '{}' "$CONVERSATION"
    is "$prov: stop reason tool_use" "$(done_of "$prov-tools" '.stop_reason')" '"tool_use"'
    is "$prov: four tool calls in order" "$(done_of "$prov-tools" '[.message.tool_calls[].id]')" '["t1","t2","t3","t4"]'
    is "$prov: arguments assembled from pieces" "$(done_of "$prov-tools" '.message.tool_calls[0].arguments')" '{"path":"dir/a b.txt","n":[1,2,{"x":"é"}]}'
    is "$prov: empty arguments object" "$(done_of "$prov-tools" '.message.tool_calls[1].arguments')" '{}'
    is "$prov: malformed arguments are null" "$(done_of "$prov-tools" '.message.tool_calls[2] | [.arguments, .arguments_raw]')" '[null,"{\"path\": \"x\","]'
    like "$prov: malformed arguments say why" "$(done_of "$prov-tools" '.message.tool_calls[2].arguments_error')" 'not valid JSON'
    is "$prov: unknown tool passed on for the loop" "$(done_of "$prov-tools" '.message.tool_calls[3] | [.name, .arguments]')" '["no_such_tool",{"q":1}]'
    is "$prov: text beside the calls" "$(done_of "$prov-tools" '.message.content')" '"Reading."'
    fake_stop

    # 3. A turn cut by max_tokens.
    fake_start "$prov-max" '{"turns":[{"text":["trunc"],"stop":"max_tokens"}]}'
    drive "$prov-max" "$prov" '{"max_tokens":5,"temperature":0.5}'
    is "$prov: stop reason max_tokens" "$(done_of "$prov-max" '.stop_reason')" '"max_tokens"'
    is "$prov: max_tokens and temperature sent" "$(jq -c '.body | [.max_tokens, .temperature]' "$FAKE_LOG")" '[5,0.5]'
    fake_stop
done

# What each API received for the same conversation.
fake_start body-openai '{"turns":[{"text":["x"]}]}'
drive body-openai openai '{}' "$CONVERSATION"
B=$(jq -c '.body' "$FAKE_LOG")
is "openai: path" "$(jq -r '.path' "$FAKE_LOG")" /v1/chat/completions
is "openai: stream with usage" "$(printf '%s' "$B" | jq -c '[.stream, .stream_options]')" '[true,{"include_usage":true}]'
is "openai: system first, then the conversation" "$(printf '%s' "$B" | jq -c '[.messages[].role]')" '["system","user","assistant","tool","tool","user"]'
is "openai: assistant tool calls" "$(printf '%s' "$B" | jq -c '.messages[2] | [.content, .tool_calls[0].type, .tool_calls[0].function.name, (.tool_calls[0].function.arguments | fromjson)]')" '[null,"function","read_file",{"path":"a.txt"}]'
is "openai: tool result" "$(printf '%s' "$B" | jq -c '.messages[3] | [.tool_call_id, .content]')" '["c1","A"]'
is "openai: tools as functions" "$(printf '%s' "$B" | jq -c '[.tools[] | [.type, .function.name, .function.parameters.type]]')" '[["function","read_file","object"],["function","list_files","object"]]'
is "openai: bearer key sent" "$(jq -r '.headers.authorization' "$FAKE_LOG")" '[present]'
fake_stop

fake_start body-anthropic '{"turns":[{"text":["x"]}]}'
drive body-anthropic anthropic '{}' "$CONVERSATION"
B=$(jq -c '.body' "$FAKE_LOG")
is "anthropic: path" "$(jq -r '.path' "$FAKE_LOG")" /v1/messages
is "anthropic: version and key headers" "$(jq -c '.headers | [."anthropic-version", ."x-api-key", .authorization]' "$FAKE_LOG")" '["2023-06-01","[present]",null]'
is "anthropic: system apart, roles alternate" "$(printf '%s' "$B" | jq -c '[.system, [.messages[].role]]')" '["Be brief.",["user","assistant","user"]]'
is "anthropic: tool_use blocks" "$(printf '%s' "$B" | jq -c '[.messages[1].content[] | [.type, .id, .name, .input]]')" '[["tool_use","c1","read_file",{"path":"a.txt"}],["tool_use","c2","list_files",{}]]'
is "anthropic: tool results and the next text in one user turn" "$(printf '%s' "$B" | jq -c '[.messages[2].content[] | [.type, .tool_use_id, .is_error, .text]]')" '[["tool_result","c1",false,null],["tool_result","c2",true,null],["text",null,null,"and now?"]]'
is "anthropic: tools with input_schema" "$(printf '%s' "$B" | jq -c '[.tools[] | [.name, .input_schema.type]]')" '[["read_file","object"],["list_files","object"]]'
fake_stop

done_testing
