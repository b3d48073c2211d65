#!/bin/sh
# Close codes from the hub (RFC 6455 7.4): 1005, 1006 and 1015 only ever
# describe a close locally; a hub that puts one on the wire broke the
# protocol, so the machine answers with 1002 (protocol error), logs it as
# its own refusal, and links again.  A code that may be sent (1001) is
# taken as the hub's close, echoed and logged as such.
. "$top_srcdir/tests/integration/lib.sh"
. "$top_srcdir/tests/integration/http_lib.sh"
. "$top_srcdir/tests/integration/uplink_lib.sh"
plan 15

hub_start || exit 1
machine_config "registration_token: $(reg_token)"
start_daemon || exit 1
check "the machine registers" wait_for 20 hub_linked

n_reg() { hubst '.registers | length'; }
for code in 1005 1006 1015; do
    mark=$(wc -l < "$T/bosund.log")
    nr=$(n_reg)
    ans=$(hubctl "{\"op\":\"rawclose\",\"code\":$code}")
    is "a close with $code on the wire: the machine answers 1002" "$(printf '%s' "$ans" | jq -r '.close_rcvd.code')" 1002
    check "  and links again" wait_for 20 sh -c "[ \$($HUB_PY ctl '$T/hub' '{\"op\":\"status\"}' | jq '.registers | length') -gt $nr ] && $HUB_PY ctl '$T/hub' '{\"op\":\"status\"}' | jq -e .linked"
    like "  logged as the hub's protocol error, not as its close ($code)" \
        "$(tail -n +"$((mark + 1))" "$T/bosund.log")" \
        "^<5>uplink: the link to the hub at .* was lost: the hub broke the WebSocket protocol \\(we closed with 1002: "
done
mark=$(wc -l < "$T/bosund.log")
ans=$(hubctl '{"op":"rawclose","code":1001}')
is "a close with 1001 is the hub's: echoed" "$(printf '%s' "$ans" | jq -r '.close_rcvd.code')" 1001
like "  and logged with its code" "$(tail -n +"$((mark + 1))" "$T/bosund.log")" \
    '^<5>uplink: the link to the hub at .* was lost: the hub closed the link \(1001'
check "  the machine links again" wait_for 20 hub_linked
stop_daemon
is "bosund stops cleanly" "$DAEMON_STATUS" 0
unlike_empty_ok "no sanitizer report in its log" "$(cat "$T/bosund.log")" 'Sanitizer|runtime error'
done_testing
