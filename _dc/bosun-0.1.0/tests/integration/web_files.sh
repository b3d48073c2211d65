#!/bin/sh
# The dashboard's files (bosun-http(7), DASHBOARD) with curl: the page and
# its headers (CSP, nosniff, no framing), ETag revalidation, a hashed name
# cached for a year, unknown names 404 and other methods untouched, what is
# never served (symlinks, hidden files), the bounds, web_root errors.
. "$top_srcdir/tests/integration/lib.sh"
BOSUN_PLUGIN_PATH="$BOSUN_PLUGIN_PATH:$top_builddir/plugins/http"
plan 22

PORT=$(/usr/bin/python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
U="http://127.0.0.1:$PORT"
W="$T/web"
mkdir -p "$W/assets"
printf '<!doctype html><title>t</title>' > "$W/index.html"
printf 'export const x = 1;\n' > "$W/assets/app.0123abcd.js"
printf 'body{}' > "$W/assets/style.css"
printf 'secret' > "$T/outside.txt"
ln -s "$T/outside.txt" "$W/assets/link.txt"
printf 'hidden' > "$W/.hidden.txt"
write_config <<EOF2
  plugins: [sqlite, http]
http:
  listen: ["127.0.0.1:$PORT"]
  web_root: $W
EOF2
start_daemon || exit 1
wait_for 10 curl -s -o /dev/null "$U/health" || echo "# the http listener did not come up"

# head_of PATH [curl options]: the status and the response headers, lower-cased.
# The lines are joined by spaces, so one regex can span them.
head_of() { _p=$1; shift; curl -s -o /dev/null -D - "$@" "$U$_p" | tr -d '\r' | tr 'A-Z\n' 'a-z '; }
h=$(head_of /)
like "GET /: 200 text/html" "$h" "^http/1.1 200.*content-type: text/html; charset=utf-8"
like "GET /: a CSP without inline script or eval, no framing" "$h" \
    "content-security-policy: default-src 'none'; script-src 'self';.*connect-src 'self';.*frame-ancestors 'none'"
unlike "GET /: nothing unsafe in the CSP" "$h" "unsafe-"
like "GET /: nosniff, DENY, no referrer" "$h" "x-content-type-options: nosniff.*x-frame-options: deny.*referrer-policy: no-referrer"
like "GET /: revalidated (no-cache) with an ETag" "$h" 'etag: "[0-9a-f]{16}".*cache-control: no-cache'
etag=$(curl -s -o /dev/null -D - "$U/" | tr -d '\r' | sed -n 's/^[Ee][Tt][Aa][Gg]: //p')
is "If-None-Match with its ETag: 304" "$(curl -s -o /dev/null -w '%{http_code}' -H "If-None-Match: $etag" "$U/")" 304
is "If-None-Match with another: 200" "$(curl -s -o /dev/null -w '%{http_code}' -H 'If-None-Match: "00"' "$U/")" 200
h=$(head_of /assets/app.0123abcd.js)
like "a hashed name: JavaScript, immutable for a year" "$h" \
    "content-type: text/javascript.*cache-control: public, max-age=31536000, immutable"
is "a file's bytes as they are" "$(curl -s "$U/assets/style.css")" 'body{}'
is "HEAD of a file: 200, no body" "$(curl -s -I -o /dev/null -w '%{http_code} %{size_download}' "$U/assets/style.css")" "200 0"
is "an unknown name: 404" "$(curl -s -o /dev/null -w '%{http_code}' "$U/assets/nope.js")" 404
is "an unknown top-level name: 404 no such route" "$(curl -s "$U/nope")" '{"error":{"code":"not_found","message":"no such route"}}'
is "a symlink in the tree is not served" "$(curl -s -o /dev/null -w '%{http_code}' "$U/assets/link.txt")" 404
is "a hidden file is not served" "$(curl -s -o /dev/null -w '%{http_code}' "$U/.hidden.txt")" 404
is "an encoded traversal is just an unknown name" "$(curl -s -o /dev/null -w '%{http_code}' --path-as-is "$U/assets/..%2f..%2foutside.txt")" 404
is "POST to a file: 404 (files are not routes)" "$(curl -s -o /dev/null -w '%{http_code}' -X POST "$U/assets/style.css")" 404
is "the API is not shadowed" "$(curl -s -o /dev/null -w '%{http_code}' "$U/api/v1/status")" 401

# Files are read again when the tree changes (checked every 2 s).
printf 'body{color:red}' > "$W/assets/style.css"
wait_for 10 sh -c "[ \"\$(curl -s $U/assets/style.css)\" = 'body{color:red}' ]"
is "an edited file is served anew within seconds" "$(curl -s "$U/assets/style.css")" 'body{color:red}'
# A file past the bound: the dashboard is refused with the reason, the API stays.
head -c 4194305 /dev/zero > "$W/assets/big.js"
wait_for 10 grep -q "the dashboard is not served" "$T/bosund.log"
like "a file past 4 MiB: the reason logged" "$(grep 'dashboard is not served' "$T/bosund.log")" "big.js: 4194305 bytes"
like "  and / answers 503 saying so" "$(curl -s -w ' %{http_code}' "$U/")" "big.js.* 503$"
stop_daemon

# web_root errors at config check time.
cat > "$T/bad.yaml" <<EOF2
daemon:
  state_dir: $T/state
  plugins: [http]
http:
  web_root: relative/dir
EOF2
out=$(BOSUN_PLUGIN_PATH=$BOSUN_PLUGIN_PATH "$BOSUND" --check-config -c "$T/bad.yaml" 2>&1)
like "a relative web_root: FILE:LINE:COL error" "$out" "bad.yaml:5:[0-9]*:.*web_root.*absolute"
rm -f "$W/assets/big.js"
write_config <<EOF2
  plugins: [sqlite, http]
http:
  listen: ["127.0.0.1:$PORT"]
  web_root: ""
EOF2
start_daemon || exit 1
wait_for 10 curl -s -o /dev/null "$U/health"
like "web_root \"\": / is 503, the dashboard turned off" "$(curl -s -w ' %{http_code}' "$U/")" "turned off.* 503$"
done_testing
