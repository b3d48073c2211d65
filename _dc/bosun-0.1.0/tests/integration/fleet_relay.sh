#!/bin/sh
# The http plugin's side of /fleet (bosun-http(7), "The fleet link"), over
# TLS with a test CA and Debian's python3-websockets: frames relayed to the
# fleet plugin and its answers sent back; a frame that is not a JSON object
# answered with machine.error and closed 1008; once registered, the fleet:
# section's rate (1008 "rate limit") and max_message (1009) hold for the
# link, each logged; a closed link takes its machine offline; a daemon
# without the fleet plugin closes a link with 1011 at its first frame, and
# a link that sends nothing is closed 1008 "register timeout" after
# limits.ws_auth_timeout (logged, no link kept), with no frame of it logged.
FLEET_NEEDS=fleet
. "$top_srcdir/tests/integration/lib.sh"
. "$top_srcdir/tests/integration/http_lib.sh"
. "$top_srcdir/tests/integration/fleet_lib.sh"
plan 22

SSL_CERT_FILE="$T/ca.pem"
export SSL_CERT_FILE
CLIENT="/usr/bin/python3 $top_srcdir/tests/helpers/fleet_client.py"
fleet_hub "heartbeat_timeout: 30s" "rate: 5" "max_message: 2048"
node_start hub || exit 1
check "the hub listens with TLS" wait_for 20 curl -sf --cacert "$T/ca.pem" -o /dev/null "https://127.0.0.1:$PORT/health"

# register TOKEN ID: the frame of a register with TOKEN as ID.
register() {
    printf '{"subject":"machine.register","reply":"r.1","data":{"token":"%s","machine_id":"%s","name":"%s","version":"test","agents":[]}}' "$1" "$2" "$2"
}
HB='{"subject":"machine.heartbeat","data":{"agents_running":0,"load":[0,0,0],"version":"test"}}'
ok_of() { printf '%s' "$1" | jq -r '[.frames[] | select(.subject == "r.1") | .data.ok][0]'; }
close_of() { printf '%s' "$1" | jq -r '.close_code'; }
reason_of() { printf '%s' "$1" | jq -r '.close_reason'; }

# --- relayed both ways
out=$($CLIENT "$HUB_URL/fleet" 10 "$(register "$(reg_token a)" ma)" @wait "$HB" @sleep:0.5)
is "a register goes to the fleet plugin and its answer comes back" "$(ok_of "$out")" true
check "  with a permanent token" test "$(printf '%s' "$out" | jq -r '.frames[0].data.machine_token' | cut -c1-8)" = bsn_mch_
is "  the link stays open after a heartbeat (the client closes it: 1000)" "$(close_of "$out")" 1000
check "the closed link takes the machine offline" wait_for 10 machine_status_is ma offline
like "the hub logs the link's opening" "$(log_of hub)" 'http: /fleet 127\.0\.0\.1[^ ]*: link f[0-9]+ open'

# --- bad frames
out=$($CLIENT "$HUB_URL/fleet" 10 '@raw:{"subject": "machine.register", "data": {')
is "a frame that is not JSON: closed 1008" "$(close_of "$out")" 1008
like "  after a machine.error frame saying where" "$(printf '%s' "$out" | jq -c '.frames[0]')" '"subject":"machine.error".*"code":"bad_request".*invalid JSON at column'
out=$($CLIENT "$HUB_URL/fleet" 10 '@raw:["machine.register"]')
like "a JSON array: machine.error saying a frame must be an object" "$(printf '%s' "$out" | jq -c '.frames[0].data.error.message')" 'must be a JSON object'
is "  closed 1008" "$(close_of "$out")" 1008

# --- the fleet: section's limits on a registered link
tok=$(reg_token b)
out=$($CLIENT "$HUB_URL/fleet" 10 "$(register "$tok" mb)" @wait "@burst:20:$HB" @sleep:2)
is "20 frames at once past rate 5: closed 1008" "$(close_of "$out")" 1008
is "  reason 'rate limit'" "$(reason_of "$out")" "rate limit"
like "  logged at warning" "$(log_of hub)" '<4>http: /fleet [^ ]* \(link f[0-9]+\): more than 5 frames/s'
mch=$(printf '%s' "$out" | jq -r '.frames[0].data.machine_token')
big=$(printf '{"subject":"machine.heartbeat","data":{"agents_running":0,"load":[0,0,0],"version":"%s"}}' "$(head -c 3000 /dev/zero | tr '\0' v)")
out=$($CLIENT "$HUB_URL/fleet" 10 "$(register "$mch" mb)" @wait "$big" @sleep:2)
is "the same machine back with its permanent token" "$(ok_of "$out")" true
is "  a 3000-byte frame past max_message 2048: closed 1009" "$(close_of "$out")" 1009
like "  logged" "$(log_of hub)" 'a [0-9]+-byte frame, over max_message \(2048\)'

# --- a daemon that is not a hub
http_boot
cat > "$T/plain.yaml" <<EOF2
daemon:
  machine_id: plain
  state_dir: $T/plain
  runtime_dir: $T/plain
  plugins: [sqlite, http]
http:
  listen: "127.0.0.1:$PORT"
  bootstrap_token_file: $T/boot.tok
  limits: {ws_auth_timeout: 1s}
EOF2
mkdir -p "$T/plain"
"$BOSUND" -c "$T/plain.yaml" 2>>"$T/plain/bosund.log" &
echo $! > "$T/plain/pid"
wait_for 20 curl -sf -o /dev/null "http://127.0.0.1:$PORT/health"
out=$($CLIENT "ws://127.0.0.1:$PORT/fleet" 10 "$(register bsn_reg_x mc)")
is "a daemon without the fleet plugin closes the link: 1011" "$(close_of "$out")" 1011
is "  saying it is not a hub" "$(reason_of "$out")" "this daemon is not a fleet hub"
out=$($CLIENT "ws://127.0.0.1:$PORT/fleet" 10 @sleep:4)
is "a link that never registers: closed 1008 within ws_auth_timeout" "$(close_of "$out")" 1008
is "  reason 'register timeout'" "$(reason_of "$out")" "register timeout"
like "  logged" "$(cat "$T/plain/bosund.log")" '<5>http: /fleet [^ ]* \(link f[0-9]+\): not registered within ws_auth_timeout \(1 s\)'
# The register frames held registration and machine tokens: no log line
# of the hub or of the plain daemon may carry one.
check "no token in either daemon's log" sh -c "! cat '$T/plain/bosund.log' '$T/hub/bosund.log' | grep -q -e bsn_reg_ -e bsn_mch_"
