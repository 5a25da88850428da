#!/usr/bin/env bash
# `make browser`: the web app's own call, made by headless Chromium, against
# the template's HTTP API under `sam local start-api` over HTTPS
# (cases.mjs says what each case asserts).
#
# - Chromium is Debian's (installed here when absent, with certutil to
#   trust the run's CA), driven by npm's playwright-core; the page uses
#   axios from node_modules, as Nectr's client does.
# - The app's origins (app.nectr.test, on the API's site; app.nectr-web.test,
#   on another; foreign.test) are served by app_server.py; the API is
#   api.nectr.test. Chromium maps every one of them to loopback.
# - Two `sam local start-api`, one per allowed web app origin (the template
#   has one WebAppOrigin), on the world of sam_world.sh.
#
# Ends with one line `browser: …` giving the counts, and exits non-zero when
# a case fails.
set -euo pipefail
cd "$(dirname "$0")/../.."

if ! [ -x /usr/bin/chromium ] || ! command -v certutil >/dev/null; then
  echo "browser: installing chromium and libnss3-tools from Debian's packages" >&2
  source scripts/tools/apt_install.sh
  apt_install target/browser/apt.log chromium libnss3-tools \
    || { echo "browser: apt-get install chromium libnss3-tools failed (see target/browser/apt.log)" >&2; exit 1; }
fi

source scripts/sam/sam_world.sh
out=$PWD/target/browser
mkdir -p "$out"

# Chromium trusts the run's CA the way a user's added CA is trusted: in the
# NSS database of its HOME.
nss_home=$PWD/$work/chromium-home
rm -rf "$nss_home"
mkdir -p "$nss_home/.pki/nssdb"
certutil -N -d "sql:$nss_home/.pki/nssdb" --empty-password
certutil -A -d "sql:$nss_home/.pki/nssdb" -t "C,," -n "nectr-disconnect local CA" -i "$local_ca"

app_port=$(free_port)
python3 scripts/browser/app_server.py "$app_port" "$tls/server.pem" "$tls/server.key" \
  >"$work/app-server.log" 2>&1 &
pids+=($!)
wait_for "the web app's page server" "$app_port"

# start_api NAME ORIGIN: a `sam local start-api` whose WebAppOrigin (and
# the function's ALLOWED_ORIGINS) is ORIGIN; sets NAME_port.
start_api() {
  local name=$1 origin=$2 port
  port=$(free_port)
  "$world" sam-env "$moto_port" "$github_port" "$bolt_port" --origin "$origin" >"$work/browser-env-$name.json"
  sam local start-api "${sam_options[@]}" --env-vars "$work/browser-env-$name.json" \
    --parameter-overrides "$sam_parameters WebAppOrigin=$origin" --host 127.0.0.1 --port "$port" \
    --ssl-cert-file "$tls/server.pem" --ssl-key-file "$tls/server.key" >"$work/browser-api-$name.log" 2>&1 &
  pids+=($!)
  printf -v "${name}_port" %s "$port"
}
start_api same_site "https://app.nectr.test:$app_port"
start_api other_site "https://app.nectr-web.test:$app_port"
wait_for "sam local start-api (same-site app)" "$same_site_port"
wait_for "sam local start-api (app on another site)" "$other_site_port"

token=$("$world" mint-jwt)
expired=$("$world" mint-jwt --iat $(($(date +%s) - 7200)) --exp $(($(date +%s) - 3600)))
rm -f "$out/case-1.png"
set +e
APP_PORT=$app_port \
  API_SAME_SITE="https://api.nectr.test:$same_site_port" API_SAME_SITE_LOG="$PWD/$work/browser-api-same_site.log" \
  API_OTHER_SITE="https://api.nectr.test:$other_site_port" API_OTHER_SITE_LOG="$PWD/$work/browser-api-other_site.log" \
  CA_FILE="$local_ca" NSS_HOME="$nss_home" GITHUB_URL="$github_url" TOKEN="$token" EXPIRED_TOKEN="$expired" \
  SCREENSHOT="$out/case-1.png" \
  timeout 600 node scripts/browser/cases.mjs | tee "$out/cases.txt"
status=${PIPESTATUS[0]}
set -e
summary=$(grep '^cases: ' "$out/cases.txt" || echo "cases: 0 of 7 in Chromium (the run ended early, exit $status)")
echo "browser: ${summary#cases: } (headless), against sam local start-api over HTTPS ($engine)"
[ "$status" -eq 0 ]
