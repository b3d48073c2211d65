#!/bin/sh
# The reconnect splay: after the loss of an established link the machine
# waits a random time uniform in [0, reconnect_splay] before its first
# attempt (so that the machines of a restarted hub do not all come back in
# the same second), then, if that attempt fails, the usual back-off from
# 1 s.  The first link at start-up has no splay; reconnect_splay: 0 turns
# it off (a reload applies it to the next loss).
#
# Times come from the scripted hub's own log (the cut and every accept,
# tests/helpers/uplink_hub.py), the waits from the daemon's: each accept
# comes no earlier than the wait the machine logged, and at most SLACK
# later (the connect, TLS and the hub's reading of the upgrade, which a
# loaded machine slows).
. "$top_srcdir/tests/integration/lib.sh"
. "$top_srcdir/tests/integration/http_lib.sh"
. "$top_srcdir/tests/integration/uplink_lib.sh"
ROUNDS=6
SPLAY=2
SLACK=${UPLINK_SLACK:-0.75}
plan 16

hub_start || exit 1
REG=$(reg_token)
machine_config "registration_token: $REG" "reconnect_splay: ${SPLAY}s" "backoff_max: 4s"
start_daemon || exit 1
check "the machine registers" wait_for 20 hub_linked
first=$(sed -n '1,/registered with the hub/p' "$T/bosund.log")
like "  at start-up it links at once" "$first" 'linking to the hub at .* \(attempt 1\)'
unlike "  with no splay" "$first" 'reconnecting in|splay'

# cut_once: cuts the link and waits for the machine's next accept; prints
# "WAIT GAP", the logged wait and the hub's time from the cut to the accept.
cut_once() {
    _mark=$(wc -l < "$T/bosund.log")
    _na=$(n_ev accept)
    _nc=$(n_ev cut)
    hubctl '{"op":"cut"}' >/dev/null
    wait_for 20 sh -c "[ \$(jq -r 'select(.ev == \"accept\") | .t' '$T/hub/log' | wc -l) -gt $_na ]" || return 1
    _tc=$(hub_t cut $((_nc + 1)))
    _ta=$(hub_t accept $((_na + 1)))
    wait_for 10 sh -c "tail -n +$((_mark + 1)) '$T/bosund.log' | grep -q 'reconnecting in'"
    _w=$(log_waits "$_mark" | head -1)
    echo "${_w:-none} $(awk -v a="$_ta" -v c="$_tc" 'BEGIN { printf "%.3f", a - c }')"
}

: > "$T/rounds"
for r in $(seq 1 $ROUNDS); do
    cut_once >> "$T/rounds" || break
    wait_for 20 hub_linked || break
done
echo "# wait gap per loss: $(tr '\n' ',' < "$T/rounds")"
is "$ROUNDS losses, $ROUNDS first attempts measured" "$(wc -l < "$T/rounds")" "$ROUNDS"
like "the loss is logged at notice with its splay" "$(cat "$T/bosund.log")" \
    "^<5>uplink: the link to the hub at .* was lost: .*; reconnecting in [0-9.]+ s \\(a random splay of at most $SPLAY.00 s, reconnect_splay\\)"
is "every splay is within [0, $SPLAY] s" \
    "$(awk -v s=$SPLAY '$1 == "none" || $1 < 0 || $1 > s { n++ } END { print n + 0 }' "$T/rounds")" 0
is "every first attempt comes no earlier than its splay" \
    "$(awk '$2 < $1 - 0.02 { n++ } END { print n + 0 }' "$T/rounds")" 0
is "  and never beyond it (+$SLACK s for the attempt itself)" \
    "$(awk -v sl="$SLACK" '$2 > $1 + sl { n++ } END { print n + 0 }' "$T/rounds")" 0
spread=$(awk 'NR == 1 { lo = hi = $1 } { if ($1 < lo) lo = $1; if ($1 > hi) hi = $1 } END { printf "%.2f", hi - lo }' "$T/rounds")
check "the splays are random (they span $spread s)" awk -v s="$spread" 'BEGIN { exit !(s > 0.3) }'

# A splayed attempt that fails: the back-off goes on from 1 s, with a
# fresh splay added to each wait until the machine is registered again.
hubctl '{"op":"set","reject":true}' >/dev/null
mark=$(wc -l < "$T/bosund.log")
na=$(n_ev accept)
hubctl '{"op":"cut"}' >/dev/null
check "with the hub refusing, the machine tries again" \
    wait_for 20 sh -c "[ \$(jq -r 'select(.ev == \"accept\") | .t' '$T/hub/log' | wc -l) -ge $((na + 2)) ]"
w=$(log_waits "$mark" | head -2 | tr '\n' ' ')
echo "# waits after the loss: $w"
g2=$(awk -v a="$(hub_t accept $((na + 1)))" -v b="$(hub_t accept $((na + 2)))" 'BEGIN { printf "%.3f", b - a }')
set -- $w
check "  the first wait is the splay (${1:-none} s), the next the back-off's 1 s +-20 % and a splay (${2:-none} s)" \
    awk -v a="${1:-x}" -v b="${2:-x}" -v s=$SPLAY 'BEGIN { exit !(a != "x" && a >= 0 && a <= s && b != "x" && b >= 0.8 && b <= 1.2 + s) }'
like "  the second wait's log line says it is both" "$(tail -n +"$((mark + 1))" "$T/bosund.log")" \
    "trying again in [0-9.]+ s \\(the back-off's (0\\.[89][0-9]|1\\.[01][0-9]|1\\.20) s and a splay of [0-9.]+ s\\)"
check "  and the machine waited it (${g2} s between the attempts)" \
    awk -v g="$g2" -v w="${2:-99}" -v sl="$SLACK" 'BEGIN { exit !(g >= w - 0.02 && g <= w + sl) }'
hubctl '{"op":"set","reject":false}' >/dev/null
wait_for 20 hub_linked

# reconnect_splay: 0, by a reload (the same link otherwise, so no relink):
# the first wait is the back-off's again.
machine_config "registration_token: $REG" "reconnect_splay: 0" "backoff_max: 4s"
ctl reload >/dev/null
sleep 0.5
out=$(cut_once)
echo "# with reconnect_splay: 0: wait gap $out"
set -- $out
check "with reconnect_splay: 0 the first wait is 1 s +-20 % (${1:-none} s, seen ${2:-none} s)" \
    awk -v w="${1:-x}" -v g="${2:-x}" -v sl="$SLACK" 'BEGIN { exit !(w != "x" && w >= 0.8 && w <= 1.2 && g >= w - 0.02 && g <= w + sl) }'
stop_daemon
is "bosund stops cleanly" "$DAEMON_STATUS" 0
unlike_empty_ok "no sanitizer report in its log" "$(cat "$T/bosund.log")" 'Sanitizer|runtime error'
done_testing
