#!/bin/sh
# bosun-llm's bash under `sandbox: bwrap`: only the workspace writable, the
# system read-only, a private /tmp, no network unless bash.network, the
# whole sandbox ended on timeout; and a clear error when bwrap is missing.
. "$top_srcdir/tests/integration/llm_tools_lib.sh"

plan 15

# Without bwrap on PATH the tools are not made (checked before the skip:
# it needs no namespaces).
mkdir -p "$T/nobin"
drive missing "{\"workspace\":\"$WS\",\"sandbox\":\"bwrap\"}" </dev/null
is "sandbox: bwrap without bwrap on PATH: the tools are not made" "$(PATH=$T/nobin "$DRIVE" "$T/missing.cfg" </dev/null >/dev/null 2>&1; echo $?)" 2
like "... with a message naming the package" "$(PATH=$T/nobin "$DRIVE" "$T/missing.cfg" </dev/null 2>/dev/null)" \
    'sandbox: bwrap is set but bwrap is not on PATH \(install the Debian package bubblewrap\)'

# A bwrap that cannot make namespaces (as under RestrictNamespaces=yes):
# found out when the tools are made, with bwrap's own reason.
mkdir -p "$T/fakebin"
printf '#!/bin/sh\necho "bwrap: No permissions to creating new namespace, likely because the kernel does not allow non-privileged user namespaces" >&2\nexit 1\n' > "$T/fakebin/bwrap"
chmod +x "$T/fakebin/bwrap"
is "a bwrap that cannot make its sandbox: the tools are not made" "$(PATH=$T/fakebin:$PATH "$DRIVE" "$T/missing.cfg" </dev/null >/dev/null 2>&1; echo $?)" 2
like "... saying why, in bwrap's words" "$(PATH=$T/fakebin:$PATH "$DRIVE" "$T/missing.cfg" </dev/null 2>/dev/null)" \
    'bwrap cannot make its sandbox here \(bwrap: No permissions to creating new namespace.*RestrictNamespaces'

BWRAP=$(command -v bwrap)
if [ -z "$BWRAP" ]; then
    for i in $(seq 5 15); do echo "ok $i # SKIP bwrap is not installed (Debian package bubblewrap)"; done
    exit 0
fi
if ! "$BWRAP" --ro-bind / / --unshare-all --die-with-parent true 2>"$T/bwrap.probe"; then
    why=$(head -1 "$T/bwrap.probe")
    for i in $(seq 5 15); do echo "ok $i # SKIP bwrap cannot create namespaces here: $why"; done
    exit 0
fi

start_fetch_server || exit 1
mkdir -p "$T/outside"
M=$$
CFG="{\"workspace\":\"$WS\",\"sandbox\":\"bwrap\",\"bash\":{\"timeout\":10}}"
drive box "$CFG" <<CALLS
{"id":"ws","name":"bash","args":{"command":"echo made > inside.txt && cat inside.txt"}}
{"id":"out","name":"bash","args":{"command":"echo x > $T/outside/planted"}}
{"id":"var","name":"bash","args":{"command":"echo x > /var/tmp/bosun-bwrap-$M"}}
{"id":"sys","name":"bash","args":{"command":"touch /usr/bosun-bwrap-$M"}}
{"id":"tmp","name":"bash","args":{"command":"echo x > /tmp/bosun-bwrap-$M && test -e /tmp/bosun-bwrap-$M && echo written"}}
{"id":"net","name":"bash","args":{"command":"curl -s -m 5 -o /dev/null -w '%{http_code}' http://127.0.0.1:$FETCH_PORT/pub/ok"}}
{"id":"kill","name":"bash","args":{"timeout":1,"command":"sh -c '(sleep 1001$M &) &'; sleep 1002$M"}}
CALLS
is "the workspace is writable inside the sandbox" "$(res box ws .content)" made
is "... and the scan reports the file" "$(events box 'select(.event=="file" and .id=="ws") | .path')" inside.txt
is "a sibling of the workspace cannot be written" "$(res box out .category):$(test -e "$T/outside/planted" && echo planted || echo none)" "runtime:none"
like "outside the workspace is read-only" "$(res box var .category):$(res box var .content)" 'runtime:.*Read-only file system'
is "... nothing planted" "$(test -e /var/tmp/bosun-bwrap-$M && echo planted || echo none)" none
rm -f /var/tmp/bosun-bwrap-$M
like "the system is read-only" "$(res box sys .content)" 'Read-only file system'
is "/tmp is private to the sandbox" "$(res box tmp .content):$(test -e /tmp/bosun-bwrap-$M && echo leaked || echo private)" "written:private"
like "no network by default (the host's 127.0.0.1 is unreachable)" "$(res box net .content):$(res box net .detail.exit_code)" '^000:[1-9]'
is "a timeout ends the sandbox and everything in it" \
    "$(res box kill .category):$(grep -las "100[12]$M" /proc/[0-9]*/cmdline | wc -l)" "timeout:0"

drive netbox "{\"workspace\":\"$WS\",\"sandbox\":\"bwrap\",\"bash\":{\"network\":true}}" <<CALLS
{"id":"net","name":"bash","args":{"command":"curl -s -m 5 -o /dev/null -w '%{http_code}' http://127.0.0.1:$FETCH_PORT/pub/ok"}}
CALLS
is "bash.network: true shares the host's network" "$(res netbox net .content)" 200
is "... the driver ran the call" "$(cat "$T/netbox.rc")" 0
