#!/bin/sh
# The hub's side of the fleet link alone, over TLS, with a raw client as
# the machine (tests/helpers/fleet_client.py): a registration token traded
# for a permanent one, online while linked and offline after, heartbeats
# moving last_seen, the permanent token on the next link, the refusals
# (token used, expired, unknown; anything before machine.register, nothing
# of it stored) with 1008, a second link replacing the first, a revocation
# closing the link and refusing the token.  (Forwarded events are
# fleet_events.sh's, commands fleet_commands.sh's.)
FLEET_NEEDS=fleet
. "$top_srcdir/tests/integration/lib.sh"
. "$top_srcdir/tests/integration/http_lib.sh"
. "$top_srcdir/tests/integration/fleet_lib.sh"
plan 26

SSL_CERT_FILE="$T/ca.pem"
export SSL_CERT_FILE
CLIENT="/usr/bin/python3 $top_srcdir/tests/helpers/fleet_client.py"
fleet_hub "heartbeat_timeout: 3s"
node_start hub || exit 1
check "the hub listens with TLS" wait_for 20 curl -sf --cacert "$T/ca.pem" -o /dev/null "https://127.0.0.1:$PORT/health"
raw() { $CLIENT "$HUB_URL/fleet" "$@"; }
REG() { # TOKEN ID
    printf '{"subject":"machine.register","reply":"r.1","data":{"token":"%s","machine_id":"%s","name":"%s","version":"t","agents":[{"name":"worker","type":"exec"}]}}' "$1" "$2" "$2"
}
HB='{"subject":"machine.heartbeat","data":{"agents_running":0,"load":[0,0,0],"version":"t"}}'
EV() { # SEQ...: one machine.events with those seqs, data {"i":SEQ}
    _e=
    for _s in "$@"; do
        _e="$_e${_e:+,}{\"seq\":$_s,\"subject\":\"evt.raw.e\",\"time\":\"2026-12-02T13:00:00.000Z\",\"data\":{\"i\":$_s}}"
    done
    printf '{"subject":"machine.events","data":{"events":[%s]}}' "$_e"
}
reply() { printf '%s' "$1" | jq -c '[.frames[] | select(.subject == "r.1") | .data][0]'; }
code() { printf '%s' "$1" | jq -r '[.frames[] | select(.subject == "r.1") | .data.error.code][0] // "none"'; }
stored() {
    nctl hub request cmd.store.events '{"subject":"evt.raw.>","limit":1000}' --json |
        jq -c --arg m "$1" '[.data.events[] | select(.machine == $m) | .data.i]'
}

# --- a registration token traded, events, heartbeats
tok=$(reg_token raw1)
like "machine token create: a registration token" "$tok" '^bsn_reg_'
raw 12 "$(REG "$tok" raw1)" @wait @sleep:1 "$HB" @sleep:1.5 "$HB" @sleep:1.5 "$HB" @sleep:1 \
    > "$T/a.out" &
a=$!
check "online while linked" wait_for 10 machine_status_is raw1 online
s1=$(machine_field raw1 last_seen)
sleep 1.6
s2=$(machine_field raw1 last_seen)
check "heartbeats move last_seen ($s1 -> $s2)" test -n "$s1" -a "$s1" != "$s2"
wait "$a"
out=$(cat "$T/a.out")
is "register: ok" "$(reply "$out" | jq -r .ok)" true
mch=$(reply "$out" | jq -r .machine_token)
like "  with a permanent machine token" "$mch" '^bsn_mch_'
is "  acked_seq 0 the first time" "$(reply "$out" | jq -r .acked_seq)" 0
unlike "no token in the hub's log" "$(cat "$T/hub/bosund.log")" "${tok#bsn_reg_}|${mch#bsn_mch_}"
check "offline after the link closed" wait_for 10 machine_status_is raw1 offline
like "machine list shows it" "$(nctl hub machine list 2>&1)" 'raw1'

# --- the permanent token on the next link
out=$(raw 8 "$(REG "$mch" raw1)" @wait @sleep:1.5)
is "register with the machine token: ok, no new token" "$(reply "$out" | jq -c '[.ok, .machine_token]')" '[true,null]'
is "  acked_seq still 0 (it sent no event)" "$(reply "$out" | jq -r .acked_seq)" 0

# --- refusals
out=$(raw 8 "$(REG "$tok" raw9)")
is "a registration token used twice: token_used" "$(code "$out")" token_used
is "  closed 1008" "$(printf '%s' "$out" | jq .close_code)" 1008
short=$(reg_token short 1s)
sleep 2.2
out=$(raw 8 "$(REG "$short" raw8)")
is "an expired registration token: token_expired" "$(code "$out")" token_expired
out=$(raw 8 "$(REG "bsn_reg_$(head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n')" raw7)")
is "an unknown token: token_invalid" "$(code "$out")" token_invalid
is "  closed 1008" "$(printf '%s' "$out" | jq .close_code)" 1008
out=$(raw 8 "$HB")
is "a heartbeat before machine.register: closed 1008" "$(printf '%s' "$out" | jq .close_code)" 1008
like "  after an error frame" "$(printf '%s' "$out" | jq -c .frames)" 'error'
out=$(raw 8 "$(EV 5)")
is "machine.events before machine.register: closed 1008" "$(printf '%s' "$out" | jq .close_code)" 1008
is "  nothing stored" "$(stored raw1)" '[]'

# --- a second link replaces the first
raw 10 "$(REG "$mch" raw1)" @sleep:9 > "$T/c.out" &
c=$!
wait_for 10 machine_status_is raw1 online
sleep 0.5
out=$(raw 5 "$(REG "$mch" raw1)" @sleep:1)
is "a second link for the same machine registers" "$(reply "$out" | jq -r .ok)" true
wait "$c"
out=$(cat "$T/c.out")
like "  the first gets machine.close" "$(printf '%s' "$out" | jq -c '[.frames[].subject]')" 'machine.close'
like "  and the hub logs the replacement" "$(cat "$T/hub/bosund.log")" 'fleet: .*raw1.*replac'

# --- revocation
raw 10 "$(REG "$mch" raw1)" @sleep:9 > "$T/e.out" &
e=$!
wait_for 10 machine_status_is raw1 online
nctl hub machine revoke raw1 > "$T/revoke.out" 2>&1
wait "$e"
like "machine revoke: the link gets machine.close" "$(jq -c '[.frames[].subject]' "$T/e.out")" 'machine.close'
out=$(raw 8 "$(REG "$mch" raw1)")
is "  its token is refused: token_revoked" "$(code "$out")" token_revoked

done_testing
