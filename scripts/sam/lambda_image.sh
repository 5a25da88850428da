# Sourced by scripts/sam/*.sh after container_engine.sh: the image SAM runs
# the functions in (`--invoke-image`), for the architecture `arch`.
#
# - AWS's public.ecr.aws/lambda/provided:al2023 where it can be pulled.
# - Otherwise a stand-in built offline from Debian's packages with that
#   image's layout (CONTRACT §10): /var/task (the function, on PATH, as
#   the emulator execs `bootstrap` through PATH), /var/runtime, /opt, the
#   CA bundle at /etc/pki/tls/certs/ca-bundle.crt, a shell and the tools
#   SAM's own image build runs (busybox-static), and the C libraries the
#   bootstrap links (libc6, libgcc-s1). It is not Amazon Linux: no dnf, no
#   Amazon Linux glibc, no AWS CLI. Built once per machine and tagged by
#   the hash of its recipe (this file and the package versions), so a
#   changed recipe builds a new one; never committed.
#
# Sets: invoke_image.

official=public.ecr.aws/lambda/provided:al2023
standin_repo=localhost/nectr-provided-al2023-standin
# Debian's name for each architecture, and SAM's.
case $arch in
  x86_64) deb_arch=amd64 ;;
  arm64) deb_arch=arm64 ;;
  *) echo "sam local: no image for architecture $arch" >&2; exit 1 ;;
esac

# The engine's own CLI: docker's, or podman's, which needs no Docker CLI.
image_exists() { "$engine" image inspect "$1" >/dev/null 2>&1; }

if image_exists "$official" || timeout 60 "$engine" pull --platform "linux/$arch" "$official" >/dev/null 2>&1; then
  invoke_image=$official
else
  packages=(busybox-static libc6 libgcc-s1)
  versions=$(apt-cache policy "${packages[@]/%/:$deb_arch}" | grep -E '^[a-z0-9-]+|Candidate' | tr -d ' \n')
  recipe=$({ cat "${BASH_SOURCE[0]}"; echo "$versions"; } | sha256sum | cut -c1-12)
  invoke_image=$standin_repo:$arch-$recipe
  if ! image_exists "$invoke_image"; then
    echo "sam local: building the stand-in image $invoke_image (public.ecr.aws cannot be pulled here)" >&2
    build=$sam_local_dir/standin
    rm -rf "$build" && mkdir -p "$build/debs" "$build/root"
    (cd "$build/debs" && apt-get download "${packages[@]/%/:$deb_arch}" >"$build/download.log" 2>&1) \
      || { echo "sam local: apt-get download ${packages[*]} failed (see $build/download.log)" >&2; exit 1; }
    for deb in "$build"/debs/*.deb; do dpkg-deb -x "$deb" "$build/root"; done
    root=$build/root
    for applet in $("$root/bin/busybox" --list); do
      [ -e "$root/bin/$applet" ] || ln -s busybox "$root/bin/$applet"
    done
    mkdir -p "$root"/{var/task,var/runtime,opt,tmp,etc/pki/tls/certs}
    chmod 1777 "$root/tmp"
    cp /etc/ssl/certs/ca-certificates.crt "$root/etc/pki/tls/certs/ca-bundle.crt"
    # Without it glibc asks DNS before /etc/hosts, where the engine writes
    # host.docker.internal.
    printf 'passwd: files\ngroup: files\nhosts: files dns\n' >"$root/etc/nsswitch.conf"
    tar -C "$root" -cf "$build/rootfs.tar" .
    "$engine" import \
      --change 'ENV PATH=/var/task:/var/runtime:/usr/local/bin:/usr/bin:/bin' \
      --change 'ENV LANG=C.UTF-8' \
      --change 'WORKDIR /var/task' \
      "$build/rootfs.tar" "$invoke_image" >/dev/null
    rm -rf "$build"
    # SAM builds its emulator image once per repository and architecture
    # (`rapid-<arch>`) and reuses it whatever the base became since.
    "$engine" image rm -f "$standin_repo:rapid-$arch" >/dev/null 2>&1 || true
  fi
fi
# Containers of a run that was killed: podman is this project's engine for
# its own runs, so what runs SAM's emulator image in it is ours to remove,
# but not a container of another run going on beside this one.
if [ "$engine" = podman ]; then
  leftovers=$(podman ps -a --filter "ancestor=${invoke_image%:*}:rapid-$arch" --format json \
    | python3 scripts/sam/leftover_containers.py)
  [ -z "$leftovers" ] || podman rm -f $leftovers >/dev/null
fi
echo "sam local: invoke image $invoke_image" >&2
