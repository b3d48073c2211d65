#!/bin/sh
# The github: section, checked by bosund --check-config: each mistake is
# named with FILE:LINE:COL and the key, a secret file others could read is
# refused, what a secret file holds is never echoed, and a valid section
# passes (an absent one too: all defaults).
. "$top_srcdir/tests/integration/lib.sh"
BOSUN_PLUGIN_PATH="${BOSUN_PLUGIN_PATH:-}:$top_builddir/plugins/github"
export BOSUN_PLUGIN_PATH
plan 17

chk() { # LINES...: the github section; the output of --check-config
    {
        echo "  plugins: [sqlite, github]"
        echo "github:"
        for _l in "$@"; do echo "  $_l"; done
    } | write_config
    "$BOSUND" --check-config -c "$T/bosun.yaml" 2>&1
}
Y="$T/bosun.yaml"
SECRET="s3cr3t-$(head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n')"
printf '%s\n' "$SECRET" > "$T/tok"; chmod 600 "$T/tok"
printf '%s\n' "$SECRET" > "$T/open.tok"; chmod 644 "$T/open.tok"
printf 'short\n' > "$T/short.tok"; chmod 600 "$T/short.tok"
ln -s "$T/tok" "$T/link.tok"

like "another scheme" "$(chk "api_url: ftp://api.example.net")" "^$Y:10:12: github.api_url: the scheme must be https://"
like "http:// to another host" "$(chk "api_url: http://192.0.2.1:8080")" "^$Y:10:12: github.api_url: http:// would send the token in clear"
like "a query in the URL" "$(chk "web_url: 'https://gh.example.net/?a=b'")" "^$Y:10:12: github.web_url: no user, query or fragment"
like "not a URL" "$(chk "web_url: 'https://'")" "^$Y:10:12: github.web_url: expected a URL"
like "a relative token_file" "$(chk "token_file: github.tok")" "^$Y:10:15: github.token_file: expected an absolute path"
like "a missing token_file" "$(chk "token_file: $T/nosuch")" "^$Y:10:15: github.token_file: $T/nosuch: No such file"
out=$(chk "token_file: $T/open.tok")
like "a token file others can read" "$out" "^$Y:10:15: github.token_file: $T/open.tok: mode 0644 lets others read it"
unlike "  without echoing what it holds" "$out" "$SECRET"
like "a symbolic link as the secret file" "$(chk "webhook_secret_file: $T/link.tok")" "^$Y:10:24: github.webhook_secret_file: $T/link.tok: a symbolic link"
like "a secret too short" "$(chk "webhook_secret_file: $T/short.tok")" "^$Y:10:24: github.webhook_secret_file: .*must hold one secret of 16 to 1024"
like "a login that is not one" "$(chk "allowed_users: [alice, 'bob--x']")" "^$Y:10:26: github.allowed_users: 'bob--x' is not a GitHub login"
like "client_id without its secret" "$(chk "client_id: Iv1.abc")" "^$Y:10:14: github.client_id: the login needs client_secret_file too"
like "a refresh_interval under 10s" "$(chk "refresh_interval: 1s")" "^$Y:10:21: .*refresh_interval"
like "an unknown key" "$(chk "tokn_file: /x")" "^$Y:10:3: .*tokn_file"
out=$(printf '  plugins: [sqlite, github]\n' | write_config; "$BOSUND" --check-config -c "$Y" 2>&1); st=$?
is "no github: section at all passes ($out)" "$st" 0
out=$(chk "api_url: http://127.0.0.1:9/api/v3/" "web_url: https://github.example.net" \
    "client_id: Iv1.0123abcd" "client_secret_file: $T/tok" "token_file: $T/tok" \
    "webhook_secret_file: $T/tok" "allowed_users: [Alice, bob-2]" "allowed_orgs: acme" \
    "admins: [alice]" "refresh_interval: 2m" "webhook_max_age: 30m" "max_prs: 50"); st=$?
is "a valid section passes ($out)" "$st" 0
unlike_empty_ok "  and says nothing of the secret" "$out" "$SECRET"
done_testing
