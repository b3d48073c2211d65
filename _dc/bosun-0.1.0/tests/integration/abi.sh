#!/bin/sh
# libbosun's ABI is exactly what the public headers declare with BOSUN_API:
# nothing internal (xmalloc, hmap_*, proc_*, ...) leaks out of the library,
# and nothing declared is missing.  Plugins export their descriptor only.
. "$top_srcdir/tests/integration/lib.sh"
plan 6

LIB="$top_builddir/.libs/libbosun.so"
check "libbosun.so is built" test -f "$LIB"

# Names declared BOSUN_API in the installed headers (declarations may span
# lines: take the identifier before the first parenthesis).
# api.h only defines the marker; comments are dropped first.
ls "$top_srcdir"/include/bosun/*.h "$top_builddir"/include/bosun/version.h | grep -v '/api\.h$' |
    xargs cat >"$T/headers"
perl -0ne 's{/\*.*?\*/}{}gs; while (/\bBOSUN_API\b([^;{]*?)\b([A-Za-z_]\w*)\s*\(/g) { print "$2\n" }' \
    "$T/headers" | sort -u >"$T/declared"
# Global symbols the library defines (functions and data).
nm -D --defined-only "$LIB" | awk '$2 ~ /^[TDBRVW]$/ {print $3}' | grep -v '^_' | sort -u >"$T/exported"

n_declared=$(wc -l <"$T/declared")
n_exported=$(wc -l <"$T/exported")
check "the headers declare an API ($n_declared names)" test "$n_declared" -ge 40
check "the library exports symbols ($n_exported names)" test "$n_exported" -ge 40
is "every exported symbol is declared BOSUN_API in <bosun/...>" \
    "$(comm -23 "$T/exported" "$T/declared" | tr '\n' ' ')" ""
is "every BOSUN_API declaration is exported" \
    "$(comm -13 "$T/exported" "$T/declared" | tr '\n' ' ')" ""

extra=
for so in "$top_builddir"/plugins/*/.libs/*.so; do
    syms=$(nm -D --defined-only "$so" | awk '$2 ~ /^[TDBRVW]$/ {print $3}' | grep -v '^_' | tr '\n' ' ')
    [ "$syms" = "bosun_plugin " ] || extra="$extra $(basename "$so"): $syms"
done
is "each plugin exports bosun_plugin and nothing else" "$extra" ""
done_testing
