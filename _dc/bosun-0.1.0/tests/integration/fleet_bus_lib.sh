# Shared by the hub tests that play a machine's link at the bus, after
# lib.sh: a link is a conn id whose frames go in on fleet.link.in, as the
# http plugin relays a /fleet WebSocket's.  The fleet plugin is put on the
# search path.
BOSUN_PLUGIN_PATH="$top_builddir/plugins/fleet:${BOSUN_PLUGIN_PATH:-}"
export BOSUN_PLUGIN_PATH

# link CONN SUBJECT DATA [REPLY]: one frame in, the hub's answer out.
link() {
    _r=${4:+,\"reply\":\"$4\"}
    ctl --json request fleet.link.in \
        "{\"conn\":\"$1\",\"peer\":\"127.0.0.1:5$1\",\"frame\":{\"subject\":\"$2\",\"data\":$3$_r}}"
}

# hub_daemon PLUGINS [YAML]: a config with PLUGINS (the inside of a YAML
# list) and the http listener on $PORT with $T/boot.tok (http_boot, from
# http_lib.sh), then YAML's lines; bosund started on it.
hub_daemon() {
    write_config <<EOF2
  plugins: [$1]
http:
  listen: "127.0.0.1:$PORT"
  bootstrap_token_file: $T/boot.tok
${2:-}
EOF2
    start_daemon
}

# watch_link_out: what the hub sends down links (fleet.link.out) goes to
# $T/out from now on; the subscriber's pid is SUB.
watch_link_out() {
    _base=$(sub_count)
    ctl sub 'fleet.link.out' > "$T/out" 2>&1 &
    SUB=$!
    wait_subs $((_base + 1))
}
