#!/usr/bin/env bash
# Installs every tool the demo and the tests use, each reused while its pins
# are unchanged:
# - into the git-ignored .venv: moto (local DynamoDB, KMS and Secrets
#   Manager), cargo-lambda, SAM CLI, cfn-lint, ArcadeDB and schemathesis,
#   with every transitive package pinned by scripts/tools/constraints.txt;
# - into the git-ignored node_modules: Prism and GitHub's OpenAPI
#   description (@octokit/openapi), playwright-core and axios for the
#   browser cases, as package-lock.json pins them.
# The aarch64 rustup target is the deploy build's (the Makefile's
# aarch64-target).
set -euo pipefail
cd "$(dirname "$0")/../.."

venv=.venv
requirements=scripts/tools/requirements.txt
constraints=scripts/tools/constraints.txt
stamp="$venv/.requirements.sha256"
wanted=$(cat "$requirements" "$constraints" "$0" | sha256sum | cut -d' ' -f1)

# uv installs the pinned set, compiled to bytecode in parallel, in 17 s
# where pip takes 85 s here; the installed set is the same. Compiled up
# front, so that the suite's many moto servers do not each compile moto on
# first import.
uv=uv==0.13.9

if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$wanted" ]; then
  echo "bootstrap: installing $(grep -v '^#' "$requirements" | xargs) into $venv" >&2
  python3 -m venv "$venv"
  "$venv/bin/python" -m pip install --quiet --disable-pip-version-check "$uv"
  "$venv/bin/uv" pip install --quiet --compile-bytecode --python "$venv/bin/python" \
    -r "$requirements" -c "$constraints"
  echo "$wanted" > "$stamp"
fi

node_stamp=node_modules/.package-lock.sha256
node_wanted=$(sha256sum package-lock.json | cut -d' ' -f1)
if [ ! -f "$node_stamp" ] || [ "$(cat "$node_stamp")" != "$node_wanted" ]; then
  echo "bootstrap: installing $(node -p 'Object.keys(require("./package.json").devDependencies).join(" ")') into node_modules" >&2
  # No install scripts: none of these packages needs one to run.
  npm ci --ignore-scripts --no-audit --no-fund --loglevel=error
  echo "$node_wanted" > "$node_stamp"
fi

