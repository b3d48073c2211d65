# Shared by the dashboard's browser tests (tests/integration/web_*.sh):
#
#   web_require_browser   skips the whole test (and exits) without Debian
#       chromium or tests/web's node_modules: call it before any plan (a
#       plan then no test would be an error)
#   web_tap CHECKS FILE   turns the "PASS name" / "FAIL name: detail"
#       lines a tests/web/*.mjs scenario wrote to FILE into TAP (other
#       lines as comments), fails the checks that never ran up to CHECKS,
#       and adds one check that the scenario ran to its end: CHECKS + 1 in
#       all, for the plan.
web_tap() {
    _checks=$1
    _wn=0 _ended=yes
    while IFS= read -r _line; do
        case $_line in
        "PASS "*) _wn=$((_wn + 1)); ok "${_line#PASS }" ;;
        "FAIL the scenario ran to its end"*) _ended="${_line#FAIL }" ;;
        "FAIL "*) _wn=$((_wn + 1)); fail "${_line#FAIL }" ;;
        *) echo "# $_line" ;;
        esac
    done < "$2"
    while [ $_wn -lt "$_checks" ]; do _wn=$((_wn + 1)); fail "check $_wn did not run"; done
    if [ "$_ended" = yes ]; then ok "the scenario ran to its end"; else fail "the scenario ran to its end" "$_ended"; fi
}

web_require_browser() {
    [ -x /usr/bin/chromium ] || { echo "1..0 # SKIP Debian chromium is not installed (./quickstart installs it)"; exit 0; }
    [ -d "$top_srcdir/tests/web/node_modules/playwright-core" ] ||
        { echo "1..0 # SKIP tests/web has no node_modules (npm ci there; ./quickstart does it)"; exit 0; }
}
