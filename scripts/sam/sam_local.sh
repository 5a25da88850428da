#!/usr/bin/env bash
# `make sam-local`: the template itself, run by AWS SAM's own emulation
# (CONTRACT §10), in front of the demo's TLS world (§8).
#
# 1. Every fixture in events/ through `sam local invoke` (API Gateway events
#    to DisconnectFunction, SQS batches to CleanupFunction), the world
#    re-seeded before each; each answer checked against
#    tests/expected-responses.json and every line the functions wrote as
#    for `cargo lambda invoke`.
# 2. `sam local start-api` over HTTPS (the run's CA), its routes and CORS
#    taken from the template, checked with curl (check_start_api.py): a
#    real disconnect, the same again, the web app's CORS preflight, a
#    foreign one, a path without a route.
# 3. The pre-traffic hook against `sam local start-lambda` (below).
#
# Ends with one line `sam local: …` giving the counts, and exits non-zero
# when any check fails. The container engine is the machine's Docker, or
# podman set up for the run (container_engine.sh); the image AWS's, or a
# stand-in built offline (lambda_image.sh).
set -euo pipefail
cd "$(dirname "$0")/../.."

source scripts/sam/sam_world.sh

"$world" sam-env "$moto_port" "$github_port" "$bolt_port" >"$work/sam-env.json"
sam_options+=(--env-vars "$work/sam-env.json" --parameter-overrides "$sam_parameters")

invoked=0 invoke_failed=0 log_failed=0
for event in events/*.json; do
  name=$(basename "$event" .json)
  reseed
  function=DisconnectFunction
  case $name in sqs-*) function=CleanupFunction ;; esac
  sam local invoke "$function" --event "$event" "${sam_options[@]}" \
    >"$work/sam-$name.out" 2>>"$work/sam-invoke.log" || true
  "${curl_github[@]}" "$github_url/_received" >"$work/sam-$name.github"
  invoked=$((invoked + 1))
  python3 scripts/check/check_fixture_answer.py "$name" "$work/sam-$name.out" "$work/sam-$name.github" \
    || invoke_failed=$((invoke_failed + 1))
done
# SAM's emulator gives no X-Ray trace id, and each `sam local invoke` is a
# fresh execution environment.
python3 scripts/check/check_function_log.py "$kept_log" --untraced --every-invocation-cold \
  || log_failed=1
echo "sam local: metric documents in the kept logs: $(grep -c '"_aws"' "$kept_log" || true)," \
  "in SAM's own stream of them: $(grep -c '"_aws"' "$work/sam-invoke.log" || true)" >&2

api_port=$(free_port)
sam local start-api "${sam_options[@]}" --host 127.0.0.1 --port "$api_port" \
  --ssl-cert-file "$tls/server.pem" --ssl-key-file "$tls/server.key" >"$work/start-api.log" 2>&1 &
pids+=($!)
wait_for "sam local start-api" "$api_port"
reseed
python3 scripts/sam/check_start_api.py "https://localhost:$api_port" "$local_ca" "$github_url" \
  "$work/start-api.log" | tee "$work/start-api.checks"
# 3. The pre-traffic hook (CONTRACT §11) against the template's functions
#    under `sam local start-lambda`: this build, and one whose disconnect
#    cannot start (TABLE_NAME missing). The suite's test runs the hook and
#    records what it reports to CodeDeploy.
"$world" sam-env "$moto_port" "$github_port" "$bolt_port" --empty TABLE_NAME >"$work/sam-env-broken.json"
broken_options=()
for option in "${sam_options[@]}"; do
  [ "$option" = "$work/sam-env.json" ] && option=$work/sam-env-broken.json
  broken_options+=("$option")
done
lambda_port=$(free_port)
sam local start-lambda "${sam_options[@]}" --host 127.0.0.1 --port "$lambda_port" \
  >"$work/start-lambda.log" 2>&1 &
pids+=($!)
broken_port=$(free_port)
sam local start-lambda "${broken_options[@]}" --host 127.0.0.1 --port "$broken_port" \
  >"$work/start-lambda-broken.log" 2>&1 &
pids+=($!)
wait_for "sam local start-lambda" "$lambda_port"
wait_for "sam local start-lambda (broken build)" "$broken_port"
if SAM_START_LAMBDA_URL=http://127.0.0.1:$lambda_port SAM_START_LAMBDA_BROKEN_URL=http://127.0.0.1:$broken_port \
  cargo test --test suite -- --ignored pre_traffic::under_sam_local >"$work/pre-traffic.log" 2>&1; then
  echo "ok   pre-traffic hook under sam local start-lambda: Succeeded for this build, Failed for one that cannot start" \
    | tee -a "$work/start-api.checks"
else
  tail -30 "$work/pre-traffic.log" >&2
  echo "FAIL pre-traffic hook under sam local start-lambda (log: $work/pre-traffic.log)" | tee -a "$work/start-api.checks"
fi
checks=$(grep -c '^\(ok  \|FAIL\)' "$work/start-api.checks" || true)
checks_failed=$(grep -c '^FAIL' "$work/start-api.checks" || true)

echo "sam local: $((invoked - invoke_failed)) of $invoked fixtures through sam local invoke," \
  "$((checks - checks_failed)) of $checks checks through sam local start-api and start-lambda ($engine, $invoke_image)"
[ "$invoke_failed" -eq 0 ] && [ "$log_failed" -eq 0 ] && [ "$checks" -gt 0 ] && [ "$checks_failed" -eq 0 ]
