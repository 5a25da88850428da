# Sourced by sam_local.sh and scripts/browser/browser.sh: the demo's TLS
# world (§8) reachable from containers, a container engine
# (container_engine.sh) with the function's image (lambda_image.sh), the
# template built for this machine's architecture, this run's env.json, and
# every container's whole log kept (log_keeper.py).
#
# Sets, beside what local_env.sh sets: arch, build, kept_log, sam_options
# and sam_parameters (for `sam local invoke` and `sam local
# start-api`, with an env.json from `test-world sam-env`), reseed (the world as
# the fixtures expect it). Its EXIT trap stops everything it started.

# Reached from the containers through the engine's bridge, not loopback.
export LOCAL_BIND=0.0.0.0
source scripts/local/local_env.sh
source scripts/sam/container_engine.sh
trap 'stop_local_env; stop_container_engine; rm -f "${keeper_socket:-}"' EXIT

# The deployed form is arm64; a machine runs its own architecture's
# containers (there is no binfmt emulation here).
case $(uname -m) in
  aarch64 | arm64) arch=arm64 ;;
  *) arch=x86_64 ;;
esac
source scripts/sam/lambda_image.sh

build=.aws-sam/build-$arch
echo "sam local: sam build (debug) for $arch into $build" >&2
# Not SAM's cache, which hashes the whole CodeUri (target/ included, and
# the engine's socket in it): cargo-lambda's own incremental build is the
# cache. SAM_BUILD_MODE=debug is SAM's documented switch for a local build:
# `cargo lambda build` without --release, minutes faster than the release
# profile's LTO on 2 cores. What runs here is the template, the runtime's
# contract and the functions' answers; the release binary's speed is
# `make bench`'s, and the deploy's build is `make check-deploy`'s.
SAM_BUILD_MODE=debug sam build --parameter-overrides "Architecture=$arch" --build-dir "$build" --no-cached \
  >"$work/sam-build.log" 2>&1 \
  || { tail -20 "$work/sam-build.log" >&2; echo "sam local: sam build failed" >&2; exit 1; }
# env.json's AWS_ENDPOINT_URL, which the production template does not name.
.venv/bin/python scripts/sam/local_variables.py "$build/template.yaml" env.json
# env.json's SSL_CERT_FILE: the run's CA where the functions are mounted,
# as a CA layer puts one at /opt in production.
for function in DisconnectFunction CleanupFunction; do
  cp "$local_ca" "$build/$function/local-ca.pem"
done
# Every container's whole log, kept by a pass-through in front of the
# engine's API (log_keeper.py), is what the log checks read: SAM's own
# stream of it can lose an invocation's end.
kept_log=$work/sam-containers.log
: >"$kept_log"
case ${DOCKER_HOST:-unix:///var/run/docker.sock} in
  unix://*)
    engine_socket=${DOCKER_HOST:-unix:///var/run/docker.sock}
    keeper_socket=$sam_local_dir/log-keeper.sock
    rm -f "$keeper_socket"
    .venv/bin/python scripts/sam/log_keeper.py "$keeper_socket" "${engine_socket#unix://}" "$kept_log" \
      >"$work/log-keeper.log" 2>&1 &
    pids+=($!)
    for _ in $(seq 1 100); do [ -S "$keeper_socket" ] && break; sleep 0.1; done
    export DOCKER_HOST=unix://$keeper_socket
    ;;
  *)
    echo "sam local: $DOCKER_HOST is not a Unix socket, so the log checks read SAM's own stream" >&2
    kept_log=$work/sam-invoke.log
    ;;
esac
# SAM CLI asks STS for the account id before every run; moto answers at
# once where the real STS would time out without a network.
export AWS_ENDPOINT_URL_STS=$AWS_ENDPOINT_URL
# Each command adds --env-vars and --parameter-overrides "$sam_parameters …".
sam_options=(
  --template "$build/template.yaml" --invoke-image "$invoke_image" --skip-pull-image
  --add-host "host.docker.internal:$host_gateway"
)
sam_parameters="Architecture=$arch"
reseed() {
  "$world" reset
  "${curl_github[@]}" -X POST "$github_url/_reset"
}

