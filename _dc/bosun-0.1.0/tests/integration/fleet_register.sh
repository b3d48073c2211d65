#!/bin/sh
# Fleet registration, over TLS with a test CA: a machine trades a
# registration token for a permanent one (written 0600, never logged),
# comes online, its heartbeats move last-seen, and after a restart it
# registers with the permanent token alone.  A registration token used
# twice, expired or unknown is refused with its code and a 1008 close, as
# is anything before machine.register; a real machine given a used
# registration token says so once and keeps trying.  A revoked machine goes
# offline, stops retrying, and its token is refused.
. "$top_srcdir/tests/integration/lib.sh"
. "$top_srcdir/tests/integration/http_lib.sh"
. "$top_srcdir/tests/integration/fleet_lib.sh"
plan 31

SSL_CERT_FILE="$T/ca.pem"
export SSL_CERT_FILE
CLIENT="/usr/bin/python3 $top_srcdir/tests/helpers/fleet_client.py"
AGENTS='agents:
  worker:
    type: exec
    command: [sleep, "60"]
    restart: never'
fleet_hub "heartbeat_timeout: 3s"
node_start hub || exit 1
check "the hub listens with TLS" wait_for 20 curl -sf --cacert "$T/ca.pem" -o /dev/null "https://127.0.0.1:$PORT/health"

# --- a fresh registration
tok=$(reg_token m1)
like "bosunctl machine token create shows a registration token" "$tok" '^bsn_reg_[A-Za-z0-9_-]{40,}$'
(umask 077 && printf '%s\n' "$tok" > "$T/m1.reg")
fleet_machine m1 "registration_token_file: $T/m1.reg"
node_start m1 || exit 1
check "the machine is online on the hub" wait_for 30 machine_status_is m1 online
check "its permanent token file exists" test -s "$T/m1/state/machine.tok"
is "  mode 0600" "$(stat -c %a "$T/m1/state/machine.tok")" 600
mch=$(cat "$T/m1/state/machine.tok")
like "  a bsn_mch_ token" "$mch" '^bsn_mch_[A-Za-z0-9_-]{40,}$'
unlike "neither token is in any log" "$(cat "$T/hub/bosund.log" "$T/m1/bosund.log")" "${tok#bsn_reg_}|${mch#bsn_mch_}"
like "machine list shows it" "$(nctl hub machine list 2>&1)" 'm1 .*online'

# --- heartbeats move last-seen
seen1=$(machine_field m1 last_seen)
sleep 2.5
seen2=$(machine_field m1 last_seen)
check "heartbeats move last_seen ($seen1 -> $seen2)" test -n "$seen1" -a "$seen1" != "$seen2"

# --- a restart registers with the permanent token alone
rm -f "$T/m1.reg"
node_stop m1
check "a stopped machine goes offline" wait_for 15 machine_status_is m1 offline
node_start m1 || exit 1
check "restarted without the registration token, it is online again" wait_for 30 machine_status_is m1 online
is "  with the same permanent token" "$(cat "$T/m1/state/machine.tok")" "$mch"

# --- a second real machine given the used registration token
(umask 077 && printf '%s\n' "$tok" > "$T/m2.reg")
fleet_machine m2 "registration_token_file: $T/m2.reg"
node_start m2 || exit 1
used_logged() { grep -Eq '^<3>uplink: .*token_used' "$T/m2/bosund.log"; }
check "a machine given a used registration token logs token_used as an error" wait_for 20 used_logged
attempts() { grep -c 'linking to the hub at' "$T/m2/bosund.log"; }
many() { [ "$(attempts)" -ge 3 ]; }
check "  and keeps trying (a new token in its file would help)" wait_for 20 many
is "  the error logged once, not at every attempt" "$(grep -Ec '^<3>uplink: .*token_used' "$T/m2/bosund.log")" 1
check "  it is not a machine of the hub" test -z "$(machine_field m2 id)"
check "  and has no token file" test ! -e "$T/m2/state/machine.tok"
node_stop m2

# --- refused registrations
reg() { # TOKEN ID: a raw register, the hub's answer
    $CLIENT "$HUB_URL/fleet" 10 \
        "{\"subject\":\"machine.register\",\"reply\":\"r.1\",\"data\":{\"token\":\"$1\",\"machine_id\":\"$2\",\"name\":\"$2\",\"version\":\"test\",\"agents\":[]}}"
}
code() { printf '%s' "$1" | jq -r '[.frames[] | select(.subject == "r.1") | .data.error.code][0] // "none"'; }
out=$(reg "$tok" raw1)
is "a registration token used twice: token_used" "$(code "$out")" token_used
is "  and the link closed 1008" "$(printf '%s' "$out" | jq .close_code)" 1008
short=$(reg_token short 1s)
sleep 2.2
out=$(reg "$short" raw2)
is "an expired registration token: token_expired" "$(code "$out")" token_expired
is "  closed 1008" "$(printf '%s' "$out" | jq .close_code)" 1008
out=$(reg "bsn_reg_$(head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n')" raw3)
is "an unknown token: token_invalid" "$(code "$out")" token_invalid
out=$($CLIENT "$HUB_URL/fleet" 10 \
    '{"subject":"machine.heartbeat","data":{"agents_running":0,"load":[0,0,0],"version":"x"}}')
is "a heartbeat before machine.register: closed 1008" "$(printf '%s' "$out" | jq .close_code)" 1008
like "  after an error frame" "$(printf '%s' "$out" | jq -c .frames)" '"error"'
out=$($CLIENT "$HUB_URL/fleet" 10 \
    '{"subject":"machine.events","data":{"events":[{"seq":1,"subject":"evt.x","time":"2026-01-01T00:00:00Z","data":{}}]}}')
is "machine.events before machine.register: closed 1008" "$(printf '%s' "$out" | jq .close_code)" 1008
is "  and nothing stored" "$(nctl hub request cmd.store.events '{"subject":"evt.x"}' --json | jq '.data.events | length')" 0

# --- revocation
nctl hub machine revoke m1 > "$T/revoke.out" 2>&1
check "machine revoke succeeds" test $? -eq 0
check "the revoked machine is offline" wait_for 15 machine_status_is m1 offline
logged_err() { grep -Eq '^<3>.*(revoked|token_revoked)' "$T/m1/bosund.log"; }
check "the machine logs an error saying it was revoked" wait_for 15 logged_err
n1=$(grep -c 'linking to the hub at' "$T/m1/bosund.log")
sleep 4
n2=$(grep -c 'linking to the hub at' "$T/m1/bosund.log")
is "  and stops retrying (no new attempt in 4 s)" "$n2" "$n1"
out=$(reg "$mch" m1)
is "its permanent token is refused: token_revoked" "$(code "$out")" token_revoked

done_testing
