"""The local world's command line (crates/test-world), as the scripts here
run it: local_env.sh and `make bench` build it before they seed."""
import os
import pathlib
import subprocess
import sys

BINARY = pathlib.Path(__file__).resolve().parents[2] / "target/debug/test-world"


def run(*args):
    """What `test-world ARGS` prints. It trusts the CA boto3 trusts here
    (AWS_CA_BUNDLE) through SSL_CERT_FILE, as the functions do."""
    if not BINARY.exists():
        sys.exit(f"{BINARY} is missing: cargo build -p test-world --bin test-world")
    env = dict(os.environ)
    if "AWS_CA_BUNDLE" in env:
        env["SSL_CERT_FILE"] = env["AWS_CA_BUNDLE"]
    return subprocess.run([BINARY, *args], check=True, stdout=subprocess.PIPE, text=True, env=env).stdout
