# Sourced by scripts/sam/*.sh: a Docker-compatible engine for AWS SAM's
# local emulation (CONTRACT §10), stopped when the sourcing script exits.
#
# - A Docker engine that answers (DOCKER_HOST, or the default socket) is
#   used as it is: Docker Desktop and Docker Engine users get the same
#   targets unchanged.
# - Otherwise podman, installed from Debian's packages when absent, with
#   scripts/sam/containers.conf, serves its Docker-compatible API on a
#   socket under target/sam-local/ for this run only.
#
# Sets: DOCKER_HOST (exported), engine (docker or podman), host_gateway
# (the address a container reaches the host at, for --add-host), and
# stop_container_engine, which the sourcing script's EXIT trap calls.

sam_local_dir=$PWD/target/sam-local
mkdir -p "$sam_local_dir"
podman_pid=

# The socket goes with the service: a socket file in the tree makes SAM's
# cached builds, which hash the whole CodeUri, fail on it.
stop_container_engine() {
  if [ -n "$podman_pid" ]; then
    kill "$podman_pid" 2>/dev/null || true
    wait "$podman_pid" 2>/dev/null || true
    rm -f "$socket"
  fi
}

# One line naming what is missing, then a non-zero exit: the engine is a
# precondition of everything after it.
no_engine() {
  echo "sam local: no container engine: $1" >&2
  exit 1
}

# Asked the way SAM CLI asks, through the Docker SDK it ships.
engine_answers() { .venv/bin/python -c 'import docker; docker.from_env(timeout=5).ping()' 2>/dev/null; }

if engine_answers; then
  engine=docker
  # Docker resolves it to the host's address on the default bridge.
  host_gateway=host-gateway
else
  engine=podman
  export CONTAINERS_CONF=$PWD/scripts/sam/containers.conf
  if ! command -v podman >/dev/null || ! command -v runc >/dev/null; then
    echo "sam local: installing podman and runc from Debian's packages" >&2
    command -v apt-get >/dev/null || no_engine "Docker does not answer, and podman cannot be installed without apt-get"
    source scripts/tools/apt_install.sh
    apt_install "$sam_local_dir/apt.log" podman runc \
      || no_engine "Docker does not answer, and apt-get install podman runc failed (see $sam_local_dir/apt.log)"
  fi
  socket=$sam_local_dir/podman.sock
  # A socket left by a killed run is ours to remove; a live service of
  # another run is not ours to stop, so each run has its own socket.
  rm -f "$socket"
  podman system service --time=0 "unix://$socket" >"$sam_local_dir/podman-service.log" 2>&1 &
  podman_pid=$!
  for _ in $(seq 1 100); do [ -S "$socket" ] && break; sleep 0.1; done
  export DOCKER_HOST=unix://$socket
  engine_answers || no_engine "podman's API did not answer on $socket (see $sam_local_dir/podman-service.log)"
  # podman 4.3 knows no host-gateway: the default network's gateway is the host.
  host_gateway=$(podman network inspect podman --format '{{range .Subnets}}{{.Gateway}}{{end}}')
  [ -n "$host_gateway" ] || no_engine "podman's default network has no gateway"
fi
echo "sam local: container engine: $engine at ${DOCKER_HOST:-the default socket}, the host at $host_gateway" >&2
