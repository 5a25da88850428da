#!/usr/bin/env bash
# The function's main job, end to end on this machine: a real disconnect
# through `cargo lambda watch`, against moto and a GitHub stub on loopback.
# Prints the request, the response, the installation item before and after
# and what GitHub received; then sends the same request again to show the
# 404, and the function's log lines and metric documents. Stops everything
# it started, even on failure, and exits non-zero when an answer is not the
# one the contract gives (`make test` runs it).
set -euo pipefail
source "$(dirname "$0")/local_env.sh"

section() { printf '\n\033[1m== %s\033[0m\n' "$1"; }
token=$(python3 scripts/mint_jwt.py fixture-user)
url="http://127.0.0.1:$lambda_port/lambda-url/nectr-disconnect/api/v1/repos/acme/my-backend/install"
sk="INSTALL#acme/my-backend#inst-backend"
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
(cd scripts && python3 local_aws.py item "$sk")

section "Request"
echo "DELETE $url"
echo "Authorization: Bearer ${token:0:16}… (HS256, sub=fixture-user, signed with the local test key)"

section "Response"
disconnect '{"status":"disconnected","repo":"acme/my-backend","webhook":"removed","graph":{"files":3,"pull_requests":2,"developers":2}}'

section "Installation item after"
(cd scripts && python3 local_aws.py item "$sk")

section "What the GitHub stub received"
"${curl_github[@]}" "$github_url/_received"
echo

section "The same request again"
disconnect '{"detail":"Installation not found"}'

section "Function log (JSON lines and one CloudWatch EMF document per invocation)"
grep '^{' "$work/lambda.log" || true
exit "$unexpected"
