#!/bin/sh
# Reconnection back-off (reconnect_splay 0, uplink_lib.sh; the splay is
# uplink_splay.sh's): with the hub refusing every upgrade (HTTP 503) the
# machine waits 1 s after the link was lost, then 2 s, 4 s, and with
# backoff_max: 4s never more than 4 s (+-20 % jitter each, and the waits do
# vary); every attempt and its wait are logged at info, the first failure
# at notice.  Once the hub accepts again the machine registers and the next
# loss waits 1 s again.  A reload that changes uplink.hub links to the new
# hub.
#
# On a loaded machine (a load of 8 on 2 cores) the test's own clock is no
# reference: starting a control client alone can take longer than the
# jitter.  So every time is the hub's own (its log: the cut, each accept),
# the waits the daemon chose are read from its log and checked against the
# policy exactly, and each gap between the hub's accepts must hold its
# logged wait: no shorter (the machine did wait), and at most SLACK longer
# (the failure reaching the machine, the connect, TLS and the hub reading
# the upgrade, all slowed by the load).
. "$top_srcdir/tests/integration/lib.sh"
. "$top_srcdir/tests/integration/http_lib.sh"
. "$top_srcdir/tests/integration/uplink_lib.sh"
plan 18

hub_start || exit 1
machine_config "registration_token: $(reg_token)" "backoff_max: 4s"
start_daemon || exit 1
check "the machine registers" wait_for 20 hub_linked

SLACK=${UPLINK_SLACK:-0.75}
# gaps N C: from the hub's Cth cut to its accept N+1, then between accepts.
gaps() {
    jq -r --arg c "$(hub_t cut "$2")" 'select(.ev == "accept" and .t > ($c | tonumber)) | .t' "$T/hub/log" |
        awk -v t="$(hub_t cut "$2")" 'BEGIN { p = t } { printf "%.3f\n", $1 - p; p = $1 }'
}
n_after() { [ "$(($(n_ev accept) - $1))" -ge "$2" ]; }

hubctl '{"op":"set","reject":true}' >/dev/null
mark=$(wc -l < "$T/bosund.log")
na=$(n_ev accept)
hubctl '{"op":"cut"}' >/dev/null
check "with every upgrade refused the machine keeps trying" wait_for 40 n_after "$na" 6
# The sixth accept's failure logs the seventh wait: the six before are due.
wait_for 10 sh -c "[ \$(tail -n +$((mark + 1)) '$T/bosund.log' | grep -Ec '(trying again|reconnecting) in') -ge 6 ]"
w=$(log_waits "$mark" | head -6)
g=$(gaps "$na" 1 | head -6)
echo "# waits logged: $(echo $w)"
echo "# gaps at the hub: $(echo $g)"
i=0
for want in 1 2 4 4 4 4; do
    i=$((i + 1))
    wi=$(printf '%s\n' "$w" | sed -n "${i}p")
    gi=$(printf '%s\n' "$g" | sed -n "${i}p")
    check "wait $i: $wi s is $want s +-20 %, and the hub saw $gi s" \
        awk -v w="$wi" -v g="$gi" -v want="$want" -v sl="$SLACK" \
        'BEGIN { exit !(w != "" && g != "" && w >= 0.8 * want - 0.005 && w <= 1.2 * want + 0.005 && g >= w - 0.02 && g <= w + sl) }'
done
capped=$(printf '%s\n' "$w" | awk '$1 > 4.0 { n++ } END { print n + 0 }')
is "  never above backoff_max (4 s)" "$capped" 0
# The waits the log gives, below the cap: each should be near a power of 2,
# and not all of them on it.
waits=$(grep -Eo '(trying again|reconnecting) in [0-9.]+ s' "$T/bosund.log" | awk '{ print $(NF - 1) }')
jit=$(printf '%s\n' "$waits" | awk '$1 < 3.9 { n++; w = 2 ^ int(log($1 / 0.8) / log(2) + 0.5); if (w < 1) w = 1; d = $1 / w; if (d < 0.97 || d > 1.03) j++ } END { print j + 0 " of " n + 0 }')
check "  the waits are jittered ($jit below the cap off a power of 2 by > 3 %)" test "${jit%% *}" -ge 1
like "every attempt and its wait are logged at info" "$(cat "$T/bosund.log")" \
    '^<6>uplink: attempt [0-9]+ to link to the hub at .* failed: the hub answered the upgrade with HTTP 503.*; trying again in [0-9.]+ s'
like "the first failure at notice" "$(cat "$T/bosund.log")" \
    '^<5>uplink: the link to the hub at .* was lost: .*; reconnecting in [0-9.]+ s'

hubctl '{"op":"set","reject":false}' >/dev/null
check "once the hub accepts again the machine registers" wait_for 20 hub_linked
hubctl '{"op":"set","reject":true}' >/dev/null
mark=$(wc -l < "$T/bosund.log")
na=$(n_ev accept)
hubctl '{"op":"cut"}' >/dev/null
wait_for 10 n_after "$na" 1
w1=$(log_waits "$mark" | head -1)
g1=$(gaps "$na" 2 | head -1)
is "after a register the wait is back to 1 s ($w1 s, the hub saw $g1 s)" \
    "$(awk -v w="$w1" -v g="$g1" -v sl="$SLACK" 'BEGIN { print (w != "" && w >= 0.8 && w <= 1.2 && g >= w - 0.02 && g <= w + sl) ? "yes" : "no" }')" yes
hubctl '{"op":"set","reject":false}' >/dev/null
wait_for 20 hub_linked

# --- a reload that changes the hub
hub_start hub2 || exit 1
H2=$HUB_URL
machine_config "registration_token: $(reg_token hub2)" "token_file: $T/state/hub2.tok" "backoff_max: 4s"
ctl reload >/dev/null
check "a reload changing uplink.hub links to the new hub" wait_for 20 hub_linked hub2
check "  and leaves the old one" wait_for 10 sh -c "! $HUB_PY ctl '$T/hub' '{\"op\":\"status\"}' | jq -e .linked >/dev/null"
stop_daemon
is "bosund stops cleanly" "$DAEMON_STATUS" 0
unlike_empty_ok "no sanitizer report in its log" "$(cat "$T/bosund.log")" 'Sanitizer|runtime error'
done_testing
