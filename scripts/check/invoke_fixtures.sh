#!/usr/bin/env bash
# Every event in events/ through `cargo lambda invoke --data-file`: the real
# binaries under `cargo lambda watch` (API Gateway events to nectr-disconnect,
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
  (cd scripts/local && python3 local_aws.py reset)
  "${curl_github[@]}" -X POST "$github_url/_reset"
  function=nectr-disconnect
  case $name in sqs-*) function=nectr-webhook-cleanup ;; esac
  cargo lambda invoke "$function" --invoke-address 127.0.0.1 --invoke-port "$lambda_port" \
    --data-file "$event" >"$work/$name.out"
  "${curl_github[@]}" "$github_url/_received" >"$work/$name.github"
  python3 - "$name" "$work/$name.out" "$work/$name.github" <<'PY' || failed=$((failed + 1))
import json, re, sys
name, out, github = sys.argv[1:4]
expected = json.load(open("tests/expected-responses.json"))[name]
response = json.load(open(out))
if name.startswith("sqs-"):
    removed = [int(re.search(r"/hooks/(\d+)$", r["path"]).group(1)) for r in json.load(open(github))]
    problems = []
    if response != expected["response"]:
        problems.append(f"answered {json.dumps(response)}, expected {json.dumps(expected['response'])}")
    if removed != expected["webhooks_removed"]:
        problems.append(f"GitHub got deletes of {removed}, expected {expected['webhooks_removed']}")
    print(f"{'ok  ' if not problems else 'FAIL'} {name} -> {len(response['batchItemFailures'])} failures")
    for problem in problems:
        print(f"     {problem}")
    sys.exit(1 if problems else 0)
headers = {k.lower(): v for k, v in (response.get("headers") or {}).items()}
headers.update({k.lower(): v[0] for k, v in (response.get("multiValueHeaders") or {}).items()})
problems = []
if response["statusCode"] != expected["status"]:
    problems.append(f"status {response['statusCode']}, expected {expected['status']}")
if json.loads(response["body"]) != expected["body"]:
    problems.append(f"body {response['body']}, expected {json.dumps(expected['body'])}")
for header, value in {"content-type": "application/json", **expected.get("headers", {})}.items():
    if headers.get(header) != value:
        problems.append(f"{header}: {headers.get(header)!r}, expected {value!r}")
print(f"{'ok  ' if not problems else 'FAIL'} {name} -> {response['statusCode']}")
for problem in problems:
    print(f"     {problem}")
sys.exit(1 if problems else 0)
PY
done
total=$(ls events/*.json | wc -l)
echo "cargo lambda invoke: $((total - failed)) of $total fixtures answered as expected"
# One metric document a disconnect, one a cleanup message.
documents=$(python3 -c 'import glob, json
print(sum(len(json.load(open(f))["Records"]) if "/sqs-" in f else 1 for f in glob.glob("events/*.json")))')
python3 scripts/check/check_function_log.py "$work/lambda.log" "$documents" || failed=$((failed + 1))
[ "$failed" -eq 0 ]
