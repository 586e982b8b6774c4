# Sourced by the bench_*.sh drivers: a temporary directory, the servers they
# start (killed on exit, whatever happens), and free ports on loopback.
#
#   PID[name]   the process started for a server; PORT[name] its port;
#   MEASURED[name] the process to watch when it is not PID (nginx's worker)
#   STARTED     every process to stop on exit
#
# PIN0, PIN1, PIN_SERVER and PIN_CLIENT (below), and what the drivers set:
# CLEAN_EXIT, a pattern of the names that must exit 0 on SIGTERM (aweb's
# graceful shutdown; aweb* unless set); failures, counted up when one does
# not.
# shellcheck shell=bash

TMP=$(mktemp -d)
# shellcheck disable=SC2034 # (MEASURED is read by the drivers)
declare -A PID=() PORT=() MEASURED=()
STARTED=()

cleanup() {
    local p
    for p in "${STARTED[@]}"; do
        kill -TERM "$p" 2>/dev/null || true
    done
    for p in "${STARTED[@]}"; do
        wait "$p" 2>/dev/null || true
    done
    STARTED=()
    rm -rf "$TMP"
}
trap cleanup EXIT
trap 'cleanup; exit 130' INT TERM

# listening PORT: whether something listens on 127.0.0.1:PORT (IPv4).
listening() {
    awk -v p="$(printf ':%04X' "$1")" '$2 ~ p "$" && $4 == "0A" { f = 1 } END { exit !f }' \
        /proc/net/tcp
}

# free_port: a port nothing listens on, below the ephemeral range.
free_port() {
    local p
    for _ in {1..100}; do
        p=$((20000 + RANDOM % 12000))
        if ! listening "$p" && [[ " ${PORT[*]} " != *" $p "* ]]; then
            echo "$p"
            return
        fi
    done
    die "no free port found"
}

ME=$(basename "$0")

# CPU 0 for the servers and CPU 1 for the load, when taskset and a second CPU
# are there: PIN0 and PIN1 pin a command to each. PIN_SERVER pins the next
# server started (PIN0 unless the driver says otherwise), PIN_CLIENT the load.
PIN0=() PIN1=()
if command -v taskset >/dev/null && (($(nproc) >= 2)); then
    PIN0=(taskset -c 0) PIN1=(taskset -c 1)
else
    echo "$ME: taskset or a second CPU missing: nothing is pinned" >&2
fi
# shellcheck disable=SC2034 # (PIN_CLIENT is the drivers')
PIN_SERVER=("${PIN0[@]}") PIN_CLIENT=("${PIN1[@]}")
CLEAN_EXIT=${CLEAN_EXIT:-aweb*}
failures=${failures:-0}

# start NAME CMD...: starts CMD (stdout and stderr in $TMP/NAME.*). Its stdin
# is a FIFO it holds open itself, so that it never has data nor ends:
# `openssl s_server` polls stdin beside its connection and, given /dev/null,
# spins on the end of file instead of waiting.
start() {
    local name=$1
    shift
    [[ -p $TMP/idle.fifo ]] || mkfifo "$TMP/idle.fifo"
    "${PIN_SERVER[@]}" "$@" >"$TMP/$name.out" 2>"$TMP/$name.err" <>"$TMP/idle.fifo" &
    PID[$name]=$!
    MEASURED[$name]=$!
    STARTED+=($!)
}

# ready NAME: waits (10 s at most) until NAME listens on its port; for
# nginx, finds its one worker. Returns 1, with the server's output, if not.
ready() {
    local name=$1 kids
    for _ in {1..200}; do
        kill -0 "${PID[$name]}" 2>/dev/null || break
        if listening "${PORT[$name]}"; then
            [[ $name != nginx ]] && return 0
            # (no newline at the end of that file: read returns 1)
            read -r -a kids <"/proc/${PID[nginx]}/task/${PID[nginx]}/children" || true
            if ((${#kids[@]} == 1)); then
                # shellcheck disable=SC2034 # (read by the drivers)
                MEASURED[nginx]=${kids[0]}
                return 0
            fi
        fi
        sleep 0.05
    done
    echo "$ME: $name did not start:" >&2
    sed 's/^/  /' "$TMP/$name.err" "$TMP/$name.out" >&2
    return 1
}

# stop NAME: SIGTERM, SIGKILL after 10 s.
stop() {
    local name=$1 pid=${PID[$1]} rc=0 p keep=()
    kill -TERM "$pid" 2>/dev/null || true
    for _ in {1..200}; do
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.05
    done
    kill -KILL "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || rc=$?
    for p in "${STARTED[@]}"; do
        [[ $p == "$pid" ]] || keep+=("$p")
    done
    STARTED=("${keep[@]}")
    # shellcheck disable=SC2053 # CLEAN_EXIT is a pattern
    if [[ $name == $CLEAN_EXIT && $rc != 0 ]]; then
        echo "$ME: $name exited with status $rc after SIGTERM:" >&2
        sed 's/^/  /' "$TMP/$name.err" >&2
        failures=$((failures + 1))
    fi
}

# nginx_conf CONNECTIONS: writes $TMP/nginx/nginx.conf: one worker process in
# the foreground taking up to CONNECTIONS connections, its files under
# $TMP/nginx, no access log, keep-alive for 300 s and a million requests; the
# lines on stdin go inside http { } after those. Start it with
#   start nginx "$NGINX" -p "$TMP/nginx" -c "$TMP/nginx/nginx.conf" -e "$TMP/nginx/error.log"
nginx_conf() {
    local conns=$1 user=""
    (($(id -u) == 0)) && user="user root;"
    mkdir -p "$TMP/nginx"
    {
        cat <<EOF
daemon off;
master_process on;
$user
worker_processes 1;
worker_rlimit_nofile $conns;
pid $TMP/nginx/nginx.pid;
error_log $TMP/nginx/error.log warn;
events {
    worker_connections $conns;
}
http {
    access_log off;
    keepalive_timeout 300s;
    keepalive_requests 1000000;
    client_body_temp_path $TMP/nginx/body;
    proxy_temp_path $TMP/nginx/proxy;
    fastcgi_temp_path $TMP/nginx/fastcgi;
    uwsgi_temp_path $TMP/nginx/uwsgi;
    scgi_temp_path $TMP/nginx/scgi;
EOF
        sed 's/^/    /'
        echo "}"
    } >"$TMP/nginx/nginx.conf"
}
