#!/bin/sh
# bosun-llm's providers when things go wrong: 429 with Retry-After (seconds
# and an HTTP date), 500 then success, retries used up, 401 (no retry, the
# key quoted by the server redacted), other 4xx, a stream cut mid-way, a
# stream that stalls (stall_timeout) or is too slow (request_timeout), an
# error event in the stream, a chunk that is not JSON, an over-long SSE
# line, a refused connection, cancelling a call, and bad settings.  The key
# never appears in anything the driver printed.
. "$top_srcdir/tests/integration/lib.sh"
if ! command -v node >/dev/null; then
    echo "1..0 # SKIP node is not installed (the fake model API is a Node program)"; exit 0
fi
. "$top_srcdir/tests/llm/fake_lib.sh"
. "$top_srcdir/tests/llm/drive_lib.sh"

plan 74

ge() { awk -v a="$1" -v b="$2" 'BEGIN { exit !(a >= b) }'; }
le() { awk -v a="$1" -v b="$2" 'BEGIN { exit !(a <= b) }'; }

for prov in openai anthropic; do
    fake_start "$prov-429" '{"turns":[{"status":429,"headers":{"Retry-After":"1"}},{"text":["ok"]}]}'
    drive "$prov-429" "$prov"
    is "$prov 429: retried once" "$(lines_of "$prov-429" 'select(.retrying) | .retrying | [.attempt, .wait]')" '[2,1]'
    like "$prov 429: the reason names the status" "$(lines_of "$prov-429" 'select(.retrying) | .retrying.why')" 'HTTP 429'
    is "$prov 429: then the turn" "$(done_of "$prov-429" '[.ok, .message.content]')" '[true,"ok"]'
    check "$prov 429: waited the Retry-After" ge "$(done_of "$prov-429" '0' >/dev/null; jq -r 'select(.done) | .elapsed' "$T/$prov-429.out")" 0.95
    is "$prov 429: two requests" "$(fake_requests)" 2
    fake_stop

    fake_start "$prov-500" '{"turns":[{"status":500},{"text":["fine"]}]}'
    drive "$prov-500" "$prov"
    is "$prov 500: retried after the back-off" "$(lines_of "$prov-500" 'select(.retrying) | .retrying | [.attempt, .wait]')" '[2,1]'
    is "$prov 500: then the turn" "$(done_of "$prov-500" '[.ok, .message.content]')" '[true,"fine"]'
    fake_stop

    fake_start "$prov-exhaust" '{"turns":[{"status":503,"error":"busy","repeat":5}]}'
    drive "$prov-exhaust" "$prov" '{"retries":1}'
    is "$prov retries used up: server" "$(done_of "$prov-exhaust" '[.ok, .category, .http_status]')" '[false,"server",503]'
    like "$prov retries used up: says what the server said" "$(done_of "$prov-exhaust" '.error')" 'HTTP 503: busy'
    is "$prov retries used up: 1 + retries requests" "$(fake_requests)" 2
    fake_stop

    WRONG=sk-wrong-key-SECRET-$prov-42
    fake_start "$prov-401" '{"key":"'"$LLM_KEY"'","turns":[{"text":["never"]}]}'
    LLM_KEY=$WRONG drive "$prov-401" "$prov"
    is "$prov 401: auth, not retried" "$(done_of "$prov-401" '[.ok, .category, .http_status]')" '[false,"auth",401]'
    is "$prov 401: one request" "$(fake_requests)" 1
    like "$prov 401: the server's quote of the key is redacted" "$(done_of "$prov-401" '.error')" 'Incorrect API key provided: \[redacted\]'
    unlike "$prov 401: the key is not in the output" "$(cat "$T/$prov-401.out" "$T/$prov-401.err")" "$WRONG"
    fake_stop

    fake_start "$prov-400" '{"turns":[{"status":400,"error":"prompt is too long"}]}'
    drive "$prov-400" "$prov"
    is "$prov 400: not retried" "$(done_of "$prov-400" '[.category, .http_status]'; fake_requests)" '["invalid_response",400]
1'
    fake_stop

    # The events before the text: OpenAI's role chunk; Anthropic's
    # message_start, ping and content_block_start.
    if [ $prov = openai ]; then CUT=3; else CUT=5; fi
    fake_start "$prov-cut" '{"turns":[{"text":["par","tial","never"],"cut_after":'$CUT'},{"text":["whole"]}]}'
    drive "$prov-cut" "$prov" '{"retries":1}'
    is "$prov cut: deltas of the cut attempt, retrying, then the new ones" "$(lines_of "$prov-cut" 'if .delta then .delta elif .retrying then "R" else empty end' | tr -d '"\n')" "partialRwhole"
    is "$prov cut: the turn is the second attempt's" "$(done_of "$prov-cut" '.message.content')" '"whole"'
    fake_stop
    fake_start "$prov-cut0" '{"turns":[{"text":["par","tial"],"cut_after":3}]}'
    drive "$prov-cut0" "$prov" '{"retries":0}'
    is "$prov cut, no retries: network" "$(done_of "$prov-cut0" '.category')" '"network"'
    fake_stop

    fake_start "$prov-stall" '{"turns":[{"text":["a","b"],"stall_after":3}]}'
    drive "$prov-stall" "$prov" '{"retries":0,"stall_timeout":1}'
    is "$prov stall: timeout" "$(done_of "$prov-stall" '.category')" '"timeout"'
    like "$prov stall: names stall_timeout" "$(done_of "$prov-stall" '.error')" 'no data .* for 1 s \(stall_timeout\)'
    E=$(jq -r 'select(.done) | .elapsed' "$T/$prov-stall.out")
    check "$prov stall: after about a second ($E s)" sh -c "awk 'BEGIN { exit !($E >= 0.9 && $E < 5) }'"
    fake_stop

    fake_start "$prov-slow" '{"turns":[{"text":["1","2","3","4","5","6","7","8","9"],"chunk_delay_ms":300}]}'
    drive "$prov-slow" "$prov" '{"retries":0,"request_timeout":1,"stall_timeout":10}'
    is "$prov slow: timeout" "$(done_of "$prov-slow" '.category')" '"timeout"'
    like "$prov slow: names request_timeout" "$(done_of "$prov-slow" '.error')" 'within 1 s \(request_timeout\)'
    fake_stop

    fake_start "$prov-sterr" '{"turns":[{"text":["x"],"stream_error":{"type":"overloaded_error","message":"Overloaded"}},{"text":["y"]}]}'
    drive "$prov-sterr" "$prov" '{"retries":1}'
    like "$prov stream error: retried" "$(lines_of "$prov-sterr" 'select(.retrying) | .retrying.why')" 'Overloaded'
    is "$prov stream error: then the turn" "$(done_of "$prov-sterr" '.message.content')" '"y"'
    fake_stop
    fake_start "$prov-sterr0" '{"turns":[{"text":["x"],"stream_error":{"type":"overloaded_error","message":"Overloaded"}}]}'
    drive "$prov-sterr0" "$prov" '{"retries":0}'
    is "$prov stream error, no retries: server" "$(done_of "$prov-sterr0" '.category')" '"server"'
    fake_stop
done

fake_start date '{"turns":[{"status":429,"headers":{"Retry-After":"'"$(date -u -d '+2 seconds' '+%a, %d %b %Y %H:%M:%S GMT')"'"}},{"text":["ok"]}]}'
drive date openai
W=$(lines_of date 'select(.retrying) | .retrying.wait')
check "Retry-After as an HTTP date: waits until then ($W s)" sh -c "awk 'BEGIN { exit !($W >= 0.5 && $W <= 2) }'"
is "Retry-After as an HTTP date: then the turn" "$(done_of date '.ok')" true
fake_stop

fake_start notjson '{"turns":[{"raw":"data: {nope\n\n"}]}'
drive notjson openai
is "a chunk that is not JSON: invalid_response, not retried" "$(done_of notjson '.category'; fake_requests)" '"invalid_response"
1'
fake_stop
fake_start notjson-a '{"turns":[{"raw":"event: message_start\ndata: [1,2]\n\n"}]}'
drive notjson-a anthropic
is "anthropic: an event that is not an object: invalid_response" "$(done_of notjson-a '.category')" '"invalid_response"'
fake_stop

LONG=$(head -c 1100000 /dev/zero | tr '\0' 'a')
printf '{"turns":[{"raw":"data: %s\\n\\n"}]}\n' "$LONG" > "$T/long.script.json"
fake_start long "$(cat "$T/long.script.json")"
drive long openai
is "an SSE line over 1 MiB: invalid_response" "$(done_of long '.category')" '"invalid_response"'
like "an SSE line over 1 MiB: says the limit" "$(done_of long '.error')" 'line longer than 1048576 bytes'
fake_stop

fake_start ended '{"turns":[{"raw":"data: {\"choices\":[{\"index\":0,\"delta\":{\"content\":\"half\"}}]}\n\n"}]}'
drive ended openai '{"retries":0}'
is "a stream that ends before the turn: network" "$(done_of ended '.category')" '"network"'
like "a stream that ends before the turn: says so" "$(done_of ended '.error')" 'ended before the turn did'
fake_stop

fake_start empty '{"turns":[{"raw":"{\"id\": \"not a stream\"}"}]}'
drive empty openai '{"retries":2}'
is "a 200 without any event: invalid_response, not retried" "$(done_of empty '.category'; fake_requests)" '"invalid_response"
1'
like "a 200 without any event: says so" "$(done_of empty '.error')" 'without an event stream \(Content-Type text/event-stream\)'
fake_stop

# A port nobody listens on any more.
fake_start refused '{"turns":[]}'
fake_stop
drive refused anthropic '{"retries":1}'
is "connection refused: network after the retries" "$(done_of refused '.category'; lines_of refused 'select(.retrying) | .retrying.attempt')" '"network"
2'

fake_start cancel '{"turns":[{"text":["one","two","three"],"chunk_delay_ms":300}]}'
drive cancel openai '{}' '{"messages":[{"role":"user","content":"hi"}],"cancel_after_deltas":1}'
is "cancel: stops after the first delta" "$(lines_of cancel 'if .delta then .delta elif .cancelled then "C" elif .done then "D" else empty end' | tr -d '"\n')" "oneC"
is "cancel: exit status" "$DRIVE_STATUS" 0
fake_stop

# Settings.
FAKE_URL=http://127.0.0.1:9/v1
drive badprov google
like "settings: unknown provider" "$(lines_of badprov '.config_error')" 'llm.provider must be openai or anthropic'
drive badkey openai '{"colour":1}'
like "settings: unknown key" "$(lines_of badkey '.config_error')" 'llm.colour is not a known key'
LLM_KEY="$(printf 'sk-line\nbreak-KEYVALUE')" drive nlkey openai
like "settings: a key with a line break is refused" "$(lines_of nlkey '.config_error')" 'llm.api_key must be a string of at most 8192 printable characters'
unlike "settings: without showing it" "$(cat "$T/nlkey.out" "$T/nlkey.err")" 'KEYVALUE'
drive badurl openai '{"base_url":"file:///etc/passwd"}'
like "settings: base_url scheme" "$(lines_of badurl '.config_error')" 'http:// or https://'
drive badnum anthropic '{"retries":-1}'
like "settings: retries range" "$(lines_of badnum '.config_error')" 'llm.retries must be a number from 0 to 20'
drive nomodel anthropic '{"model":null}'
like "settings: model required" "$(lines_of nomodel '.config_error')" 'llm.model is required'
drive badmsg openai '{}' '{"messages":[1]}'
like "a message that is not neutral: refused" "$(lines_of badmsg '.refused')" 'message 0 cannot be sent'

unlike "the key is in no output" "$(cat "$T"/*.out "$T"/*.err)" "$LLM_KEY"

done_testing
