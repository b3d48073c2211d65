# Helpers for the dashboard's tests in chromium (tests/web/*.mjs), after
# lib.sh.
# web_results FILE CHECKS: the scenario's "PASS name" / "FAIL name: why"
# lines as TAP, CHECKS of them (those it did not reach fail), then whether
# it ran to its end; anything else it printed as comments.
web_results() {
    _wn=0 _ended=yes
    while IFS= read -r _line; do
        case $_line in
        "PASS "*) _wn=$((_wn + 1)); ok "${_line#PASS }" ;;
        "FAIL the scenario ran to its end"*) _ended="${_line#FAIL }" ;;
        "FAIL "*) _wn=$((_wn + 1)); fail "${_line#FAIL }" ;;
        *) echo "# $_line" ;;
        esac
    done < "$1"
    while [ $_wn -lt "$2" ]; do _wn=$((_wn + 1)); fail "check $_wn did not run"; done
    if [ "$_ended" = yes ]; then ok "the scenario ran to its end"; else fail "the scenario ran to its end" "$_ended"; fi
}
