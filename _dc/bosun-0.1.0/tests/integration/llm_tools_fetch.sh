#!/bin/sh
# bosun-llm's fetch tool against a fake web server on 127.0.0.1: the
# allowlist (none by default), methods, redirects followed only to allowed
# URLs, the body cut, the SSRF check on the address connected to (a
# loopback address and a name resolving to it refused unless
# fetch.allow_private), the fetch log, transport failures.
. "$top_srcdir/tests/integration/llm_tools_lib.sh"

plan 35

start_fetch_server || { echo "1..0 # SKIP the fake web server did not start"; exit 0; }
B="http://127.0.0.1:$FETCH_PORT"

drive none "{\"workspace\":\"$WS\"}" <<CALLS
{"id":"f","name":"fetch","args":{"url":"$B/pub/ok"}}
CALLS
like "no allowlist: every URL refused with URL_NOT_ALLOWED" "$(res none f .category):$(res none f .error)" \
    '^denied:URL_NOT_ALLOWED: .* is not on the allowlist'
is "... and the attempt is logged" "$(events none 'select(.event=="fetch") | .entry.error')" URL_NOT_ALLOWED

drive ssrf "{\"workspace\":\"$WS\",\"fetch\":{\"allow\":[\"$B/pub/\",\"http://localhost:$FETCH_PORT/pub/\"]}}" <<CALLS
{"id":"ip","name":"fetch","args":{"url":"$B/pub/ok"}}
{"id":"name","name":"fetch","args":{"url":"http://localhost:$FETCH_PORT/pub/ok"}}
CALLS
like "an allowed URL on a loopback address is refused after DNS" "$(res ssrf ip .error)" \
    'URL_NOT_ALLOWED: 127\.0\.0\.1 is a loopback address.*fetch\.allow_private'
like "... also when a name resolves to it" "$(res ssrf name .error)" \
    'URL_NOT_ALLOWED: (127\.0\.0\.1|::1) is a loopback address'
is "... as denied" "$(res ssrf name .category)" denied

CFG="{\"workspace\":\"$WS\",\"fetch\":{\"allow\":[\"$B/pub\"],\"allow_private\":true,\"max_body\":1000,\"methods\":[\"GET\",\"HEAD\",\"POST\"]}}"
drive fetch "$CFG" <<CALLS
{"id":"ok","name":"fetch","args":{"url":"$B/pub/ok"}}
{"id":"head","name":"fetch","args":{"url":"$B/pub/ok","method":"HEAD"}}
{"id":"post","name":"fetch","args":{"url":"$B/pub/echo","method":"POST","body":"the body","headers":{"X-Test":"yes"}}}
{"id":"put","name":"fetch","args":{"url":"$B/pub/echo","method":"PUT"}}
{"id":"other","name":"fetch","args":{"url":"$B/private/secret"}}
{"id":"bound","name":"fetch","args":{"url":"$B/pubx"}}
{"id":"in","name":"fetch","args":{"url":"$B/pub/redir-in"}}
{"id":"out","name":"fetch","args":{"url":"$B/pub/redir-out"}}
{"id":"loop","name":"fetch","args":{"url":"$B/pub/redir-loop"}}
{"id":"see","name":"fetch","args":{"url":"$B/pub/see-other","method":"POST","body":"x"}}
{"id":"big","name":"fetch","args":{"url":"$B/pub/big"}}
{"id":"404","name":"fetch","args":{"url":"$B/pub/missing"}}
{"id":"inj","name":"fetch","args":{"url":"$B/pub/ok","headers":{"X-A":"1\r\nX-B: 2"}}}
{"id":"host","name":"fetch","args":{"url":"$B/pub/ok","headers":{"Host":"elsewhere"}}}
{"id":"user","name":"fetch","args":{"url":"http://127.0.0.1:$FETCH_PORT@evil.test/pub/ok"}}
{"id":"ftp","name":"fetch","args":{"url":"ftp://127.0.0.1/pub/x"}}
CALLS
is "the driver ran every call" "$(cat "$T/fetch.rc")" 0
like "allow_private: the loopback server is fetched" "$(res fetch ok .content)" 'hello from the fake'
like "... status and content type come first" "$(res fetch ok .content)" '^HTTP 200$'
is "... detail: status and bytes" "$(res fetch ok '"\(.detail.status) \(.detail.bytes)"')" "200 20"
is "HEAD has no body" "$(res fetch head '"\(.ok) \(.detail.bytes)"')" "true 0"
like "an allowed POST sends its body and headers" "$(res fetch post .content)" '^POST the body x-test=yes$'
is "a GET or HEAD fetch may run beside other reads, a POST not" \
    "$(res fetch ok .parallel_safe) $(res fetch head .parallel_safe) $(res fetch post .parallel_safe)" "true true false"
is "a method not allowed: METHOD_NOT_ALLOWED" "$(res fetch put .category):$(res fetch put .detail.code)" \
    "denied:METHOD_NOT_ALLOWED"
is "a URL outside the prefixes: URL_NOT_ALLOWED" "$(res fetch other .detail.code)" URL_NOT_ALLOWED
is "a prefix matches only at a boundary (/pub does not allow /pubx)" "$(res fetch bound .detail.code)" URL_NOT_ALLOWED
like "a redirect to an allowed URL is followed" "$(res fetch in .content)" 'hello from the fake'
is "... counted" "$(res fetch in .detail.redirects)" 1
like "a redirect to a URL not allowed is refused, naming it" "$(res fetch out .error)" \
    "URL_NOT_ALLOWED: redirected to $B/private/secret, which is not on the allowlist"
unlike "... and the secret is never in the answer" "$(res fetch out .error)$(res fetch out .content)" 'the secret'
like "a redirect loop ends at max_redirects" "$(res fetch loop .error)" 'FETCH_FAILED: more than 5 redirects'
like "303 after a POST turns into a GET" "$(res fetch see .content)" '^GET  x-test=None$'
is "a body over max_body is cut and flagged" "$(res fetch big '"\(.detail.bytes) \(.detail.truncated)"')" "1000 true"
like "... and the content says so" "$(res fetch big .content)" 'body cut at the fetch size limit'
is "a 404 is an answer, not a failure" "$(res fetch 404 '"\(.ok) \(.detail.status)"')" "true 404"
like "CR/LF in a header value is refused" "$(res fetch inj .error)" 'CR, LF or NUL'
like "Host cannot be set" "$(res fetch host .error)" 'set by the fetch tool itself'
like "user information in the URL is refused" "$(res fetch user .error)" 'user information are refused'
like "only http and https" "$(res fetch ftp .error)" 'only http:// and https://'
is "every request and hop is logged (time, duration, method, url, status, bytes)" \
    "$(events fetch 'select(.event=="fetch" and .id=="in") | .entry | "\(.method) \(.url) \(.status) \(.bytes) \(.time | test("^20[0-9-]+T[0-9:.]+Z$")) \(.duration >= 0)"')" \
    "GET $B/pub/redir-in 302 0 true true
GET $B/pub/ok 200 20 true true"
is "refusals are logged too" "$(events fetch 'select(.event=="fetch" and .id=="put") | .entry.error')" METHOD_NOT_ALLOWED

drive slow "{\"workspace\":\"$WS\",\"fetch\":{\"allow\":[\"$B/pub/\"],\"allow_private\":true,\"timeout\":1}}" <<CALLS
{"id":"s","name":"fetch","args":{"url":"$B/pub/slow"}}
CALLS
like "a server slower than fetch.timeout: FETCH_FAILED as timeout" "$(res slow s .category):$(res slow s .error)" '^timeout:FETCH_FAILED: '

stop_fetch_server
drive down "$CFG" <<CALLS
{"id":"f","name":"fetch","args":{"url":"$B/pub/ok"}}
CALLS
like "a server that is gone: FETCH_FAILED with curl's reason" "$(res down f .error)" '^FETCH_FAILED: .*(onnect|refused)'
is "... as runtime" "$(res down f .category)" runtime

drive badcfg "{\"workspace\":\"$WS\",\"fetch\":{\"allow\":[\"not a url\"]}}" </dev/null
like "an allowlist entry that is not a URL is a config error" "$(cat "$T/badcfg.err")" 'fetch.allow\[0\] "not a url"'
is "... and the tools are not made" "$(cat "$T/badcfg.rc")" 2
