#!/bin/sh
# Admin tokens served by the core (cmd.auth.token.*) through bosunctl: the
# secret is printed once, with its prefix and 256 bits; only its hash is
# kept, in a 0600 file that survives a restart; list never shows a secret
# or a hash; check accepts it until it is revoked or its ttl passes; events
# carry neither; a secret pasted into an event is masked.
. "$top_srcdir/tests/integration/lib.sh"
plan 24
write_config <<EOF2
  plugins: [sqlite]
EOF2
start_daemon || exit 1

secret=$(ctl token create --name "ci bot" 2>"$T/create.err")
like "create prints a bsn_adm_ secret of 43 base64url characters" "$secret" '^bsn_adm_[A-Za-z0-9_-]{43}$'
like "create says the id on stderr, and that the secret is shown once" "$(cat "$T/create.err")" \
    'admin token tok_[0-9a-f]{16} \(ci bot\) created, expires -; the secret above is shown only now'
id=$(sed -n 's/.*admin token \(tok_[0-9a-f]*\) .*/\1/p' "$T/create.err")

list=$(ctl token list)
like "list shows the token's id and name" "$list" "^$id +ci bot "
unlike "list shows no secret" "$list" "bsn_adm_"
json=$(ctl --json token list)
like "list --json has id, name, created_at, expires_at" "$json" \
    "\"id\":\"$id\",\"name\":\"ci bot\",\"created_at\":[0-9.]+,\"expires_at\":null"
unlike "list --json has no hash" "$json" '"hash"'

check=$(ctl --json request cmd.auth.token.check "{\"token\":\"$secret\"}")
like "check accepts the secret" "$check" "\"id\":\"$id\",\"name\":\"ci bot\""
bad=$(ctl --json request cmd.auth.token.check '{"token":"bsn_adm_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"}')
like "check refuses an unknown token" "$bad" '"code":"unauthorized".*unknown'
bad=$(ctl --json request cmd.auth.token.check '{"token":"bat_short"}')
like "check refuses a malformed one" "$bad" '"code":"unauthorized".*malformed'
like "list records the last use" "$(ctl --json token list)" '"last_used_at":[0-9.]+'

f="$T/state/admin_tokens.json"
is "the token file is 0600" "$(stat -c %a "$f")" "600"
hash=$(printf '%s' "$secret" | sha256sum | cut -d' ' -f1)
like "the file holds the secret's SHA-256" "$(cat "$f")" "\"hash\": \"$hash\""
if grep -q "$secret" "$f"; then fail "the file holds no secret"; else ok "the file holds no secret"; fi

# A secret pasted into an event is masked before the store keeps it.
ctl pub evt.test.paste "{\"text\":\"my token is $secret\"}"
wait_for 10 sh -c "\"$BOSUNCTL\" -s \"$T/run/bosund.sock\" events --subject 'evt.test.>' | grep -q redacted"
ev=$(ctl events --subject 'evt.test.>')
like "a pasted secret is redacted in events" "$ev" 'my token is \[redacted\]'
ev=$(ctl events --subject 'evt.auth.token.>')
like "evt.auth.token.ID.created is stored" "$ev" "evt.auth.token.$id.created"
unlike "token events carry no secret or hash" "$ev" "bsn_adm_|$hash"

stop_daemon
start_daemon || exit 1
check=$(ctl --json request cmd.auth.token.check "{\"token\":\"$secret\"}")
like "the token survives a restart" "$check" "\"id\":\"$id\""

is "revoke says so" "$(ctl token revoke "$id")" "revoked $id"
check=$(ctl --json request cmd.auth.token.check "{\"token\":\"$secret\"}")
like "a revoked token is refused" "$check" '"code":"unauthorized"'
out=$(ctl token revoke "$id" 2>&1)
like "revoking it again is not_found" "$out" 'not_found'
wait_for 10 sh -c "\"$BOSUNCTL\" -s \"$T/run/bosund.sock\" events --subject 'evt.auth.token.>' | grep -q revoked"
like "evt.auth.token.ID.revoked is stored" "$(ctl events --subject 'evt.auth.token.>')" \
    "evt.auth.token.$id.revoked"

short=$(ctl token create --name short --ttl 1s 2>/dev/null)
sleep 2
check=$(ctl --json request cmd.auth.token.check "{\"token\":\"$short\"}")
like "a token past its ttl is refused" "$check" '"code":"unauthorized".*(expired|unknown)'
out=$(ctl token create --name x --ttl soon 2>&1)
like "a bad --ttl is a usage error" "$out" "--ttl: 'soon' is not a duration"
out=$(ctl token create 2>&1)
like "create without --name is a usage error" "$out" 'usage: bosunctl token create --name'
done_testing
