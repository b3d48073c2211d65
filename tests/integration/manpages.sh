#!/bin/sh
# Man pages: mandoc finds nothing above style level, and every command,
# option and config key that exists is documented.
. "$top_srcdir/tests/integration/lib.sh"
plan 9

M="$top_srcdir/man"
if [ -z "${MANDOC:-}" ]; then MANDOC=$(command -v mandoc); fi
if [ -z "$MANDOC" ]; then
    fail "mandoc is installed (apt-get install mandoc)"
else
    out=$("$MANDOC" -Tlint -Wwarning "$M"/*.[1-9] 2>&1)
    is "mandoc -Tlint -Wwarning reports nothing" "$out" ""
fi
missing=
for cmd in status plugins reload pub request sub; do
    grep -q "^\.It Cm $cmd" "$M/bosunctl.1" || missing="$missing $cmd"
done
is "bosunctl(1) documents every command" "$missing" ""
missing=
for opt in json timeout count socket config; do
    grep -q "$opt" "$M/bosunctl.1" || missing="$missing $opt"
done
is "bosunctl(1) documents every option" "$missing" ""
missing=
for key in machine_id state_dir runtime_dir log_level plugin_path plugins control_socket \
           control_socket_mode control_socket_group interval; do
    grep -q "^\.It Cm $key" "$M/bosun.yaml.5" || missing="$missing $key"
done
is "bosun.yaml(5) documents every key" "$missing" ""
missing=
for opt in check-config config version BOSUN_PLUGIN_PATH NOTIFY_SOCKET WATCHDOG_USEC SIGHUP SIGTERM; do
    grep -q -- "$opt" "$M/bosund.8" || missing="$missing $opt"
done
is "bosund(8) documents options, environment and signals" "$missing" ""
like "bosund(8) says how to run it under systemd" "$(cat "$M/bosund.8")" "systemctl"
missing=
for word in BOSUN_PLUGIN_ABI check init start reload stop pkg-config; do
    grep -q -- "$word" "$M/bosun-plugin.7" || missing="$missing $word"
done
is "bosun-plugin(7) covers the descriptor, lifecycle and building" "$missing" ""
like "bosun-bus(7) documents wildcards" "$(cat "$M/bosun-bus.7")" "wildcard"
like "bosun-bus(7) documents _INBOX replies" "$(cat "$M/bosun-bus.7")" "_INBOX"
done_testing
