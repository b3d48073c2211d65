#!/bin/sh
# The uplink: section, checked by bosund --check-config: each mistake is
# named with FILE:LINE:COL and the key, a registration token is never
# echoed, and a valid section passes.
. "$top_srcdir/tests/integration/lib.sh"
. "$top_srcdir/tests/integration/http_lib.sh"
. "$top_srcdir/tests/integration/uplink_lib.sh"
plan 16

chk() { # LINES...: the uplink section; the output of --check-config
    {
        echo "  plugins: [sqlite, exec, uplink]"
        echo "uplink:"
        for _l in "$@"; do echo "  $_l"; done
    } | write_config
    "$BOSUND" --check-config -c "$T/bosun.yaml" 2>&1
}
Y="$T/bosun.yaml"
like "no hub" "$(chk "name: x")" "^$Y:10:3: uplink.hub: the hub's URL is required"
like "not a URL" "$(chk "hub: 'wss://'")" "^$Y:10:8: uplink.hub: expected a URL"
like "another scheme" "$(chk "hub: https://hub.example.net")" "^$Y:10:8: uplink.hub: the scheme must be wss://"
like "ws:// to another host" "$(chk "hub: ws://192.0.2.1:8420")" "^$Y:10:8: uplink.hub: ws:// would send the machine's token in clear"
like "a query in the URL" "$(chk "hub: 'wss://hub:1/?a=b'")" "^$Y:10:8: uplink.hub: no user, query or fragment"
out=$(chk "hub: wss://hub:1" "registration_token: bsn_reg_short")
like "a registration token that is not one" "$out" "^$Y:11:23: uplink.registration_token: not a registration token"
unlike "  without echoing it" "$out" 'bsn_reg_short'
like "both registration_token and its file" \
    "$(chk "hub: wss://hub:1" "registration_token: bsn_reg_$(head -c 32 /dev/urandom | base64 | tr '+/' '-_' | tr -d '=')" "registration_token_file: /x")" \
    "^$Y:12:28: uplink.registration_token_file: give registration_token or registration_token_file, not both"
like "a relative token_file" "$(chk "hub: wss://hub:1" "token_file: machine.tok")" "^$Y:11:15: uplink.token_file: expected an absolute path"
like "a CA file that is not there" "$(chk "hub: wss://hub:1" "ca_file: $T/nosuch.pem")" "^$Y:11:12: uplink.ca_file: $T/nosuch.pem: No such file"
like "a bad heartbeat" "$(chk "hub: wss://hub:1" "heartbeat: often")" "^$Y:11:14: .*heartbeat"
like "a negative reconnect_splay" "$(chk "hub: wss://hub:1" "reconnect_splay: -1s")" "^$Y:11:20: .*reconnect_splay"
like "a reconnect_splay over 10m" "$(chk "hub: wss://hub:1" "reconnect_splay: 11m")" "^$Y:11:20: .*reconnect_splay"
like "an unknown key" "$(chk "hub: wss://hub:1" "hubb: x")" "^$Y:11:3: .*hubb"
like "no uplink: section at all" "$(printf '  plugins: [uplink]\n' | write_config; "$BOSUND" --check-config -c "$Y" 2>&1)" \
    'uplink: expected a map with at least hub'
out=$(chk "hub: wss://[::1]:8420/prefix" "ca_file: $T/ca.pem" "heartbeat: 5s" "backoff_max: 10s" \
    "connect_timeout: 3s" "insecure_skip_verify: false" "name: build 1" "reconnect_splay: 0"); st=$?
is "a valid section passes ($out)" "$st" 0
done_testing
