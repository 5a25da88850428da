#!/usr/bin/env bash
# The local world of demo.sh, left running for manual requests and
# `cargo lambda invoke --data-file events/...`. Ctrl-C stops everything.
set -euo pipefail
source "$(dirname "$0")/local_env.sh"

# `sam local invoke` mounts the built function at /var/task, where env.json's
# SSL_CERT_FILE looks for this run's CA.
if [ -n "$local_ca" ]; then
  for sam_build in .aws-sam/build*/{DisconnectFunction,CleanupFunction}; do
    if [ -d "$sam_build" ]; then cp "$local_ca" "$sam_build/local-ca.pem"; fi
  done
fi

cat <<INFO
The function runs under cargo lambda watch on 127.0.0.1:$lambda_port, seeded
with the fixtures' world (fixture-user: acme/my-backend with webhook 42,
acme/docs without), every endpoint over ${github_url%%:*} (LOCAL_TLS=${LOCAL_TLS:-on};
this run's CA: ${local_ca:-none}). Logs: $work/. Try:

  PATH="\$PWD/.venv/bin:\$PATH" cargo lambda invoke nectr-disconnect \\
    --invoke-address 127.0.0.1 --invoke-port $lambda_port \\
    --data-file events/http-api-disconnect-with-webhook.json

  curl -i -X DELETE -H "Authorization: Bearer \$(target/debug/test-world mint-jwt)" \\
    http://127.0.0.1:$lambda_port/lambda-url/nectr-disconnect/api/v1/repos/acme/docs/install

Ctrl-C to stop.
INFO
wait
