#!/bin/sh
# The notify: section is checked before anything runs: each mistake is an
# error at FILE:LINE:COL naming what is wrong, and bosund --check-config
# exits 1; a secret never appears in a message.
. "$top_srcdir/tests/integration/notify_lib.sh"
plan 26

# bad TEXT: --check-config of a notify: section (it starts at line 10).
bad() {
    { echo "  plugins: [notify]"; echo "notify:"; cat; } | write_config
    out=$("$BOSUND" --check-config -c "$T/bosun.yaml" 2>&1); st=$?
}

bad <<EOF2
  public_url: https://bosun.example.test
  rules:
    - on: [input.requested, run.failed]
      to: [hook]
  channels:
    hook: {type: webhook, url: "https://hooks.example.test/x", secret_file: $T/hook.secret}
EOF2
is "a valid section passes" "$st" 0

bad <<EOF2
  rules:
    - on: [input.requested]
      to: [hook, nowhere]
  channels:
    hook: {type: webhook, url: "https://h.example.test/", secret_file: $T/hook.secret}
EOF2
is "unknown channel in a rule: exit 1" "$st" 1
like "unknown channel: FILE:LINE:COL and its name" "$out" "bosun.yaml:12:18: .*to: no channel named 'nowhere'"

bad <<EOF2
  rules:
    - on: [input.requested, run.exploded]
      to: [hook]
  channels:
    hook: {type: webhook, url: "https://h.example.test/", secret_file: $T/hook.secret}
EOF2
like "unknown event kind" "$out" "bosun.yaml:11:29: .*on: unknown event 'run.exploded'"

bad <<EOF2
  channels:
    hook: {type: webhook, url: "ftp://h.example.test/", secret_file: $T/hook.secret}
EOF2
like "a URL of the wrong scheme" "$out" "bosun.yaml:11:32: .*url: the scheme must be http or https, not 'ftp'"

bad <<EOF2
  channels:
    mail: {type: email, url: "https://mail.example.test", from: a@example.test, to: b@example.test}
EOF2
like "an email URL must be smtp or smtps" "$out" "bosun.yaml:11:30: .*the scheme must be smtp or smtps"

bad <<EOF2
  channels:
    hook: {type: webhook, url: "not a url at all"}
EOF2
like "not a URL" "$out" "bosun.yaml:11:32: .*url: not a URL"

bad <<EOF2
  channels:
    hook: {type: webhook, url: "https://h.example.test/", secret_file: $T/missing.secret}
EOF2
is "missing secret file: exit 1" "$st" 1
like "missing secret file: named with the reason" "$out" "bosun.yaml:11:72: .*secret_file: $T/missing.secret: No such file or directory"

: > "$T/empty.secret"
bad <<EOF2
  channels:
    hook: {type: webhook, url: "https://h.example.test/", secret_file: $T/empty.secret}
EOF2
like "empty secret file" "$out" "secret_file: $T/empty.secret is empty"

bad <<EOF2
  channels:
    hook: {type: webhook, url: "https://h.example.test/"}
EOF2
like "a JSON webhook needs its HMAC key" "$out" "bosun.yaml:11:11: .*webhook channel 'hook': secret_file is required"

bad <<EOF2
  channels:
    hook: {type: webhook, url: "https://h.example.test/", secret_file: hook.secret}
EOF2
like "a relative secret path" "$out" "secret_file: expected an absolute path"

bad <<EOF2
  channels:
    hook: {type: pigeon, url: "https://h.example.test/"}
EOF2
like "unknown channel type" "$out" "bosun.yaml:11:18: .*type: webhook, ntfy or email, not 'pigeon'"

bad <<EOF2
  channels:
    "bad name": {type: ntfy, url: "https://ntfy.example.test/t"}
EOF2
like "a channel name that cannot be a subject token" "$out" "channel name 'bad name': letters, digits"

bad <<EOF2
  channels:
    mail: {type: email, url: "smtp://mail.example.test", from: "bosun@example.test\r\nBcc: x@y", to: b@example.test}
EOF2
like "an address with a line break" "$out" "from: not a bare address"

bad <<EOF2
  channels:
    mail: {type: email, url: "smtp://mail.example.test", from: a@example.test}
EOF2
like "email without recipients" "$out" "email channel 'mail': to: at least one address"

bad <<EOF2
  channels:
    mail: {type: email, url: "smtp://m.example.test", from: a@example.test, to: [b@example.test, "c at example"]}
EOF2
like "a bad recipient named at its position" "$out" "bosun.yaml:11:98: .*to: 'c at example' is not a bare address"

bad <<EOF2
  channels:
    phone: {type: ntfy, url: "https://ntfy.example.test/t", priority: loud}
EOF2
like "an ntfy priority that is none" "$out" "priority: min, low, default, high, max or urgent"

bad <<EOF2
  channels:
    phone: {type: ntfy, url: "https://ntfy.example.test/t", secret_file: $T/hook.secret}
EOF2
like "a key of another channel type" "$out" "bosun.yaml:11:61: .*unknown key 'secret_file'"

bad <<EOF2
  channels:
    hook: {type: webhook, url: "https://h.example.test/", secret_file: $T/hook.secret, backoff: 10s, backoff_max: 1s}
EOF2
like "backoff_max below backoff" "$out" "backoff_max: less than backoff"

bad <<EOF2
  window: forever
EOF2
like "a bad window" "$out" "bosun.yaml:10:11: .*notify.window"

bad <<EOF2
  rules:
    - on: [input.requested]
EOF2
like "a rule without channels" "$out" "bosun.yaml:11:7: .*rule: to: at least one channel"

bad <<EOF2
  public_url: "mailto:x@example.test"
EOF2
like "public_url must be http(s)" "$out" "bosun.yaml:10:15: public_url: (not a URL|the scheme must be http or https)"

bad <<EOF2
  channels:
    hook: {type: webhook, url: "ftp://h.example.test/", secret_file: $T/hook.secret}
EOF2
unlike "no message shows a secret" "$out" "$(cat "$T/hook.secret")"

# Every key the plugin reads is documented in bosun.yaml(5), and the page
# of its own is there.
missing=
keys=$(sed -n 's/.*_keys\[\] = {\(.*\)/\1/p; s/^ *\("[a-z_]*",.*NULL}\);/\1/p' "$top_srcdir/plugins/notify/notify_config.c" |
       grep -o '"[a-z_]*"' | tr -d '"' | sort -u)
for key in $keys; do
    grep -Eq "^\.It Cm $key( |\$)" "$top_srcdir/man/bosun.yaml.5" || missing="$missing $key"
done
like "keys found in notify_config.c" "$keys" "password_file"
is "bosun.yaml(5) documents every notify key" "$missing" ""
