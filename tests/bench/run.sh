#!/usr/bin/env bash
# Benchmarks for `make bench`: each one runs aweb and its peer on the same
# workload and prints a table of figure, aweb, peer, ratio and target.
#
# The ratio is always turned so that > 1 means aweb is better (peer/aweb for
# times and sizes, where less is better). A figure that misses its target is
# marked MISSED but is not a failure: benchmarks on a shared machine are
# noisy, and `make bench` is a report, not a test. The script exits non-zero
# only when a benchmark program itself fails (crashes or exits non-zero).
#
# Usage: BUILD=build tests/bench/run.sh [NAME...]   (default: every benchmark)
#
# Adding a benchmark: write a function bench_NAME that runs both sides with
# run_side, prints a header with section and rows with row, and add NAME to
# BENCHES. (Planned: http, wrk against the hello example and nginx; ws, the
# WebSocket echo; streams.)
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
BUILD=${BUILD:-build}
case $BUILD in /*) ;; *) BUILD=$ROOT/$BUILD ;; esac
# Debian's interpreter, not whatever `python3` is first on PATH (a pyenv build
# here): the peer figures should be those of the Python users actually get.
ASYNCIO_PYTHON=${ASYNCIO_PYTHON:-/usr/bin/python3}

BENCHES=(runtime)
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
