#!/usr/bin/env bash
# The soak test (`make soak`): one soak_server process under mixed load
# (keep-alive and pipelined HTTP, WebSocket chat, jobs, junk connections,
# all churning) from soak_load for SOAK_S seconds, then checks that
#   - the server's RSS is within 5% of its level after the warm-up,
#   - its open file descriptors (/proc/PID/fd) are back to the start count,
#   - every request and message is accounted for, counted on both sides:
#     requests sent = answered = handled by the server, chat messages sent =
#     received by the server = seen again by their sender, frames the room
#     sent = frames the members received, jobs accepted = spawned = finished,
#     junk that is not HTTP = 400s,
#   - the server shuts down gracefully (exit 0 on SIGTERM).
#
# The RSS is compared at like moments: after the warm-up run (WARMUP_S) and
# after the main run, each time once the load has stopped, the server's
# connections are closed and SETTLE_S seconds have passed. The runtime trims
# its pools every 10 s, releasing what went unused through the interval
# before, so two ticks (21 s) after the load the server holds what it needs
# idle and no more; sooner, the figure depends on where the ticks fell. The
# heap in use (mallinfo2, from /stats) is printed beside it: if the RSS grows,
# a growing heap means a leak, a steady one fragmentation. The RSS is also
# sampled every second; its peak is printed for information.
#
# Usage: BUILD=build SOAK_S=120 tests/soak/soak.sh
#   WARMUP_S (10), SETTLE_S (21), RSS_TOLERANCE_PCT (5); SOAK_SAMPLES=FILE keeps
#   the samples ("seconds RSS-KiB fds", one a second).
# Exit status: 0 if every check passed, 1 otherwise.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
BUILD=${BUILD:-build}
case $BUILD in /*) ;; *) BUILD=$ROOT/$BUILD ;; esac
SOAK_S=${SOAK_S:-120}
WARMUP_S=${WARMUP_S:-10}
SETTLE_S=${SETTLE_S:-21}
RSS_TOLERANCE_PCT=${RSS_TOLERANCE_PCT:-5}

SERVER=$BUILD/soak/soak_server
LOAD=$BUILD/soak/soak_load
for p in "$SERVER" "$LOAD"; do
    [[ -x $p ]] || { echo "soak.sh: $p is not built (make soak builds it)" >&2; exit 1; }
done

tmp=$(mktemp -d)
pid=""
sampler=""
cleanup() {
    if [[ -n $sampler ]]; then kill "$sampler" 2>/dev/null || true; fi
    if [[ -n $pid ]]; then kill -KILL "$pid" 2>/dev/null || true; fi
    rm -rf "$tmp"
}
trap cleanup EXIT

violations=0
violation() {
    echo "VIOLATION: $*"
    violations=$((violations + 1))
}

# Stops the test if the server died: nothing else can be checked then.
alive_or_die() {
    kill -0 "$pid" 2>/dev/null && return 0
    local st=0
    wait "$pid" || st=$?
    pid=""
    echo "soak: FAILED: the server died during $1 (status $st); its error log:"
    sed 's/^/  /' "$tmp/server.err" | tail -20
    exit 1
}

rss_kib() { awk '/^VmRSS:/ { print $2 }' "/proc/$pid/status"; }
fd_count() {
    local fds=("/proc/$pid/fd"/*)
    echo "${#fds[@]}"
}

# Waits (up to 20 s) until the server's fds are back to the start count:
# closing a connection takes the server a moment after the client has gone.
settle() {
    local i
    for ((i = 0; i < 200; i++)); do
        (($(fd_count) == fd_start)) && break
        sleep 0.1
    done
    sleep "$SETTLE_S"
}

# The server's heap in use, in KiB (its /stats: after the RSS and fd samples,
# since it takes a connection and some memory).
heap_in_use() {
    "$LOAD" --port "$port" --stats | awk '$1 == "server_heap_in_use" { print int($2 / 1024) }'
}

# value KEY FILE: the value of the `KEY value` line, or "n/a".
value() {
    awk -v k="$1" '$1 == k { v = $2 } END { print (v == "" ? "n/a" : v) }' "$2"
}

# --- start the server ------------------------------------------------------------

"$SERVER" --listen 127.0.0.1:0 --conf "$ROOT/tests/soak/soak.conf" \
    >"$tmp/server.out" 2>"$tmp/server.err" &
pid=$!
port=""
for ((i = 0; i < 100; i++)); do
    port=$(sed -n 's|^listening on http://127.0.0.1:\([0-9]*\)$|\1|p' "$tmp/server.out")
    [[ -n $port ]] && break
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
done
if [[ -z $port ]]; then
    echo "soak.sh: the server did not start" >&2
    cat "$tmp/server.err" >&2
    exit 1
fi
fd_start=$(fd_count)
rss_start=$(rss_kib)

# One sample a second for the whole test: seconds, RSS (KiB), fds.
(
    t=0
    while kill -0 "$pid" 2>/dev/null; do
        echo "$t $(awk '/^VmRSS:/ { print $2 }' "/proc/$pid/status" 2>/dev/null) \
$(find "/proc/$pid/fd" -mindepth 1 -maxdepth 1 2>/dev/null | wc -l)"
        sleep 1
        t=$((t + 1))
    done
) >"$tmp/samples" &
sampler=$!

echo "soak: server pid $pid on port $port; warm-up ${WARMUP_S}s, then ${SOAK_S}s of load"

# --- warm-up, then the run -------------------------------------------------------------

if ! "$LOAD" --port "$port" --secs "$WARMUP_S" >"$tmp/warm.out"; then
    violation "the warm-up load failed"
fi
alive_or_die "the warm-up"
settle
rss_warm=$(rss_kib)
fd_warm=$(fd_count)
heap_warm=$(heap_in_use)

if ! "$LOAD" --port "$port" --secs "$SOAK_S" >"$tmp/load.out"; then
    violation "the load generator failed"
fi
alive_or_die "the run"
settle
rss_end=$(rss_kib)
fd_end=$(fd_count)
heap_end=$(heap_in_use)
kill "$sampler" 2>/dev/null || true
wait "$sampler" 2>/dev/null || true
sampler=""
if [[ -n ${SOAK_SAMPLES:-} ]]; then cp "$tmp/samples" "$SOAK_SAMPLES"; fi

kill -TERM "$pid"
server_status=0
wait "$pid" || server_status=$?
pid=""

# --- the checks --------------------------------------------------------------------------

v() { value "$1" "$tmp/load.out"; }

# same A_KEY B_KEY WHAT: the two counters must be equal (and present).
same() {
    local a b
    a=$(v "$1")
    b=$(v "$2")
    if [[ $a == n/a || $b == n/a || $a != "$b" ]]; then
        violation "$3: $1 = $a, $2 = $b"
    fi
}
zero() {
    local a
    a=$(v "$1")
    [[ $a == 0 ]] || violation "$2: $1 = $a"
}

same http_sent http_answered "requests sent and answered"
same http_sent server_requests "requests sent and handled by the server"
zero http_wrong "wrong answers"
same jobs_accepted server_jobs_spawned "jobs accepted and spawned"
refused_sum=$(awk -v a="$(v jobs_accepted)" -v r="$(v server_jobs_refused)" 'BEGIN { print a + r }')
[[ $refused_sum == "$(v jobs_requested)" ]] ||
    violation "jobs requested $(v jobs_requested), accepted + refused $refused_sum"
same server_jobs_spawned server_jobs_finished "jobs spawned and finished"
same ws_sent server_ws_in "chat messages sent and received by the server"
same ws_sent ws_own_seen "chat messages sent and seen again by their sender"
same ws_received server_ws_out_acked "frames the room sent and the members received"
same ws_sessions ws_byes "chat sessions and goodbyes"
same ws_byes server_ws_byes "goodbyes sent and answered"
zero ws_mismatch "members whose frame count differs from the server's"
same junk_bad_sent junk_400 "non-HTTP requests and 400 answers"
zero errors "client errors (see above)"
zero server_ws_members "room members left at the end"
zero server_jobs_active "jobs left running"
((fd_end == fd_start)) || violation "open fds: $fd_start at the start, $fd_end at the end"
rss_ok=$(awk -v w="$rss_warm" -v e="$rss_end" -v t="$RSS_TOLERANCE_PCT" \
    'BEGIN { d = e - w; if (d < 0) d = -d; print (d * 100 <= t * w) ? 1 : 0 }')
((rss_ok)) || violation "RSS: ${rss_warm} KiB after the warm-up, ${rss_end} KiB at the end"
((server_status == 0)) || violation "the server exited with status $server_status on SIGTERM"
if [[ -s $tmp/server.err ]]; then
    echo "server's error log:"
    sed 's/^/  /' "$tmp/server.err" | head -20
fi

# --- the summary ---------------------------------------------------------------------------

read -r rss_peak fd_peak < <(awk '$2 > r { r = $2 } $3 > f { f = $3 } END { print r + 0, f + 0 }' \
    "$tmp/samples")
pct=$(awk -v w="$rss_warm" -v e="$rss_end" 'BEGIN { printf "%+.1f%%", (e - w) * 100 / w }')
echo
echo "== soak: ${SOAK_S}s of mixed load (after a ${WARMUP_S}s warm-up) =="
printf '%-34s %s\n' \
    "HTTP connections opened" "$(v http_conns) (+ $(v junk_conns) junk)" \
    "HTTP requests sent / answered" "$(v http_sent) / $(v http_answered) (server handled $(v server_requests), wrong $(v http_wrong))" \
    "jobs requested / accepted" "$(v jobs_requested) / $(v jobs_accepted)" \
    "jobs spawned / finished" "$(v server_jobs_spawned) / $(v server_jobs_finished) (refused $(v server_jobs_refused))" \
    "chat sessions / goodbyes" "$(v ws_sessions) / $(v ws_byes) (+ $(v lurkers) lurkers)" \
    "chat messages sent / received" "$(v ws_sent) / $(v server_ws_in) by the server, $(v ws_own_seen) seen by sender" \
    "room frames sent / received" "$(v server_ws_out_acked) / $(v ws_received) (to lurkers too: $(v server_ws_out))" \
    "non-HTTP requests / 400s" "$(v junk_bad_sent) / $(v junk_400)" \
    "client errors" "$(v errors)" \
    "RSS start / warm / end / peak" "$rss_start / $rss_warm / $rss_end / $rss_peak KiB (end vs warm $pct, limit ${RSS_TOLERANCE_PCT}%)" \
    "heap in use warm / end" "$heap_warm / $heap_end KiB" \
    "open fds start / warm / end / peak" "$fd_start / $fd_warm / $fd_end / $fd_peak" \
    "server exit status (SIGTERM)" "$server_status"
if ((violations)); then
    echo "soak: FAILED ($violations violations)"
    exit 1
fi
echo "soak: ok"
