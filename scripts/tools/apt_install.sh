# Sourced by the scripts that install a Debian package when the machine
# lacks it (podman for `make sam-local`, Chromium for `make browser`).
#
# apt_install LOG PACKAGE...: installs as root (sudo -n otherwise), its
# output in LOG; fails without apt-get or when the install fails.
apt_install() {
  local log=$1 as_root=()
  shift
  command -v apt-get >/dev/null || return 1
  [ "$(id -u)" -eq 0 ] || as_root=(sudo -n)
  mkdir -p "$(dirname "$log")"
  "${as_root[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -q "$@" >"$log" 2>&1
}
