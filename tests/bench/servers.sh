# Sourced by the bench_*.sh drivers: a temporary directory, the servers they
# start (killed on exit, whatever happens), and free ports on loopback.
#
#   PID[name]   the process started for a server; PORT[name] its port;
#   MEASURED[name] the process to watch when it is not PID (nginx's worker)
#   STARTED     every process to stop on exit
#
# and what the drivers set: PIN_SERVER, the command that pins the next
# server started (taskset -c 0) or none; CLEAN_EXIT, a pattern of the names
# that must exit 0 on SIGTERM (aweb's graceful shutdown; aweb* unless set);
# failures, counted up when one does not.
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
declare -p PIN_SERVER &>/dev/null || PIN_SERVER=()
CLEAN_EXIT=${CLEAN_EXIT:-aweb*}
failures=${failures:-0}

# start NAME CMD...: starts CMD (stdout and stderr in $TMP/NAME.*).
start() {
    local name=$1
    shift
    "${PIN_SERVER[@]}" "$@" >"$TMP/$name.out" 2>"$TMP/$name.err" </dev/null &
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
