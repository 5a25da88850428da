# Sourced by demo.sh and serve.sh: starts the local world on free loopback
# ports — moto (DynamoDB, KMS, Secrets Manager), the GitHub stub, ArcadeDB as
# the Bolt code graph and the function under `cargo lambda watch` — seeded by
# local_aws.py and local_graph.py, and stops it all when the sourcing script
# exits, however it exits.
#
# Ports are free ones unless MOTO_PORT, GITHUB_PORT, BOLT_PORT or LAMBDA_PORT
# say; LOCAL_BIND (default 127.0.0.1) is the address moto, the stub and
# ArcadeDB's Bolt listener use.
# The function's configuration is env.json's, with the endpoints rewritten.
#
# Sets: work, moto_port, github_port, bolt_port, lambda_port.

cd "$(dirname "${BASH_SOURCE[0]}")/.."
bash scripts/bootstrap.sh
export PATH="$PWD/.venv/bin:$PATH"

work=.tools/local
rm -rf "$work" && mkdir -p "$work"
pids=()
stop_local_env() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
}
trap stop_local_env EXIT

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
wait_for() { # name port
  for _ in $(seq 1 600); do
    (exec 3<>"/dev/tcp/127.0.0.1/$2") 2>/dev/null && return 0
    sleep 0.1
  done
  echo "local: $1 did not start; its log is in $work" >&2
  return 1
}

echo "local: building the function" >&2
cargo build --quiet --bin nectr-disconnect

moto_port=${MOTO_PORT:-$(free_port)}
github_port=${GITHUB_PORT:-$(free_port)}
lambda_port=${LAMBDA_PORT:-$(free_port)}
bolt_port=${BOLT_PORT:-$(free_port)}
arcadedb_http_port=$(free_port)
bind=${LOCAL_BIND:-127.0.0.1}

moto_server -H "$bind" -p "$moto_port" >"$work/moto.log" 2>&1 &
pids+=($!)
python3 scripts/github_stub.py "$github_port" "$bind" >"$work/github.log" 2>&1 &
pids+=($!)
arcadedb=$PWD/$(echo .venv/lib/python3*/site-packages/arcadedb_embedded)
graph_password=$(cd scripts && python3 -c 'import local_graph; print(local_graph.PASSWORD)')
mkdir -p "$work/arcadedb"
# From its own directory: it writes its log files to ./log.
(cd "$work/arcadedb" && exec "$arcadedb/jre/bin/java" -Xmx256m -cp "$arcadedb/jars/*" \
  -Darcadedb.server.plugins=Bolt:com.arcadedb.bolt.BoltProtocolPlugin \
  -Darcadedb.bolt.host="$bind" -Darcadedb.bolt.port="$bolt_port" \
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
(cd scripts && python3 local_graph.py seed "http://127.0.0.1:$arcadedb_http_port")

# boto3 reads AWS_DEFAULT_REGION, the Rust SDK AWS_REGION.
export AWS_ENDPOINT_URL="http://127.0.0.1:$moto_port" AWS_REGION=us-east-1 \
  AWS_DEFAULT_REGION=us-east-1 AWS_ACCESS_KEY_ID=local AWS_SECRET_ACCESS_KEY=local
(cd scripts && python3 local_aws.py setup)

python3 - "$moto_port" "$github_port" "$bolt_port" >"$work/function.env" <<'PY'
import json, sys
variables = json.load(open("env.json"))["DisconnectFunction"]
variables["AWS_ENDPOINT_URL"] = f"http://127.0.0.1:{sys.argv[1]}"
variables["GITHUB_API_URL"] = f"http://127.0.0.1:{sys.argv[2]}"
variables["NEO4J_URI"] = f"bolt://127.0.0.1:{sys.argv[3]}"
print("\n".join(f"{k}={v}" for k, v in variables.items()))
PY
cargo lambda watch --quiet --ignore-changes -A 127.0.0.1 -P "$lambda_port" \
  --env-file "$work/function.env" >"$work/lambda.log" 2>&1 &
pids+=($!)
wait_for "cargo lambda watch" "$lambda_port"
