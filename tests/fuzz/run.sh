#!/usr/bin/env bash
# make fuzz: runs every built fuzz target for a while on a copy of its corpus.
#
#   tests/fuzz/run.sh BUILD SECONDS [NAME...]
#
# The committed seeds (tests/fuzz/corpus/NAME) are copied into
# BUILD/fuzz-corpus/NAME, which keeps what earlier runs found; new inputs go
# there, never into the repository. Findings land in BUILD/fuzz-artifacts.
# Prints one line per target and fails if any target found something.
set -uo pipefail
cd "$(dirname "$0")/../.."
build=${1:?build directory}
secs=${2:-60}
shift 2 || true
names=("$@")
if [ ${#names[@]} -eq 0 ]; then
  for f in tests/fuzz/fuzz_*.c; do names+=("$(basename "$f" .c)"); done
fi

# detect_stack_use_after_return stays off: it does not follow fiber switches
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_stack_use_after_return=0:handle_abort=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}

failed=0
mkdir -p "$build/fuzz-artifacts" "$build/fuzz-logs"
for fz in "${names[@]}"; do
  name=${fz#fuzz_}
  bin="$build/fuzz/$fz"
  corpus="$build/fuzz-corpus/$name"
  log="$build/fuzz-logs/$name.log"
  mkdir -p "$corpus"
  [ -d "tests/fuzz/corpus/$name" ] && cp -r "tests/fuzz/corpus/$name/." "$corpus/"
  args=(-max_total_time="$secs" -timeout=20 -rss_limit_mb=2048 -print_final_stats=1
        -artifact_prefix="$build/fuzz-artifacts/$name-")
  [ -f "tests/fuzz/$name.dict" ] && args+=(-dict="tests/fuzz/$name.dict")
  [ -f "tests/fuzz/$name.options" ] && read -r -a extra < "tests/fuzz/$name.options" && args+=("${extra[@]}")
  # a target that does not exit on its own within its time (plus start-up and
  # the final merge of its corpus) is stuck
  # (through a shell that records the target's pid and becomes it: a target
  # that crashed could not remove its Unix socket, /tmp/aweb-fuzz-NAME-PID.sock)
  timeout -k 5 $((secs * 2 + 60)) bash -c 'echo $$ > "$0"; exec "$@"' "$log.pid" \
    "$bin" "${args[@]}" "$corpus" > "$log" 2>&1
  rc=$?
  rm -f "/tmp/aweb-fuzz-$name-$(cat "$log.pid" 2>/dev/null).sock" "$log.pid"
  runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
  rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -1)
  cov=$(grep -oE 'cov: [0-9]+' "$log" | tail -1)
  files=$(find "$corpus" -type f | wc -l)
  if [ $rc -eq 0 ]; then
    result=ok
  else
    failed=1
    what=$(grep -m1 -oE 'ERROR: (AddressSanitizer|LeakSanitizer|UndefinedBehaviorSanitizer|libFuzzer)[^(]*' "$log" \
           || grep -m1 -E 'runtime error|fuzz: ' "$log" || echo "exit status $rc")
    artifact=$(grep -oE "Test unit written to [^ ]+" "$log" | tail -1 | sed 's/Test unit written to //')
    result="FAILED: ${what} ${artifact:+(input: $artifact)}"
  fi
  printf 'fuzz %-12s %8s execs %6s exec/s  %5s  corpus %5d files  %s\n' \
    "$name" "${runs:-?}" "${rate:-?}" "${cov:-cov: ?}" "$files" "$result"
  if [ $rc -ne 0 ]; then
    echo "---- $log (last lines) ----"
    tail -40 "$log"
    echo "----"
  fi
done
exit $failed
