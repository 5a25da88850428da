# The two commands of the quick start are `make demo` and `make test`.
.PHONY: demo serve test bootstrap fixtures

## A real disconnect on this machine, printed (moto + GitHub stub + cargo lambda watch).
demo:
	bash scripts/demo.sh

## The demo's world left running for manual requests and `cargo lambda invoke`.
serve:
	bash scripts/serve.sh

## Formatting, lints and all three test layers. `.ci/run` calls exactly this.
test: bootstrap
	cargo fmt --all -- --check
	cargo clippy --all-targets -- -D warnings
	cargo test

## Installs the pinned tools (moto, cargo-lambda) into .venv.
bootstrap:
	bash scripts/bootstrap.sh

## Regenerates events/*.json (tokens signed with the local test key).
fixtures:
	python3 scripts/generate_events.py
