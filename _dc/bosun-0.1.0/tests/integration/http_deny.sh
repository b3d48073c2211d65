#!/bin/sh
# The deny-list of logged-out sessions (state_dir/http_revoked.json) with
# curl against a real bosund: every entry of a full file is loaded (an
# early one is still refused), a logout past the bound (16384) is 503 with
# a message and forgets nothing, expired entries are swept so that a
# logout works again, the file is a journal (a logout appends a line; the
# first release's one-document file and a cut last line are read and the
# file rewritten), 0600, and read back after a restart.
. "$top_srcdir/tests/integration/lib.sh"
plan 25
. "$top_srcdir/tests/integration/http_lib.sh"
FORGE="/usr/bin/python3 $top_srcdir/tests/helpers/jwt_forge.py"
http_boot
write_config <<EOF2
  plugins: [sqlite, http]
http:
  listen: "127.0.0.1:$PORT"
  bootstrap_token_file: $T/boot.tok
EOF2
# A full list: the first entry lives an hour, the 16383 others expire
# SHORT seconds from now (long enough for a sanitizer build to start).
SHORT=40
mkdir -p "$T/state"
chmod 700 "$T/state"
soon=$(($(date +%s) + SHORT))
/usr/bin/python3 - "$T/state/http_revoked.json" "$soon" <<'EOF3'
import json, sys, time
path, soon = sys.argv[1], float(sys.argv[2])
revoked = [{"key": "firstRevokedJti", "exp": time.time() + 3600}]
revoked += [{"key": "old%05d" % i, "exp": soon} for i in range(16383)]
with open(path, "w") as f:
    json.dump({"version": 1, "revoked": revoked}, f)
EOF3
chmod 600 "$T/state/http_revoked.json"
start_daemon || exit 1
wait_for 20 curl -s -o /dev/null "$U/health"
F="$T/state/http_revoked.json"
is "the first release's file is rewritten as a journal: a line an entry" "$(wc -l <"$F")" 16384
is "each line an entry" "$(jq -c 'select(.key and .exp)' "$F" | wc -l)" 16384
KEY="$T/state/http_jwt.key"

code() { curl -s -o "$T/body" -D "$T/hdr" -w '%{http_code}' "$@"; }
me() { code -H "Authorization: Bearer $1" "$U/api/v1/auth/me"; }
logout() { code -H "Authorization: Bearer $1" -X POST "$U/api/v1/auth/logout"; }
login() {
    curl -s -o /dev/null -D "$T/l.hdr" -d "{\"token\":\"$BOOT\"}" "$U/api/v1/auth/login"
    sed -n 's/^Set-Cookie: bosun_session=\([^;]*\).*/\1/p' "$T/l.hdr" | tr -d '\r'
}

is "control: a forged JWT with a fresh jti passes" "$(me "$($FORGE "$KEY" good)")" 200
is "the first entry of a full file is loaded: its jti is refused" "$(me "$(FORGE_JTI=firstRevokedJti $FORGE "$KEY" good)")" 401
is "so is the last" "$(me "$(FORGE_JTI=old16382 $FORGE "$KEY" good)")" 401
s1=$(login)
is "a logout while the list is full: 503" "$(logout "$s1")" 503
like "saying the list is full, and its bound" "$(cat "$T/body")" '"code":"unavailable".*full \(16384'
check "(checked before the entries expire)" test "$(date +%s)" -lt "$soon"
is "the session it could not record stays valid (the client was told)" "$(me "$s1")" 200
is "nothing was forgotten: the first entry is still refused" "$(me "$(FORGE_JTI=firstRevokedJti $FORGE "$KEY" good)")" 401

# Once the short entries have expired, the next logout sweeps them.
while [ "$(date +%s)" -le "$soon" ]; do sleep 1; done
is "after they expired, the logout works: 200" "$(logout "$s1")" 200
is "and the session is refused" "$(me "$s1")" 401
is "the file is 0600" "$(stat -c %a "$T/state/http_revoked.json")" 600
is "it holds the two live entries only" "$(jq -s -c '[.[].key] | length' "$F")" 2
like "the first one among them" "$(jq -s -c '[.[].key]' "$F")" '"firstRevokedJti"'

# A logout appends its line: the file is not rewritten (same inode, the
# earlier lines as they were).
ino=$(stat -c %i "$F")
head2=$(cat "$F")
s2=$(login)
is "another logout: 200" "$(logout "$s2")" 200
is "appended: the same file" "$(stat -c %i "$F")" "$ino"
is "three lines" "$(wc -l <"$F")" 3
is "the first two unchanged" "$(head -n 2 "$F")" "$head2"
# What a crash in the middle of an append leaves: a cut last line.
printf '{"key":"cutShort' >>"$F"

stop_daemon
start_daemon || exit 1
wait_for 20 curl -s -o /dev/null "$U/health"
is "after a restart the logged-out session is refused" "$(me "$s1")" 401
is "so is the one logged out by an append" "$(me "$s2")" 401
like "the cut line is reported" "$(cat "$T/bosund.log")" '<3>.*http_revoked.json: 1 malformed entries skipped'
is "and the file rewritten without it" "$(jq -c 'select(.key and .exp)' "$F" | wc -l)" 3
is "and the first entry still" "$(me "$(FORGE_JTI=firstRevokedJti $FORGE "$KEY" good)")" 401
is "a new session works" "$(me "$(login)")" 200
done_testing
