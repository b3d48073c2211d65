# Helpers for the GitHub login tests, after lib.sh and http_lib.sh: the fake
# GitHub (tests/github/fake_github_oauth.py) on a free port in FAKE, a
# client secret file, and bosund with the http and github plugins pointed
# at the fake, allowing alice (admin), carol, and members of acme.
BOSUN_PLUGIN_PATH="$BOSUN_PLUGIN_PATH:$top_builddir/plugins/github"
export BOSUN_PLUGIN_PATH
CLIENT_ID=Iv1.test0123
CLIENT_SECRET="cs-$(head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n')"
FAKE_PID=
trap 'if [ -n "$FAKE_PID" ]; then kill "$FAKE_PID" 2>/dev/null; wait "$FAKE_PID" 2>/dev/null; fi; cleanup' EXIT

# fake_start: the fake GitHub, its URL in FAKE.
fake_start() {
    /usr/bin/python3 "$top_srcdir/tests/github/fake_github_oauth.py" "$T/fake.port" "$CLIENT_ID" \
        "$CLIENT_SECRET" 2>"$T/fake.log" &
    FAKE_PID=$!
    wait_for 10 test -s "$T/fake.port" || { echo "# the fake GitHub did not start"; return 1; }
    FAKE="http://127.0.0.1:$(cat "$T/fake.port")"
}
# fake_config JSON: steers the fake (user, orgs, device_script, interval).
fake_config() {
    curl -s -o /dev/null -H 'Content-Type: application/json' -d "$1" "$FAKE/_fake/config"
}
# fake_log: what the fake saw, a JSON list.
fake_log() { curl -s "$FAKE/_fake/log"; }

# login_config: the configuration of bosund with sqlite, http and github,
# on $PORT ($HTTP_MORE: more lines of the http: section); login_daemon
# starts it.
login_config() {
    printf '%s\n' "$CLIENT_SECRET" > "$T/client.secret"
    chmod 600 "$T/client.secret"
    write_config <<EOF2
  plugins: [sqlite, http, github]
http:
  listen: "127.0.0.1:$PORT"
  bootstrap_token_file: $T/boot.tok
  session_ttl: 1h
${HTTP_MORE:-}
github:
  api_url: $FAKE
  web_url: $FAKE
  client_id: $CLIENT_ID
  client_secret_file: $T/client.secret
  allowed_users: [alice, carol]
  allowed_orgs: [acme]
  admins: [Alice]
EOF2
}
login_daemon() {
    login_config
    start_daemon || return 1
    wait_for 10 curl -s -o /dev/null "$U/health"
}
