#!/usr/bin/env bash
# The function's main job, end to end on this machine: a real disconnect
# through cargo lambda's runtime API, against moto and a GitHub stub on loopback.
# Prints the request, the response, the installation item before and after
# and what GitHub received; then sends the same request again to show the
# 404. Then the durable cleanup (CONTRACT §9): a second disconnect while
# GitHub fails is `scheduled`, its job waits on the queue, the cleanup
# worker removes the hook and the queue is empty. Last, the functions' log
# lines and metric documents. Stops everything it started, even on failure,
# and exits non-zero when an answer is not the one the contract gives
# (`make test` runs it).
set -euo pipefail
source "$(dirname "$0")/local_env.sh"

section() { printf '\n\033[1m== %s\033[0m\n' "$1"; }
token=$("$world" mint-jwt)
url="http://127.0.0.1:$lambda_port/lambda-url/nectr-disconnect/api/v1/repos/acme/my-backend/install"
unexpected=0
disconnect() { # the body the contract gives this request
  curl -sS --max-time 300 -X DELETE -H "Authorization: Bearer $token" -D "$work/headers" -o "$work/body" "$url"
  tr -d '\r' <"$work/headers" | grep -iE '^(HTTP|content-type|retry-after|www-authenticate)'
  cat "$work/body"
  echo
  if [ "$(cat "$work/body")" != "$1" ]; then
    echo "demo: expected $1" >&2
    unexpected=1
  fi
}

section "Where the function reaches its dependencies"
grep -E '^(AWS_ENDPOINT_URL|GITHUB_API_URL|NEO4J_URI|SSL_CERT_FILE)=' "$work/function.env"

section "Installation item before"
"$world" item acme/my-backend inst-backend

section "Request"
echo "DELETE $url"
echo "Authorization: Bearer ${token:0:16}… (HS256, sub=fixture-user, signed with the local test key)"

section "Response"
disconnect '{"status":"disconnected","repo":"acme/my-backend","webhook":"removed","graph":{"files":3,"pull_requests":2,"developers":2}}'

section "Installation item after"
"$world" item acme/my-backend inst-backend

section "What the GitHub stub received"
"${curl_github[@]}" "$github_url/_received"
echo

section "The same request again"
disconnect '{"detail":"Installation not found"}'

section "A second disconnect while GitHub is down (the stub answers 502 once)"
"${curl_github[@]}" -X POST "$github_url/_fail?times=1"
url="http://127.0.0.1:$lambda_port/lambda-url/nectr-disconnect/api/v1/repos/acme/my-frontend/install"
disconnect '{"status":"disconnected","repo":"acme/my-frontend","webhook":"scheduled","graph":{"files":0,"pull_requests":0,"developers":0}}'

section "The cleanup job on the queue (delayed 60 s before the worker's first try)"
"$world" queue-depth
"$world" queue-receive "$work/cleanup-event.json" 120

section "The cleanup worker: cargo lambda invoke nectr-webhook-cleanup with that SQS event"
cargo lambda invoke nectr-webhook-cleanup --invoke-address 127.0.0.1 --invoke-port "$lambda_port" \
  --data-file "$work/cleanup-event.json" >"$work/cleanup-response.json"
cat "$work/cleanup-response.json"
echo
if [ "$(tr -d ' \n' <"$work/cleanup-response.json")" != '{"batchItemFailures":[]}' ]; then
  echo "demo: expected no batch item failure" >&2
  unexpected=1
fi
# What the event source mapping does with a message the worker did not
# report: it deletes it.
"$world" queue-settle "$work/cleanup-event.json" "$work/cleanup-response.json"

section "What the GitHub stub received since (the 502, then the worker's DELETE)"
"${curl_github[@]}" "$github_url/_received" | python3 -c 'import json, sys
for r in json.load(sys.stdin)[1:]:
    print(r["method"], r["path"], r["headers"].get("authorization", ""), "->", r["answered"])'

section "The queues afterwards"
"$world" queue-depth | tee "$work/depth"
grep -q "nectr-webhook-cleanup: 0 job" "$work/depth" || { echo "demo: the queue is not empty" >&2; unexpected=1; }

section "Function log (JSON lines and one CloudWatch EMF document per invocation)"
grep '^{' "$work/lambda.log" || true
exit "$unexpected"
