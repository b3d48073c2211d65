#!/bin/sh
# A plugin built out of tree against the installed headers with
# `pkg-config --cflags --libs bosun`, loaded by bosund, seen working.
. "$top_srcdir/tests/integration/lib.sh"
plan 12

DEST="$T/dest"
${MAKE:-make} -C "$top_builddir" install DESTDIR="$DEST" >"$T/install.log" 2>&1
st=$?
is "make install DESTDIR= succeeds" "$st" 0
[ "$st" -eq 0 ] || tail -20 "$T/install.log" | sed 's/^/#   /'
pc=$(find "$DEST" -name bosun.pc | head -1)
check "bosun.pc installed" test -n "$pc"
check "public headers installed as <bosun/...>" test -n "$(find "$DEST" -path '*/include/bosun/plugin.h')"
check "bosund installed in sbin" test -n "$(find "$DEST" -path '*/sbin/bosund')"
check "heartbeat plugin installed in libdir/bosun" test -n "$(find "$DEST" -path '*/lib*/bosun/heartbeat.so')"

export PKG_CONFIG_PATH="$(dirname "$pc")"
export PKG_CONFIG_SYSROOT_DIR="$DEST"
cflags=$(pkg-config --cflags bosun); st1=$?
libs=$(pkg-config --libs bosun); st2=$?
is "pkg-config knows bosun" "$st1$st2" 00
like "cflags point into the installed tree" "$cflags" "$DEST"
mkdir -p "$T/oot"
out=$(${CC:-cc} -std=c11 -Wall -Wextra -Werror -shared -fPIC $cflags \
      "$top_srcdir/tests/oot-plugin/echo.c" -o "$T/oot/echo.so" $libs 2>&1); st=$?
is "echo.c builds against installed headers" "$st" 0
[ -z "$out" ] || echo "$out" | sed 's/^/#   /'

write_config <<EOF2
  plugins: [heartbeat, echo]
echo:
  subject: oot.echo
EOF2
sed -i "s|plugin_path: \[|plugin_path: [$T/oot, |" "$T/bosun.yaml"
start_daemon || exit 1
like "the out-of-tree plugin is loaded" "$(ctl plugins)" "^echo +integration +1.0 +running +$T/oot/echo"
out=$(ctl request oot.echo '{"hello":"world"}' --json)
like "it answers requests on its configured subject" "$out" '"data":\{"echo":\{"hello":"world"\},"plugin":"echo"\}'
out=$(ctl request echo '{}' 2>&1); st=$?
is "and not on its default subject" "$st" 1
stop_daemon; st=$DAEMON_STATUS
is "daemon stops cleanly" "$st" 0
done_testing
