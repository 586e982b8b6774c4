#!/usr/bin/env bash
# The http benchmark: wrk against examples/hello, nginx and aiohttp, all
# three in the same run. Each server has one process (nginx: one worker) on
# CPU 0; wrk runs on CPU 1 with one thread and 64 connections. Three load
# shapes, each a warm-up then a measured run, HTTP_REPS times over with the
# servers alternating; the run with the most requests/s is kept:
#
#   ka     keep-alive, one request at a time per connection
#   pipe   keep-alive, 16 requests pipelined per write (pipeline.lua)
#   close  `Connection: close`: a new connection per request
#
# Then idle connections: 10,000 keep-alive connections that have each served
# one request (idle_conns.py), and the server's RSS before and after.
#
# Prints `key value` lines, SERVER_SHAPE_FIGURE (servers aweb, nginx,
# aiohttp):
#   *_rps      requests (responses) per second, from wrk
#   *_p50_us   *_p99_us   latency percentiles in microseconds: wrk's
#              samples without its coordinated-omission correction (see
#              pipeline.lua); under pipelining one sample per batch of 16
#   *_cpu_us   the server's CPU time (utime + stime, /proc/PID/stat) over the
#              measured run, divided by the requests wrk counted
#   SERVER_idle_rss_bytes   (RSS after - RSS before) / connections
# and `# ` lines about what was run and anything odd (wrk errors, other load
# on the server's CPU). `make bench` runs it through tests/bench/run.sh,
# which prints the table.
#
# Usage: BUILD=build tests/bench/bench_http.sh
# Knobs: HTTP_SECS (5), HTTP_WARMUP (1), HTTP_REPS (2), HTTP_CONNS (64),
# HTTP_DEPTH (16), HTTP_IDLE (10000), HTTP_SERVERS ("aweb nginx aiohttp"),
# ASYNCIO_PYTHON (/usr/bin/python3: Debian's python3-aiohttp, not a pyenv
# build). About 2 minutes with the defaults.
# A missing peer (nginx, aiohttp) is skipped with a note; the script fails
# only when aweb or wrk does.
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
BUILD=${BUILD:-build}
case $BUILD in /*) ;; *) BUILD=$ROOT/$BUILD ;; esac
PYTHON=${ASYNCIO_PYTHON:-/usr/bin/python3}
SECS=${HTTP_SECS:-5}
WARMUP=${HTTP_WARMUP:-1}
CONNS=${HTTP_CONNS:-64}
DEPTH=${HTTP_DEPTH:-16}
IDLE=${HTTP_IDLE:-10000}
REPS=${HTTP_REPS:-2}
# aweb: examples/hello --bare (its routes alone, as nginx and aiohttp serve
# theirs); awebmw: examples/hello with its middleware set
read -r -a SERVERS <<<"${HTTP_SERVERS:-aweb awebmw nginx aiohttp}"
HELLO=$BUILD/examples/hello
NGINX=$(command -v nginx || echo /usr/sbin/nginx)
CLK_TCK=$(getconf CLK_TCK)
failures=0

die() {
    echo "bench_http.sh: $*" >&2
    exit 1
}

command -v wrk >/dev/null || die "wrk is missing: 'make bench' installs it (Debian's wrk)"
[[ -x $HELLO ]] || die "$HELLO is missing: run 'make' first"


# 10,000 idle connections need as many descriptors in the server and in the
# client; root may raise the hard limit too.
ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)"
if (($(ulimit -n) < IDLE + 100)); then
    echo "bench_http.sh: open file limit $(ulimit -n) is below $IDLE connections:" \
        "HTTP_IDLE lowered" >&2
    IDLE=$(($(ulimit -n) - 100))
fi

# --- servers ---------------------------------------------------------------------

# TMP, PID, PORT, MEASURED, STARTED, cleanup on exit, listening, free_port
# shellcheck source=servers.sh
. "$HERE/servers.sh"

write_confs() {
    cat >"$TMP/aweb.conf" <<EOF
[server]
max_connections = $((IDLE + 1000))
[timeouts]
keepalive = 300s
[log]
access_log = off
level = warning
EOF
    nginx_conf $((IDLE + 1000)) <<EOF
default_type text/plain;
server {
    listen 127.0.0.1:${PORT[nginx]};
    location / {
        return 200 "Hello, World!";
    }
}
EOF
}

start_servers() {
    local s
    for s in "${SERVERS[@]}"; do
        PORT[$s]=$(free_port)
    done
    write_confs
    for s in "${SERVERS[@]}"; do
        case $s in
        aweb) start aweb "$HELLO" --bare --listen "127.0.0.1:${PORT[aweb]}" --conf "$TMP/aweb.conf" ;;
        awebmw)
            start awebmw "$HELLO" --listen "127.0.0.1:${PORT[awebmw]}" --conf "$TMP/aweb.conf"
            ;;
        nginx)
            if [[ ! -x $NGINX ]]; then
                echo "# nginx: not installed (Debian's nginx-light), skipped"
                continue
            fi
            start nginx "$NGINX" -p "$TMP/nginx" -c "$TMP/nginx/nginx.conf" \
                -e "$TMP/nginx/error.log"
            ;;
        aiohttp)
            if ! "$PYTHON" -c 'import aiohttp' 2>/dev/null; then
                echo "# aiohttp: $PYTHON has no aiohttp (Debian's python3-aiohttp), skipped"
                continue
            fi
            start aiohttp "$PYTHON" "$HERE/aiohttp_hello.py" "${PORT[aiohttp]}" 300
            ;;
        *) die "unknown server '$s'" ;;
        esac
    done
    for s in "${!PID[@]}"; do
        if ! ready "$s"; then
            [[ $s == aweb ]] && failures=$((failures + 1))
            kill -TERM "${PID[$s]}" 2>/dev/null || true
            unset "PID[$s]"
        fi
    done
}

# --- measuring -------------------------------------------------------------------

# cpu_ticks PID: utime + stime of PID so far, in clock ticks.
cpu_ticks() {
    sed 's/.*) //' "/proc/$1/stat" | awk '{ print $12 + $13 }'
}

# cpu_busy N: busy ticks of CPU N so far (everything but idle and iowait).
cpu_busy() {
    awk -v c="cpu$1" '$1 == c { print $2 + $3 + $4 + $7 + $8 + $9 }' /proc/stat
}

rss_bytes() {
    awk '$1 == "VmRSS:" { print $2 * 1024 }' "/proc/$1/status"
}

# wrk_run SHAPE PORT SECS: wrk's output for one run.
wrk_run() {
    local shape=$1 port=$2 secs=$3 depth=1 args=()
    case $shape in
    pipe) depth=$DEPTH ;;
    close) args=(-H "Connection: close") ;;
    esac
    WRK_DEPTH=$depth WRK_CONNECTIONS=$CONNS "${PIN_CLIENT[@]}" wrk -t1 -c"$CONNS" \
        -d"${secs}s" --latency -s "$HERE/pipeline.lua" "${args[@]}" \
        "http://127.0.0.1:$port/"
}

# measure NAME SHAPE: warm-up, then the measured run; prints its figures
# (nothing if the run failed).
measure() {
    local name=$1 shape=$2 pid=${MEASURED[$1]} port=${PORT[$1]}
    local out c0 c1 b0 b1 o0 o1 t0 t1 requests
    kill -0 "$pid" 2>/dev/null || return 0
    if ! out=$(wrk_run "$shape" "$port" "$WARMUP" 2>&1) ||
        ! {
            c0=$(cpu_ticks "$pid") b0=$(cpu_busy 1) o0=$(cpu_busy 0) t0=$(date +%s%N)
            out=$(wrk_run "$shape" "$port" "$SECS" 2>&1)
        }; then
        echo "bench_http.sh: wrk failed against $name ($shape):" >&2
        sed 's/^/  /' <<<"$out" >&2
        if [[ $name == aweb ]]; then failures=$((failures + 1)); fi
        return 0
    fi
    c1=$(cpu_ticks "$pid") b1=$(cpu_busy 1) o1=$(cpu_busy 0) t1=$(date +%s%N)
    if ! kill -0 "$pid" 2>/dev/null; then
        echo "bench_http.sh: $name died during the $shape run" >&2
        if [[ $name == aweb ]]; then failures=$((failures + 1)); fi
        return 0
    fi
    requests=$(awk '/ requests in / { print $1 }' <<<"$out")
    printf '%s_%s_rps %.0f\n' "$name" "$shape" "$(awk '$1 == "Requests/sec:" { print $2 }' <<<"$out")"
    printf '%s_%s_p50_us %s\n' "$name" "$shape" "$(awk '$1 == "lat_p50_us" { print $2 }' <<<"$out")"
    printf '%s_%s_p99_us %s\n' "$name" "$shape" "$(awk '$1 == "lat_p99_us" { print $2 }' <<<"$out")"
    awk -v c="$((c1 - c0))" -v hz="$CLK_TCK" -v r="$requests" -v n="$name" -v s="$shape" \
        'BEGIN { if (r > 0) printf "%s_%s_cpu_us %.3f\n", n, s, c / hz * 1e6 / r }'
    # Where the time went: the server's share of CPU 0, the rest of CPU 0
    # (other processes, interrupts), and CPU 1 (wrk).
    awk -v c="$((c1 - c0))" -v o="$((o1 - o0))" -v b="$((b1 - b0))" -v hz="$CLK_TCK" \
        -v ns="$((t1 - t0))" -v n="$name" -v s="$shape" 'BEGIN {
        t = ns / 1e9 * hz / 100
        other = (o - c) / t   # the two clocks differ by a few ticks: clamp at 0
        if (other < 0) other = 0
        printf "%s_%s_server_cpu_pct %.0f\n%s_%s_cpu0_other_pct %.0f\n%s_%s_cpu1_pct %.0f\n",
            n, s, c / t, n, s, other, n, s, b / t
        if (other > 10)
            printf "# %s %s: other work took %.0f%% of CPU 0 (the server'"'"'s): figures unreliable\n",
                n, s, other }'
    # wrk's own wrong turns: socket errors, non-2xx responses.
    awk -v n="$name" -v s="$shape" '/Socket errors|Non-2xx|stray samples/ {
        sub(/^ +/, ""); print "# " n " " s ": " $0 }' <<<"$out"
}

# idle NAME: RSS per idle keep-alive connection, and how many the server held.
idle() {
    local name=$1 pid=${MEASURED[$1]} port=${PORT[$1]} r0 r1 f0 f1 got="" hold
    curl -s -o /dev/null "http://127.0.0.1:$port/" || true
    sleep 0.2
    r0=$(rss_bytes "$pid")
    f0=$(ls "/proc/$pid/fd" | wc -l)
    mkfifo "$TMP/idle.in"
    "${PIN_CLIENT[@]}" "$PYTHON" "$HERE/idle_conns.py" "$port" "$IDLE" \
        <"$TMP/idle.in" >"$TMP/idle.out" 2>"$TMP/idle.err" &
    local cpid=$!
    exec {hold}>"$TMP/idle.in"   # the client's stdin: it holds until this closes
    for _ in {1..1200}; do
        got=$(awk '$1 == "ready" { print $2 }' "$TMP/idle.out")
        [[ -n $got ]] && break
        kill -0 "$cpid" 2>/dev/null || break
        sleep 0.05
    done
    if [[ -n $got ]]; then
        sleep 1
        r1=$(rss_bytes "$pid")
        f1=$(ls "/proc/$pid/fd" | wc -l)
        awk -v a="$r0" -v b="$r1" -v n="$got" -v s="$name" \
            'BEGIN { printf "%s_idle_rss_bytes %.0f\n", s, (b - a) / n }'
        echo "${name}_idle_conns $got"
        echo "${name}_idle_fds $((f1 - f0))"
        echo "${name}_rss_before_kib $((r0 / 1024))"
        echo "${name}_rss_after_kib $((r1 / 1024))"
    else
        echo "bench_http.sh: idle connections to $name failed:" >&2
        sed 's/^/  /' "$TMP/idle.err" >&2
        [[ $name == aweb ]] && failures=$((failures + 1))
    fi
    exec {hold}>&-
    wait "$cpid" 2>/dev/null || true
    rm -f "$TMP/idle.in"
}

# --- main ------------------------------------------------------------------------

start_servers
live=()
for s in "${SERVERS[@]}"; do
    [[ -n ${PID[$s]:-} ]] && live+=("$s")
done
# Every shape against every server, HTTP_REPS times over, alternating; the
# run with the most requests/s is kept for each (a noisy neighbour on a
# shared machine only ever slows a run down).
declare -A best=() best_rps=()
for ((rep = 0; rep < REPS; rep++)); do
    for shape in ka pipe close; do
        for s in "${live[@]}"; do
            measure "$s" "$shape" >"$TMP/run.txt"
            v=$(awk -v k="${s}_${shape}_rps" '$1 == k { print $2 }' "$TMP/run.txt")
            [[ -n $v ]] || continue
            if [[ -z ${best_rps[$s/$shape]:-} ]] || ((v > best_rps[$s/$shape])); then
                best_rps[$s/$shape]=$v
                best[$s/$shape]=$(<"$TMP/run.txt")
            fi
        done
    done
done
for shape in ka pipe close; do
    for s in "${live[@]}"; do
        if [[ -n ${best[$s/$shape]:-} ]]; then echo "${best[$s/$shape]}"; fi
    done
done
for s in "${live[@]}"; do
    idle "$s"
done
for s in "${live[@]}"; do
    stop "$s"
done

echo "# wrk $(wrk -v 2>&1 | awk 'NR == 1 { print $2 }'): -t1 -c$CONNS, ${WARMUP} s warm-up +" \
    "${SECS} s per run, best of $REPS; pipelined: $DEPTH requests per write; server on CPU 0, wrk on CPU 1"
[[ -n ${PID[nginx]:-} ]] &&
    echo "# nginx $("$NGINX" -v 2>&1 | sed 's/.*nginx\///'): one worker, return 200, access_log off"
[[ -n ${PID[aiohttp]:-} ]] &&
    echo "# aiohttp $("$PYTHON" -c 'import aiohttp; print(aiohttp.__version__)') on" \
        "$("$PYTHON" -V 2>&1) ($PYTHON), default asyncio loop, access_log None"
echo "# aweb: examples/hello --bare (no middlewares); awebmw: examples/hello with its set" \
    "(request id, error pages, security headers, CORS, compression)"
echo "# idle: $IDLE connections, one request each, RSS delta / connections"
((failures == 0))
