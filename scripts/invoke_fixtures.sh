#!/usr/bin/env bash
# Every event in events/ through `cargo lambda invoke --data-file`: the real
# binary under `cargo lambda watch`, against moto and the GitHub stub,
# re-seeded before each event. Each answer must match its entry in
# tests/expected-responses.json, as in the handler-level fixture test; then
# every line the function wrote is checked (scripts/check_function_log.py).
set -euo pipefail
source "$(dirname "$0")/local_env.sh"

failed=0
for event in events/*.json; do
  name=$(basename "$event" .json)
  (cd scripts && python3 local_aws.py reset)
  "${curl_github[@]}" -X POST "$github_url/_reset"
  cargo lambda invoke nectr-disconnect --invoke-address 127.0.0.1 --invoke-port "$lambda_port" \
    --data-file "$event" >"$work/$name.out"
  python3 - "$name" "$work/$name.out" <<'PY' || failed=$((failed + 1))
import json, sys
name, out = sys.argv[1], sys.argv[2]
expected = json.load(open("tests/expected-responses.json"))[name]
response = json.load(open(out))
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
python3 scripts/check_function_log.py "$work/lambda.log" "$total" || failed=$((failed + 1))
[ "$failed" -eq 0 ]
