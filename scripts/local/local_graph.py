#!/usr/bin/env python3
"""Seed the local code graph (ArcadeDB speaking Bolt, standing in for Neo4j)
the way the rest of Nectr writes it: Repository, File, PullRequest and
Developer nodes for the demo user's two repositories.

    local_graph.py seed URL    run the seed through ArcadeDB's HTTP API at URL

The function reads the graph over Bolt with the credentials local_aws.py
stores in Secrets Manager.
"""
import base64
import json
import sys
import urllib.request

USERNAME = "root"
# A local-only password, like the fixtures' signing key (crates/test-world/src/jwt.rs).
PASSWORD = "nectr-local-graph-password"

SEED = """
CREATE (backend:Repository {full_name: 'acme/my-backend'}),
       (docs:Repository {full_name: 'acme/docs'}),
       (backend)-[:CONTAINS]->(:File {path: 'src/main.rs'}),
       (backend)-[:CONTAINS]->(:File {path: 'src/lib.rs'}),
       (backend)-[:CONTAINS]->(:File {path: 'Cargo.toml'}),
       (docs)-[:CONTAINS]->(:File {path: 'README.md'}),
       (:PullRequest {repo: 'acme/my-backend', number: 7}),
       (:PullRequest {repo: 'acme/my-backend', number: 8}),
       (alice:Developer {login: 'alice'}),
       (bob:Developer {login: 'bob'}),
       (alice)-[:CONTRIBUTED_TO]->(backend),
       (bob)-[:CONTRIBUTED_TO]->(backend),
       (bob)-[:CONTRIBUTED_TO]->(docs)
"""


def seed(url):
    request = urllib.request.Request(
        f"{url}/api/v1/command/neo4j",
        data=json.dumps({"language": "opencypher", "command": SEED}).encode(),
        headers={
            "Content-Type": "application/json",
            "Authorization": "Basic " + base64.b64encode(f"{USERNAME}:{PASSWORD}".encode()).decode(),
        },
    )
    urllib.request.urlopen(request).read()


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "seed":
        seed(sys.argv[2])
    else:
        sys.exit(__doc__)
