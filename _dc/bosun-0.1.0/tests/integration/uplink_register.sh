#!/bin/sh
# The uplink against a scripted hub (tests/helpers/uplink_hub.py) over TLS
# with a test CA: the first registration trades the registration token for
# a permanent one, written 0600 (atomically: no temporary file left) and
# never logged; a restart registers with it alone; heartbeats carry the
# status; the hub's commands run on the machine and are answered, an
# agent not configured or a command a hub may not send refused and
# logged; a hub whose certificate another CA signed is refused, unless
# insecure_skip_verify (logged); a refused permanent token stops the
# attempts until the token file changes.
. "$top_srcdir/tests/integration/lib.sh"
. "$top_srcdir/tests/integration/http_lib.sh"
. "$top_srcdir/tests/integration/uplink_lib.sh"
plan 38

AGENTS='agents:
  worker:
    type: exec
    command: [sleep, "60"]
    restart: never'
hub_start || exit 1
tok=$(reg_token)
(umask 077 && echo "$tok" > "$T/reg.tok")
machine_config "registration_token_file: $T/reg.tok" "name: build 1"
# --- a registration token the hub refuses: an error, and attempts go on
# (with the file read again each time)
hubctl '{"op":"set","refuse":"token_expired"}' >/dev/null
start_daemon || exit 1
expired() { log_has '^<3>uplink: the hub refused the registration token \(token_expired: .*give the machine a new registration token'; }
check "a refused registration token is logged as an error" wait_for 15 expired
tries() { [ "$(hubst .accepts)" -ge 3 ]; }
check "  and the machine goes on trying" wait_for 15 tries
is "  logged once, not at every attempt" "$(grep -c 'refused the registration token' "$T/bosund.log")" 1
hubctl '{"op":"set","refuse":null}' >/dev/null

# --- registration
check "the machine registers with the hub" wait_for 30 hub_linked
is "  presenting the registration token" "$(hubst '.registers[-1].token_kind')" bsn_reg_
is "  with its id, name and version" "$(hubst '.registers[-1] | "\(.machine_id) \(.name) \(.version)"')" \
    "test-machine build 1 $(ctl status --json | jq -r .version)"
is "  and its configured agents" "$(hubst '.registers[-1].agents | tostring')" '[{"name":"worker","type":"exec"}]'
check "the permanent token is in the default token_file" test -s "$T/state/machine.tok"
is "  mode 0600" "$(stat -c %a "$T/state/machine.tok")" 600
mch=$(cat "$T/state/machine.tok")
like "  a bsn_mch_ token" "$mch" '^bsn_mch_[A-Za-z0-9_-]{40,}$'
is "  written atomically: no temporary file is left beside it" \
    "$(ls -A "$T/state" | grep -v -E '^(bosun\.db.*|bosund\.lock|machine\.tok|runs)$' | tr '\n' ' ')" ""
like "the log says where the token was kept" "$(cat "$T/bosund.log")" \
    "^<5>uplink: the hub issued a machine token, kept in $T/state/machine.tok"
unlike "neither token is in the log" "$(cat "$T/bosund.log")" "${tok#bsn_reg_}|${mch#bsn_mch_}"

# --- heartbeats
hb() { [ "$(hubst .n_heartbeats)" -ge "$1" ]; }
check "heartbeats arrive every heartbeat (1 s)" wait_for 10 hb 3
is "  with agents_running, load and version" \
    "$(hubst '.heartbeats[-1] | "\(.agents_running) \(.load | length) \(.version != null)"')" "0 3 true"

# --- commands from the hub
out=$(hubctl '{"op":"cmd","subject":"cmd.proc.start","data":{"agent":"worker"}}')
run=$(printf '%s' "$out" | jq -r '.reply.run // empty')
like "cmd.proc.start of a configured agent runs and is answered" "$run" '^[0-9A-Z]{26}$'
check "  the run is on the machine" wait_for 10 sh -c "\"$BOSUNCTL\" -s \"$T/run/bosund.sock\" ps --json | jq -e '.[] | select(.run == \"$run\" and .state == \"RUNNING\")'"
hb_running() { [ "$(hubst '.heartbeats[-1].agents_running')" = 1 ]; }
check "  and heartbeats count it running" wait_for 10 hb_running
out=$(hubctl '{"op":"cmd","subject":"cmd.proc.start","data":{"agent":"nosuch"}}')
is "an agent not configured here is refused: forbidden" "$(printf '%s' "$out" | jq -r .reply.error.code)" forbidden
like "  and logged" "$(cat "$T/bosund.log")" "^<4>uplink: refused cmd.proc.start from the hub: agent 'nosuch' is not configured"
out=$(hubctl '{"op":"cmd","subject":"cmd.task.create","data":{"title":"t","agent":"nosuch"}}')
is "  also through cmd.task.create" "$(printf '%s' "$out" | jq -r .reply.error.code)" forbidden
out=$(hubctl '{"op":"cmd","subject":"cmd.store.events","data":{}}')
is "a subject a hub may not send is refused: forbidden" "$(printf '%s' "$out" | jq -r .reply.error.code)" forbidden
like "  and logged" "$(cat "$T/bosund.log")" "^<4>uplink: refused cmd.store.events from the hub"
out=$(hubctl "{\"op\":\"cmd\",\"subject\":\"cmd.proc.stop\",\"data\":{\"target\":\"$run\"}}")
is "cmd.proc.stop stops the run and answers" "$(printf '%s' "$out" | jq -c .reply.stopped)" "[\"$run\"]"

# --- a restart registers with the permanent token alone
rm -f "$T/reg.tok"
nreg=$(hubst '.registers | length')
stop_daemon
start_daemon || exit 1
reg2() { [ "$(hubst '.registers | length')" -gt "$nreg" ] && hub_linked; }
check "after a restart the machine registers again" wait_for 20 reg2
is "  with its permanent token" "$(hubst '.registers[-1].token_kind')" bsn_mch_
is "  which is unchanged" "$(cat "$T/state/machine.tok")" "$mch"

# --- a refused permanent token stops the attempts
hubctl '{"op":"revoke"}' >/dev/null
hubctl '{"op":"cut"}' >/dev/null
refused_logged() { log_has '^<3>uplink: the hub refused this machine.s token \(token_revoked'; }
check "a revoked token is logged as an error" wait_for 15 refused_logged
n1=$(hubst .accepts)
sleep 4
is "  and the machine stops trying (no attempt in 4 s)" "$(hubst .accepts)" "$n1"
# A new registration token and no old token file: it tries again by itself.
tok2=$(reg_token)
(umask 077 && echo "$tok2" > "$T/reg.tok")
machine_config "registration_token_file: $T/reg.tok" "name: build 1"
rm -f "$T/state/machine.tok"
relinked() { [ "$(hubst '.registers[-1].token_kind')" = bsn_reg_ ] && hub_linked; }
check "once the token file is gone it registers with a new registration token" wait_for 20 relinked
check "  and keeps the new permanent token" test "$(cat "$T/state/machine.tok")" != "$mch"

# --- certificates
openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=another CA" \
    -keyout "$T/ca2.key" -out "$T/ca2.pem" >/dev/null 2>&1
stop_daemon
: > "$T/bosund.log"
n0=$(hubst '.registers | length')
sed -i "s|ca_file: .*|ca_file: $T/ca2.pem|" "$T/bosun.yaml"
start_daemon || exit 1
bad_cert() { log_has "^<5>uplink: cannot link to the hub at $HUB_URL: TLS with 127.0.0.1:$HUB_PORT: the hub's certificate was refused"; }
check "a hub whose certificate another CA signed is refused" wait_for 15 bad_cert
is "  before anything is sent (no registration on the hub)" "$(hubst '.registers | length')" "$n0"
sed -i "s|^  ca_file: .*|&\n  insecure_skip_verify: true|" "$T/bosun.yaml"
ctl reload >/dev/null 2>&1
check "with insecure_skip_verify it links" wait_for 20 sh -c "[ \"\$($HUB_PY ctl \"$T/hub\" '{\"op\":\"status\"}' | jq '.registers | length')\" -gt $n0 ]"
like "  and says at every attempt that the hub is not authenticated" "$(cat "$T/bosund.log")" \
    '^<4>uplink: insecure_skip_verify is set: the hub.s certificate is not checked'
sed -i "/insecure_skip_verify/d; s|^  hub: wss://127.0.0.1|  hub: wss://localhost|; s|ca2.pem|ca.pem|" "$T/bosun.yaml"
: > "$T/bosund.log"
ctl reload >/dev/null 2>&1
by_name() { log_has "^<5>uplink: registered with the hub at wss://localhost:$HUB_PORT"; }
check "a DNS name checked against the certificate (localhost) links" wait_for 20 by_name
stop_daemon
is "bosund stops cleanly" "$DAEMON_STATUS" 0
unlike_empty_ok "no sanitizer report in its log" "$(cat "$T/bosund.log")" 'Sanitizer|runtime error'
done_testing
