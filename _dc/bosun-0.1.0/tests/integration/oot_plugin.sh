#!/bin/sh
# A plugin built out of tree against only what `make install` puts in place
# (the <bosun/...> headers and bosun.pc, through pkg-config), loaded by the
# installed bosund, seen working.
#
# The install comes from a build of its own in $T, configured from
# $top_srcdir: `make install` in the build tree the other tests use relinks
# its plugins there (libtool moves each .so away for a moment), which broke
# tests running beside this one.  Nothing here writes to $top_builddir.
. "$top_srcdir/tests/integration/lib.sh"
plan 15

# A fresh, independent make: not the jobserver or variables of the make
# running the suite.
tmake() { env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL ${MAKE:-make} "$@"; }

SRC="$top_srcdir"
if [ -f "$top_srcdir/config.status" ]; then
    # Configured in the source tree: a second build from it is refused, so
    # build from a cleaned copy.
    cp -a "$top_srcdir" "$T/src" && tmake -C "$T/src" distclean >"$T/distclean.log" 2>&1
    SRC="$T/src"
fi
mkdir -p "$T/build"
DEST="$T/dest"
(cd "$T/build" && "$SRC/configure" --prefix=/usr/local --disable-dependency-tracking \
    CC="${CC:-cc}" >"$T/configure.log" 2>&1)
st=$?
is "a separate build configures from the source tree" "$st" 0
[ "$st" -eq 0 ] || tail -20 "$T/configure.log" | sed 's/^/#   /'
tmake -C "$T/build" -j2 install DESTDIR="$DEST" >"$T/install.log" 2>&1
st=$?
is "make install DESTDIR= succeeds" "$st" 0
[ "$st" -eq 0 ] || tail -20 "$T/install.log" | sed 's/^/#   /'
P="$DEST/usr/local"
check "bosun.pc installed in libdir/pkgconfig" test -f "$P/lib/pkgconfig/bosun.pc"
check "public headers installed as <bosun/...>" test -f "$P/include/bosun/plugin.h"
check "bosund installed in sbin" test -x "$P/sbin/bosund"
check "heartbeat plugin installed in libdir/bosun" test -f "$P/lib/bosun/heartbeat.so"

# The installed programs find the installed libbosun, not one elsewhere.
LD_LIBRARY_PATH="$P/lib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
export LD_LIBRARY_PATH
like "the installed bosund uses the installed libbosun" "$(ldd "$P/sbin/bosund" 2>&1)" \
    "libbosun\\.so[.0-9]* => $P/lib/libbosun\\.so"

PKG_CONFIG_PATH="$P/lib/pkgconfig"
PKG_CONFIG_SYSROOT_DIR="$DEST"
export PKG_CONFIG_PATH PKG_CONFIG_SYSROOT_DIR
cflags=$(pkg-config --cflags bosun); st1=$?
libs=$(pkg-config --libs bosun); st2=$?
is "pkg-config knows bosun" "$st1$st2" 00
like "cflags point into the installed tree" "$cflags" "^-I$P/include( |\$)"
mkdir -p "$T/oot"
out=$(cd "$T/oot" && ${CC:-cc} -std=c11 -Wall -Wextra -Werror -shared -fPIC $cflags \
      "$top_srcdir/tests/oot-plugin/echo.c" -o "$T/oot/echo.so" $libs 2>&1); st=$?
is "echo.c builds with only the installed headers and bosun.pc" "$st" 0
[ -z "$out" ] || echo "$out" | sed 's/^/#   /'

# The installed daemon and CLI, with the installed plugins and echo.so only.
BOSUND="$P/sbin/bosund"
BOSUNCTL="$P/bin/bosunctl"
HEARTBEAT_DIR="$P/lib/bosun"
TEST_PLUGIN_DIR="$T/oot"
unset BOSUN_PLUGIN_PATH
write_config <<EOF2
  plugins: [heartbeat, echo]
echo:
  subject: oot.echo
EOF2
start_daemon || exit 1
out=$(ctl plugins)
like "the out-of-tree plugin is loaded" "$out" "^echo +integration +1.0 +running +$T/oot/echo"
like "beside the installed heartbeat" "$out" "^heartbeat +integration .*$P/lib/bosun/heartbeat"
out=$(ctl request oot.echo '{"hello":"world"}' --json)
like "it answers requests on its configured subject" "$out" '"data":\{"echo":\{"hello":"world"\},"plugin":"echo"\}'
out=$(ctl request echo '{}' 2>&1); st=$?
is "and not on its default subject" "$st" 1
stop_daemon; st=$DAEMON_STATUS
is "daemon stops cleanly" "$st" 0
done_testing
