"""The disconnect's variables for `cargo lambda watch --env-file`: env.json's
DisconnectFunction entry with this run's endpoints, and SSL_CERT_FILE set
to the run's CA (left out when the run is in plain text: CA_FILE empty).

usage: function_env.py AWS_ENDPOINT_URL GITHUB_API_URL NEO4J_URI CLEANUP_QUEUE_URL CA_FILE > FILE
"""
import json
import pathlib
import sys

ROOT = pathlib.Path(__file__).resolve().parents[2]

if len(sys.argv) != 6:
    sys.exit(__doc__)
variables = json.loads((ROOT / "env.json").read_text())["DisconnectFunction"]
(variables["AWS_ENDPOINT_URL"], variables["GITHUB_API_URL"], variables["NEO4J_URI"],
 variables["CLEANUP_QUEUE_URL"]) = sys.argv[1:5]
variables["SSL_CERT_FILE"] = sys.argv[5]
if not sys.argv[5]:
    del variables["SSL_CERT_FILE"]
print("\n".join(f"{name}={value}" for name, value in variables.items()))
