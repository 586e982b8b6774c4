#!/usr/bin/env bash
# Runs each criterion test binary given on the command line and summarises.
# Each binary runs its tests in parallel worker processes (criterion's default);
# a failing or crashing binary makes the whole run fail.
set -uo pipefail
failed=()
start=$(date +%s)
for bin in "$@"; do
    name=$(basename "$bin")
    t0=$(date +%s)
    if "$bin" --jobs=2 --short-filename; then
        printf '  ok    %-28s %3ss\n' "$name" $(( $(date +%s) - t0 ))
    else
        printf '  FAIL  %-28s %3ss\n' "$name" $(( $(date +%s) - t0 ))
        failed+=("$name")
    fi
done
echo "tests: $(( $# - ${#failed[@]} )) of $# binaries passed in $(( $(date +%s) - start ))s"
if [ ${#failed[@]} -gt 0 ]; then
    echo "failed: ${failed[*]}"
    exit 1
fi
