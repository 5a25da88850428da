# Sourced by demo.sh and serve.sh: starts the local world on free loopback
# ports — moto (DynamoDB, KMS, Secrets Manager, SQS), the GitHub stub,
# ArcadeDB as the Bolt code graph, and both functions on the Lambda runtime
# API of `cargo lambda watch` — seeded by the test-world CLI
# (crates/test-world), and stops it all when the sourcing script exits,
# however it exits.
#
# The functions are the test suite's own build: `cargo build --bins
# --tests` resolves the features `cargo test` does, so after `cargo test`
# nothing is compiled again. `cargo lambda watch --only-lambda-apis` serves
# the runtime API and the invoke and function-URL endpoints; this script
# starts the two binaries against it, as cargo lambda would with `cargo run`
# (whose build would leave out the tests' features and compile the AWS SDK
# a second time).
#
# TLS on every hop, as in production (CONTRACT §8): a CA made for this run
# (crates/test-world, `test-world tls-ca`) issues the loopback certificate
# that moto and the stub serve and that a TLS terminator puts in front of
# ArcadeDB's Bolt port; the function trusts the CA through SSL_CERT_FILE, as
# an operator trusts a private CA in Lambda. LOCAL_TLS=off is the explicit
# plain-text option (http://, bolt://), e.g. for `sam local invoke`.
#
# Ports are free ones unless MOTO_PORT, GITHUB_PORT, BOLT_PORT or LAMBDA_PORT
# say; LOCAL_BIND (default 127.0.0.1) is the address moto, the stub and
# the Bolt listener use.
# The function's configuration is env.json's, with the endpoints rewritten.
#
# Sets: work, world (the test-world CLI), moto_port, github_port,
# bolt_port, lambda_port, github_url, curl_github (curl with what it needs
# to trust the stub) and local_ca (the run's CA, empty in plain text).

cd "$(dirname "${BASH_SOURCE[0]}")/../.."
bash scripts/tools/bootstrap.sh
export PATH="$PWD/.venv/bin:$PATH"

work=.tools/local
rm -rf "$work" && mkdir -p "$work"
pids=()
# Waits for its own processes only: a sourcing script may have others.
stop_local_env() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
}
trap stop_local_env EXIT

free_port() { "$world" free-port; }
wait_for() { # name port
  for _ in $(seq 1 600); do
    (exec 3<>"/dev/tcp/127.0.0.1/$2") 2>/dev/null && return 0
    sleep 0.1
  done
  echo "local: $1 did not start; its log is in $work" >&2
  return 1
}

echo "local: building the functions and test-world" >&2
cargo build --quiet --workspace --bins --tests
world=target/debug/test-world

moto_port=${MOTO_PORT:-$(free_port)}
github_port=${GITHUB_PORT:-$(free_port)}
lambda_port=${LAMBDA_PORT:-$(free_port)}
bolt_port=${BOLT_PORT:-$(free_port)}
arcadedb_http_port=$(free_port)
bind=${LOCAL_BIND:-127.0.0.1}

case ${LOCAL_TLS:-on} in
  on)
    tls=$PWD/$work/tls
    "$world" tls-ca "$tls"
    # The functions trust it through SSL_CERT_FILE (in function.env below),
    # test-world through AWS_CA_BUNDLE.
    local_ca=$tls/ca.pem
    export AWS_CA_BUNDLE="$local_ca"
    https=https bolt_scheme=neo4j+s
    moto_tls=(-c "$tls/server.pem" -k "$tls/server.key")
    stub_tls=("$tls")
    curl_github=(curl -sS --cacert "$tls/ca.pem")
    bolt_listen=$(free_port)
    ;;
  off)
    https=http bolt_scheme=bolt moto_tls=() stub_tls=() curl_github=(curl -sS) local_ca=
    bolt_listen=$bolt_port
    ;;
  *) echo "local: LOCAL_TLS is on or off, not $LOCAL_TLS" >&2; exit 1 ;;
esac
github_url="$https://127.0.0.1:$github_port"
echo "local: endpoints over $https (LOCAL_TLS=${LOCAL_TLS:-on})" >&2

moto_server -H "$bind" -p "$moto_port" "${moto_tls[@]}" >"$work/moto.log" 2>&1 &
pids+=($!)
"$world" github-stub "$bind:$github_port" "${stub_tls[@]}" >"$work/github.log" 2>&1 &
pids+=($!)
arcadedb=$PWD/$(echo .venv/lib/python3*/site-packages/arcadedb_embedded)
graph_password=$("$world" graph-password)
mkdir -p "$work/arcadedb"
# From its own directory: it writes its log files to ./log.
(cd "$work/arcadedb" && exec "$arcadedb/jre/bin/java" -Xmx256m -cp "$arcadedb/jars/*" \
  -Darcadedb.server.plugins=Bolt:com.arcadedb.bolt.BoltProtocolPlugin \
  -Darcadedb.bolt.host="$bind" -Darcadedb.bolt.port="$bolt_listen" \
  -Darcadedb.server.httpIncomingHost=127.0.0.1 -Darcadedb.server.httpIncomingPort="$arcadedb_http_port" \
  -Darcadedb.server.rootPassword="$graph_password" \
  '-Darcadedb.server.defaultDatabases=neo4j[root]' -Darcadedb.bolt.defaultDatabase=neo4j \
  -Darcadedb.server.rootPath=. com.arcadedb.server.ArcadeDBServer) >"$work/arcadedb.log" 2>&1 &
pids+=($!)
wait_for moto "$moto_port"
wait_for "GitHub stub" "$github_port"
# The Bolt port opens before the database exists; this line comes after.
for _ in $(seq 1 1200); do grep -q "ArcadeDB Server started" "$work/arcadedb.log" && break; sleep 0.1; done
grep -q "ArcadeDB Server started" "$work/arcadedb.log" || { echo "local: ArcadeDB did not start; see $work/arcadedb.log" >&2; exit 1; }
"$world" seed-graph "bolt://127.0.0.1:$bolt_listen"
if [ "$bolt_listen" != "$bolt_port" ]; then
  "$world" tls-terminate "$tls" "$bind:$bolt_port" "127.0.0.1:$bolt_listen" \
    >"$work/bolt-tls.log" 2>&1 &
  pids+=($!)
  wait_for "Bolt TLS terminator" "$bolt_port"
fi

# The Rust SDK reads AWS_REGION; SAM CLI (sam_world.sh) AWS_DEFAULT_REGION.
export AWS_ENDPOINT_URL="$https://127.0.0.1:$moto_port" AWS_REGION=us-east-1 \
  AWS_DEFAULT_REGION=us-east-1 AWS_ACCESS_KEY_ID=local AWS_SECRET_ACCESS_KEY=local
"$world" seed
"$world" function-env "$github_url" "$bolt_scheme://127.0.0.1:$bolt_port" "$local_ca" \
  >"$work/function.env"

cargo lambda watch --only-lambda-apis --quiet -A 127.0.0.1 -P "$lambda_port" \
  >"$work/lambda-apis.log" 2>&1 &
pids+=($!)
wait_for "cargo lambda watch" "$lambda_port"
mapfile -t function_env <"$work/function.env"
# What Lambda gives a function beside its own variables; the memory is the
# template's.
for function in nectr-disconnect nectr-webhook-cleanup; do
  env "${function_env[@]}" AWS_LAMBDA_FUNCTION_NAME="$function" AWS_LAMBDA_FUNCTION_VERSION=1 \
    AWS_LAMBDA_FUNCTION_MEMORY_SIZE=256 AWS_LAMBDA_RUNTIME_API="http://127.0.0.1:$lambda_port/.rt/$function" \
    "target/debug/$function" >>"$work/lambda.log" 2>&1 &
  pids+=($!)
done
# A caller that re-seeds the world (invoke_fixtures.sh) must not do it under
# the disconnect's warm-up, which would find the table gone and report a
# misconfiguration: its init line says the warm-up is over.
for _ in $(seq 1 600); do
  grep -q '"message":"init","service":"nectr-disconnect"' "$work/lambda.log" && break
  sleep 0.1
done
grep -q '"message":"init","service":"nectr-disconnect"' "$work/lambda.log" \
  || { echo "local: nectr-disconnect did not finish its init; see $work/lambda.log" >&2; exit 1; }
