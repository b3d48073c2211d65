#!/bin/sh
# bosund --check-config: valid files pass, and every kind of mistake is
# reported with FILE:LINE:COL and the key, exit status 1.
. "$top_srcdir/tests/integration/lib.sh"
plan 29

checkcfg() { "$BOSUND" --check-config -c "$T/bosun.yaml" 2>&1; }

write_config <<'EOF2'
  plugins: [heartbeat]
heartbeat:
  interval: 2s
EOF2
out=$(checkcfg); st=$?
is "valid config exits 0" "$st" 0
like "valid config says so" "$out" "configuration is valid"

# The shipped default config, with plugins found through BOSUN_PLUGIN_PATH.
out=$(BOSUN_PLUGIN_PATH="$HEARTBEAT_DIR:$top_builddir/plugins/sqlite:$top_builddir/plugins/exec:$top_builddir/plugins/mcp:$top_builddir/plugins/http" "$BOSUND" --check-config -c "$top_srcdir/conf/bosun.yaml" 2>&1); st=$?
is "shipped conf/bosun.yaml is valid" "$st" 0

write_config <<'EOF2'
  plugins: [heartbeat]
  colour: blue
EOF2
out=$(checkcfg); st=$?
is "unknown daemon key exits 1" "$st" 1
like "unknown key named with file:line:col" "$out" "bosun.yaml:9:3: .*unknown key 'colour'"

write_config <<'EOF2'
  plugins: [heartbeat]
heartbeat:
  interval: 2s
  color: red
EOF2
out=$(checkcfg); st=$?
is "unknown plugin key exits 1" "$st" 1
like "plugin's own validation names file:line:col and key" "$out" "bosun.yaml:11:3: .*unknown key 'color'"

write_config <<'EOF2'
  plugins: [heartbeat]
heartbeat:
  interval: soon
EOF2
out=$(checkcfg); st=$?
is "bad duration exits 1" "$st" 1
like "bad value names position and key" "$out" "bosun.yaml:10:13: .*heartbeat.interval"

write_config <<'EOF2'
  plugins: [heartbeat]
heartbeat:
  interval: [1, 2]
EOF2
out=$(checkcfg); st=$?
is "wrong type exits 1" "$st" 1
like "wrong type is named" "$out" "bosun.yaml:10:13: .*heartbeat.interval.*(scalar|sequence)"

sed -i 's/log_level: .*/log_level: loud/' "$T/bosun.yaml"
out=$(checkcfg); st=$?
is "unknown log level exits 1" "$st" 1
like "log level error names the key" "$out" "bosun.yaml:5:14: .*daemon.log_level.*loud"

write_config <<'EOF2'
  plugins: [heartbeat]
weather:
  sunny: true
EOF2
out=$(checkcfg); st=$?
is "unknown top-level section exits 1" "$st" 1
like "unknown section is named" "$out" "bosun.yaml:9:1: .*unknown section 'weather'"

write_config <<'EOF2'
  plugins: [heartbeat]
heartbeat:
  interval: ${BOSUN_TEST_UNDEFINED_VAR}
EOF2
out=$(env -u BOSUN_TEST_UNDEFINED_VAR "$BOSUND" --check-config -c "$T/bosun.yaml" 2>&1); st=$?
is "undefined \${VAR} exits 1" "$st" 1
like "undefined variable is named with its key" "$out" "bosun.yaml:10:13: .*BOSUN_TEST_UNDEFINED_VAR.*heartbeat.interval"
out=$(BOSUN_TEST_UNDEFINED_VAR=5s "$BOSUND" --check-config -c "$T/bosun.yaml" 2>&1); st=$?
is "defined \${VAR} expands and validates" "$st" 0

write_config <<'EOF2'
  plugins: [heartbeat
heartbeat: {}
EOF2
out=$(checkcfg); st=$?
is "YAML syntax error exits 1" "$st" 1
like "syntax error has a position" "$out" "bosun.yaml:[0-9]+:[0-9]+: "

# Tags outside YAML's core schema are errors, each named at its place
# (bosun.yaml(5)); the core ones pass.
write_config <<'EOF2'
  plugins: [heartbeat]
heartbeat:
  interval: !!foo 2s
EOF2
out=$(checkcfg); st=$?
is "a non-standard !! tag exits 1" "$st" 1
like "!!foo named at file:line:col" "$out" "bosun.yaml:10:13: tag '!!foo' is not supported"
write_config <<'EOF2'
  plugins: [heartbeat]
heartbeat: !<tag:yaml.org,2002:bogus>
  interval: !!python/object:os.system 2s
EOF2
out=$(checkcfg); st=$?
is "!!python/object and a verbatim bogus tag exit 1" "$st" 1
like "!!python/object:os.system named" "$out" "bosun.yaml:10:13: tag '!!python/object:os.system' is not supported"
like "!<tag:yaml.org,2002:bogus> named" "$out" "bosun.yaml:9:12: tag '!!bogus' is not supported"
write_config <<'EOF2'
  plugins: !!seq [heartbeat]
heartbeat: !!map
  interval: !!str 2s
EOF2
out=$(checkcfg); st=$?
is "core-schema tags on their kind of node: valid" "$st" 0
like "and said so" "$out" "configuration is valid"

out=$("$BOSUND" --check-config -c "$T/does-not-exist.yaml" 2>&1); st=$?
is "missing file exits 1" "$st" 1
like "missing file is named" "$out" "does-not-exist.yaml"
done_testing
