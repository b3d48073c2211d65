#!/bin/sh
# HTTP authentication with curl against a real bosund: no, bad, revoked and
# expired credentials (401 + WWW-Authenticate), the bootstrap token, admin
# tokens made with bosunctl and over REST, sessions (login cookie, Origin
# check of cookie-carrying writes, logout kept across a restart, sessions
# ending with their admin token), forged JWTs (another key, alg none, alg
# RS256 with the HMAC key, a tampered payload, missing claims), agent
# tokens (their own task only: another's is 404; agent routes only), and the failed-auth
# limit (429 + Retry-After), with no secret in the log.
. "$top_srcdir/tests/integration/lib.sh"
plan 57
. "$top_srcdir/tests/integration/http_lib.sh"
FORGE="/usr/bin/python3 $top_srcdir/tests/helpers/jwt_forge.py"
http_boot
mkdir -p "$T/out"
head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n' > "$T/boot.tok"
chmod 600 "$T/boot.tok"
BOOT=$(cat "$T/boot.tok")
write_config <<EOF2
  plugins: [sqlite, exec, http]
http:
  listen: "127.0.0.1:$PORT"
  bootstrap_token_file: $T/boot.tok
  allowed_origins: ["https://dash.example"]
  session_ttl: 1h
agents:
  holder:
    command: [sh, -c, 'echo "\$\$BOSUN_AGENT_TOKEN \$\$BOSUN_RUN_ID \$\$BOSUN_TASK_ID" > $T/out/tok.new && mv $T/out/tok.new $T/out/tok; exec sleep 3600']
    start_secs: 0
    restart: never
EOF2
start_daemon || exit 1
wait_for 10 curl -s -o /dev/null "$U/health"

# code [curl args...]: the status; the body in $T/body, headers in $T/hdr.
# Each group of failures comes from its own loopback address (--interface),
# so the failed-auth limit of one does not spill into the next.
code() { curl -s -o "$T/body" -D "$T/hdr" -w '%{http_code}' "$@"; }
# (A file, as $(from) runs in a subshell.)
echo 10 > "$T/src"
from() { _s=$(($(cat "$T/src") + 1)); echo "$_s" > "$T/src"; echo "--interface 127.0.0.$_s"; }

is "no credential: 401" "$(code "$U/api/v1/auth/me")" 401
like "with WWW-Authenticate: Bearer" "$(cat "$T/hdr")" '^WWW-Authenticate: Bearer'
is "an unknown admin token: 401" "$(code $(from) -H "Authorization: Bearer bsn_adm_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA" "$U/api/v1/auth/me")" 401
is "another scheme (Basic): 401" "$(code $(from) -H "Authorization: Basic $BOOT" "$U/api/v1/auth/me")" 401
is "garbage: 401" "$(code $(from) -H "Authorization: Bearer x.y.z" "$U/api/v1/auth/me")" 401

is "the bootstrap token is an admin" "$(code -H "Authorization: Bearer $BOOT" "$U/api/v1/auth/me")" 200
like "me says admin, bootstrap" "$(cat "$T/body")" '"kind":"admin","id":"bootstrap","credential":"admin_token","role":"admin"'

# Admin tokens: bosunctl, then REST.
CLI=$(ctl token create --name cli 2>"$T/create.err")
cli_id=$(sed -n 's/.*admin token \(tok_[0-9a-f]*\) .*/\1/p' "$T/create.err")
is "a bosunctl token works as Bearer" "$(code -H "Authorization: Bearer $CLI" "$U/api/v1/auth/me")" 200
like "me names its id" "$(cat "$T/body")" "\"id\":\"$cli_id\""
is "POST /api/v1/tokens: 201" "$(code -H "Authorization: Bearer $CLI" -H 'Content-Type: application/json' -d '{"name":"rest","ttl":3600}' "$U/api/v1/tokens")" 201
REST=$(sed -n 's/.*"secret":"\(bsn_adm_[^"]*\)".*/\1/p' "$T/body")
rest_id=$(sed -n 's/.*"token":{"id":"\(tok_[0-9a-f]*\)".*/\1/p' "$T/body")
like "it has an expiry" "$(cat "$T/body")" '"expires_at":[0-9.]+'
is "GET /api/v1/tokens: 200" "$(code -H "Authorization: Bearer $REST" "$U/api/v1/tokens")" 200
like "lists both, as items" "$(cat "$T/body")" "^\{\"items\":\[.*\"$cli_id\".*\"$rest_id\".*\],\"next\":null\}$"
unlike "without secrets or hashes" "$(cat "$T/body")" 'bsn_adm_|"hash"'
is "a bad body: 400" "$(code -H "Authorization: Bearer $REST" -d '{"nam":"x"}' "$U/api/v1/tokens")" 400
is "DELETE /api/v1/tokens/ID: 200" "$(code -X DELETE -H "Authorization: Bearer $CLI" "$U/api/v1/tokens/$rest_id")" 200
is "the revoked REST token (used, so cached, before): 401" "$(code $(from) -H "Authorization: Bearer $REST" "$U/api/v1/auth/me")" 401
is "DELETE of an unknown id: 404" "$(code -X DELETE -H "Authorization: Bearer $CLI" "$U/api/v1/tokens/tok_0000000000000000")" 404

# Sessions.
is "login with an admin token: 200" "$(code -d "{\"token\":\"$CLI\"}" "$U/api/v1/auth/login")" 200
cookie=$(sed -n 's/^Set-Cookie: bosun_session=\([^;]*\);.*/\1/p' "$T/hdr" | tr -d '\r')
like "the cookie is HttpOnly, SameSite=Strict, Path=/, session_ttl long" "$(grep -i '^Set-Cookie' "$T/hdr")" \
    'Path=/; Max-Age=3600; HttpOnly; SameSite=Strict'
unlike "and not Secure on plain HTTP" "$(grep -i '^Set-Cookie' "$T/hdr")" 'Secure'
is "login with a bad token: 401" "$(code $(from) -d '{"token":"bsn_adm_nope"}' "$U/api/v1/auth/login")" 401
is "login from another site's Origin: 403" "$(code -H 'Origin: https://evil.example' -d "{\"token\":\"$CLI\"}" "$U/api/v1/auth/login")" 403
is "the cookie authenticates" "$(code -b "bosun_session=$cookie" "$U/api/v1/auth/me")" 200
like "as a session, via the cookie" "$(cat "$T/body")" '"credential":"session","role":"admin","via_cookie":true'
is "a cookie POST without Origin: 403" "$(code -b "bosun_session=$cookie" -d '{"name":"x"}' "$U/api/v1/tokens")" 403
is "a cookie POST from another Origin: 403" "$(code -b "bosun_session=$cookie" -H 'Origin: https://evil.example' -d '{"name":"x"}' "$U/api/v1/tokens")" 403
is "a cookie POST from our own Origin: 201" "$(code -b "bosun_session=$cookie" -H "Origin: $U" -d '{"name":"x"}' "$U/api/v1/tokens")" 201
is "a cookie POST from an allowed Origin: 201" "$(code -b "bosun_session=$cookie" -H 'Origin: https://dash.example' -d '{"name":"y"}' "$U/api/v1/tokens")" 201
is "the session JWT as Bearer needs no Origin" "$(code -H "Authorization: Bearer $cookie" -d '{"name":"z"}' "$U/api/v1/tokens")" 201

# Forged JWTs, with the daemon's own key where the attack needs it.
KEY="$T/state/http_jwt.key"
is "the key file is 0600" "$(stat -c %a "$KEY")" 600
is "control: a JWT forged with the real key passes" "$(code -H "Authorization: Bearer $($FORGE "$KEY" good)" "$U/api/v1/auth/me")" 200
is "an expired JWT: 401" "$(code $(from) -H "Authorization: Bearer $($FORGE "$KEY" expired)" "$U/api/v1/auth/me")" 401
is "a JWT signed with another key: 401" "$(code $(from) -H "Authorization: Bearer $($FORGE "$KEY" otherkey)" "$U/api/v1/auth/me")" 401
is "alg none: 401" "$(code $(from) -H "Authorization: Bearer $($FORGE "$KEY" none)" "$U/api/v1/auth/me")" 401
is "alg RS256 signed with the HMAC key: 401" "$(code $(from) -H "Authorization: Bearer $($FORGE "$KEY" rs256)" "$U/api/v1/auth/me")" 401
is "a tampered payload: 401" "$(code $(from) -H "Authorization: Bearer $($FORGE "$KEY" tampered)" "$U/api/v1/auth/me")" 401
is "no aud, no jti: 401, 401" "$(code $(from) -H "Authorization: Bearer $($FORGE "$KEY" noaud)" "$U/api/v1/auth/me") $(code $(from) -H "Authorization: Bearer $($FORGE "$KEY" nojti)" "$U/api/v1/auth/me")" "401 401"

# Agent tokens: their own task, agent routes only.
task=$(ctl task create --title mine)
ctl start holder --task "$task" >/dev/null
wait_for 20 test -s "$T/out/tok"
read -r atok arun atask < "$T/out/tok"
is "an agent token on an agent route: 200" "$(code -H "Authorization: Bearer $atok" "$U/api/v1/auth/me")" 200
like "bound to its run and task" "$(cat "$T/body")" "\"kind\":\"agent\",\"id\":\"$arun\".*\"task\":\"$task\",\"run\":\"$arun\""
is "an agent token on an admin route: 403" "$(code -H "Authorization: Bearer $atok" "$U/api/v1/tokens")" 403
other=$(ctl task create --title other)
is "an agent token used for another task: 404" "$(code -H "Authorization: Bearer $atok" "$U/api/v1/tasks/$other")" 404
like "not_found, as if it did not exist" "$(cat "$T/body")" '"code":"not_found"'
is "its own task: 200 (control)" "$(code -H "Authorization: Bearer $atok" "$U/api/v1/tasks/$task")" 200

# Logout, kept across a restart; sessions die with their admin token.
is "logout: 200" "$(code -b "bosun_session=$cookie" -H "Origin: $U" -X POST "$U/api/v1/auth/logout")" 200
like "clears the cookie" "$(grep -i '^Set-Cookie' "$T/hdr")" 'bosun_session=; Path=/; Max-Age=0'
is "the logged-out session: 401" "$(code $(from) -b "bosun_session=$cookie" "$U/api/v1/auth/me")" 401
code -d "{\"token\":\"$CLI\"}" "$U/api/v1/auth/login" >/dev/null
cookie2=$(sed -n 's/^Set-Cookie: bosun_session=\([^;]*\);.*/\1/p' "$T/hdr" | tr -d '\r')
stop_daemon
start_daemon || exit 1
wait_for 10 curl -s -o /dev/null "$U/health"
is "after a restart the logged-out session is still refused" "$(code $(from) -b "bosun_session=$cookie" "$U/api/v1/auth/me")" 401
is "and another session still works" "$(code -b "bosun_session=$cookie2" "$U/api/v1/auth/me")" 200
ctl token revoke "$cli_id" >/dev/null
is "revoking its admin token ends the session" "$(code $(from) -b "bosun_session=$cookie2" "$U/api/v1/auth/me")" 401

# The failed-auth limit: 10 failures from one address, then 429 unchecked
# (the bootstrap token too) with Retry-After.  A slow machine may regain an
# attempt (one per 2 s) between two requests: guesses go on until the first
# 429, bounded, and the probe with the valid token right after it is tried
# again from a fresh address (at most 5) when an attempt was regained.
guess_until_429() {
    n401=0
    last=
    for i in $(seq 1 60); do
        last=$(code $1 -H "Authorization: Bearer bsn_adm_GUESS${i}GUESSGUESSGUESSGUESSGUESSGUESSGUESSGU" "$U/api/v1/auth/me")
        [ "$last" = 401 ] || break
        n401=$((n401 + 1))
    done
}
guess_until_429 "--interface 127.0.0.99"
check "at least 10 guesses are checked (401) first ($n401)" test "$n401" -ge 10
is "then they are refused: 429" "$last" 429
like "with Retry-After" "$(cat "$T/hdr")" '^Retry-After: [0-9]+'
valid=$(code --interface 127.0.0.99 -H "Authorization: Bearer $BOOT" "$U/api/v1/auth/me")
for r in 1 2 3 4 5; do
    [ "$valid" = 429 ] && break
    guess_until_429 "--interface 127.0.0.$((100 + r))"
    valid=$(code --interface "127.0.0.$((100 + r))" -H "Authorization: Bearer $BOOT" "$U/api/v1/auth/me")
done
is "a valid token from that address is refused unchecked too" "$valid" 429
is "other addresses are not affected" "$(code --interface 127.0.0.98 -H "Authorization: Bearer $BOOT" "$U/api/v1/auth/me")" 200

like "failures are logged with the address" "$(cat "$T/bosund.log")" 'authentication failed from 127\.0\.0\.99'
if grep -Eq "GUESS|$BOOT|$CLI|$REST|$atok|$cookie" "$T/bosund.log"; then
    fail "no secret or presented credential in the log" "$(grep -E "GUESS|$BOOT|$CLI|$REST" "$T/bosund.log" | head -3)"
else
    ok "no secret or presented credential in the log"
fi
done_testing
