#!/bin/sh
# The notify plugin's email channel against a local SMTP sink (aiosmtpd):
# STARTTLS verified with the test's CA and AUTH from password_file, a
# proper RFC 5322 message, no header injection from an agent's text, a
# plain channel without TLS when asked, and a refused login not retried.
. "$top_srcdir/tests/integration/notify_lib.sh"
plan 17

"$PY" -c 'import aiosmtpd' 2>/dev/null || { echo "1..0 # SKIP Debian's python3-aiosmtpd is not installed"; exit 0; }
openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=127.0.0.1 \
    -addext "subjectAltName=IP:127.0.0.1" -keyout "$T/sink.key" -out "$T/sink.crt" 2>/dev/null
PASSWORD="pw-$(od -An -N8 -tx1 /dev/urandom | tr -d ' \n')"
printf '%s\n' "$PASSWORD" > "$T/smtp.pass"
printf 'badpw-q8z1x\n' > "$T/bad.pass"
chmod 600 "$T/smtp.pass" "$T/bad.pass"
: > "$T/mail.log"
"$PY" "$top_srcdir/tests/notify/smtp_sink.py" "$T/sink.port" "$T/mail.log" "$T/sink.crt" "$T/sink.key" alice "$PASSWORD" 2>"$T/sink.err" &
SINK_PID=$!
wait_for 10 test -s "$T/sink.port" || { echo "# the SMTP sink did not start"; cat "$T/sink.err"; }
SP=$(cat "$T/sink.port")

write_config <<EOF2
  plugins: [sqlite, notify]
notify:
  public_url: https://bosun.example.test
  rules:
    - on: [input.requested]
      to: [mail]
    - on: [approval.requested]
      to: [plain]
    - on: [machine.offline]
      to: [badlogin]
  channels:
    mail:
      type: email
      url: smtp://127.0.0.1:$SP
      ca_file: $T/sink.crt
      from: bosun@example.test
      to: [ops@example.test, dev@example.test]
      username: alice
      password_file: $T/smtp.pass
    plain:
      type: email
      url: smtp://127.0.0.1:$SP
      starttls: false
      from: bosun@example.test
      to: ops@example.test
    badlogin:
      type: email
      url: smtp://127.0.0.1:$SP
      ca_file: $T/sink.crt
      from: bosun@example.test
      to: ops@example.test
      username: alice
      password_file: $T/bad.pass
      backoff: 0.1s
EOF2
start_daemon || exit 1

mails() { jq -s length "$T/mail.log"; }
ctl pub evt.input.Q1.requested '{"input":"Q1","agent":"coder","task":"T1","run":"R1","question":"Déployer en prod ?\r\nBcc: evil@attacker.test"}'
wait_for 10 sh -c "[ \$(jq -s length '$T/mail.log') -ge 1 ]"
M=$(jq -c 'select(.rcpt_tos | length == 2)' "$T/mail.log" | head -1)
is "email: envelope from and both recipients" "$(printf '%s' "$M" | jq -c '[.mail_from, .rcpt_tos]')" '["bosun@example.test",["ops@example.test","dev@example.test"]]'
is "email: sent under STARTTLS, verified with ca_file, logged in as alice" "$(printf '%s' "$M" | jq -c '[.tls, .user]')" '[true,"alice"]'
printf '%s' "$M" | jq -r .data > "$T/msg.eml"
parse() { "$PY" -c '
import email, email.policy, email.utils, sys
m = email.message_from_binary_file(open(sys.argv[1], "rb"), policy=email.policy.default)
f = sys.argv[2]
if f == "body":
    print(m.get_content(), end="")
elif f == "date":
    print(email.utils.parsedate_to_datetime(m["Date"]) is not None)
else:
    print(m[f])' "$T/msg.eml" "$1"; }
is "email: From and To headers" "$(parse From) / $(parse To)" "bosun@example.test / ops@example.test, dev@example.test"
is "email: Subject says what happened" "$(parse Subject)" "bosun: agent coder asks a question"
is "email: an RFC 5322 Date" "$(parse date)" True
like "email: a Message-ID" "$(parse Message-ID)" '^<[0-9a-f]{32}\.[0-9]+@bosun>$'
is "email: MIME text/plain in UTF-8, 8bit for the accented text" "$(parse Content-Type | tr A-Z a-z) $(parse Content-Transfer-Encoding)" "text/plain; charset=\"utf-8\" 8bit"
body=$(parse body)
like "email body: the question (UTF-8 intact) and who asks" "$(printf '%s' "$body" | tr '\n' '|')" "agent: coder\|task: T1\|run: R1\|.*Déployer en prod \?  Bcc: evil@attacker.test\|"
like "email body: the link to answer it" "$body" '^https://bosun.example.test/#/tasks/T1$'
is "email: the agent's line break made no header (no Bcc)" "$(parse Bcc)" None
check "email: CRLF line ends throughout" sh -c "! tr -d '\r' < '$T/msg.eml' | cmp -s - '$T/msg.eml'"

ctl pub evt.approval.A1.requested '{"id":"A1","agent":"coder","tool":"Bash","input":{"command":"make deploy"}}'
wait_for 10 sh -c "[ \$(jq -s length '$T/mail.log') -ge 2 ]"
P=$(jq -c 'select(.data | test("approval"))' "$T/mail.log" | head -1)
is "plain channel (starttls: false): delivered without TLS or login" "$(printf '%s' "$P" | jq -c '[.tls, .user, .rcpt_tos]')" '[false,null,["ops@example.test"]]'
like "the approval's mail names the tool and its input" "$(printf '%s' "$P" | jq -r .data)" 'tool Bash: \{"command":"make deploy"\}'

ctl pub evt.machine.m7.offline '{"machine":"m7"}'
check "a refused login ends in a final failure" wait_for 10 sh -c "\"$BOSUNCTL\" -s '$T/run/bosund.sock' request cmd.store.events '{\"subject\":\"evt.notify.badlogin.failed\"}' --json | jq -e '.data.events[0].data.final == true' >/dev/null"
sleep 0.5
is "a refused login is not retried (one failed attempt)" "$(notify_events badlogin failed | jq length)" 1
unlike "the password is in no event and no log" "$(cat "$T/bosund.log"; notify_events mail sent; notify_events badlogin failed; notify_status)" "$PASSWORD|badpw-q8z1x"
stop_daemon
is "daemon exits 0" "$DAEMON_STATUS" 0
