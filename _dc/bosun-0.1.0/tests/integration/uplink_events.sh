#!/bin/sh
# Events up the link, against a scripted hub that acknowledges selectively:
# the machine's events arrive in seq order, each once; after a reconnect
# the machine resends from the hub's acked_seq (the first seq after the
# register is acked_seq + 1) and nothing the hub stored comes again; while
# the hub is down the machine's store is the buffer, and a hub restart, a
# machine restart and a kill -9 of the machine lose nothing and duplicate
# nothing.  A backlog larger than the window (4096 unacknowledged) goes up
# in batches of at most 256 events and 256 KiB, never more than the window
# in flight.
. "$top_srcdir/tests/integration/lib.sh"
. "$top_srcdir/tests/integration/http_lib.sh"
. "$top_srcdir/tests/integration/uplink_lib.sh"
plan 24

AGENTS='agents:
  burst:
    type: exec
    command: [sh, -c, "seq 1 3000; seq 3001 6000 >&2"]
    start_secs: 0
    restart: never'
hub_start || exit 1
tok=$(reg_token)
machine_config "registration_token: $tok"
start_daemon || exit 1
check "the machine registers" wait_for 20 hub_linked
pub() { for _i in $(seq "$1" "$2"); do ctl pub evt.test.e "{\"i\":$_i}" >/dev/null || return 1; done; }
pub 1 20
check "its events reach the hub" wait_for 20 hub_has_all
is "  each once, in seq order: the hub's copy is the machine's store" "$(hub_seqs)" "$(all_local_seqs)"

# --- selective acknowledgement, then a cut link
last=$(local_last)
N=$((last + 5))
hubctl "{\"op\":\"set\",\"ack\":$N}" >/dev/null
pub 21 30
rcv() { [ "$(hubst '.received_last')" -ge "$1" ]; }
check "the hub receives events past what it acknowledges" wait_for 20 rcv $((last + 10))
is "  and stores up to seq $N only" "$(hub_last)" "$N"
hubctl '{"op":"set","ack":"all"}' >/dev/null
hubctl '{"op":"cut"}' >/dev/null
relinked() { [ "$(hubst '.first_after_register | length')" -ge 2 ] && hub_linked; }
check "after the cut the machine registers again" wait_for 20 relinked
check "  and the hub has everything" wait_for 20 hub_has_all
is "  each once, in seq order" "$(hub_seqs)" "$(all_local_seqs)"
is "  the resend started right after the acknowledged seq ($N)" \
    "$(hubst '.first_after_register[-1]')" $((N + 1))
is "  and nothing the hub had stored came again" "$(hubst .resent_stored)" 0

# --- the hub down: the store is the buffer; the hub restarted
hub_stop
pub 31 60
hub_start hub "$HUB_PORT" || exit 1
check "after the hub's restart the machine registers again" wait_for 30 hub_linked
check "  and sends what it stored meanwhile" wait_for 20 hub_has_all
is "  from the acked seq the hub remembered" "$(hubst '.resent_stored')" 0

# --- a machine restart and a kill -9, with events not yet acknowledged
last=$(local_last)
hubctl "{\"op\":\"set\",\"ack\":$((last + 3))}" >/dev/null
pub 61 70
wait_for 20 rcv $((last + 10))
stop_daemon
hubctl '{"op":"set","ack":"all"}' >/dev/null
start_daemon || exit 1
check "after a machine restart the hub has everything" wait_for 30 hub_has_all
is "  resent from its acked seq $((last + 3))" "$(hubst '.first_after_register[-1]')" $((last + 4))
last=$(local_last)
hubctl "{\"op\":\"set\",\"ack\":$((last + 2))}" >/dev/null
pub 71 80
wait_for 20 rcv $((last + 10))
kill -KILL "$DAEMON_PID"
wait "$DAEMON_PID" 2>/dev/null
hubctl '{"op":"set","ack":"all"}' >/dev/null
start_daemon || exit 1
check "after a kill -9 of the machine the hub has everything" wait_for 30 hub_has_all
is "  no duplicate, no gap: the hub's copy is the machine's store" "$(hub_seqs)" "$(all_local_seqs)"

# --- a backlog larger than the window, the hub acknowledging nothing
hubctl '{"op":"set","ack":"none"}' >/dev/null
before=$(hubst '.received_n')
ctl start burst >/dev/null
burst_done() { ctl ps --json | jq -e '.[] | select(.agent == "burst" and .state == "EXITED")' >/dev/null; }
wait_for 60 burst_done
backlog=$(($(local_last) - $(hub_last)))
check "the burst made a backlog above the window ($backlog events)" test "$backlog" -gt 4096
stalled() {
    _a=$(hubst '.received_n'); sleep 1
    [ "$(hubst '.received_n')" = "$_a" ] && [ "$_a" -gt "$before" ]
}
wait_for 30 stalled
inflight=$(($(hubst '.received_n') - before))
check "with no ack the machine stops at the window ($inflight <= 4096 in flight)" \
    test "$inflight" -le 4096 -a "$inflight" -ge 3800
hubctl '{"op":"set","ack":"all"}' >/dev/null
hubctl '{"op":"cut"}' >/dev/null
check "acknowledged again after a reconnect, the hub gets all of it" wait_for 60 hub_has_all
is "  each once, in seq order" "$(hub_seqs)" "$(all_local_seqs)"
mb=$(hubst '.max_batch | tostring')
check "  in batches of at most 256 events and 256 KiB (largest: $mb)" \
    sh -c "echo '$mb' | jq -e '.[0] <= 256 and .[1] <= 262144 + 256' >/dev/null"
stop_daemon
is "bosund stops cleanly" "$DAEMON_STATUS" 0
unlike_empty_ok "no sanitizer report in its log" "$(cat "$T/bosund.log")" 'Sanitizer|runtime error'
done_testing
