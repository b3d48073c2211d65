#!/bin/sh
# Plugins listed in the config that cannot be used stop the daemon from
# starting, with the plugin and the reason named; good ones are listed.
. "$top_srcdir/tests/integration/lib.sh"
plan 17

try_start() {
    write_config
    timeout 20 "$BOSUND" -c "$T/bosun.yaml" 2>&1
}

out=$(printf '  plugins: [heartbeat, nosuch]\n' | try_start); st=$?
is "missing plugin: exit 1" "$st" 1
like "missing plugin: named, 'not found'" "$out" "plugin 'nosuch': not found"
like "missing plugin: search path listed" "$out" "searched .*tests/plugins"

out=$(printf '  plugins: [no_descriptor]\n' | try_start); st=$?
is "no descriptor: exit 1" "$st" 1
like "no descriptor: reason" "$out" "plugin 'no_descriptor': .*exports no 'bosun_plugin' descriptor"

out=$(printf '  plugins: [bad_abi]\n' | try_start); st=$?
is "wrong ABI: exit 1" "$st" 1
like "wrong ABI: reason" "$out" "plugin 'bad_abi': ABI version 42, this bosund needs 1"

out=$(printf '  plugins: [heartbeat, init_fails]\n' | try_start); st=$?
is "init fails: exit 1" "$st" 1
like "init fails: plugin's own reason" "$out" "database is unreachable"
like "init fails: plugin named" "$out" "plugin 'init_fails': init failed"
like "started plugins are stopped again" "$out" "stopping plugin heartbeat"
is "no control socket left behind" "$(ls "$T/run")" ""

out=$(printf '  plugins: [heartbeat]\n  plugin_path: /nonexistent\n' | try_start); st=$?
is "duplicate plugin_path key is a config error" "$st" 1

write_config <<'EOF2'
  plugins: [heartbeat, order_a]
EOF2
start_daemon
out=$(ctl plugins)
like "plugins table lists heartbeat" "$out" "^heartbeat +integration"
like "plugins table has a header" "$out" "^NAME +KIND +VERSION +STATE +PATH"
json=$(ctl plugins --json)
like "plugins --json gives name, kind, path, started" "$json" '"name":"order_a","kind":"integration".*"path":"[^"]*order_a[^"]*".*"started":true'
stop_daemon; st=$DAEMON_STATUS
is "daemon stops with 0" "$st" 0
done_testing
