#!/bin/sh
# Reconnection back-off: a machine reaches the hub through the test's TCP
# proxy (tests/helpers/tcp_proxy.py), which logs the time of every
# connection attempt.  With the hub killed, the gaps between attempts are
# 1 s (from the hub's death), 2, 4, 8, 16 s, each within the +-20 % jitter (plus a little for the
# attempt itself); when the hub returns the machine registers again, is
# online, and its wait is back to 1 s for the next failure.  The 60 s cap
# takes two minutes to reach: with FLEET_LONG=1 the test waits for it too
# (gaps 32 and 60 s, not 64).
. "$top_srcdir/tests/integration/lib.sh"
. "$top_srcdir/tests/integration/http_lib.sh"
. "$top_srcdir/tests/integration/fleet_lib.sh"
WANT="1 2 4 8 16"
[ -z "${FLEET_LONG:-}" ] || WANT="$WANT 32 60"
NW=$(echo $WANT | wc -w)
plan $((NW + 7))

fleet_hub "heartbeat_timeout: 3s"
node_start hub || exit 1
pp=$(proxy_start m1 "$PORT") || { fail "the proxy starts"; exit 1; }
(umask 077 && reg_token m1 > "$T/m1.reg")
UPLINK_HUB="wss://127.0.0.1:$pp" fleet_machine m1 "registration_token_file: $T/m1.reg"
node_start m1 || exit 1
check "m1 online through the proxy" wait_for 30 machine_status_is m1 online

# gaps T: the seconds from time T (the hub's death) to the proxy's first
# accept after it, then between the accepts.
gaps() { proxy_accepts m1 | awk -v t="$1" 'BEGIN { p = t } $1 >= t { printf "%.2f\n", $1 - p; p = $1 }'; }
t0=$(date +%s.%N)
node_kill9 hub
# n_after T N: N attempts since T.  1+2+4+8+16 = 31 s of waits.
n_after() { [ "$(proxy_accepts m1 | awk -v t="$1" '$1 >= t' | wc -l)" -ge "$2" ]; }
check "the machine keeps trying while the hub is down" wait_for $((NW * 25)) n_after "$t0" "$NW"
g=$(gaps "$t0" | head -"$NW")
echo "# gaps between attempts: $(echo $g)"
i=0
for want in $WANT; do
    i=$((i + 1))
    got=$(printf '%s\n' "$g" | sed -n "${i}p")
    check "gap $i: $got s is $want s +-20 %" \
        awk -v g="$got" -v w="$want" 'BEGIN { exit !(g != "" && g >= 0.8 * w - 0.05 && g <= 1.2 * w + 0.5) }'
done
jit=$(printf '%s\n' "$g" | head -5 | awk '{ w = 2 ^ (NR - 1); d = $1 / w; if (d < 0.97 || d > 1.03) j++ } END { print j + 0 }')
check "the waits are jittered ($jit of 5 off the exact power of 2 by > 3 %)" test "$jit" -ge 1
like "every attempt and its wait logged at info" "$(cat "$T/m1/bosund.log")" '^<6>uplink: .*[0-9.]+ ?(s|ms)'
like "the first failure at notice" "$(cat "$T/m1/bosund.log")" '^<5>uplink: '

node_start hub || exit 1
check "it registers again when the hub returns" wait_for 40 machine_status_is m1 online
# After a successful register the wait starts at 1 s again.
t1=$(date +%s.%N)
node_kill9 hub
wait_for 10 n_after "$t1" 1
is "the back-off was reset: the first wait after the hub's return is ~1 s" \
    "$(gaps "$t1" | head -1 | awk '{ print ($1 >= 0.75 && $1 <= 1.7) ? "yes" : "no: " $1 }')" yes
done_testing
