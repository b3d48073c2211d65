#!/bin/sh
# bosunctl maps libcurl (and libssl, and the thirty libraries they bring)
# only when it talks HTTP: a bosunctl on the control socket, like every
# agent's `bosunctl mcp` relay, has none of them, and `--url` loads the
# HTTP transport module and works.
. "$top_srcdir/tests/integration/lib.sh"
if [ ! -e "$top_builddir/plugins/http/http.la" ]; then
    echo "1..0 # SKIP the http plugin is not built"
    exit 0
fi
plan 7
BOSUN_PLUGIN_PATH="$BOSUN_PLUGIN_PATH:$top_builddir/plugins/http"
export BOSUN_PLUGIN_PATH
unset BOSUN_URL BOSUN_TOKEN_FILE

write_config <<EOF2
  plugins: [sqlite, exec, http]
http:
  listen: ["127.0.0.1:0"]
agents: {}
EOF2
start_daemon || exit 1
wait_for 10 sh -c "grep -q 'http: listening on' '$T/bosund.log'" || {
    echo "# no http listener; the log:"; sed 's/^/#   /' "$T/bosund.log"; exit 1; }
PORT=$(sed -n 's/.*http: listening on 127\.0\.0\.1:\([0-9][0-9]*\).*/\1/p' "$T/bosund.log" | tail -1)
ctl token create --name lean > "$T/token" 2>/dev/null
chmod 600 "$T/token"

# maps_of PID: the file names PID has mapped (the libtool wrapper execs the
# program, so $! is the program itself once it runs).
maps_of() { awk 'NF >= 6 { print $6 }' "/proc/$1/maps" 2>/dev/null | sort -u; }
FOLLOWERS=
cleanup_followers() { for p in $FOLLOWERS; do kill -TERM "$p" 2>/dev/null; done; }
trap 'cleanup_followers; cleanup' EXIT

subs0=$(sub_count)
"$BOSUNCTL" -s "$(SOCK)" events -f > "$T/sock.out" 2>&1 &
SOCK_PID=$!
FOLLOWERS="$SOCK_PID"
check "a follower on the control socket subscribes" wait_subs $((subs0 + 1))
maps_of "$SOCK_PID" > "$T/sock.maps"
check "it runs bosunctl itself (libbosun is mapped)" grep -q 'libbosun\.so' "$T/sock.maps"
if grep -Eq 'libcurl|libssl\.so|bosunctl_http' "$T/sock.maps"; then
    fail "it maps no libcurl, libssl or HTTP transport" "$(grep -E 'libcurl|libssl|bosunctl_http' "$T/sock.maps" | tr '\n' ' ')"
else
    ok "it maps no libcurl, libssl or HTTP transport"
fi

"$BOSUNCTL" --url "http://127.0.0.1:$PORT" --token-file "$T/token" events -f > "$T/url.out" 2>&1 &
URL_PID=$!
FOLLOWERS="$FOLLOWERS $URL_PID"
# A /ws subscriber is a bus subscription too.
check "a follower over --url subscribes" wait_subs $((subs0 + 2))
maps_of "$URL_PID" > "$T/url.maps"
check "it maps the HTTP transport module" grep -q 'bosunctl_http' "$T/url.maps"
check "and libcurl" grep -q 'libcurl' "$T/url.maps"
is "a request over --url answers as over the socket" \
    "$("$BOSUNCTL" --url "http://127.0.0.1:$PORT" --token-file "$T/token" status --json | jq -r .machine_id)" \
    "$(ctl status --json | jq -r .machine_id)"
cleanup_followers
for p in $FOLLOWERS; do wait "$p" 2>/dev/null; done
FOLLOWERS=
done_testing
