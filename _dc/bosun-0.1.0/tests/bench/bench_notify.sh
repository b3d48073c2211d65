#!/bin/bash
# Notification latency (issue 16's first bench item): from an input
# request's event (its bus publish time, carried in the webhook body as
# event_time) to its arrival at a local receiver (tests/notify/receiver.py
# stamps it when the body is read), p50/p99/max over N requests (default
# 1,000) made through cmd.input.create, one at a time:
#   1. one webhook channel;
#   2. ten channels: 4 webhooks and 3 ntfy topics that answer, 2 ports that
#      refuse connections and 1 black hole that accepts and never answers
#      (default retries, back-off and queue); all 7 live ones are waited
#      for, the latency is that of the 4 webhooks (ntfy bodies are plain
#      text without the event's time).
# Target: p99 <= 100 ms with the dead channels present.
#   bench_notify.sh [BUILD_DIR] [N]
set -u
BUILD=$(cd "${1:-.}" && pwd)
N=${2:-1000}
. "$(dirname "$0")/bench_lib.sh"
SRC=$(cd "$(dirname "$0")/../.." && pwd)
PY=/usr/bin/python3
[ -e "$BUILD/plugins/notify/notify.la" ] || { log "bench: the notify plugin is not built in $BUILD"; exit 2; }
export BOSUN_PLUGIN_PATH="$BUILD/plugins/sqlite:$BUILD/plugins/exec:$BUILD/plugins/notify"
printf 'bench-secret-%s\n' "$(od -An -N8 -tx1 /dev/urandom | tr -d ' \n')" > "$T/hook.secret"
chmod 600 "$T/hook.secret"

start_receiver() {
    "$PY" "$SRC/tests/notify/receiver.py" "$T/recv.port" "$T/recv.log" "$(cat "$T/hook.secret")" &
    PIDS+=("$!")
    for _ in $(seq 1 100); do [ -s "$T/recv.port" ] && break; sleep 0.1; done
    RPORT=$(cat "$T/recv.port")
}

# config DIR CHANNELS_YAML: bosund with sqlite, exec, notify and one idle agent.
config() {
    mkdir -p "$1/state" "$1/run"
    cat > "$1/bosun.yaml" <<EOF
daemon:
  machine_id: bench
  state_dir: $1/state
  runtime_dir: $1/run
  log_level: notice
  plugins: [sqlite, exec, notify]
agents:
  idle:
    command: [sleep, "3600"]
    start_secs: 0
notify:
  public_url: https://bosun.bench.test
  rules:
    - on: [input.requested]
      to: [$(printf '%s\n' "$2" | sed -n 's/^    \([a-z0-9]*\):$/\1/p' | paste -sd, -)]
  channels:
$2
EOF
}

webhook() { printf '    %s:\n      type: webhook\n      url: http://127.0.0.1:%s/ok/%s\n      secret_file: %s\n' "$1" "$RPORT" "$1" "$T/hook.secret"; }
ntfy() { printf '    %s:\n      type: ntfy\n      url: http://127.0.0.1:%s/ok/%s\n' "$1" "$RPORT" "$1"; }
dead() { printf '    %s:\n      type: webhook\n      url: %s\n      secret_file: %s\n' "$1" "$2" "$T/hook.secret"; }

# run LABEL DIR: N questions on one run, then the latency of every live
# delivery (ms): "p50 p99 max count".
run() {
    local label=$1 d=$2
    : > "$T/recv.log"
    machine_load "$label" >&2
    bosund_start "$d" || return 1
    local tk run
    tk=$(ctl task create --title bench --agent idle --json)
    run=$(printf '%s' "$tk" | jq -r .run)
    for _ in $(seq 1 100); do [ "$(ctl ps --json | jq -r --arg r "$run" '.[] | select(.run == $r) | .state')" = RUNNING ] && break; sleep 0.1; done
    local t0 t1
    t0=$(date +%s.%N)
    for i in $(seq 1 "$N"); do
        ctl request cmd.input.create "{\"run\":\"$run\",\"question\":\"bench question $i\",\"blocking\":false}" >/dev/null ||
            { log "bench: cmd.input.create failed at $i"; break; }
    done
    t1=$(date +%s.%N)
    local want=$((N * $3))
    for _ in $(seq 1 300); do
        [ "$(grep -c '"/ok/' "$T/recv.log")" -ge "$want" ] && break
        sleep 0.1
    done
    CPU=$(cpu_ticks "$DPID")
    stop_pid "$DPID"
    jq -r 'select(.path | startswith("/ok/")) | (.time - (if .headers["x-bosun-event"] then (.body | fromjson).event_time else empty end)) * 1000' "$T/recv.log" > "$T/lat.txt"
    local got
    got=$(grep -c '"/ok/' "$T/recv.log")
    echo "  $label: $N questions in $(calc "$t1 - $t0" 1) s, $got of $want live deliveries;" \
        "bosund CPU $(calc "$CPU / $CLK_TCK" 2) s"
    sort -g "$T/lat.txt" | awk -v label="$label" '{ v[NR] = $1 } END {
        if (!NR) { print "  " label ": no samples"; exit }
        p50 = v[int(NR * 0.50 + 0.5) > 0 ? int(NR * 0.50 + 0.5) : 1]
        p99 = v[int(NR * 0.99 + 0.5) > 0 ? int(NR * 0.99 + 0.5) : 1]
        printf "  %s latency (ms, %d webhook samples): p50 %.1f  p99 %.1f  max %.1f\n", label, NR, p50, p99, v[NR]
        printf "%.1f\n", p99 > "/dev/stderr" }' 2> "$T/p99"
}

echo "bench_notify: event -> receiver latency, $N input requests"
start_receiver
config "$T/one" "$(webhook hook)"
run "1 channel" "$T/one" 1
P1=$(cat "$T/p99")

D1=$(free_port); D2=$(free_port)
chans="$(webhook w1)
$(webhook w2)
$(webhook w3)
$(webhook w4)
$(ntfy n1)
$(ntfy n2)
$(ntfy n3)
$(dead dead1 "http://127.0.0.1:$D1/x")
$(dead dead2 "http://127.0.0.1:$D2/x")
$(dead hole "http://127.0.0.1:$RPORT/hole")"
config "$T/ten" "$chans"
run "10 channels, 3 dead" "$T/ten" 7
P10=$(cat "$T/p99")
for p in "1 channel:$P1" "10 channels, 3 dead:$P10"; do
    v=${p#*:}
    if awk "BEGIN { exit !($v <= 100) }"; then r=PASS; else r=FAIL; fi
    echo "  ${p%%:*}: p99 $v ms, target <= 100 ms: $r"
done
