# The two commands of the quick start are `make demo` and `make test`.
SHELL := bash
TOOLS := PATH="$(CURDIR)/.venv/bin:$$PATH"
# sam validate reads a region and credentials but calls nothing.
OFFLINE_AWS := AWS_REGION=us-east-1 AWS_DEFAULT_REGION=us-east-1 AWS_ACCESS_KEY_ID=none AWS_SECRET_ACCESS_KEY=none
export SAM_CLI_TELEMETRY := 0

.PHONY: demo serve test check unit docs-match-spec cargo-checks invoke-fixtures api-conformance lint-template check-deploy sam-local browser build bench profile fuzz bootstrap aarch64-target fixtures

## A real disconnect on this machine, printed (moto + GitHub stub + cargo lambda watch).
demo:
	bash scripts/local/demo.sh

## The demo's world left running for manual requests and `cargo lambda invoke`.
serve:
	bash scripts/local/serve.sh

## Everything CI checks: `check`, the demo (it fails on an answer the
## contract does not give), the template built and run under AWS SAM's own
## emulation, then the web app's call in a browser. `.ci/run` calls exactly
## this. Prints each stage's time at the end. Each thing is built once: the
## suite's debug build serves the demo and every local run, SAM's debug
## build for this machine serves `sam local` and the browser; the release
## arm64 build is the deploy's (`make check-deploy`, `make build`).
test:
	@bash scripts/tools/timed.sh check demo sam-local browser

## The edit loop, under a minute on a warm tree: formatting, clippy, and
## every test that needs no emulator (no bootstrap either): the library's,
## and the suite's use cases and worker over fakes, handlers, fixtures,
## hostile inputs, deployment files, docs, alarms and the pre-traffic check.
unit:
	cargo fmt --all -- --check
	cargo clippy --workspace --all-targets -- -D warnings
	cargo test --lib
	@# The worker's budget under slow AWS calls waits out its bounds in real
	@# time (about 40 s): `make check` runs it.
	cargo test --test suite -- unit:: fixtures:: hostile:: deploy:: docs:: alarms:: pre_traffic:: \
	  --skip unit::cleanup::under_aws_slowness_every_job_of_a_full_batch_is_attempted

## The integration loop: formatting, lints, all three test layers, every fixture
## through `cargo lambda invoke`, schemathesis against openapi.yaml, template lint.
check: cargo-checks invoke-fixtures api-conformance lint-template

cargo-checks: bootstrap docs-match-spec
	cargo fmt --all -- --check
	cargo clippy --workspace --all-targets -- -D warnings
	rm -rf target/test-logs target/reliability
	@# Most of the suite's time is spent waiting on servers (Prism, moto,
	@# ArcadeDB) and bounded waits: four at once use 2 cores better.
	RUST_TEST_THREADS=4 cargo test
	@cat target/reliability/fault-matrix.md target/reliability/aws-errors.md
	@echo "Log lines the suite emitted, every one checked for secrets: $$(cat target/test-logs/*.log | wc -l)"

## docs/ holds the contract (../shared/spec/) as this repository has it,
## beside the project's own pages.
docs-match-spec:
	@if [ -d ../shared/spec ]; then \
	  for spec in ../shared/spec/*; do diff "$$spec" "docs/$$(basename "$$spec")" || exit 1; done \
	    && echo "docs/ holds ../shared/spec/ unchanged"; \
	else \
	  echo "docs/: ../shared/spec/ is not here, so the copy is not checked"; \
	fi

invoke-fixtures: bootstrap
	bash scripts/check/invoke_fixtures.sh

## schemathesis against the function under `cargo lambda watch`, as openapi.yaml
## describes it (SCHEMATHESIS_MAX_EXAMPLES cases per operation, default 100).
api-conformance: bootstrap
	bash scripts/check/api_conformance.sh

## cfn-lint with AWS's serverless rules, sam validate --lint, and the
## deployment (aliases, CodeDeploy, hooks' permissions) as SAM transforms it; offline.
lint-template: bootstrap
	$(TOOLS) cfn-lint --append-rules cfn_lint_serverless.rules -- template.yaml
	$(TOOLS) $(OFFLINE_AWS) sam validate --lint
	.venv/bin/python scripts/check/check_deployment.py template.yaml

## The deploy's build: sam build through cargo-lambda, release for arm64;
## checks the bootstraps it produces.
check-deploy: lint-template aarch64-target
	$(TOOLS) sam build
	python3 scripts/check/check_bootstrap.py .aws-sam/build/DisconnectFunction/bootstrap
	python3 scripts/check/check_bootstrap.py .aws-sam/build/CleanupFunction/bootstrap
	python3 scripts/check/check_bootstrap.py .aws-sam/build/DisconnectPreTrafficHook/bootstrap
	python3 scripts/check/check_bootstrap.py .aws-sam/build/CleanupPreTrafficHook/bootstrap

## The template run by AWS SAM's emulation (CONTRACT §10): every fixture
## through `sam local invoke`, the HTTP API through `sam local start-api`
## over HTTPS. Docker where it answers, else podman set up for the run.
sam-local: bootstrap
	$(TOOLS) bash scripts/sam/sam_local.sh

## The web app's own call in headless Chromium (Debian's, by playwright-core)
## against `sam local start-api` over HTTPS: seven cases, a screenshot in target/browser/.
browser: bootstrap
	$(TOOLS) bash scripts/browser/browser.sh

## Release build for Lambda arm64: target/lambda/{nectr-disconnect,nectr-webhook-cleanup,nectr-pre-traffic}/bootstrap.
build: bootstrap aarch64-target
	$(TOOLS) cargo lambda build --release --arm64
	python3 scripts/check/check_bootstrap.py target/lambda/nectr-disconnect/bootstrap
	python3 scripts/check/check_bootstrap.py target/lambda/nectr-webhook-cleanup/bootstrap
	python3 scripts/check/check_bootstrap.py target/lambda/nectr-pre-traffic/bootstrap

## Handler overhead (criterion) and the release binary under a local Lambda
## runtime: warm latency per injected latency L, cold start, memory.
bench: bootstrap
	$(TOOLS) cargo lambda build --release --lambda-dir target/lambda-bench
	cargo bench --bench handler
	cargo bench --bench lambda

## Where a cold start's CPU goes, in instructions: the release build with
## its symbols under valgrind's callgrind, from process start to the first
## answer (BENCHMARKS.md, "Profile"). Installs Debian's valgrind if missing.
profile: bootstrap
	command -v callgrind_control >/dev/null || { source scripts/tools/apt_install.sh \
	  && apt_install target/profile-apt.log valgrind; }
	cargo build --profile profiling --bin nectr-disconnect
	BENCH_SECTIONS=profile cargo bench --bench lambda

## libFuzzer on the router and the name rules for FUZZ_SECONDS (default 60); needs
## nightly. The same property runs on stable in `make unit` (hostile::names).
fuzz:
	bash scripts/check/fuzz.sh

## Installs the pinned tools: moto, cargo-lambda, SAM CLI, cfn-lint, ArcadeDB and
## schemathesis into .venv; Prism, GitHub's OpenAPI description, playwright-core and axios into node_modules.
bootstrap:
	bash scripts/tools/bootstrap.sh

## cargo-lambda adds the target itself when it is missing, once per
## function `sam build` builds; installed once here instead.
aarch64-target:
	rustup target list --installed | grep -qx aarch64-unknown-linux-gnu \
	  || rustup target add aarch64-unknown-linux-gnu

## Regenerates events/*.json (tokens signed with the local test key).
fixtures:
	python3 scripts/tools/generate_events.py
