# Helpers for the http plugin's tests, after lib.sh: the plugin on the
# search path, the raw client, and the ports the daemon chose.
BOSUN_PLUGIN_PATH="$top_builddir/plugins/http:$BOSUN_PLUGIN_PATH"
export BOSUN_PLUGIN_PATH
PROBE="/usr/bin/python3 $top_srcdir/tests/helpers/http_probe.py"

# port_of ADDRESS: the port of the listener on ADDRESS ("127.0.0.1",
# "\[::1\]"), from the last "listening on" line of the log.
port_of() {
    sed -n "s/.*http: listening on $1:\([0-9][0-9]*\).*/\1/p" "$T/bosund.log" | tail -1
}
# http_ready ADDRESS: a listener on ADDRESS is logged.
http_ready() { [ -n "$(port_of "$1")" ]; }
# probe_field OUTPUT NAME: a line "NAME: value" of http_probe.py's output.
probe_field() { printf '%s\n' "$1" | sed -n "s/^$2: //p"; }
