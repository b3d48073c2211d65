#!/bin/sh
# The checks of lib.sh themselves: each must be able to fail, or the tests
# built on it prove nothing.
. "$top_srcdir/tests/integration/lib.sh"
plan 8

# one CHECK ARGS...: the TAP line of that one check, run in a shell of its
# own (which then removes its temporary directory as after a pass).
one() { sh -c '. "$top_srcdir/tests/integration/lib.sh"; "$@"; _failed=0' sh "$@" 2>&1 | head -1; }

like "unlike: text without the pattern passes" "$(one unlike d 'abc' 'x')" '^ok 1 - d$'
like "unlike: text with the pattern fails" "$(one unlike d 'abc' 'b')" '^not ok 1 - d$'
like "unlike: empty text fails (a command that failed prints nothing)" "$(one unlike d '' 'x')" '^not ok 1 - d$'
like "unlike_empty_ok: empty text passes where that is allowed" "$(one unlike_empty_ok d '' 'x')" '^ok 1 - d$'
like "unlike_empty_ok: text with the pattern fails" "$(one unlike_empty_ok d 'abc' 'b')" '^not ok 1 - d$'
like "like: empty text matches no pattern" "$(one like d '' 'x')" '^not ok 1 - d$'
like "is: compares exactly" "$(one is d 'a' 'a ')" '^not ok 1 - d$'
like "check: a failing command fails" "$(one check d false)" '^not ok 1 - d$'
done_testing
