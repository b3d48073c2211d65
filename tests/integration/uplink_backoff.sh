#!/bin/sh
# Reconnection back-off, measured from the scripted hub's accept times:
# with the hub refusing every upgrade (HTTP 503) the machine's attempts
# come 1 s after the link was lost, then 2 s, 4 s, and with backoff_max:
# 4s never more than 4 s (+-20 % jitter each, and the waits do vary); every
# attempt and its wait are logged at info, the first failure at notice.
# Once the hub accepts again the machine registers and the next loss waits
# 1 s again.  A reload that changes uplink.hub links to the new hub.
. "$top_srcdir/tests/integration/lib.sh"
. "$top_srcdir/tests/integration/http_lib.sh"
. "$top_srcdir/tests/integration/uplink_lib.sh"
plan 18

hub_start || exit 1
machine_config "registration_token: $(reg_token)" "backoff_max: 4s"
start_daemon || exit 1
check "the machine registers" wait_for 20 hub_linked

# accepts_after T: the hub's accept times after T, one a line.
accepts_after() { jq -r --arg t "$1" 'select(.ev == "accept" and .t > ($t | tonumber)) | .t' "$T/hub/log"; }
# gaps T: from T to the first accept after it, then between the accepts.
gaps() { accepts_after "$1" | awk -v t="$1" 'BEGIN { p = t } { printf "%.2f\n", $1 - p; p = $1 }'; }
n_after() { [ "$(accepts_after "$1" | wc -l)" -ge "$2" ]; }

hubctl '{"op":"set","reject":true}' >/dev/null
t0=$(date +%s.%N)
hubctl '{"op":"cut"}' >/dev/null
check "with every upgrade refused the machine keeps trying" wait_for 40 n_after "$t0" 6
g=$(gaps "$t0" | head -6)
echo "# gaps: $(echo $g)"
i=0
for want in 1 2 4 4 4 4; do
    i=$((i + 1))
    got=$(printf '%s\n' "$g" | sed -n "${i}p")
    check "gap $i: $got s is $want s +-20 %" \
        awk -v g="$got" -v w="$want" 'BEGIN { exit !(g != "" && g >= 0.8 * w - 0.05 && g <= 1.2 * w + 0.3) }'
done
capped=$(printf '%s\n' "$g" | sed -n '3,6p' | awk '$1 > 4.3 { n++ } END { print n + 0 }')
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
t1=$(date +%s.%N)
hubctl '{"op":"cut"}' >/dev/null
wait_for 10 n_after "$t1" 1
is "after a register the wait is back to 1 s" \
    "$(gaps "$t1" | head -1 | awk '{ print ($1 >= 0.75 && $1 <= 1.5) ? "yes" : "no: " $1 }')" yes
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
