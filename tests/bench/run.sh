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

# --- streams: servers in the background ---------------------------------------

# The streams benchmark starts servers; whatever happens to the script, they
# are stopped and the scratch directory removed (streams_cleanup, on EXIT,
# INT and TERM while bench_streams runs).
STREAMS_PIDS=()
STREAMS_TMP=""

streams_cleanup() {
    local pid
    for pid in "${STREAMS_PIDS[@]}"; do
        kill -TERM "$pid" 2>/dev/null || true
    done
    for pid in "${STREAMS_PIDS[@]}"; do
        wait "$pid" 2>/dev/null || true
    done
    STREAMS_PIDS=()
    if [[ -n $STREAMS_TMP ]]; then
        rm -rf "$STREAMS_TMP"
        STREAMS_TMP=""
    fi
}

# listening PORT: whether something listens on 127.0.0.1:PORT (IPv4).
listening() {
    awk -v p="$(printf ':%04X' "$1")" '$2 ~ p "$" && $4 == "0A" { f = 1 } END { exit !f }' \
        /proc/net/tcp
}

# free_port: a port nothing listens on, below the ephemeral range (32768 up)
# so that the load generator's own connections cannot take it meanwhile.
free_port() {
    local p
    for _ in {1..100}; do
        p=$((20000 + RANDOM % 12000))
        if ! listening "$p"; then
            echo "$p"
            return
        fi
    done
    echo "run.sh: no free port found" >&2
    return 1
}

# start_server VAR NAME OUT CMD...: starts CMD on CPU 0, its stdout in OUT (or
# in $STREAMS_TMP/NAME.out if OUT is "") and its stderr in $STREAMS_TMP/NAME.err,
# and stores its pid in VAR. Its stdin is a FIFO it holds open itself, so that
# it never has data nor ends: s_server polls stdin beside the connection and,
# given /dev/null, spins on the end of file instead of waiting.
start_server() {
    local -n _pid=$1
    local name=$2 out=${3:-$STREAMS_TMP/$2.out}
    shift 3
    [[ -p $STREAMS_TMP/idle.fifo ]] || mkfifo "$STREAMS_TMP/idle.fifo"
    "${PIN_SERVER[@]}" "$@" >"$out" 2>"$STREAMS_TMP/$name.err" <>"$STREAMS_TMP/idle.fifo" &
    _pid=$!
    STREAMS_PIDS+=("$_pid")
}

# await_port VAR NAME PID [PORT]: waits (5 s at most) until the server is
# ready, and stores its port in VAR: the `port N` line it prints, or PORT once
# something listens there. Returns 1, with the server's stderr, if it is not.
await_port() {
    local -n _port=$1
    local name=$2 pid=$3 want=${4:-}
    for _ in {1..100}; do
        if ! kill -0 "$pid" 2>/dev/null; then
            break
        elif [[ -n $want ]]; then
            listening "$want" && { _port=$want; return 0; }
        else
            # (the file appears when the background shell has opened it)
            _port=$(awk '$1 == "port" { print $2; exit }' "$STREAMS_TMP/$name.out" 2>/dev/null)
            [[ -n $_port ]] && return 0
        fi
        sleep 0.05
    done
    echo "run.sh: $name did not start:" >&2
    sed 's/^/  /' "$STREAMS_TMP/$name.err" >&2
    failures=$((failures + 1))
    return 1
}

# stop_server NAME PID [CLEAN]: SIGTERM, then SIGKILL after 5 s. With CLEAN,
# the server must exit with status 0 (echo_aweb: aw_run reaping the tasks of
# open connections is part of what is checked).
stop_server() {
    local name=$1 pid=$2 clean=${3:-} rc=0 p
    kill -TERM "$pid" 2>/dev/null || true
    for _ in {1..100}; do
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.05
    done
    kill -KILL "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || rc=$?
    local keep=()
    for p in "${STREAMS_PIDS[@]}"; do
        [[ $p == "$pid" ]] || keep+=("$p")
    done
    STREAMS_PIDS=("${keep[@]}")
    if [[ -n $clean && $rc != 0 ]]; then
        echo "run.sh: $name exited with status $rc after SIGTERM:" >&2
        sed 's/^/  /' "$STREAMS_TMP/$name.err" >&2
        failures=$((failures + 1))
    fi
}

# measure VAR PID LABEL LOADGEN-ARGS...: one load generator run on CPU 1
# against the server PID (which it also watches for CPU time); VAR gets its
# output.
measure() {
    local -n _m=$1
    local pid=$2 label=$3 lg_out=""
    shift 3
    run_side lg_out "$label" "${PIN_CLIENT[@]}" "$BUILD/bench/loadgen" "$@" --server-pid "$pid"
    _m=$lg_out
    local errors
    errors=$(value errors "$lg_out")
    if [[ $errors != n/a && $errors != 0 ]]; then
        echo "run.sh: $label: $errors connection(s) ended with an error" >&2
    fi
    if ! kill -0 "$pid" 2>/dev/null; then
        echo "run.sh: the server of '$label' died" >&2
        failures=$((failures + 1))
    fi
}

# best_of VAR KEY AWEB_PID PEER_PID LABEL LOADGEN-ARGS... (with PORT in the
# arguments standing for each server's port, from AWEB_PORT and PEER_PORT):
# STREAMS_REPS alternating runs against each server; VAR_aweb and VAR_peer get
# the output of each side's best run by KEY (higher is better).
best_of() {
    local var=$1 key=$2 apid=$3 ppid=$4 label=$5
    shift 5
    local -n _ba=${var}_aweb _bp=${var}_peer
    local out side pid port best_a=-1 best_p=-1 v args
    _ba="" _bp=""
    for ((rep = 0; rep < STREAMS_REPS; rep++)); do
        for side in aweb peer; do
            pid=$apid port=$AWEB_PORT
            [[ $side == aweb ]] || pid=$ppid port=$PEER_PORT
            args=("${@/#PORT/$port}")
            measure out "$pid" "loadgen $label ($side)" "${args[@]}"
            v=$(value "$key" "$out")
            [[ $v == n/a ]] && continue
            if [[ $side == aweb ]] && awk -v v="$v" -v b="$best_a" 'BEGIN { exit !(v > b) }'; then
                best_a=$v _ba=$out
            elif [[ $side == peer ]] && awk -v v="$v" -v b="$best_p" 'BEGIN { exit !(v > b) }'; then
                best_p=$v _bp=$out
            fi
        done
    done
}

# --- benchmarks: streams -----------------------------------------------------------

# Streams over loopback TCP and TLS: echo_aweb (aw_listen in task mode,
# aw_stream_read + aw_stream_write) against echo_uv, a plain libuv callback
# echo server, and against `openssl s_server` for TLS; the same client
# (loadgen, raw epoll + OpenSSL) drives all of them. Each server runs on CPU
# 0 and the client on CPU 1; the two sides alternate, STREAMS_REPS (3) runs
# of STREAMS_SECS (2) seconds each, and the best run of each side is kept:
# about 55 s in all.
#
# TLS bulk is one-way (client -> server): `openssl s_server -quiet` has no
# plain echo (its -rev mode reverses lines, flushing a record per line), but
# its default mode decrypts what it receives and writes it to stdout, here
# /dev/null: a sink. echo_aweb --mode sink does the same work: read and
# discard until close_notify. s_server serves one connection at a time, so
# the bulk run has one connection; the handshake run keeps 8 in flight
# (s_server takes them in turn). Both servers use the same throwaway RSA-2048
# certificate, made in a mktemp directory: with RSA the server's signature
# (not the client's checks) is the dearest step, so the server is what is
# measured. TLS 1.3 only, OpenSSL's default suites; no resumption.
bench_streams() {
    local bin
    for bin in echo_aweb echo_uv loadgen; do
        if [[ ! -x $BUILD/bench/$bin ]]; then
            echo "run.sh: $BUILD/bench/$bin is missing: run 'make bench'" \
                "(or make $BUILD/bench/$bin)" >&2
            failures=$((failures + 1))
            return
        fi
    done
    if ! command -v openssl >/dev/null; then
        echo "run.sh: openssl not found: no TLS peer" >&2
        failures=$((failures + 1))
        return
    fi
    PIN_SERVER=() PIN_CLIENT=()
    if command -v taskset >/dev/null && (($(nproc) >= 2)); then
        PIN_SERVER=(taskset -c 0) PIN_CLIENT=(taskset -c 1)
    else
        echo "run.sh: taskset or a second CPU missing: server and client are not pinned" >&2
    fi
    local secs=${STREAMS_SECS:-2}
    STREAMS_REPS=${STREAMS_REPS:-3}
    STREAMS_TMP=$(mktemp -d)
    trap streams_cleanup EXIT
    trap 'streams_cleanup; exit 130' INT TERM

    # Plain TCP: echo_aweb against echo_uv.
    local apid ppid
    start_server apid echo_aweb "" "$BUILD/bench/echo_aweb"
    start_server ppid echo_uv "" "$BUILD/bench/echo_uv"
    local echo_aweb="" echo_peer="" bulk_aweb="" bulk_peer=""
    if await_port AWEB_PORT echo_aweb "$apid" && await_port PEER_PORT echo_uv "$ppid"; then
        best_of echo msgs_per_s "$apid" "$ppid" echo echo --port PORT --secs "$secs"
        best_of bulk mib_per_s "$apid" "$ppid" bulk bulk --port PORT --secs "$secs"
    fi
    stop_server echo_aweb "$apid" clean
    stop_server echo_uv "$ppid"

    # TLS: echo_aweb --mode sink against s_server.
    local dir=$STREAMS_TMP tls_aweb="" tls_peer="" hs_aweb="" hs_peer="" sport
    if ! openssl req -x509 -newkey rsa:2048 -nodes -keyout "$dir/key.pem" -out "$dir/cert.pem" \
        -days 1 -subj /CN=localhost 2>"$dir/req.err" >/dev/null; then
        echo "run.sh: cannot make a certificate:" >&2
        sed 's/^/  /' "$dir/req.err" >&2
        failures=$((failures + 1))
    else
        sport=$(free_port)
        start_server apid echo_aweb_tls "" "$BUILD/bench/echo_aweb" --tls "$dir/cert.pem" \
            "$dir/key.pem" --mode sink
        # stdout is where s_server puts what it decrypts: /dev/null makes it a sink
        start_server ppid s_server /dev/null openssl s_server -quiet -tls1_3 \
            -accept "127.0.0.1:$sport" -cert "$dir/cert.pem" -key "$dir/key.pem"
        if await_port AWEB_PORT echo_aweb_tls "$apid" &&
            await_port PEER_PORT s_server "$ppid" "$sport"; then
            best_of tls mib_per_s "$apid" "$ppid" tls-bulk tls-bulk --port PORT --secs "$secs"
            best_of hs handshakes_per_s "$apid" "$ppid" tls-hs tls-hs --port PORT --secs "$secs"
        fi
        stop_server echo_aweb_tls "$apid" clean
        stop_server s_server "$ppid"
    fi
    trap - EXIT INT TERM
    streams_cleanup

    section "streams: aweb vs plain libuv, loopback TCP echo" libuv
    rate_row "echo msgs/s (64 conns, 1 KiB ping-pong)" "$(value msgs_per_s "$echo_aweb")" \
        "$(value msgs_per_s "$echo_peer")" 0.9
    rate_row "  msgs per server CPU-second" "$(value per_server_cpu_s "$echo_aweb")" \
        "$(value per_server_cpu_s "$echo_peer")"
    rate_row "echo MiB/s (4 conns, bulk)" "$(value mib_per_s "$bulk_aweb")" \
        "$(value mib_per_s "$bulk_peer")" 0.9
    rate_row "  MiB per server CPU-second" "$(value per_server_cpu_s "$bulk_aweb")" \
        "$(value per_server_cpu_s "$bulk_peer")"
    section "streams: aweb vs openssl s_server, TLS 1.3" s_server
    rate_row "TLS bulk MiB/s (1 conn, into a sink)" "$(value mib_per_s "$tls_aweb")" \
        "$(value mib_per_s "$tls_peer")"
    rate_row "  MiB per server CPU-second" "$(value per_server_cpu_s "$tls_aweb")" \
        "$(value per_server_cpu_s "$tls_peer")"
    rate_row "TLS handshakes/s (8 conns, RSA-2048)" "$(value handshakes_per_s "$hs_aweb")" \
        "$(value handshakes_per_s "$hs_peer")"
    rate_row "  handshakes per server CPU-second" "$(value per_server_cpu_s "$hs_aweb")" \
        "$(value per_server_cpu_s "$hs_peer")"
    printf 'ratio: aweb/peer, > 1 means aweb is better. Best of %s runs of %s s per side;\n' \
        "$STREAMS_REPS" "$secs"
    printf 'the per-CPU-second figures are of the same runs: other load on the machine\n'
    printf 'lowers a rate far more than the work done per second of the server'"'"'s CPU.\n'
    printf 'Server CPU use in those runs, aweb / peer: echo %s%% / %s%%, bulk %s%% / %s%%,\n' \
        "$(value server_cpu_pct "$echo_aweb")" "$(value server_cpu_pct "$echo_peer")" \
        "$(value server_cpu_pct "$bulk_aweb")" "$(value server_cpu_pct "$bulk_peer")"
    printf 'TLS bulk %s%% / %s%%, handshakes %s%% / %s%%.\n' \
        "$(value server_cpu_pct "$tls_aweb")" "$(value server_cpu_pct "$tls_peer")" \
        "$(value server_cpu_pct "$hs_aweb")" "$(value server_cpu_pct "$hs_peer")"
    printf 'What was run:\n'
    notes loadgen "$echo_aweb"
    notes loadgen "$bulk_aweb"
    notes loadgen "$(grep -v '^# tls:' <<<"$tls_aweb")"
    notes loadgen "$(grep -v '^# tls:' <<<"$hs_aweb")"
    notes aweb "$(grep '^# tls:' <<<"$hs_aweb")"
    notes s_server "$(grep '^# tls:' <<<"$hs_peer")"
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
