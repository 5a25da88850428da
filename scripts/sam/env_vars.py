"""env.json for this run: the functions' variables as env.json gives them,
with the local world's endpoints at the ports this run started them on,
all reached from inside the containers as host.docker.internal (the run's
CA covers that name). `sam local invoke --env-vars` and `sam local
start-api --env-vars` read it.

With WEB_APP_ORIGIN, the disconnect's ALLOWED_ORIGINS is that origin, as
the template sets it from its WebAppOrigin parameter.

usage: env_vars.py MOTO_PORT GITHUB_PORT BOLT_PORT QUEUE_URL [WEB_APP_ORIGIN] > FILE
"""
import json
import pathlib
import sys
from urllib.parse import urlsplit

ROOT = pathlib.Path(__file__).resolve().parents[2]
HOST = "host.docker.internal"

if len(sys.argv) not in (5, 6):
    sys.exit(__doc__)
moto_port, github_port, bolt_port, queue_url = sys.argv[1:5]
queue_path = urlsplit(queue_url).path
endpoints = {
    "AWS_ENDPOINT_URL": f"https://{HOST}:{moto_port}",
    "GITHUB_API_URL": f"https://{HOST}:{github_port}",
    "NEO4J_URI": f"neo4j+s://{HOST}:{bolt_port}",
    "CLEANUP_QUEUE_URL": f"https://{HOST}:{moto_port}{queue_path}",
}
functions = json.loads((ROOT / "env.json").read_text())
for variables in functions.values():
    for name, value in endpoints.items():
        if name in variables:
            variables[name] = value
    if len(sys.argv) == 6 and "ALLOWED_ORIGINS" in variables:
        variables["ALLOWED_ORIGINS"] = sys.argv[5]
json.dump(functions, sys.stdout, indent=2)
