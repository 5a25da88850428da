#!/usr/bin/env bash
# Every event in events/ through `cargo lambda invoke --data-file`: the real
# binaries on cargo lambda's runtime API (API Gateway events to nectr-disconnect,
# SQS batches, `sqs-*`, to nectr-webhook-cleanup), against moto and the
# GitHub stub, re-seeded before each event. Each answer must match its entry
# in tests/expected-responses.json, as in the handler-level fixture test;
# then every line the functions wrote is checked
# (scripts/check/check_function_log.py).
set -euo pipefail
source "$(dirname "$0")/../local/local_env.sh"

failed=0
for event in events/*.json; do
  name=$(basename "$event" .json)
  "$world" reset
  "${curl_github[@]}" -X POST "$github_url/_reset"
  function=nectr-disconnect
  case $name in sqs-*) function=nectr-webhook-cleanup ;; esac
  cargo lambda invoke "$function" --invoke-address 127.0.0.1 --invoke-port "$lambda_port" \
    --data-file "$event" >"$work/$name.out"
  "${curl_github[@]}" "$github_url/_received" >"$work/$name.github"
  python3 scripts/check/check_fixture_answer.py "$name" "$work/$name.out" "$work/$name.github" \
    || failed=$((failed + 1))
done
total=$(ls events/*.json | wc -l)
echo "cargo lambda invoke: $((total - failed)) of $total fixtures answered as expected"
python3 scripts/check/check_function_log.py "$work/lambda.log" || failed=$((failed + 1))
[ "$failed" -eq 0 ]
