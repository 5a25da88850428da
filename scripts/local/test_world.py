"""The local world's command line (crates/test-world), as the scripts here
run it: local_env.sh and `make bench` build it before they seed."""
import pathlib
import subprocess
import sys

BINARY = pathlib.Path(__file__).resolve().parents[2] / "target/debug/test-world"


def run(*args):
    """What `test-world ARGS` prints."""
    if not BINARY.exists():
        sys.exit(f"{BINARY} is missing: cargo build -p test-world --bin test-world")
    return subprocess.run([BINARY, *args], check=True, capture_output=True, text=True).stdout
