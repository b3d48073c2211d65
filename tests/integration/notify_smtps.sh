#!/bin/sh
# The notify plugin's email channel over smtps:// (TLS from the first
# byte) against the SMTP sink in implicit-TLS mode: the server's
# certificate, issued by the test's own CA, verified with ca_file, AUTH
# under that TLS, the mail delivered; a channel given another CA fails
# verification, each attempt a delivery failure event, retried per its
# policy (retries: 2) and then final, reported failing, while the good
# channel delivers every message of the same rule.
. "$top_srcdir/tests/integration/notify_lib.sh"
plan 14

"$PY" -c 'import aiosmtpd' 2>/dev/null || { echo "1..0 # SKIP Debian's python3-aiosmtpd is not installed"; exit 0; }
command -v openssl >/dev/null || { echo "1..0 # SKIP openssl is not installed"; exit 0; }
# ca: the test's CA, which issues the sink's certificate; other: a CA that
# issued nothing the sink shows.
for ca in ca other; do
    openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=bosun test $ca" \
        -addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign,cRLSign \
        -keyout "$T/$ca.key" -out "$T/$ca.crt" 2>/dev/null
done
openssl req -newkey rsa:2048 -nodes -subj /CN=127.0.0.1 -keyout "$T/sink.key" -out "$T/sink.csr" 2>/dev/null
printf 'subjectAltName=IP:127.0.0.1\nextendedKeyUsage=serverAuth\n' > "$T/sink.ext"
openssl x509 -req -in "$T/sink.csr" -CA "$T/ca.crt" -CAkey "$T/ca.key" -CAcreateserial -days 2 \
    -extfile "$T/sink.ext" -out "$T/sink.crt" 2>/dev/null
check "the sink's certificate is the test CA's" openssl verify -CAfile "$T/ca.crt" "$T/sink.crt"
PASSWORD="pw-$(od -An -N8 -tx1 /dev/urandom | tr -d ' \n')"
printf '%s\n' "$PASSWORD" > "$T/smtp.pass"
chmod 600 "$T/smtp.pass"
: > "$T/mail.log"
"$PY" "$top_srcdir/tests/notify/smtp_sink.py" "$T/sink.port" "$T/mail.log" "$T/sink.crt" "$T/sink.key" \
    alice "$PASSWORD" implicit 2>"$T/sink.err" &
SINK_PID=$!
wait_for 10 test -s "$T/sink.port" || { echo "# the SMTP sink did not start"; cat "$T/sink.err"; }
SP=$(cat "$T/sink.port")

write_config <<EOF2
  plugins: [sqlite, notify]
notify:
  public_url: https://bosun.example.test
  rules:
    - on: [input.requested]
      to: [wrongca, mail]
  channels:
    mail:
      type: email
      url: smtps://127.0.0.1:$SP
      ca_file: $T/ca.crt
      from: bosun@example.test
      to: ops@example.test
      username: alice
      password_file: $T/smtp.pass
    wrongca:
      type: email
      url: smtps://127.0.0.1:$SP
      ca_file: $T/other.crt
      from: bosun@example.test
      to: ops@example.test
      username: alice
      password_file: $T/smtp.pass
      backoff: 0.2s
      backoff_max: 0.5s
      retries: 2
EOF2
start_daemon || exit 1

ctl pub evt.input.Q1.requested '{"input":"Q1","agent":"coder","task":"T1","run":"R1","question":"Ship it?"}'
check "smtps://: the mail arrives" wait_for 15 sh -c "[ \$(jq -s length '$T/mail.log') -ge 1 ]"
M=$(head -1 "$T/mail.log")
is "  under TLS, logged in as alice" "$(printf '%s' "$M" | jq -c '[.tls, .user]')" '[true,"alice"]'
like "  the question in it" "$(printf '%s' "$M" | jq -r .data)" 'Ship it\?'
check "  evt.notify.mail.sent, at the first attempt" wait_for 10 sh -c \
    "\"$BOSUNCTL\" -s '$T/run/bosund.sock' request cmd.store.events '{\"subject\":\"evt.notify.mail.sent\"}' --json | jq -e '.data.events[0].data.attempts == 1' >/dev/null"

# ---- another CA: every attempt fails verification, then it is final
check "another CA: the failure becomes final" wait_for 20 sh -c \
    "\"$BOSUNCTL\" -s '$T/run/bosund.sock' request cmd.store.events '{\"subject\":\"evt.notify.wrongca.failed\"}' --json | jq -e '[.data.events[].data.final] | index(true) != null' >/dev/null"
F=$(notify_events wrongca failed)
is "  three attempts, each a failure event (retries: 2)" "$(printf '%s' "$F" | jq -c 'map(.data.attempts) | sort')" '[1,2,3]'
is "  only the last final, the others with a retry_in" \
    "$(printf '%s' "$F" | jq -c 'sort_by(.data.attempts) | map([.data.final, .data.retry_in != null])')" '[[false,true],[false,true],[true,false]]'
like "  the reason: the certificate" "$(printf '%s' "$F" | jq -r '.[0].data.error')" '[Cc]ertificate'
is "  nothing reached the sink through it (one mail in all)" "$(jq -s length "$T/mail.log")" 1
is "  reported failing in cmd.notify.status" \
    "$(notify_status | jq -c '[.failing, [.channels[] | select(.name == "wrongca") | .state]]')" '[true,["failing"]]'

# ---- the good channel is not held up by the failing one
ctl pub evt.input.Q2.requested '{"input":"Q2","agent":"coder","task":"T1","run":"R1","question":"And this?"}'
ctl pub evt.input.Q3.requested '{"input":"Q3","agent":"coder","task":"T1","run":"R1","question":"And that?"}'
check "two more questions: both delivered over smtps://" wait_for 15 sh -c "[ \$(jq -s length '$T/mail.log') -ge 3 ]"
unlike "the password is in no event and no log" \
    "$(cat "$T/bosund.log"; notify_events mail sent; notify_events wrongca failed; notify_status)" "$PASSWORD"
stop_daemon
is "daemon exits 0" "$DAEMON_STATUS" 0
done_testing
