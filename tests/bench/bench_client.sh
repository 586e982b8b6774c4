#!/usr/bin/env bash
# The client benchmark: aweb's HTTP client (aw_client) beside aiohttp's
# ClientSession, then the fetch example's fan-out.
#
# Requests over keep-alive: nginx (one worker, on CPU 1) serves a 13-byte
# static file; each client runs on CPU 0 and GETs it N times from C tasks on
# one session (client_load.c for aweb, aiohttp_client.py for aiohttp: the
# same counting, the same output), one warm-up of CLIENT_WARMUP requests
# inside each run, CLIENT_REPS (2) runs per side alternating, the best kept.
# For each C of CLIENT_RUNS ("1:10000 64:40000", C:N pairs) both sides do
# the same N. wrk (-t1 -cC, 3 s, on CPU 0, alternating with the two, best
# of CLIENT_REPS too) against the same file gives what a bare epoll client
# in C gets from this nginx on this machine: at C = 1 that is the round
# trip's floor, which no client can beat.
#
# Fan-out: examples/hello (GET /slow?ms=100 answers after 100 ms; on CPU 1)
# and examples/fetch (on CPU 0) with a [fetch] section setting concurrency;
# curl asks fetch for 100 distinct URLs of hello's (/slow?ms=100&i=K). One
# cold request (fetch opens its connections), then FANOUT_REPS (3) more, the
# fastest kept; with concurrency = 100 (all at once) and with the default 10
# (ten rounds: about 1 s is the expected answer there).
#
# Prints `key value` lines:
#   SIDE_cC_rps      requests per second (SIDE aweb, aiohttp, wrk)
#   SIDE_cC_cpu_us   the client's CPU time (user + system) per request
#   SIDE_cC_cpu_pct  that time x requests/s: how busy the client kept its CPU
#   fanout_KK_ms     fetch's own time_ms for the 100 URLs (KK: the
#                    concurrency, c100 or c10), fastest warm run
#   fanout_KK_wall_ms  curl's time for the same request
#   fanout_KK_cold_ms  the first request's time_ms
# and `# ` lines about what was run. Each client run must answer every
# request with 200 and 13 bytes, and each fan-out must return 100 results,
# all 200, or the script fails (exit 1). About a minute.
#
# Usage: BUILD=build tests/bench/bench_client.sh
# Knobs: CLIENT_RUNS, CLIENT_REPS, CLIENT_WARMUP, FANOUT_REPS (above),
# ASYNCIO_PYTHON (/usr/bin/python3: Debian's python3-aiohttp). A missing
# aiohttp or wrk is skipped with a note.
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
BUILD=${BUILD:-build}
case $BUILD in /*) ;; *) BUILD=$ROOT/$BUILD ;; esac
PYTHON=${ASYNCIO_PYTHON:-/usr/bin/python3}
read -r -a RUNS <<<"${CLIENT_RUNS:-1:10000 64:40000}"
REPS=${CLIENT_REPS:-2}
WARMUP=${CLIENT_WARMUP:-1000}
FANOUT_REPS=${FANOUT_REPS:-3}
FANOUT_URLS=100
LOAD=$BUILD/bench/client_load
HELLO=$BUILD/examples/hello
FETCH=$BUILD/examples/fetch
NGINX=$(command -v nginx || echo /usr/sbin/nginx)
BODY="Hello, World!"
failures=0

die() {
    echo "bench_client.sh: $*" >&2
    exit 1
}

for bin in "$LOAD" "$HELLO" "$FETCH"; do
    [[ -x $bin ]] || die "$bin is missing: run 'make bench' (or make $bin)"
done
[[ -x $NGINX ]] || die "nginx is missing: 'make bench' installs it (Debian's nginx-light)"
command -v curl >/dev/null || die "curl is missing"

# --- servers ---------------------------------------------------------------------

# TMP, PID, PORT, MEASURED, STARTED, cleanup on exit, listening, free_port
CLEAN_EXIT='@(hello|fetch)' # the aweb examples
# shellcheck source=servers.sh
. "$HERE/servers.sh"

start_nginx() {
    PORT[nginx]=$(free_port)
    mkdir -p "$TMP/nginx/www"
    printf '%s' "$BODY" >"$TMP/nginx/www/index.html"
    nginx_conf 1024 <<EOF
default_type text/plain;
server {
    listen 127.0.0.1:${PORT[nginx]};
    root $TMP/nginx/www;
}
EOF
    PIN_SERVER=("${PIN1[@]}")
    start nginx "$NGINX" -p "$TMP/nginx" -c "$TMP/nginx/nginx.conf" -e "$TMP/nginx/error.log"
    ready nginx || die "nginx did not start"
}

# --- requests over keep-alive ----------------------------------------------------

# client SIDE C N: one run of SIDE's client on CPU 0; its output on stdout.
# Returns 1 (with a message) if it failed.
client() {
    local side=$1 c=$2 n=$3 rc=0 cmd=()
    local args=(--url "http://127.0.0.1:${PORT[nginx]}/index.html" --requests "$n"
        --concurrency "$c" --warmup "$WARMUP" --expect-len "${#BODY}")
    case $side in
    aweb) cmd=("$LOAD") ;;
    aiohttp) cmd=("$PYTHON" "$HERE/aiohttp_client.py") ;;
    esac
    "${PIN0[@]}" "${cmd[@]}" "${args[@]}" >"$TMP/client.out" 2>"$TMP/client.err" || rc=$?
    if ((rc != 0)); then
        echo "bench_client.sh: $side client, C=$c, failed (status $rc):" >&2
        sed 's/^/  /' "$TMP/client.out" "$TMP/client.err" >&2
        failures=$((failures + 1))
        return 1
    fi
    cat "$TMP/client.out"
}

# get KEY FILE: the value of `KEY value` in FILE (empty if none).
get() {
    awk -v k="$1" '$1 == k { print $2 }' "$2"
}

# wrk_floor C: wrk -t1 -cC against the same file, 3 s on CPU 0; its rate as
# a requests_per_s line (nothing if it failed).
wrk_floor() {
    local c=$1 out
    if out=$("${PIN0[@]}" wrk -t1 -c"$c" -d3s "http://127.0.0.1:${PORT[nginx]}/index.html" 2>&1)
    then
        awk '$1 == "Requests/sec:" { printf "requests_per_s %.0f\n", $2 }' <<<"$out"
    else
        echo "bench_client.sh: wrk -c$c failed: $(tail -1 <<<"$out")" >&2
    fi
}

requests() {
    local sides=(aweb) run c n s best v
    if "$PYTHON" -c 'import aiohttp' 2>/dev/null; then
        sides+=(aiohttp)
    else
        echo "# aiohttp: $PYTHON has no aiohttp (Debian's python3-aiohttp), skipped"
    fi
    if command -v wrk >/dev/null; then
        sides+=(wrk)
    else
        echo "# wrk: not installed (Debian's wrk), no floor"
    fi
    for run in "${RUNS[@]}"; do
        c=${run%%:*} n=${run#*:}
        for ((rep = 0; rep < REPS; rep++)); do
            for s in "${sides[@]}"; do
                if [[ $s == wrk ]]; then
                    wrk_floor "$c" >"$TMP/run.txt"
                else
                    client "$s" "$c" "$n" >"$TMP/run.txt" || continue
                fi
                v=$(get requests_per_s "$TMP/run.txt")
                [[ -n $v ]] || continue
                best=$(get requests_per_s "$TMP/best_${s}_$c" 2>/dev/null || true)
                if [[ -z $best ]] || awk -v v="$v" -v b="$best" 'BEGIN { exit !(v > b) }'; then
                    cp "$TMP/run.txt" "$TMP/best_${s}_$c"
                fi
            done
        done
        for s in "${sides[@]}"; do
            [[ -f $TMP/best_${s}_$c ]] || continue
            echo "${s}_c${c}_rps $(get requests_per_s "$TMP/best_${s}_$c")"
            [[ $s == wrk ]] && continue
            echo "${s}_c${c}_cpu_us $(get cpu_us_per_req "$TMP/best_${s}_$c")"
            echo "${s}_c${c}_connections $(get connections "$TMP/best_${s}_$c")"
            # the client's share of its CPU: well under 100% at C=64 means it
            # waited on nginx (or lost its CPU to other load)
            awk -v k="${s}_c${c}_cpu_pct" '$1 == "requests_per_s" { r = $2 }
                $1 == "cpu_us_per_req" { u = $2 } END { printf "%s %.0f\n", k, r * u / 1e4 }' \
                "$TMP/best_${s}_$c"
        done
    done
    for s in aweb aiohttp; do
        c=${RUNS[0]%%:*}
        if [[ -f $TMP/best_${s}_$c ]]; then
            sed -n '/^# /{s/ [0-9]* GETs/ N GETs/; s/ [0-9]* tasks/ C tasks/; p}' \
                "$TMP/best_${s}_$c"
        fi
    done
    echo "# requests: C:N = ${RUNS[*]}; best of $REPS runs per side, each after" \
        "$WARMUP warm-up requests; nginx $("$NGINX" -v 2>&1 | sed 's/.*nginx\///')" \
        "(one worker, CPU 1) serving ${#BODY} bytes; clients on CPU 0"
}

# --- fan-out ---------------------------------------------------------------------

# fanout_url: fetch's /fetch with FANOUT_URLS url= parameters, each a
# distinct URL of hello's /slow (percent-encoded: they carry ? and &).
fanout_url() {
    local q="" k
    for ((k = 0; k < FANOUT_URLS; k++)); do
        q+="${q:+&}url=http%3A%2F%2F127.0.0.1%3A${PORT[hello]}%2Fslow%3Fms%3D100%26i%3D$k"
    done
    echo "http://127.0.0.1:${PORT[fetch]}/fetch?$q"
}

# check_fanout FILE: prints fetch's time_ms if FILE holds FANOUT_URLS results,
# all with status 200; otherwise fails with what was wrong.
check_fanout() {
    "$PYTHON" - "$1" "$FANOUT_URLS" <<'EOF'
import json, sys
with open(sys.argv[1]) as f:
    d = json.load(f)
res = d.get("results", [])
bad = [r for r in res if r.get("status") != 200]
if len(res) != int(sys.argv[2]) or bad:
    sys.exit(f"{len(res)} results, {len(bad)} not 200: {bad[:1]}")
if len({r["url"] for r in res}) != len(res):
    sys.exit("the URLs are not distinct")
print(d["time_ms"])
EOF
}

# fanout KK CONCURRENCY: fetch with that [fetch] concurrency; its figures.
fanout() {
    local key=$1 conc=$2 url out ms wall best="" best_wall="" rep
    PORT[fetch]=$(free_port)
    cat >"$TMP/fetch.conf" <<EOF
[log]
access_log = off
level = warning
[fetch]
concurrency = $conc
EOF
    PIN_SERVER=("${PIN0[@]}")
    start fetch "$FETCH" --listen "127.0.0.1:${PORT[fetch]}" --conf "$TMP/fetch.conf"
    ready fetch || die "fetch did not start"
    url=$(fanout_url)
    for ((rep = 0; rep <= FANOUT_REPS; rep++)); do
        out=$TMP/fanout.json
        if ! wall=$("${PIN1[@]}" curl -sS -o "$out" -w '%{http_code} %{time_total}' "$url") ||
            [[ $wall != 200\ * ]] || ! ms=$(check_fanout "$out" 2>"$TMP/check.err"); then
            echo "bench_client.sh: fan-out ($key) failed: curl said '$wall';" \
                "$(cat "$TMP/check.err" 2>/dev/null)" >&2
            head -c 400 "$out" >&2 2>/dev/null || true
            failures=$((failures + 1))
            break
        fi
        wall=$(awk -v t="${wall#* }" 'BEGIN { printf "%.1f", t * 1000 }')
        if ((rep == 0)); then
            echo "fanout_${key}_cold_ms $ms"
            echo "fanout_${key}_cold_wall_ms $wall"
        elif [[ -z $best ]] || awk -v v="$ms" -v b="$best" 'BEGIN { exit !(v < b) }'; then
            best=$ms best_wall=$wall
        fi
    done
    if [[ -n $best ]]; then
        echo "fanout_${key}_ms $best"
        echo "fanout_${key}_wall_ms $best_wall"
    fi
    stop fetch
}

fanouts() {
    PORT[hello]=$(free_port)
    cat >"$TMP/hello.conf" <<EOF
[log]
access_log = off
level = warning
EOF
    PIN_SERVER=("${PIN1[@]}")
    start hello "$HELLO" --listen "127.0.0.1:${PORT[hello]}" --conf "$TMP/hello.conf"
    ready hello || die "hello did not start"
    fanout c100 100
    fanout c10 10
    stop hello
    echo "# fan-out: GET /fetch with $FANOUT_URLS URLs of examples/hello's /slow?ms=100" \
        "(CPU 1), examples/fetch on CPU 0; one cold request, then the fastest of $FANOUT_REPS"
}

# --- main ------------------------------------------------------------------------

start_nginx
requests
stop nginx
fanouts
((failures == 0))
