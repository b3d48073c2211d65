#!/bin/sh
# The GitHub login's starts limited per client address (bosun-github(7)):
# GET /api/v1/auth/github/start and POST .../device together, 10 at once
# then 10 a minute; the 11th in a burst gets 429 with Retry-After and a
# JSON error saying why, a refused device start never reaches GitHub, and
# the refusals are noticed in the log once per address, not per request.
# Another address (curl --interface 127.0.0.2) is not limited by the
# first; behind a trusted proxy the address X-Forwarded-For names is the
# one counted.  Device polls have their own, looser limit (30, then 60 a
# minute).
. "$top_srcdir/tests/integration/lib.sh"
plan 17
. "$top_srcdir/tests/integration/http_lib.sh"
. "$top_srcdir/tests/integration/github_login_lib.sh"
command -v curl >/dev/null || { echo "1..0 # SKIP curl is not installed"; exit 0; }
command -v jq >/dev/null || { echo "1..0 # SKIP jq is not installed"; exit 0; }
curl -s -o /dev/null --interface 127.0.0.2 "http://127.0.0.1:1/" 2>/dev/null
[ $? -eq 45 ] && { echo "1..0 # SKIP cannot bind 127.0.0.2"; exit 0; }
http_boot
fake_start || exit 1
HTTP_MORE='  trusted_proxies: [127.0.0.3]'
login_daemon || exit 1
START="$U/api/v1/auth/github/start"
# start [CURL-ARGS...]: a web flow start, its status.
start() { curl -s -o "$T/body" -D "$T/head" -w '%{http_code}' "$@" "$START"; }
device() { curl -s -o "$T/body" -D "$T/head" -w '%{http_code}' -X POST "$@" "$U/api/v1/auth/github/device"; }
# until_429 N COMMAND...: runs COMMAND (which prints a status) until it
# gives 429, N times at most; ST is the last status, PASSED how many
# were not 429.  (A bucket regains one now and then: on a slow machine
# the one after the burst may pass, the next is refused.)
until_429() {
    _max=$1; shift; PASSED=0; ST=
    while [ "$PASSED" -lt "$_max" ]; do
        ST=$("$@"); [ "$ST" = 429 ] && return 0; PASSED=$((PASSED + 1))
    done
}

codes=
for i in $(seq 1 10); do codes="$codes $(start)"; done
is "10 starts in a burst from 127.0.0.1: each a 302 to GitHub" "$codes" "$(printf ' 302%.0s' $(seq 1 10))"
until_429 3 start
is "then a 429 (start $((11 + PASSED)))" "$ST" 429
like "  with Retry-After (seconds)" "$(cat "$T/head")" '^[Rr]etry-[Aa]fter: [1-9][0-9]*'
is "  and a JSON error in words" "$(jq -r '.error.code + ": " + .error.message' "$T/body")" \
    "rate_limited: too many GitHub login starts from this address (10 a minute at most): try again in $(sed -n 's/^[Rr]etry-[Aa]fter: \([0-9]*\).*/\1/p' "$T/head" | tr -d '\r') s"
is "a device start from 127.0.0.1 shares the limit: 429" "$(device)" 429
start >/dev/null
is "the refusals are logged once for the address" \
    "$(grep -c '127.0.0.1: GitHub login starts refused past 10 a minute' "$T/bosund.log")" 1

# ---- another address is not limited by the first
is "a start from 127.0.0.2: 302" "$(start --interface 127.0.0.2)" 302
fake_config '{"clear_log": true, "interval": 5}'
codes=
for i in $(seq 1 9); do codes="$codes $(device --interface 127.0.0.2)"; done
is "  and 9 device starts from it: each 200" "$codes" "$(printf ' 200%.0s' $(seq 1 9))"
HANDLE=$(jq -r .handle "$T/body")
until_429 3 device --interface 127.0.0.2
is "  then a device start from it: 429 (start $((11 + PASSED)))" "$ST" 429
is "GitHub was asked for a device code by each start let through, not the refused one" \
    "$(fake_log | jq '[.[] | select(.grant == "device_code")] | length')" $((9 + PASSED))

# ---- polls: their own limit, a start's refusal does not stop them
codes=
for i in $(seq 1 30); do
    codes="$codes $(curl -s -o /dev/null -w '%{http_code}' -H 'Content-Type: application/json' \
        -d "{\"handle\":\"$HANDLE\"}" "$U/api/v1/auth/github/device/poll")"
done
is "30 polls from 127.0.0.1 (its starts refused): each 200" "$codes" "$(printf ' 200%.0s' $(seq 1 30))"
until_429 10 curl -s -o "$T/body" -D "$T/head" -w '%{http_code}' -H 'Content-Type: application/json' \
    -d "{\"handle\":\"$HANDLE\"}" "$U/api/v1/auth/github/device/poll"
is "  then a 429 (poll $((31 + PASSED)))" "$ST" 429
like "  saying why" "$(jq -r .error.message "$T/body")" '^too many device login polls from this address \(60 a minute at most\)'
is "  without asking GitHub: polls came early" \
    "$(fake_log | jq '[.[] | select(.grant == "device")] | length')" 0

# ---- behind a trusted proxy: the address X-Forwarded-For names counts
codes=
for i in $(seq 1 10); do codes="$codes $(start --interface 127.0.0.3 -H 'X-Forwarded-For: 198.51.100.7')"; done
is "through the trusted proxy 127.0.0.3 for 198.51.100.7: 10 starts, each 302" "$codes" "$(printf ' 302%.0s' $(seq 1 10))"
until_429 3 start --interface 127.0.0.3 -H 'X-Forwarded-For: 198.51.100.7'
is "  then a 429, logged for 198.51.100.7" \
    "$ST $(grep -c '198.51.100.7: GitHub login starts refused' "$T/bosund.log")" "429 1"
is "  another client behind the same proxy: 302" \
    "$(start --interface 127.0.0.3 -H 'X-Forwarded-For: 198.51.100.8')" 302
done_testing
