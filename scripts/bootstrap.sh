#!/usr/bin/env bash
# Installs every tool the demo and the tests use into the git-ignored .venv:
# moto (local DynamoDB, KMS and Secrets Manager) and cargo-lambda, with every
# transitive package pinned by scripts/constraints.txt. Reuses the venv while
# both files are unchanged.
set -euo pipefail
cd "$(dirname "$0")/.."

venv=.venv
requirements=scripts/requirements.txt
constraints=scripts/constraints.txt
stamp="$venv/.requirements.sha256"
wanted=$(cat "$requirements" "$constraints" | sha256sum | cut -d' ' -f1)

if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$wanted" ]; then
  exit 0
fi

echo "bootstrap: installing $(grep -v '^#' "$requirements" | xargs) into $venv" >&2
python3 -m venv "$venv"
"$venv/bin/python" -m pip install --quiet --disable-pip-version-check \
  -r "$requirements" -c "$constraints"
echo "$wanted" > "$stamp"
