#!/usr/bin/env bash
# Benchmarks for `make bench`: each one runs aweb and its peer on the same
# workload and prints a table of figure, aweb, peer, ratio and target.
#
# The ratio is always turned so that > 1 means aweb is better (peer/aweb for
# times and sizes, where less is better; aweb/peer for rates). A figure that
# misses its target is marked MISSED but is not a failure: benchmarks on a
# shared machine are noisy, and `make bench` is a report, not a test. The
# script exits non-zero only when a benchmark program itself fails (crashes
# or exits non-zero).
#
# Usage: BUILD=build tests/bench/run.sh [NAME...]   (default: every benchmark)
#
# Adding a benchmark: write a function bench_NAME that runs both sides with
# run_side, prints a header with section and rows with row (rate_row for
# rates, where more is better), and add NAME to BENCHES.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
BUILD=${BUILD:-build}
case $BUILD in /*) ;; *) BUILD=$ROOT/$BUILD ;; esac
# Debian's interpreter, not whatever `python3` is first on PATH (a pyenv build
# here): the peer figures should be those of the Python users actually get.
ASYNCIO_PYTHON=${ASYNCIO_PYTHON:-/usr/bin/python3}

BENCHES=(runtime streams http ws static client)
failures=0

# --- helpers -------------------------------------------------------------------

# run_side VAR LABEL CMD...: runs CMD, stores its stdout in VAR. stderr goes
# straight to the terminal. A non-zero exit counts as a failure of the run, and
# VAR is left with whatever was printed before it.
run_side() {
    local -n _out=$1
    local label=$2 rc=0
    shift 2
    _out=$("$@") || rc=$?
    if ((rc != 0)); then
        if ((rc > 128)); then
            echo "run.sh: $label crashed (signal $((rc - 128)))" >&2
        else
            echo "run.sh: $label failed (exit status $rc)" >&2
        fi
        failures=$((failures + 1))
    fi
}

# value KEY TEXT: the value of the `KEY value` line in TEXT, or "n/a".
value() {
    awk -v k="$1" '$1 == k { v = $2 } END { print (v == "" ? "n/a" : v) }' <<<"$2"
}

section() {
    printf '\n== %s ==\n' "$1"
    printf '%-40s %10s %10s %8s %12s\n' figure aweb "$2" ratio target
}

# row LABEL AWEB PEER [TARGET [SHOWN]]: one figure where less is better. The
# ratio is PEER/AWEB; TARGET is an optional maximum for aweb, printed as SHOWN.
row() {
    local label=$1 aweb=$2 peer=$3 target=${4:-} shown=${5:-${4:-}}
    local ratio=n/a verdict=""
    if [[ $aweb != n/a && $peer != n/a ]]; then
        ratio=$(awk -v a="$aweb" -v p="$peer" 'BEGIN {
            if (a > 0) printf "%.2fx", p / a; else print "n/a" }')
    fi
    if [[ -n $target ]]; then
        if [[ $aweb == n/a ]]; then
            verdict=MISSED
        elif awk -v a="$aweb" -v t="$target" 'BEGIN { exit !(a <= t) }'; then
            verdict=ok
        else
            verdict=MISSED
        fi
    fi
    printf '%-40s %10s %10s %8s %12s%s\n' "$label" "$aweb" "$peer" "$ratio" \
        "${shown:+<= $shown}" "${verdict:+  $verdict}"
}

# rate_row LABEL AWEB PEER [MIN]: one figure where more is better. The ratio
# is AWEB/PEER; MIN is an optional minimum for that ratio.
rate_row() {
    local label=$1 aweb=$2 peer=$3 min=${4:-}
    local ratio=n/a verdict=""
    if [[ $aweb != n/a && $peer != n/a ]]; then
        ratio=$(awk -v a="$aweb" -v p="$peer" 'BEGIN {
            if (p > 0) printf "%.2fx", a / p; else print "n/a" }')
    fi
    if [[ -n $min ]]; then
        if [[ $ratio != n/a ]] &&
            awk -v a="$aweb" -v p="$peer" -v m="$min" 'BEGIN { exit !(a >= m * p) }'; then
            verdict=ok
        else
            verdict=MISSED
        fi
    fi
    printf '%-40s %10s %10s %8s %12s%s\n' "$label" "$aweb" "$peer" "$ratio" \
        "${min:+>= ${min}x}" "${verdict:+  $verdict}"
}

# notes SIDE TEXT: the `#` lines a program prints about what it counts.
notes() {
    sed -n "s/^# /  $1 /p" <<<"$2"
}

# --- benchmarks ------------------------------------------------------------------

# The task runtime: context switch, spawn + join, memory per suspended task.
bench_runtime() {
    local bin=$BUILD/bench/bench_runtime
    if [[ ! -x $bin ]]; then
        echo "run.sh: $bin is missing: run 'make bench' (or make $bin)" >&2
        failures=$((failures + 1))
        return
    fi
    local c="" py=""
    run_side c "bench_runtime" "$bin"
    if [[ -x $ASYNCIO_PYTHON ]]; then
        run_side py "bench_runtime.py" "$ASYNCIO_PYTHON" "$ROOT/tests/bench/bench_runtime.py"
    else
        echo "run.sh: $ASYNCIO_PYTHON not found: no asyncio figures" >&2
    fi

    section "task runtime: aweb vs asyncio ($ASYNCIO_PYTHON)" asyncio
    row "switch ns (1 yield = 2 switches)" "$(value switch_ns "$c")" \
        "$(value switch_ns "$py")" 30 "30 ns"
    row "yield ns (task->loop->task)" "$(value yield_ns "$c")" "$(value yield_ns "$py")"
    row "spawn+join ns per task" "$(value spawn_join_ns "$c")" \
        "$(value spawn_join_ns "$py")" 300 "300 ns"
    row "spawn+yield+join ns per task" "$(value spawn_yield_join_ns "$c")" \
        "$(value spawn_yield_join_ns "$py")"
    row "RSS bytes per suspended task" "$(value rss_per_task_bytes "$c")" \
        "$(value rss_per_task_bytes "$py")" 8192 "8 KiB"
    row "page tables bytes per suspended task" "$(value pte_per_task_bytes "$c")" \
        "$(value pte_per_task_bytes "$py")"
    printf 'ratio: asyncio/aweb, > 1 means aweb is better. What was run:\n'
    notes aweb "$c"
    notes asyncio "$py"
}

# --- benchmarks: streams -----------------------------------------------------------

# Streams over loopback TCP and TLS: echo_aweb beside echo_uv (a plain libuv
# echo) and `openssl s_server`, driven by loadgen. tests/bench/bench_streams.sh
# runs the servers and the load (how each figure is measured is written
# there); this prints them against each peer.
bench_streams() {
    local h=""
    run_side h "bench_streams.sh" env BUILD="$BUILD" "$ROOT/tests/bench/bench_streams.sh"
    section "streams: aweb vs plain libuv, loopback TCP echo" libuv
    rate_row "echo msgs/s (64 conns, 1 KiB ping-pong)" "$(value echo_aweb_msgs_per_s "$h")" \
        "$(value echo_peer_msgs_per_s "$h")" 0.9
    rate_row "  msgs per server CPU-second" "$(value echo_aweb_per_server_cpu_s "$h")" \
        "$(value echo_peer_per_server_cpu_s "$h")"
    rate_row "echo MiB/s (4 conns, bulk)" "$(value bulk_aweb_mib_per_s "$h")" \
        "$(value bulk_peer_mib_per_s "$h")" 0.9
    rate_row "  MiB per server CPU-second" "$(value bulk_aweb_per_server_cpu_s "$h")" \
        "$(value bulk_peer_per_server_cpu_s "$h")"
    section "streams: aweb vs openssl s_server, TLS 1.3" s_server
    rate_row "TLS bulk MiB/s (1 conn, into a sink)" "$(value tls_aweb_mib_per_s "$h")" \
        "$(value tls_peer_mib_per_s "$h")"
    rate_row "  MiB per server CPU-second" "$(value tls_aweb_per_server_cpu_s "$h")" \
        "$(value tls_peer_per_server_cpu_s "$h")"
    rate_row "TLS handshakes/s (8 conns, RSA-2048)" "$(value hs_aweb_handshakes_per_s "$h")" \
        "$(value hs_peer_handshakes_per_s "$h")"
    rate_row "  handshakes per server CPU-second" "$(value hs_aweb_per_server_cpu_s "$h")" \
        "$(value hs_peer_per_server_cpu_s "$h")"
    printf 'ratio: aweb/peer, > 1 means aweb is better; the best run of each side.\n'
    printf 'The per-CPU-second figures are of the same runs: other load on the machine\n'
    printf 'lowers a rate far more than the work done per second of the server'"'"'s CPU.\n'
    local t sep=""
    printf 'Server CPU use in those runs, aweb / peer:'
    for t in echo bulk tls hs; do
        printf '%s %s %s%% / %s%%' "$sep" "$t" "$(value "${t}_aweb_server_cpu_pct" "$h")" \
            "$(value "${t}_peer_server_cpu_pct" "$h")"
        sep=,
    done
    printf '.\nWhat was run:\n'
    notes streams "$h"
}

# --- benchmarks: http --------------------------------------------------------------

# HTTP/1.1 over loopback: wrk against examples/hello beside nginx and aiohttp
# in the same run, keep-alive, pipelined and `Connection: close`, then the
# memory of 10,000 idle keep-alive connections. tests/bench/bench_http.sh
# runs the servers and wrk and prints the figures (how each is measured is
# written there); this prints them against each peer.
bench_http() {
    if [[ ! -x $BUILD/examples/hello ]]; then
        echo "run.sh: $BUILD/examples/hello is missing: run 'make bench' (or make)" >&2
        failures=$((failures + 1))
        return
    fi
    local h=""
    run_side h "bench_http.sh" env BUILD="$BUILD" ASYNCIO_PYTHON="$ASYNCIO_PYTHON" \
        "$ROOT/tests/bench/bench_http.sh"

    local peer shape name a p min p99 cpu
    local -A names=([ka]="keep-alive" [pipe]="pipelined x16" [close]="Connection: close")
    for peer in nginx aiohttp; do
        section "http: aweb vs $peer (wrk -t1 -c64; server on CPU 0, wrk on CPU 1)" "$peer"
        for shape in ka pipe close; do
            name=${names[$shape]}
            min="" p99="" cpu=""
            case $peer/$shape in
            nginx/ka) min=0.97 ;;
            nginx/pipe) min=2 ;;
            nginx/close) min=1.0 ;;
            aiohttp/pipe) min=10 ;;
            esac
            rate_row "$name req/s" "$(value "aweb_${shape}_rps" "$h")" \
                "$(value "${peer}_${shape}_rps" "$h")" "$min"
            row "$name p50 us" "$(value "aweb_${shape}_p50_us" "$h")" \
                "$(value "${peer}_${shape}_p50_us" "$h")"
            # against nginx: p99 no worse than its own; keep-alive CPU per
            # request at most 0.7 x its own
            p=$(value "${peer}_${shape}_p99_us" "$h")
            [[ $peer == nginx && $p != n/a ]] && p99=$p
            row "$name p99 us" "$(value "aweb_${shape}_p99_us" "$h")" "$p" "$p99" ${p99:+nginx}
            p=$(value "${peer}_${shape}_cpu_us" "$h")
            [[ $peer/$shape == nginx/ka && $p != n/a ]] &&
                cpu=$(awk -v p="$p" 'BEGIN { printf "%.3f", 0.7 * p }')
            row "$name CPU us/request" "$(value "aweb_${shape}_cpu_us" "$h")" "$p" \
                "$cpu" ${cpu:+"0.7x nginx"}
        done
        a=$(value aweb_idle_rss_bytes "$h") p=$(value "${peer}_idle_rss_bytes" "$h")
        if [[ $peer == nginx ]]; then
            row "RSS bytes per idle keep-alive conn" "$a" "$p" 512 "512 B"
        else
            row "RSS bytes per idle keep-alive conn" "$a" "$p"
        fi
    done
    section "http: hello with its middleware set vs nginx (the same runs)" nginx
    for shape in ka pipe close; do
        rate_row "${names[$shape]} req/s" "$(value "awebmw_${shape}_rps" "$h")" \
            "$(value "nginx_${shape}_rps" "$h")"
        row "${names[$shape]} CPU us/request" "$(value "awebmw_${shape}_cpu_us" "$h")" \
            "$(value "nginx_${shape}_cpu_us" "$h")"
    done
    row "RSS bytes per idle keep-alive conn" "$(value awebmw_idle_rss_bytes "$h")" \
        "$(value nginx_idle_rss_bytes "$h")"
    printf 'ratio: > 1 means aweb is better (aweb/peer for req/s, peer/aweb for the rest).\n'
    printf 'Latency: wrk samples without its coordinated-omission correction; pipelined: per batch.\n'
    printf 'CPU busy %% (server / other work on CPU 0 / CPU 1, wrk):'
    for shape in ka pipe close; do
        printf '\n  %-18s' "${names[$shape]}"
        for peer in aweb nginx aiohttp; do
            printf ' %s %s/%s/%s' "$peer" "$(value "${peer}_${shape}_server_cpu_pct" "$h")" \
                "$(value "${peer}_${shape}_cpu0_other_pct" "$h")" \
                "$(value "${peer}_${shape}_cpu1_pct" "$h")"
        done
    done
    printf '\nWhat was run:\n'
    notes http "$h"
}

# --- benchmarks: static files -------------------------------------------------------

# Static files and compression: wrk against tests/bench/static_server
# (middleware/static.h, compress.h) beside nginx serving the same directory,
# on the same core. tests/bench/bench_static.sh runs both and wrk (how is
# written there); this prints the figures against nginx.
bench_static() {
    if [[ ! -x $BUILD/bench/static_server ]]; then
        echo "run.sh: $BUILD/bench/static_server is missing: run 'make bench'" >&2
        failures=$((failures + 1))
        return
    fi
    local h=""
    run_side h "bench_static.sh" env BUILD="$BUILD" "$ROOT/tests/bench/bench_static.sh"
    section "static files: aweb vs nginx (wrk -t1 -c64; server on CPU 0, wrk on CPU 1)" nginx
    rate_row "4 KiB file req/s" "$(value aweb_4k_rps "$h")" "$(value nginx_4k_rps "$h")" 1.0
    row "  CPU us/request" "$(value aweb_4k_cpu_us "$h")" "$(value nginx_4k_cpu_us "$h")"
    rate_row "1 MiB file req/s" "$(value aweb_1m_rps "$h")" "$(value nginx_1m_rps "$h")" 1.0
    row "  CPU us/request" "$(value aweb_1m_cpu_us "$h")" "$(value nginx_1m_cpu_us "$h")"
    rate_row "16 KiB JSON, gzip req/s" "$(value aweb_gzip_rps "$h")" \
        "$(value nginx_gzip_rps "$h")"
    row "  CPU us/request" "$(value aweb_gzip_cpu_us "$h")" "$(value nginx_gzip_cpu_us "$h")"
    row "  gzipped body bytes" "$(value aweb_gzip_bytes "$h")" "$(value nginx_gzip_bytes "$h")"
    printf 'ratio: > 1 means aweb is better (aweb/nginx for req/s, nginx/aweb for the rest).\n'
    printf 'What was run:\n'
    notes static "$h"
}

# --- benchmarks: ws ----------------------------------------------------------------

# WebSockets over loopback: examples/hello's /ws echo and ws_bcast_server
# (a room) beside aiohttp_ws.py, all driven by wsload (raw epoll, no
# compression): ping-pong, idle memory, broadcast. tests/bench/bench_ws.sh
# runs them and prints the figures (how each is measured is written there);
# this prints them against aiohttp's.
bench_ws() {
    local w=""
    run_side w "bench_ws.sh" env BUILD="$BUILD" ASYNCIO_PYTHON="$ASYNCIO_PYTHON" \
        "$ROOT/tests/bench/bench_ws.sh"
    section "ws: aweb vs aiohttp (server on CPU 0, wsload on CPU 1)" aiohttp
    rate_row "round trips/s (64 conns, 32 B ping-pong)" "$(value aweb_rt_per_s "$w")" \
        "$(value aiohttp_rt_per_s "$w")" 10
    row "  server CPU us per round trip" "$(value aweb_cpu_us_per_rt "$w")" \
        "$(value aiohttp_cpu_us_per_rt "$w")"
    row "broadcast to 5,000, median ms" "$(value aweb_bcast_median_ms "$w")" \
        "$(value aiohttp_bcast_median_ms "$w")" 50 "50 ms"
    row "broadcast to 5,000, best ms" "$(value aweb_bcast_best_ms "$w")" \
        "$(value aiohttp_bcast_best_ms "$w")"
    row "RSS bytes per idle WebSocket (10,000)" "$(value aweb_idle_rss_bytes "$w")" \
        "$(value aiohttp_idle_rss_bytes "$w")" 8192 "8 KiB"
    printf 'ratio: > 1 means aweb is better (aweb/aiohttp for round trips, aiohttp/aweb for the rest).\n'
    printf 'CPU busy %% in the ping-pong runs (server / other work on CPU 0 / CPU 1, wsload):\n'
    printf '  aweb %s/%s/%s  aiohttp %s/%s/%s\n' "$(value aweb_server_cpu_pct "$w")" \
        "$(value aweb_cpu0_other_pct "$w")" "$(value aweb_cpu1_pct "$w")" \
        "$(value aiohttp_server_cpu_pct "$w")" "$(value aiohttp_cpu0_other_pct "$w")" \
        "$(value aiohttp_cpu1_pct "$w")"
    printf 'What was run:\n'
    notes ws "$w"
}

# --- benchmarks: client -------------------------------------------------------------

# The HTTP client: aw_client beside aiohttp's ClientSession doing keep-alive
# GETs to nginx (and wrk doing the same, for the floor a bare epoll client
# gets), then examples/fetch fanning out to 100 URLs that each answer after
# 100 ms. tests/bench/bench_client.sh runs them (how is written there); this
# prints the figures.
bench_client() {
    local bin
    for bin in bench/client_load examples/hello examples/fetch; do
        if [[ ! -x $BUILD/$bin ]]; then
            echo "run.sh: $BUILD/$bin is missing: run 'make bench'" >&2
            failures=$((failures + 1))
            return
        fi
    done
    local h="" c
    run_side h "bench_client.sh" env BUILD="$BUILD" ASYNCIO_PYTHON="$ASYNCIO_PYTHON" \
        "$ROOT/tests/bench/bench_client.sh"
    section "client: aweb vs aiohttp ClientSession (GETs to nginx over keep-alive)" aiohttp
    # the 10x target is a throughput figure: at C=1 the loopback round trip
    # sets the rate (wrk's below is the ceiling), so that row has none
    local target
    for c in 1 64; do
        target=""
        [[ $c == 64 ]] && target=10
        rate_row "requests/s, C=$c" "$(value "aweb_c${c}_rps" "$h")" \
            "$(value "aiohttp_c${c}_rps" "$h")" "$target"
        row "  client CPU us/request, C=$c" "$(value "aweb_c${c}_cpu_us" "$h")" \
            "$(value "aiohttp_c${c}_cpu_us" "$h")"
    done
    section "client: aweb vs wrk (the same GETs, a bare epoll client)" wrk
    for c in 1 64; do
        rate_row "requests/s, C=$c" "$(value "aweb_c${c}_rps" "$h")" \
            "$(value "wrk_c${c}_rps" "$h")"
    done
    section "fan-out: examples/fetch, 100 URLs each answered after 100 ms" ideal
    row "concurrency 100: server time_ms" "$(value fanout_c100_ms "$h")" 100 150 "150 ms"
    row "  wall ms (curl)" "$(value fanout_c100_wall_ms "$h")" 100
    row "  first request (cold pool) ms" "$(value fanout_c100_cold_ms "$h")" 100
    row "concurrency 10 (default): time_ms" "$(value fanout_c10_ms "$h")" 1000
    row "  wall ms (curl)" "$(value fanout_c10_wall_ms "$h")" 1000
    printf 'ratio: > 1 means aweb is better (aweb/peer for requests/s, peer/aweb for the rest;\n'
    printf '"ideal" is the 100 ms sleep times the rounds the concurrency allows).\n'
    printf 'C: tasks (aiohttp: coroutines) sending at once on one session. At C=1 each\n'
    printf 'request waits for a loopback round trip between two CPUs: wrk'"'"'s rate there is\n'
    printf 'the ceiling for any client, and the CPU time per request is the figure to compare.\n'
    printf 'Client CPU busy %% (CPU time x rate), aweb / aiohttp: C=1 %s / %s, C=64 %s / %s.\n' \
        "$(value aweb_c1_cpu_pct "$h")" "$(value aiohttp_c1_cpu_pct "$h")" \
        "$(value aweb_c64_cpu_pct "$h")" "$(value aiohttp_c64_cpu_pct "$h")"
    printf 'What was run:\n'
    notes client "$h"
}

# --- main ------------------------------------------------------------------------

selected=("$@")
((${#selected[@]})) || selected=("${BENCHES[@]}")
for name in "${selected[@]}"; do
    if ! declare -F "bench_$name" >/dev/null; then
        echo "run.sh: no benchmark '$name' (known: ${BENCHES[*]})" >&2
        exit 2
    fi
done
for name in "${selected[@]}"; do
    "bench_$name"
done

if ((failures)); then
    echo "run.sh: $failures benchmark run(s) failed" >&2
    exit 1
fi
