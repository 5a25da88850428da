#!/usr/bin/env bash
# The local world of demo.sh, left running for manual requests and
# `cargo lambda invoke --data-file events/...`. Ctrl-C stops everything.
set -euo pipefail
source "$(dirname "$0")/local_env.sh"

cat <<INFO
The function runs under cargo lambda watch on 127.0.0.1:$lambda_port, seeded
with the fixtures' world (fixture-user: acme/my-backend with webhook 42,
acme/docs without). Logs: $work/. Try:

  PATH="\$PWD/.venv/bin:\$PATH" cargo lambda invoke nectr-disconnect \\
    --invoke-address 127.0.0.1 --invoke-port $lambda_port \\
    --data-file events/http-api-disconnect-with-webhook.json

  curl -i -X DELETE -H "Authorization: Bearer \$(python3 scripts/mint_jwt.py fixture-user)" \\
    http://127.0.0.1:$lambda_port/lambda-url/nectr-disconnect/api/v1/repos/acme/docs/install

Ctrl-C to stop.
INFO
wait
