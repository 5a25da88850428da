#!/usr/bin/env bash
# `make test`: each stage in turn, stopping at the first that fails, then
# how long each took, so the time `make test` costs can be seen where it
# goes.
#
# usage: timed.sh TARGET...
set -uo pipefail
times=()
for target in "$@"; do
  start=$SECONDS
  make --no-print-directory "$target"
  status=$?
  times+=("$target $((SECONDS - start)) s")
  if [ "$status" -ne 0 ]; then
    echo "make test: $target failed" >&2
    break
  fi
done
echo "make test, seconds per stage: $(IFS=,; echo "${times[*]}" | sed 's/,/, /g')"
exit "${status:-0}"
