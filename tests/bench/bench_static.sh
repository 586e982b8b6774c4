#!/usr/bin/env bash
# The static files benchmark: wrk against tests/bench/static_server (aweb's
# middleware/static.h and compress.h) and nginx serving the same directory,
# in the same run, each server one process (nginx: one worker) on CPU 0,
# wrk on CPU 1 with one thread and 64 keep-alive connections:
#
#   4k     GET /static/f4k.bin, a 4 KiB file
#   1m     GET /static/f1m.bin, a 1 MiB file
#   gzip   GET /json with Accept-Encoding: gzip: a 16 KiB JSON body
#          compressed per request at level STATIC_GZIP_LEVEL (6) by both
#          (aweb: a handler's whole body through the compression
#          middleware; nginx: the same bytes from a file, gzip on)
#
# nginx runs as Debian ships it for files: sendfile on, tcp_nopush on,
# open_file_cache off, access_log off. Each shape: a warm-up, then the
# measured run, STATIC_REPS (2) times with the servers alternating; the run
# with the most requests/s is kept. Before measuring, both servers' answers
# are checked to be the same bytes (and gzip for /json).
#
# Prints `key value` lines (SERVER_SHAPE_rps, SERVER_SHAPE_cpu_us: the
# server's CPU time per request; SERVER_gzip_bytes: a compressed body's
# size) and `# ` notes; tests/bench/run.sh (bench_static) prints the table.
#
# Usage: BUILD=build tests/bench/bench_static.sh
# Knobs: STATIC_SECS (4), STATIC_WARMUP (1), STATIC_REPS (2), STATIC_CONNS
# (64), STATIC_GZIP_LEVEL (6). About 1 minute with the defaults.
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
BUILD=${BUILD:-build}
case $BUILD in /*) ;; *) BUILD=$ROOT/$BUILD ;; esac
SECS=${STATIC_SECS:-4}
WARMUP=${STATIC_WARMUP:-1}
REPS=${STATIC_REPS:-2}
CONNS=${STATIC_CONNS:-64}
LEVEL=${STATIC_GZIP_LEVEL:-6}
SERVER=$BUILD/bench/static_server
NGINX=$(command -v nginx || echo /usr/sbin/nginx)
CLK_TCK=$(getconf CLK_TCK)

die() {
    echo "bench_static.sh: $*" >&2
    exit 1
}

command -v wrk >/dev/null || die "wrk is missing: 'make bench' installs it (Debian's wrk)"
[[ -x $SERVER ]] || die "$SERVER is missing: run 'make bench'"


# TMP, PID, PORT, MEASURED, STARTED, cleanup on exit, listening, free_port
# shellcheck source=servers.sh
. "$HERE/servers.sh"

# --- the directory and the servers ------------------------------------------------

make_files() {
    mkdir -p "$TMP/www"
    head -c 4096 /dev/urandom >"$TMP/www/f4k.bin"
    head -c 1048576 /dev/urandom >"$TMP/www/f1m.bin"
    # 16 KiB of JSON that compresses as an API's answer does (about 5x)
    python3 - "$TMP/www/data.json" <<'EOF'
import json, random, sys
random.seed(7)
words = "alpha beta gamma delta epsilon zeta theta kappa lambda sigma omega".split()
items, i = [], 0
while len(json.dumps(items)) < 16384:
    items.append({"id": i, "name": "user%d" % random.randrange(100000),
                  "email": "u%d@example.com" % random.randrange(100000),
                  "score": round(random.random() * 1000, 3),
                  "tags": random.sample(words, 3), "active": random.random() < 0.5})
    i += 1
data = json.dumps(items[:-1])  # under 16 KiB: padded with JSON whitespace
open(sys.argv[1], "w").write(data + " " * (16384 - len(data)))
EOF
}

write_confs() {
    cat >"$TMP/aweb.conf" <<EOF
[timeouts]
keepalive = 300s
[log]
access_log = off
level = warning
EOF
    nginx_conf 1024 <<EOF
sendfile on;
tcp_nopush on;
types {
    application/octet-stream bin;
    application/json json;
}
gzip on;
gzip_comp_level $LEVEL;
gzip_min_length 1024;
gzip_types application/json;
gzip_vary on;
server {
    listen 127.0.0.1:${PORT[nginx]};
    location /static/ {
        alias $TMP/www/;
    }
    location = /json {
        default_type application/json;
        alias $TMP/www/data.json;
    }
}
EOF
}

# same_answers: both servers give the same bytes for each file, and gzip for /json.
same_answers() {
    local f a b s
    for f in /static/f4k.bin /static/f1m.bin /json; do
        a=$(curl -s --compressed "http://127.0.0.1:${PORT[aweb]}$f" | sha256sum)
        for s in "${LIVE[@]}"; do
            b=$(curl -s --compressed "http://127.0.0.1:${PORT[$s]}$f" | sha256sum)
            [[ $a == "$b" ]] || echo "# $s: $f differs from aweb's answer"
        done
    done
    for s in "${LIVE[@]}"; do
        curl -s -D "$TMP/h.txt" -o "$TMP/b.gz" -H 'Accept-Encoding: gzip' \
            "http://127.0.0.1:${PORT[$s]}/json"
        grep -qi '^content-encoding: gzip' "$TMP/h.txt" || echo "# $s: /json was not gzipped"
        echo "${s}_gzip_bytes $(stat -c %s "$TMP/b.gz")"
    done
}

# --- measuring ----------------------------------------------------------------------

cpu_ticks() {
    sed 's/.*) //' "/proc/$1/stat" | awk '{ print $12 + $13 }'
}

wrk_run() {
    local shape=$1 port=$2 secs=$3 path args=()
    case $shape in
    4k) path=/static/f4k.bin ;;
    1m) path=/static/f1m.bin ;;
    gzip) path=/json args=(-H "Accept-Encoding: gzip") ;;
    esac
    "${PIN_CLIENT[@]}" wrk -t1 -c"$CONNS" -d"${secs}s" "${args[@]}" "http://127.0.0.1:$port$path"
}

measure() {
    local name=$1 shape=$2 pid=${MEASURED[$1]} port=${PORT[$1]} out c0 c1 requests
    kill -0 "$pid" 2>/dev/null || return 0
    if ! out=$(wrk_run "$shape" "$port" "$WARMUP" 2>&1) || ! {
        c0=$(cpu_ticks "$pid")
        out=$(wrk_run "$shape" "$port" "$SECS" 2>&1)
    }; then
        echo "bench_static.sh: wrk failed against $name ($shape):" >&2
        sed 's/^/  /' <<<"$out" >&2
        return 0
    fi
    c1=$(cpu_ticks "$pid")
    requests=$(awk '/ requests in / { print $1 }' <<<"$out")
    printf '%s_%s_rps %.0f\n' "$name" "$shape" \
        "$(awk '$1 == "Requests/sec:" { print $2 }' <<<"$out")"
    awk -v c="$((c1 - c0))" -v hz="$CLK_TCK" -v r="$requests" -v n="$name" -v s="$shape" \
        'BEGIN { if (r > 0) printf "%s_%s_cpu_us %.2f\n", n, s, c / hz * 1e6 / r }'
    awk -v n="$name" -v s="$shape" '/Socket errors|Non-2xx/ {
        sub(/^ +/, ""); print "# " n " " s ": " $0 }' <<<"$out"
}

# --- main ---------------------------------------------------------------------------

make_files
PORT[aweb]=$(free_port)
PORT[nginx]=$(free_port)
write_confs
start aweb "$SERVER" --dir "$TMP/www" --gzip "$LEVEL" --listen "127.0.0.1:${PORT[aweb]}" \
    --conf "$TMP/aweb.conf"
ready aweb || die "aweb's static_server did not start"
LIVE=(aweb)
if [[ -x $NGINX ]]; then
    start nginx "$NGINX" -p "$TMP/nginx" -c "$TMP/nginx/nginx.conf" -e "$TMP/nginx/error.log"
    if ready nginx; then LIVE+=(nginx); fi
else
    echo "# nginx: not installed (Debian's nginx-light), skipped"
fi
same_answers

declare -A best=() best_rps=()
for ((rep = 0; rep < REPS; rep++)); do
    for shape in 4k 1m gzip; do
        for s in "${LIVE[@]}"; do
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
for shape in 4k 1m gzip; do
    for s in "${LIVE[@]}"; do
        if [[ -n ${best[$s/$shape]:-} ]]; then echo "${best[$s/$shape]}"; fi
    done
done
echo "# wrk $(wrk -v 2>&1 | awk 'NR == 1 { print $2 }'): -t1 -c$CONNS keep-alive, ${WARMUP} s" \
    "warm-up + ${SECS} s per run, best of $REPS; server on CPU 0, wrk on CPU 1"
[[ " ${LIVE[*]} " == *" nginx "* ]] &&
    echo "# nginx $("$NGINX" -v 2>&1 | sed 's/.*nginx\///'): one worker, sendfile on," \
        "tcp_nopush on, gzip_comp_level $LEVEL, access_log off"
echo "# gzip level $LEVEL on both; /json is 16 KiB of JSON"
exit 0
