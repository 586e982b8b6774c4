#!/usr/bin/env bash
# The streams benchmark: loopback TCP through aw_stream tasks (echo_aweb:
# aw_listen in task mode, aw_stream_read + aw_stream_write) beside echo_uv, a
# plain libuv callback echo server, and TLS beside `openssl s_server`. The
# same client (loadgen, raw epoll + OpenSSL) drives all of them. Each server
# runs on CPU 0 and the client on CPU 1; the two sides alternate, STREAMS_REPS
# (3) runs of STREAMS_SECS (2) seconds each, and the best run of each side
# is kept: about 55 s in all.
#
#   echo   64 connections, 1 KiB ping-pong
#   bulk   4 connections streaming 64 KiB writes, echoed back
#   tls    TLS bulk, one-way (client -> server): `openssl s_server -quiet`
#          has no plain echo (its -rev mode reverses lines, flushing a record
#          per line), but its default mode decrypts what it receives and
#          writes it to stdout, here /dev/null: a sink. echo_aweb --mode sink
#          does the same work: read and discard until close_notify. s_server
#          serves one connection at a time, so the bulk run has one
#          connection
#   hs     TLS handshakes, 8 in flight (s_server takes them in turn)
#
# Both TLS servers use the same throwaway RSA-2048 certificate, made in the
# scratch directory: with RSA the server's signature (not the client's
# checks) is the dearest step, so the server is what is measured. TLS 1.3
# only, OpenSSL's default suites; no resumption.
#
# Prints `key value` lines, TEST_SIDE_KEY with SIDE aweb or peer and KEY one
# of loadgen's (msgs_per_s, mib_per_s, handshakes_per_s, per_server_cpu_s,
# server_cpu_pct), and `# ` notes; tests/bench/run.sh (bench_streams) prints
# the table. echo_aweb must exit 0 on SIGTERM (aw_run reaping the tasks of
# open connections is part of what is checked).
#
# Usage: BUILD=build tests/bench/bench_streams.sh
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
BUILD=${BUILD:-build}
case $BUILD in /*) ;; *) BUILD=$ROOT/$BUILD ;; esac
SECS=${STREAMS_SECS:-2}
REPS=${STREAMS_REPS:-3}

die() {
    echo "bench_streams.sh: $*" >&2
    exit 1
}

for bin in echo_aweb echo_uv loadgen; do
    [[ -x $BUILD/bench/$bin ]] || die "$BUILD/bench/$bin is missing: run 'make bench'"
done
command -v openssl >/dev/null || die "openssl not found: no TLS peer"


# TMP, PID, PORT, STARTED, cleanup on exit, start, ready, stop, free_port
# shellcheck source=servers.sh
. "$HERE/servers.sh"

# loadgen_run VAR NAME ARGS...: one loadgen run against server NAME (on its
# port, watching its CPU time); VAR gets the output.
loadgen_run() {
    local -n _out=$1
    local name=$2 rc=0 errors
    shift 2
    _out=$("${PIN_CLIENT[@]}" "$BUILD/bench/loadgen" "$@" --port "${PORT[$name]}" \
        --server-pid "${PID[$name]}") || rc=$?
    if ((rc != 0)); then
        echo "bench_streams.sh: loadgen $1 against $name failed (exit status $rc)" >&2
        failures=$((failures + 1))
    fi
    errors=$(awk '$1 == "errors" { print $2 }' <<<"$_out")
    if [[ -n $errors && $errors != 0 ]]; then
        echo "bench_streams.sh: loadgen $1 against $name: $errors connection(s) ended with an error" >&2
    fi
    if ! kill -0 "${PID[$name]}" 2>/dev/null; then
        echo "bench_streams.sh: $name died during loadgen $1" >&2
        failures=$((failures + 1))
    fi
}

# best_of TEST KEY AWEB PEER ARGS...: REPS alternating loadgen runs against
# servers AWEB and PEER; prints the figures of each side's best run by KEY
# (higher is better) as TEST_SIDE_* lines, and the aweb run's notes.
best_of() {
    local test=$1 key=$2 aweb=$3 peer=$4
    shift 4
    local -A server=([aweb]=$aweb [peer]=$peer) best=([aweb]=-1 [peer]=-1) kept=([aweb]="" [peer]="")
    local side out v
    for ((rep = 0; rep < REPS; rep++)); do
        for side in aweb peer; do
            loadgen_run out "${server[$side]}" "$@"
            v=$(awk -v k="$key" '$1 == k { print $2 }' <<<"$out")
            if [[ -n $v ]] && awk -v v="$v" -v b="${best[$side]}" 'BEGIN { exit !(v > b) }'; then
                best[$side]=$v kept[$side]=$out
            fi
        done
    done
    for side in aweb peer; do
        awk -v p="${test}_${side}_" 'NF == 2 && $1 !~ /^#/ { print p $1, $2 }' <<<"${kept[$side]}"
    done
    # what was run, and for TLS what each side negotiated
    grep '^# ' <<<"${kept[aweb]}" | grep -v '^# tls:' | sed 's/^# /# loadgen /' || true
    if [[ $test == hs ]]; then
        grep '^# tls:' <<<"${kept[aweb]}" | sed 's/^# /# aweb /' || true
        grep '^# tls:' <<<"${kept[peer]}" | sed "s/^# /# $peer /" || true
    fi
}

# --- plain TCP: echo_aweb against echo_uv ------------------------------------------

PORT[aweb]=$(free_port)
start aweb "$BUILD/bench/echo_aweb" --port "${PORT[aweb]}"
PORT[uv]=$(free_port)
start uv "$BUILD/bench/echo_uv" --port "${PORT[uv]}"
if ready aweb && ready uv; then
    best_of echo msgs_per_s aweb uv echo --secs "$SECS"
    best_of bulk mib_per_s aweb uv bulk --secs "$SECS"
else
    failures=$((failures + 1))
fi
stop aweb
stop uv

# --- TLS: echo_aweb --mode sink against s_server ------------------------------------

if ! openssl req -x509 -newkey rsa:2048 -nodes -keyout "$TMP/key.pem" -out "$TMP/cert.pem" \
    -days 1 -subj /CN=localhost 2>"$TMP/req.err" >/dev/null; then
    echo "bench_streams.sh: cannot make a certificate:" >&2
    sed 's/^/  /' "$TMP/req.err" >&2
    exit 1
fi
PORT[aweb_tls]=$(free_port)
start aweb_tls "$BUILD/bench/echo_aweb" --port "${PORT[aweb_tls]}" --tls "$TMP/cert.pem" \
    "$TMP/key.pem" --mode sink
PORT[s_server]=$(free_port)
# (its stdout is where it writes what it decrypts: /dev/null makes it a sink)
start s_server sh -c 'exec "$@" >/dev/null' sh openssl s_server -quiet -tls1_3 \
    -accept "127.0.0.1:${PORT[s_server]}" -cert "$TMP/cert.pem" -key "$TMP/key.pem"
if ready aweb_tls && ready s_server; then
    best_of tls mib_per_s aweb_tls s_server tls-bulk --secs "$SECS"
    best_of hs handshakes_per_s aweb_tls s_server tls-hs --secs "$SECS"
else
    failures=$((failures + 1))
fi
stop aweb_tls
stop s_server

echo "# runs: best of $REPS runs of $SECS s per side"
exit $((failures > 0))
