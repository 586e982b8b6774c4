# Sourced by the bench_*.sh drivers: a temporary directory, the servers they
# start (killed on exit, whatever happens), and free ports on loopback.
#
#   PID[name]   the process started for a server; PORT[name] its port;
#   MEASURED[name] the process to watch when it is not PID (nginx's worker)
#   STARTED     every process to stop on exit
# shellcheck shell=bash

TMP=$(mktemp -d)
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
