#!/usr/bin/env bash
# schemathesis against the function as openapi.yaml describes it: the real
# binary under `cargo lambda watch` over moto, the GitHub stub and ArcadeDB
# (the demo's world), with a valid token for the seeded user. Fails on a
# server error, an undocumented status, header or content type, a response
# that fails its schema, or any other of schemathesis' checks. Bounded:
# SCHEMATHESIS_MAX_EXAMPLES (default 100) cases per operation and phase, a
# fixed seed so a failure can be replayed.
set -euo pipefail
source "$(dirname "$0")/../local/local_env.sh"

token=$(target/debug/test-world mint-jwt)
# One warm-up request: the first builds the function, which is no test of it.
curl -sS -o /dev/null --max-time 600 -X DELETE \
  "http://127.0.0.1:$lambda_port/lambda-url/nectr-disconnect/api/v1/repos/acme/never/install"

schemathesis run openapi.yaml \
  --url "http://127.0.0.1:$lambda_port/lambda-url/nectr-disconnect" \
  --header "Authorization: Bearer $token" \
  --checks all \
  --max-examples "${SCHEMATHESIS_MAX_EXAMPLES:-100}" \
  --seed "${SCHEMATHESIS_SEED:-20261124}" \
  --workers 1 \
  --request-timeout 30 \
  --generation-database none \
  --no-color \
  --report har --report-har-path "$work/schemathesis.har"

# What the run exercised: each answer by method and status.
python3 scripts/check/har_summary.py "$work/schemathesis.har"
