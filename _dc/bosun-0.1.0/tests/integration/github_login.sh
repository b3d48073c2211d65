#!/bin/sh
# Login with GitHub, the web flow, driven with curl following redirects
# with a cookie jar against the fake GitHub (whose authorize page approves
# at once and whose token endpoint checks the client secret and the PKCE
# verifier): an admin, a viewer by name, a viewer by org membership, a
# user and an org member refused, a state forged, tampered, expired, reused
# or from another browser, GitHub saying no, and no secret in the log.
. "$top_srcdir/tests/integration/lib.sh"
plan 43
. "$top_srcdir/tests/integration/http_lib.sh"
. "$top_srcdir/tests/integration/github_login_lib.sh"
http_boot
fake_start || exit 1
login_daemon || exit 1

START="$U/api/v1/auth/github/start"
# flow NAME: the whole web flow in a fresh jar $T/NAME.jar; prints the
# last status and URL; the last body in $T/NAME.body.
flow() {
    rm -f "$T/$1.jar"
    curl -s -L --max-redirs 5 -c "$T/$1.jar" -b "$T/$1.jar" -o "$T/$1.body" \
        -w '%{http_code} %{url_effective}' "$START"
}
me() { curl -s -b "$T/$1.jar" "$U/api/v1/auth/me"; }
jar_has() { grep -q "	$2	" "$T/$1.jar"; }

# ---- an admin
fake_config '{"user": "alice", "orgs": []}'
out=$(flow alice)
like "alice's flow ends at / after the callback" "$out" "^[0-9]+ $U/\$"
check "  with the session cookie in the jar" jar_has alice bosun_session
like "  /auth/me: a user, github:alice, role admin" "$(me alice)" '"kind":"user","id":"github:alice","credential":"session","role":"admin"'
code=$(curl -s -o /dev/null -w '%{http_code}' -b "$T/alice.jar" "$U/api/v1/tokens")
is "  an admin's session lists admin tokens" "$code" 200
log=$(fake_log)
like "the authorize request asked read:user and read:org" "$(printf '%s' "$log" | jq -r '[.[] | select(.grant == "authorize")][0].answer')" '^read:user read:org$'
is "the code grant passed the fake's secret and PKCE checks" "$(printf '%s' "$log" | jq -r '[.[] | select(.path == "/login/oauth/access_token")][0].grant + " " + [.[] | select(.path == "/login/oauth/access_token")][0].answer')" "code ok"
is "alice is let in by name: no org lookup" "$(printf '%s' "$log" | jq '[.[] | select(.grant == "orgs")] | length')" 0
hdrs=$(curl -s -o /dev/null -D - "$START")
like "start answers 302 to web_url's authorize page" "$hdrs" "^Location: $FAKE/login/oauth/authorize\\?client_id=$CLIENT_ID&redirect_uri=http%3A%2F%2F127.0.0.1%3A$PORT%2Fapi%2Fv1%2Fauth%2Fgithub%2Fcallback&scope=read%3Auser%20read%3Aorg&state=[^&]+&code_challenge=[A-Za-z0-9_-]{43}&code_challenge_method=S256"
like "  and binds the state to the browser with a cookie" "$hdrs" '^Set-Cookie: bosun_github_state=[^;]+; Path=/api/v1/auth/github; Max-Age=600; HttpOnly; SameSite=Lax'

# ---- viewers
fake_config '{"user": "carol", "orgs": []}'
flow carol >/dev/null
like "carol (allowed_users): role viewer" "$(me carol)" '"id":"github:carol","credential":"session","role":"viewer"'
code=$(curl -s -o /dev/null -w '%{http_code}' -b "$T/carol.jar" "$U/api/v1/tokens")
is "  a viewer may not list admin tokens: 403" "$code" 403
code=$(curl -s -o /dev/null -w '%{http_code}' -b "$T/carol.jar" "$U/api/v1/runs")
is "  but reads runs" "$code" 200
fake_config '{"user": "dave", "orgs": ["other", "ACME"], "clear_log": true}'
flow dave >/dev/null
like "dave, a member of acme: role viewer" "$(me dave)" '"id":"github:dave","credential":"session","role":"viewer"'
is "  after one org lookup" "$(fake_log | jq '[.[] | select(.grant == "orgs")] | length')" 1

# ---- refused
fake_config '{"user": "eve", "orgs": []}'
out=$(flow eve)
like "eve (not allowed): 403 at the callback" "$out" "^403 $U/api/v1/auth/github/callback"
like "  saying why" "$(cat "$T/eve.body")" '"code":"forbidden","message":"the GitHub user eve is not a member of an allowed organisation"'
if jar_has eve bosun_session; then fail "  and no session"; else ok "  and no session"; fi
fake_config '{"user": "mallory", "orgs": ["other"]}'
out=$(flow mallory)
like "mallory, of another org: 403" "$out" "^403 "
like "  not a member of an allowed organisation" "$(cat "$T/mallory.body")" 'mallory is not a member of an allowed organisation'
fake_config '{"user": "alice", "orgs": [], "fail": ["/user"]}'
out=$(flow gone)
like "GitHub failing at /user: 502 at the callback" "$out" "^502 $U/api/v1/auth/github/callback"
like "  saying what failed" "$(cat "$T/gone.body")" '"code":"unavailable","message":"GitHub answered 500 for the user"'
fake_config '{"fail": []}'

# ---- the state
# step_to_callback NAME: start and authorize by hand; the callback URL in
# $T/NAME.cb, the jar holding the binding cookie.
step_to_callback() {
    rm -f "$T/$1.jar"
    loc=$(curl -s -o /dev/null -c "$T/$1.jar" -w '%{redirect_url}' "$START")
    curl -s -o /dev/null -w '%{redirect_url}' "$loc" > "$T/$1.cb"
}
fake_config '{"user": "alice", "orgs": []}'
step_to_callback re
cb=$(cat "$T/re.cb")
binding=$(awk '$6 == "bosun_github_state" { print $7 }' "$T/re.jar")
is "the callback with its state and cookie: 302" "$(curl -s -o /dev/null -w '%{http_code}' -b "bosun_github_state=$binding" "$cb")" 302
code=$(curl -s -o "$T/b" -w '%{http_code}' -b "bosun_github_state=$binding" "$cb")
is "the same state again: 400" "$code" 400
like "  used already" "$(cat "$T/b")" '"code":"bad_state","message":"the login.s state was used already'

step_to_callback other
code=$(curl -s -o "$T/b" -w '%{http_code}' "$(cat "$T/other.cb")")
is "a callback without the browser's binding cookie: 400" "$code" 400
like "  it belongs to another browser" "$(cat "$T/b")" 'belongs to another browser'
binding=$(awk '$6 == "bosun_github_state" { print $7 }' "$T/other.jar")
state=$(sed -n 's/.*[?&]state=\([^&]*\).*/\1/p' "$T/other.cb")
code_q=$(sed -n 's/.*[?&]code=\([^&]*\).*/\1/p' "$T/other.cb")
# Another payload under the state's signature.
tampered=$(printf '%s' "$state" | /usr/bin/python3 -c '
import sys, base64, json
h, p, s = sys.stdin.read().strip().split(".")
c = json.loads(base64.urlsafe_b64decode(p + "=" * (-len(p) % 4)))
c["ru"] = "https://evil.example/cb"
p2 = base64.urlsafe_b64encode(json.dumps(c).encode()).rstrip(b"=").decode()
print(h + "." + p2 + "." + s)')
code=$(curl -s -o "$T/b" -w '%{http_code}' -b "bosun_github_state=$binding" "$U/api/v1/auth/github/callback?code=$code_q&state=$tampered")
is "a tampered state: 400" "$code" 400
like "  not one this daemon issued" "$(cat "$T/b")" 'not one this daemon issued'
code=$(curl -s -o "$T/b" -w '%{http_code}' -b "bosun_github_state=x" "$U/api/v1/auth/github/callback?code=abc&state=eyJhbGciOiJIUzI1NiJ9.e30.AAAA")
is "a forged state: 400" "$code" 400
# A state signed with the plugin's key, its 10 minutes over.
expired=$(/usr/bin/python3 - "$T/state/github_oauth.key" <<'PY'
import base64, hashlib, hmac, json, sys, time
b = lambda x: base64.urlsafe_b64encode(x).rstrip(b"=").decode()
key = open(sys.argv[1], "rb").read()
now = int(time.time())
h = b(json.dumps({"alg": "HS256", "typ": "JWT"}).encode())
p = b(json.dumps({"iss": "bosun-github", "aud": "bosun-github-state", "sub": "login",
                  "jti": "old1", "iat": now - 700, "exp": now - 100,
                  "ru": "http://x/cb"}).encode())
print(h + "." + p + "." + b(hmac.new(key, (h + "." + p).encode(), hashlib.sha256).digest()))
PY
)
code=$(curl -s -o "$T/b" -w '%{http_code}' -b "bosun_github_state=old1" "$U/api/v1/auth/github/callback?code=abc&state=$expired")
is "an expired state: 400" "$code" 400
like "  it has expired" "$(cat "$T/b")" 'state has expired'
code=$(curl -s -o "$T/b" -w '%{http_code}' "$U/api/v1/auth/github/callback?error=access_denied&state=$state")
is "GitHub's error=access_denied at the callback: 403" "$code" 403
like "  saying GitHub did not authorise it" "$(cat "$T/b")" '"code":"access_denied"'
code=$(curl -s -o "$T/b" -w '%{http_code}' "$U/api/v1/auth/github/callback?state=$state")
is "a callback without a code: 400" "$code" 400
code=$(for i in $(seq 1 11); do curl -s -o /dev/null -w '%{http_code} ' --interface 127.0.0.9 -b "bosun_github_state=x" "$U/api/v1/auth/github/callback?code=abc&state=$tampered"; done)
like "forged states count as failed authentications: 10 x 400, then 429" "$code" '^(400 ){10}429 $'

# ---- secrets
is "the fake gave out 5 tokens since dave (the checks below mean something)" "$(fake_log | jq '[.[] | select(.grant == "code" and .answer == "ok")] | length')" 5
unlike "no GitHub token in bosund's log" "$(cat "$T/bosund.log")" 'gho_'
unlike "nor the client secret" "$(cat "$T/bosund.log")" "$CLIENT_SECRET"
like "the log names the logins" "$(cat "$T/bosund.log")" 'github: web login of alice \(admin\)'

# ---- the stop
stop_daemon
is "bosund exits 0" "$DAEMON_STATUS" 0
unlike "no sanitizer report in its log (a sanitizer build)" "$(cat "$T/bosund.log")" 'Sanitizer|leaked in|runtime error'

# ---- behind a proxy: http.public_url
HTTP_MORE="  public_url: 'https://bosun.example.net/x'"
login_config
out=$("$BOSUND" --check-config -c "$T/bosun.yaml" 2>&1)
like "a public_url with a path is refused, FILE:LINE:COL" "$out" "^$T/bosun.yaml:[0-9]+:[0-9]+: 'http.public_url': 'https://bosun.example.net/x': expected an origin"
HTTP_MORE="  public_url: 'https://bosun.example.net:8443/'"
login_daemon || exit 1
like "with public_url, the redirect_uri is under it" "$(curl -s -o /dev/null -D - "$START")" "redirect_uri=https%3A%2F%2Fbosun.example.net%3A8443%2Fapi%2Fv1%2Fauth%2Fgithub%2Fcallback&"
done_testing
