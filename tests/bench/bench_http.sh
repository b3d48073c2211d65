#!/usr/bin/env bash
# HTTP benchmark of the http plugin (see tests/bench/README): wrk against
# bosund and against nginx (one worker, `return 200` with bosund's own
# /health body), both on free ports of 127.0.0.1, interleaved round by
# round; then GET /api/v1/runs with an admin token (10 runs); then /health
# over TLS against nginx with the same certificate.
#
#   bench_http.sh [BUILD_DIR] [health|runs|tls|all]
#
# BENCH_ROUNDS (3) rounds of `wrk -t2 -c50 -d10s` (BENCH_DURATION,
# BENCH_CONNS) per party, after a 2 s warm-up each; the median is compared.
# BENCH_PERF=1 adds one more bosund run per part under `perf record -g`
# (not counted: perf slows what it records) and prints the top symbols.
set -u
here=$(cd "$(dirname "$0")" && pwd)
BUILD=$(cd "${1:-$here/../..}" && pwd) || exit 2
PART=${2:-all}
ROUNDS=${BENCH_ROUNDS:-3}
DUR=${BENCH_DURATION:-10s}
CONNS=${BENCH_CONNS:-50}
case $PART in health | runs | tls | all) ;; *) echo "usage: $0 [BUILD_DIR] [health|runs|tls|all]" >&2; exit 64 ;; esac
. "$here/bench_lib.sh"
need_debian wrk wrk || exit 2
NGINX=$(command -v nginx || echo /usr/sbin/nginx)
[ -x "$NGINX" ] || need_debian nginx nginx-light || exit 2
command -v nginx >/dev/null 2>&1 && NGINX=$(command -v nginx)
raise_nofile 4096

# ------------------------------------------------------------ nginx

# nginx_start DIR PORT BODY [tls]: nginx in the foreground (daemon off), one
# worker, its own prefix, config, pid file and logs in DIR; access log off
# like bosund's; keep-alive without a request limit, as bosund has none.
nginx_start() {
    local d=$1 port=$2 body=$3 ssl= certs=
    mkdir -p "$d/logs" "$d/tmp"
    if [ "${4:-}" = tls ]; then
        ssl=" ssl"
        certs="ssl_certificate $T/cert.pem; ssl_certificate_key $T/key.pem; ssl_protocols TLSv1.2 TLSv1.3;"
    fi
    cat >"$d/nginx.conf" <<EOF
worker_processes 1;
daemon off;
pid $d/nginx.pid;
error_log $d/logs/error.log warn;
events { worker_connections 4096; }
http {
    access_log off;
    client_body_temp_path $d/tmp/body;
    proxy_temp_path $d/tmp/proxy;
    fastcgi_temp_path $d/tmp/fastcgi;
    uwsgi_temp_path $d/tmp/uwsgi;
    scgi_temp_path $d/tmp/scgi;
    keepalive_requests 100000000;
    server {
        listen 127.0.0.1:$port$ssl;
        $certs
        location = /health { default_type application/json; return 200 '$body'; }
    }
}
EOF
    "$NGINX" -p "$d" -c "$d/nginx.conf" 2>"$d/logs/stderr" &
    NPID=$!
    PIDS+=("$NPID")
}

# ------------------------------------------------------------ wrk

# run_wrk NAME URL PIDS [wrk args]: one wrk run; prints a line and sets
# WRK_RPS (n/a when wrk failed or saw errors), WRK_CPU (the server's CPU
# seconds during the run) and WRK_PER_CPU (requests per server CPU-second).
run_wrk() {
    local name=$1 url=$2 pids=$3 out c0 c1 rps reqs errs non2xx lat
    shift 3
    c0=$(cpu_ticks $pids)
    out=$(wrk -t2 -c"$CONNS" -d"$DUR" --latency "$@" "$url" 2>&1)
    c1=$(cpu_ticks $pids)
    WRK_CPU=$(calc "($c1 - $c0) / $CLK_TCK" 2)
    rps=$(echo "$out" | sed -n 's/^Requests\/sec: *\([0-9.]*\).*/\1/p')
    reqs=$(echo "$out" | sed -n 's/^ *\([0-9]*\) requests in.*/\1/p')
    errs=$(echo "$out" | sed -n 's/^ *Socket errors: *\(.*\)/\1/p')
    non2xx=$(echo "$out" | sed -n 's/^ *Non-2xx or 3xx responses: *\([0-9]*\).*/\1/p')
    lat=$(echo "$out" | awk '$1 == "50%" { p50 = $2 } $1 == "99%" { p99 = $2 } END { print p50 " / " p99 }')
    WRK_RPS=${rps:-n/a}
    if [ -n "$non2xx" ] || [ -n "$errs" ] || [ -z "$rps" ]; then
        log "bench: $name: wrk reported problems (figure discarded):"
        echo "$out" | sed 's/^/    /' >&2
        WRK_RPS=n/a
    fi
    WRK_PER_CPU=n/a
    [ "$WRK_RPS" != n/a ] && WRK_PER_CPU=$(awk "BEGIN { c = $WRK_CPU; printf \"%.0f\", (c > 0 ? $reqs / c : 0) }")
    printf '  %-7s %10s req/s  (%s requests, latency p50/p99 %s, server CPU %s s = %s req per CPU-s)\n' \
        "$name" "$WRK_RPS" "${reqs:-?}" "$lat" "$WRK_CPU" "$WRK_PER_CPU"
}

# perf_run PART URL [wrk args]: with BENCH_PERF=1, one more bosund run
# under perf (not counted) and the top symbols by self time.
perf_run() {
    local part=$1 url=$2
    shift 2
    perf_begin "$DPID" "$part" || return 0
    wrk -t2 -c"$CONNS" -d"$DUR" "$@" "$url" >/dev/null 2>&1
    perf_end "$part"
}

# compare PART_NAME URL_BOSUND URL_NGINX [wrk args]: warm-up, then ROUNDS
# interleaved rounds (the order swapped every round); medians and ratio.
compare() {
    local part=$1 ub=$2 un=$3 b=() n=() bc=() nc=() r
    shift 3
    wrk -t2 -c"$CONNS" -d2s "$@" "$ub" >/dev/null 2>&1
    wrk -t2 -c"$CONNS" -d2s "$@" "$un" >/dev/null 2>&1
    for r in $(seq 1 "$ROUNDS"); do
        echo " round $r"
        if [ $((r % 2)) = 1 ]; then
            machine_load "bosund"
            run_wrk bosund "$ub" "$DPID" "$@"
            [ "$WRK_RPS" != n/a ] && b+=("$WRK_RPS") bc+=("$WRK_PER_CPU")
            machine_load "nginx"
            run_wrk nginx "$un" "$NPID $(children "$NPID")" "$@"
            [ "$WRK_RPS" != n/a ] && n+=("$WRK_RPS") nc+=("$WRK_PER_CPU")
        else
            machine_load "nginx"
            run_wrk nginx "$un" "$NPID $(children "$NPID")" "$@"
            [ "$WRK_RPS" != n/a ] && n+=("$WRK_RPS") nc+=("$WRK_PER_CPU")
            machine_load "bosund"
            run_wrk bosund "$ub" "$DPID" "$@"
            [ "$WRK_RPS" != n/a ] && b+=("$WRK_RPS") bc+=("$WRK_PER_CPU")
        fi
    done
    MED_B=$(median "${b[@]}")
    MED_N=$(median "${n[@]}")
    local cb cn
    cb=$(median "${bc[@]}")
    cn=$(median "${nc[@]}")
    echo " median of ${#b[@]} / ${#n[@]} rounds: bosund $MED_B req/s, nginx $MED_N req/s;" \
        "per server CPU-second: bosund $cb, nginx $cn"
    perf_run "$part" "$ub" "$@"
    RATIO=n/a CPU_RATIO=n/a
    [ "$MED_B" != n/a ] && [ "$MED_N" != n/a ] && RATIO=$(exact "$MED_B / $MED_N")
    [ "$cb" != n/a ] && [ "$cn" != n/a ] && CPU_RATIO=$(exact "$cb / $cn")
}

# ------------------------------------------------------------ parts

# The body nginx returns is the one bosund gave (its uptime frozen).
health_body() {
    local b
    b=$(curl -s --max-time 5 "$@") || return 1
    case $b in *"'"* | *'$'* | *'\'* | *';'*) log "bench: unexpected /health body: $b"; return 1 ;; esac
    printf '%s' "$b"
}

part_health() {
    local d="$T/plain" port nport body
    port=$(free_port)
    bosund_config "$d" "$port" </dev/null
    bosund_start "$d" || return 1
    wait_http "http://127.0.0.1:$port/health" || return 1
    body=$(health_body "http://127.0.0.1:$port/health") || return 1
    nport=$(free_port)
    nginx_start "$T/nginx-plain" "$nport" "$body"
    wait_http "http://127.0.0.1:$nport/health" || return 1
    echo
    echo "== /health over plain HTTP: wrk -t2 -c$CONNS -d$DUR, $ROUNDS rounds each (body: ${#body} bytes)"
    compare health "http://127.0.0.1:$port/health" "http://127.0.0.1:$nport/health"
    SUMMARY+=("$(verdict "/health bosund/nginx" "$RATIO" ">=" 0.8)"
        "    (requests per server CPU-second, bosund/nginx: $(ratio3 "$CPU_RATIO"))")
    stop_pid "$NPID"
    stop_pid "$DPID"
}

part_runs() {
    local d="$T/runs" port i n
    port=$(free_port)
    bosund_config "$d" "$port" <<EOF
agents:
  once:
    command: ["true"]
    start_secs: 0
    restart: never
EOF
    bosund_start "$d" || return 1
    admin_token "$T/token" || return 1
    for i in $(seq 1 10); do ctl start once >/dev/null || { log "bench: cannot start a run"; return 1; }; done
    # The wrk script carries the token, so it is on no command line.
    (umask 077 && printf 'wrk.headers["Authorization"] = "Bearer %s"\n' "$(cat "$T/token")" >"$T/auth.lua")
    local resp=
    n=0
    for _ in $(seq 1 100); do
        resp=$(curl -s --max-time 5 -w ' HTTP %{http_code}' -H @<(printf 'Authorization: Bearer %s\n' "$(cat "$T/token")") \
            "http://127.0.0.1:$port/api/v1/runs")
        n=$(printf '%s' "${resp% HTTP *}" | python3 -c 'import json, sys
try: print(len(json.load(sys.stdin)["items"]))
except Exception: print(0)')
        [ "$n" = 10 ] && break
        sleep 0.1
    done
    [ "$n" = 10 ] || { log "bench: GET /api/v1/runs lists $n runs, not 10: ${resp:0:300}"; return 1; }
    echo
    echo "== GET /api/v1/runs (admin token, 10 runs listed): wrk -t2 -c$CONNS -d$DUR, $ROUNDS rounds"
    local r v=()
    wrk -t2 -c"$CONNS" -d2s -s "$T/auth.lua" "http://127.0.0.1:$port/api/v1/runs" >/dev/null 2>&1
    for r in $(seq 1 "$ROUNDS"); do
        machine_load "bosund"
        run_wrk bosund "http://127.0.0.1:$port/api/v1/runs" "$DPID" -s "$T/auth.lua"
        [ "$WRK_RPS" != n/a ] && v+=("$WRK_RPS")
    done
    perf_run runs "http://127.0.0.1:$port/api/v1/runs" -s "$T/auth.lua"
    SUMMARY+=("  GET /api/v1/runs: median $(median "${v[@]}") req/s (no target; /health's figures above)")
    stop_pid "$DPID"
}

part_tls() {
    local d="$T/tls" port nport body proto
    openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 2 \
        -subj /CN=127.0.0.1 -addext subjectAltName=IP:127.0.0.1 \
        -keyout "$T/key.pem" -out "$T/cert.pem" >/dev/null 2>&1 || { log "bench: openssl req failed"; return 1; }
    port=$(free_port)
    bosund_config "$d" "$port" "  tls: {cert: $T/cert.pem, key: $T/key.pem}" </dev/null
    bosund_start "$d" || return 1
    wait_http "https://127.0.0.1:$port/health" --cacert "$T/cert.pem" || return 1
    body=$(health_body --cacert "$T/cert.pem" "https://127.0.0.1:$port/health") || return 1
    nport=$(free_port)
    nginx_start "$T/nginx-tls" "$nport" "$body" tls
    wait_http "https://127.0.0.1:$nport/health" --cacert "$T/cert.pem" || return 1
    echo
    echo "== /health over TLS (the same P-256 certificate): wrk -t2 -c$CONNS -d$DUR, $ROUNDS rounds each"
    for p in "bosund $port" "nginx $nport"; do
        set -- $p
        proto=$(openssl s_client -connect "127.0.0.1:$2" </dev/null 2>/dev/null |
            sed -n 's/^New, \(.*\)$/\1/p' | head -1)
        echo "  $1 negotiates: ${proto:-?}"
    done
    compare tls "https://127.0.0.1:$port/health" "https://127.0.0.1:$nport/health"
    SUMMARY+=("$(verdict "TLS /health bosund/nginx" "$RATIO" ">=" 0.7)"
        "    (requests per server CPU-second, bosund/nginx: $(ratio3 "$CPU_RATIO"))")
    stop_pid "$NPID"
    stop_pid "$DPID"
}

echo "HTTP benchmark: bosund ($BUILD) vs $("$NGINX" -v 2>&1 | sed 's/.*: //') (1 worker), $(wrk -v 2>&1 | head -1 | cut -d' ' -f1-2)"
run_parts "$PART" health runs tls
