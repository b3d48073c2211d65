# Shared by the Chromium tests, after lib.sh: their Node scenario prints
# one line per check, "PASS name" or "FAIL name: detail", and
# "FAIL the scenario ran to its end: ..." when it stopped early.
#
#   web_tap FILE CHECKS   those lines as TAP: CHECKS results (the ones that
#                         did not run fail), then "the scenario ran to its
#                         end"; other lines as comments.
web_tap() {
    _wn=0 _wended=yes
    while IFS= read -r _wl; do
        case $_wl in
        "PASS "*) _wn=$((_wn + 1)); ok "${_wl#PASS }" ;;
        "FAIL the scenario ran to its end"*) _wended="${_wl#FAIL }" ;;
        "FAIL "*) _wn=$((_wn + 1)); fail "${_wl#FAIL }" ;;
        *) echo "# $_wl" ;;
        esac
    done < "$1"
    while [ "$_wn" -lt "$2" ]; do _wn=$((_wn + 1)); fail "check $_wn did not run"; done
    if [ "$_wended" = yes ]; then ok "the scenario ran to its end"; else fail "the scenario ran to its end" "$_wended"; fi
}
