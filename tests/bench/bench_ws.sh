#!/usr/bin/env bash
# The ws benchmark: WebSockets in aweb beside aiohttp's WebSocketResponse,
# both driven by the same load generator (wsload.c: raw sockets and epoll,
# its own handshake, masked frames, no compression offered). Each server is
# one process on CPU 0; wsload runs on CPU 1. Four servers:
#
#   aweb          examples/hello, GET /ws (echo, 30 s heartbeat)
#   aiohttp       aiohttp_ws.py, GET /ws (the same echo, the same heartbeat)
#   aweb_room     ws_bcast_server: /ws joins a room, "bcast" sends a 32-byte
#                 message to every member
#   aiohttp_room  aiohttp_ws.py --room: the same
#
# Figures, in this order:
#   ping-pong   WS_CONNS (64) connections each send a 32-byte text frame and
#               wait for its echo; WS_WARMUP (1) s then WS_SECS (5) s measured,
#               WS_REPS (2) runs per server alternating, the best kept
#   idle        WS_IDLE (10,000) WebSockets opened and left idle; the echo
#               server's VmRSS before (after the ping-pong runs) and after
#   broadcast   WS_BCAST (5,000) members; WS_ROUNDS (10) broadcasts after a
#               warm-up, each timed from the trigger's write until the last
#               member has the message; WS_REPS runs per server, the run
#               with the lowest median kept
#
# Prints `key value` lines, SERVER_FIGURE (SERVER aweb or aiohttp):
#   *_rt_per_s          round trips per second, all connections together
#   *_cpu_us_per_rt     server utime + stime (/proc/PID/stat) over the
#                       measured run / round trips
#   *_server_cpu_pct    *_cpu0_other_pct   *_cpu1_pct   where CPU time went
#   *_idle_rss_bytes    (RSS after - RSS before) / WebSockets
#   *_bcast_best_ms     *_bcast_median_ms
# and `# ` lines about what was run and anything odd. `make bench` runs it
# through tests/bench/run.sh, which prints the table. About a minute.
#
# Usage: BUILD=build tests/bench/bench_ws.sh
# Knobs: WS_SECS, WS_WARMUP, WS_REPS, WS_CONNS, WS_IDLE, WS_BCAST, WS_ROUNDS
# (above), ASYNCIO_PYTHON (/usr/bin/python3: Debian's python3-aiohttp).
# A missing aiohttp is skipped with a note; the script fails only when aweb
# or wsload does.
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
BUILD=${BUILD:-build}
case $BUILD in /*) ;; *) BUILD=$ROOT/$BUILD ;; esac
PYTHON=${ASYNCIO_PYTHON:-/usr/bin/python3}
SECS=${WS_SECS:-5}
WARMUP=${WS_WARMUP:-1}
REPS=${WS_REPS:-2}
CONNS=${WS_CONNS:-64}
IDLE=${WS_IDLE:-10000}
BCAST=${WS_BCAST:-5000}
ROUNDS=${WS_ROUNDS:-10}
HELLO=$BUILD/examples/hello
ROOM=$BUILD/bench/ws_bcast_server
WSLOAD=$BUILD/bench/wsload
failures=0

die() {
    echo "bench_ws.sh: $*" >&2
    exit 1
}

for bin in "$HELLO" "$ROOM" "$WSLOAD"; do
    [[ -x $bin ]] || die "$bin is missing: run 'make bench' (or make $bin)"
done


# 10,000 WebSockets need as many descriptors in the server and in wsload.
ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)"
for var in IDLE BCAST; do
    if (($(ulimit -n) < ${!var} + 100)); then
        echo "bench_ws.sh: open file limit $(ulimit -n) is below ${!var} connections:" \
            "WS_$var lowered" >&2
        printf -v "$var" %d $(($(ulimit -n) - 100))
    fi
done

# --- servers ---------------------------------------------------------------------

# TMP, PID, PORT, MEASURED, STARTED, cleanup on exit, listening, free_port
# shellcheck source=servers.sh
. "$HERE/servers.sh"

start_servers() {
    local s
    for s in aweb aweb_room aiohttp aiohttp_room; do
        PORT[$s]=$(free_port)
    done
    cat >"$TMP/aweb.conf" <<EOF
[server]
max_connections = $(((IDLE > BCAST ? IDLE : BCAST) + 1000))
[timeouts]
keepalive = 300s
shutdown = 5s
[log]
access_log = off
level = warning
EOF
    start aweb "$HELLO" --listen "127.0.0.1:${PORT[aweb]}" --conf "$TMP/aweb.conf"
    start aweb_room "$ROOM" --listen "127.0.0.1:${PORT[aweb_room]}" --conf "$TMP/aweb.conf"
    if "$PYTHON" -c 'import aiohttp' 2>/dev/null; then
        start aiohttp "$PYTHON" "$HERE/aiohttp_ws.py" "${PORT[aiohttp]}"
        start aiohttp_room "$PYTHON" "$HERE/aiohttp_ws.py" "${PORT[aiohttp_room]}" --room
    else
        echo "# aiohttp: $PYTHON has no aiohttp (Debian's python3-aiohttp), skipped"
    fi
    for s in "${!PID[@]}"; do
        if ! ready "$s"; then
            [[ $s == aweb* ]] && failures=$((failures + 1))
            kill -TERM "${PID[$s]}" 2>/dev/null || true
            unset "PID[$s]"
        fi
    done
}

# --- measuring -------------------------------------------------------------------

rss_bytes() {
    awk '$1 == "VmRSS:" { print $2 * 1024 }' "/proc/$1/status"
}

# wsload NAME OUT ARGS...: one wsload run on CPU 1 against server NAME, its
# output in OUT. Returns 1 (with a message) if it or the server failed.
wsload() {
    local name=$1 out=$2 rc=0
    shift 2
    "${PIN_CLIENT[@]}" "$WSLOAD" "$@" --port "${PORT[$name]}" >"$out" 2>"$TMP/wsload.err" ||
        rc=$?
    if ((rc != 0)) || ! kill -0 "${PID[$name]}" 2>/dev/null; then
        echo "bench_ws.sh: wsload $1 against $name failed (status $rc):" >&2
        sed 's/^/  /' "$TMP/wsload.err" >&2
        kill -0 "${PID[$name]}" 2>/dev/null || echo "  ($name died)" >&2
        [[ $name == aweb* ]] && failures=$((failures + 1))
        return 1
    fi
}

# get KEY FILE: the value of `KEY value` in FILE (empty if none).
get() {
    awk -v k="$1" '$1 == k { print $2 }' "$2"
}

# pingpong SIDE: one run; its figures, SIDE_-prefixed, on stdout.
pingpong() {
    local side=$1 out=$TMP/pp.txt
    wsload "$side" "$out" pingpong "$CONNS" "$SECS" --warmup "$WARMUP" \
        --server-pid "${PID[$side]}" || return 0
    awk -v s="$side" '
        $1 == "round_trips_per_s" { print s "_rt_per_s", $2 }
        $1 == "server_cpu_us_per_rt" { print s "_cpu_us_per_rt", $2 }
        $1 == "server_cpu_pct" { srv = $2; print s "_server_cpu_pct", $2 }
        $1 == "cpu0_busy_pct" { c0 = $2 }
        $1 == "cpu1_busy_pct" { print s "_cpu1_pct", $2 }
        END {
            other = c0 - srv   # the two clocks differ by a few ticks: clamp at 0
            if (other < 0) other = 0
            print s "_cpu0_other_pct", other
            if (other > 10)
                printf "# %s ping-pong: other work took %d%% of CPU 0 (the server'"'"'s):" \
                    " figures unreliable\n", s, other
        }' "$out"
}

# idle SIDE: RSS per idle WebSocket.
idle() {
    local side=$1 pid=${PID[$1]} r0 r1 got="" hold
    sleep 0.5
    r0=$(rss_bytes "$pid")
    mkfifo "$TMP/idle.in"
    "${PIN_CLIENT[@]}" "$WSLOAD" idle "$IDLE" --port "${PORT[$side]}" \
        <"$TMP/idle.in" >"$TMP/idle.out" 2>"$TMP/idle.err" &
    local cpid=$!
    exec {hold}>"$TMP/idle.in" # wsload's stdin: it holds until this closes
    for _ in {1..1200}; do
        got=$(get ready "$TMP/idle.out")
        [[ -n $got ]] && break
        kill -0 "$cpid" 2>/dev/null || break
        sleep 0.05
    done
    if [[ -n $got ]]; then
        sleep 1
        r1=$(rss_bytes "$pid")
        awk -v a="$r0" -v b="$r1" -v n="$got" -v s="$side" \
            'BEGIN { printf "%s_idle_rss_bytes %.0f\n", s, (b - a) / n }'
        echo "${side}_idle_conns $got"
        echo "${side}_rss_before_kib $((r0 / 1024))"
        echo "${side}_rss_after_kib $((r1 / 1024))"
        sed -n "s/^# connect: /# $side idle: /p" "$TMP/idle.out"
    else
        echo "bench_ws.sh: idle WebSockets to $side failed:" >&2
        sed 's/^/  /' "$TMP/idle.err" >&2
        [[ $side == aweb ]] && failures=$((failures + 1))
    fi
    exec {hold}>&-
    wait "$cpid" 2>/dev/null || true
    rm -f "$TMP/idle.in"
    sleep 1 # the server closes them all: let it finish before the next figure
}

# bcast SIDE: one broadcast run; its figures, SIDE_-prefixed, on stdout.
bcast() {
    local side=$1 out=$TMP/bc.txt
    wsload "${side}_room" "$out" bcast "$BCAST" --rounds "$ROUNDS" || return 0
    awk -v s="$side" '$1 ~ /^bcast_/ { print s "_" $1, $2 }' "$out"
}

# best OUT KEY CMP FUNC ARGS...: runs FUNC ARGS... and keeps its output in
# OUT if KEY beats the value already there (CMP: max or min).
best() {
    local file=$1 key=$2 cmp=$3 v old
    shift 3
    "$@" >"$TMP/run.txt"
    v=$(get "$key" "$TMP/run.txt")
    [[ -n $v ]] || return 0
    old=$(get "$key" "$file" 2>/dev/null || true)
    if [[ -z $old ]] || awk -v v="$v" -v o="$old" -v c="$cmp" \
        'BEGIN { exit !(c == "max" ? v > o : v < o) }'; then
        cp "$TMP/run.txt" "$file"
    fi
}

# --- main ------------------------------------------------------------------------

start_servers
sides=(aweb)
if [[ -n ${PID[aiohttp]:-} && -n ${PID[aiohttp_room]:-} ]]; then sides+=(aiohttp); fi
for ((rep = 0; rep < REPS; rep++)); do
    for s in "${sides[@]}"; do
        best "$TMP/pp_$s" "${s}_rt_per_s" max pingpong "$s"
    done
done
for s in "${sides[@]}"; do
    if [[ -f $TMP/pp_$s ]]; then cat "$TMP/pp_$s"; fi
done
for s in "${sides[@]}"; do
    idle "$s"
done
for ((rep = 0; rep < REPS; rep++)); do
    for s in "${sides[@]}"; do
        best "$TMP/bc_$s" "${s}_bcast_median_ms" min bcast "$s"
    done
done
for s in "${sides[@]}"; do
    if [[ -f $TMP/bc_$s ]]; then cat "$TMP/bc_$s"; fi
done
for s in "${!PID[@]}"; do
    stop "$s"
done

echo "# ping-pong: $CONNS connections, 32-byte text frames, ${WARMUP} s warm-up +" \
    "${SECS} s per run, best of $REPS; server on CPU 0, wsload on CPU 1"
echo "# idle: $IDLE WebSockets, RSS delta / connections; broadcast: $BCAST members," \
    "$ROUNDS timed rounds per run, the run with the lowest median of $REPS"
[[ -z ${PID[aiohttp]:-} ]] ||
    echo "# aiohttp $("$PYTHON" -c 'import aiohttp; print(aiohttp.__version__)') on" \
        "$("$PYTHON" -V 2>&1) ($PYTHON), default asyncio loop, heartbeat 30 s as hello's"
((failures == 0))
