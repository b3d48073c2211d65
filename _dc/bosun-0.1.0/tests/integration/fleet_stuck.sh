#!/bin/sh
# A machine link whose reader is stuck (bosun-http(7), "The fleet link";
# bosun-fleet(7), fleet.send_queue): a raw client (tests/helpers/
# fleet_stuck.py, a receive buffer as small as the kernel allows) registers,
# then never reads while it forwards one-event batches, each of which the
# hub acknowledges, and the hub has commands for it.  Once the frames the
# hub cannot write pass fleet.send_queue the hub closes that link with 1013
# "slow consumer", logged at warning, and fails the commands that waited
# for it at once.  Meanwhile another machine's events are stored and
# acknowledged, `bosunctl machine list` answers and a /ws client
# authenticates.
FLEET_NEEDS=fleet
. "$top_srcdir/tests/integration/lib.sh"
. "$top_srcdir/tests/integration/http_lib.sh"
. "$top_srcdir/tests/integration/fleet_lib.sh"
plan 15

SSL_CERT_FILE="$T/ca.pem"
export SSL_CERT_FILE
CLIENT="/usr/bin/python3 $top_srcdir/tests/helpers/fleet_client.py"
STUCK="/usr/bin/python3 $top_srcdir/tests/helpers/fleet_stuck.py"
# send_queue at its least (4 KiB); the rate well above the clients'.
fleet_hub "heartbeat_timeout: 60s" "send_queue: 4096" "rate: 100000"
node_start hub || exit 1
check "the hub listens with TLS" wait_for 20 curl -sf --cacert "$T/ca.pem" -o /dev/null "https://127.0.0.1:$PORT/health"

# events SEQ: a batch of one event of the other machine.
events() {
    printf '{"subject":"machine.events","data":{"events":[{"seq":%d,"subject":"evt.run.a.r%d.output","time":%s,"data":{"line":"line-%d"}}]}}' "$1" "$1" "$(date +%s)" "$1"
}

# --- the stuck machine
$STUCK "$HUB_URL/fleet" "$(register_frame "$(reg_token stuck)" mstuck)" mstuck 40000 10 "$T/stuck.ready" \
    > "$T/stuck.out" 2> "$T/stuck.err" &
stuck_pid=$!
check "the stuck machine registers" wait_for 20 test -s "$T/stuck.ready"

# Commands down its link while it reads nothing: each a frame of ~2 kB
# (under send_queue: a reader would take them) the hub queues for it; they
# wait for an answer that never comes.
prompt=$(head -c 2000 /dev/zero | tr '\0' p)
for i in 1 2 3; do
    (timeout 60 "$BOSUNCTL" -s "$T/hub/run/bosund.sock" task create --machine mstuck --title "t$i" \
        --prompt "$prompt" > "$T/cmd.$i.out" 2> "$T/cmd.$i.err"; echo $? > "$T/cmd.$i.rc") &
done

# --- meanwhile, another machine forwards events and gets each one acked
ok_frames="$(register_frame "$(reg_token other)" mother) @wait"
for s in $(seq 1 20); do ok_frames="$ok_frames $(events "$s") @sleep:0.1"; done
# shellcheck disable=SC2086 # each frame is one word (no spaces in them)
$CLIENT "$HUB_URL/fleet" 30 $ok_frames > "$T/other.out" &
other_pid=$!

check "the hub closes the stuck link past send_queue, at warning" wait_for 60 \
    grep -q '^<4>http: /fleet [^ ]* (link f[0-9]*): [0-9]* bytes unsent, over the send queue (4096)' "$T/hub/bosund.log"
kill -USR1 "$stuck_pid" # it reads now, while the hub still writes what it queued
like "  with 1013 (slow consumer)" "$(log_of hub)" 'http: /fleet [^ ]* \(link f[0-9]+\): closing with 1013 \(slow consumer\)'
check "bosunctl machine list answers meanwhile" sh -c "timeout 10 '$BOSUNCTL' -s '$T/hub/run/bosund.sock' machine list | grep -q mstuck"
ws=$(timeout 30 /usr/bin/python3 "$top_srcdir/tests/ws/ws_py.py" first "wss://127.0.0.1:$PORT/ws" "$BOOT" 2>>"$T/ws.err")
is "a /ws client authenticates meanwhile" "$(printf '%s' "$ws" | jq -r '.frame.op')" ready

wait "$other_pid"
other=$(cat "$T/other.out")
is "the other machine registers" "$(printf '%s' "$other" | jq -r '[.frames[] | select(.subject == "r.1") | .data.ok][0]')" true
is "  and all its 20 batches are acknowledged" "$(printf '%s' "$other" | jq -r '[.frames[] | select(.subject == "machine.ack") | .data.seq] | max')" 20
is "  its link stays open (the client closes it: 1000)" "$(printf '%s' "$other" | jq -r .close_code)" 1000
is "  its 20 events are stored on the hub, each once" "$(hub_machine_seqs mother 'evt.run.>' | paste -sd, -)" "$(seq -s, 1 20)"

wait "$stuck_pid"
stuck=$(cat "$T/stuck.out")
is "the stuck client: registered" "$(printf '%s' "$stuck" | jq -r .registered)" true
is "  and, reading at last, finds the close frame 1013" "$(printf '%s' "$stuck" | jq -r .close_code)" 1013
is "  with reason 'slow consumer'" "$(printf '%s' "$stuck" | jq -r .close_reason)" "slow consumer"
for i in 1 2 3; do wait_for 70 test -s "$T/cmd.$i.rc"; done
is "the commands that waited for the stuck machine fail" "$(cat "$T/cmd.1.rc" "$T/cmd.2.rc" "$T/cmd.3.rc" | grep -vcE '^(0|124)$')" 3
check "machine mstuck is offline after its link closed" wait_for 20 machine_status_is mstuck offline
