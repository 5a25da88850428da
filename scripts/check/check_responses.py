"""Checks every answer the test suite recorded against openapi.yaml: the
status is documented for the method, the body validates against its schema
(jsonschema), the content type is JSON and every documented header is there
with a value its schema allows. A 404 `Not Found` is the answer for paths
outside the API (CONTRACT §1) and is only counted.

usage: check_responses.py openapi.yaml RESPONSES.ndjson...
"""
import collections
import json
import sys

import jsonschema
import yaml

INSTALL_PATH = "/api/v1/repos/{owner}/{repo}/install"

spec = yaml.safe_load(open(sys.argv[1]))


def deref(node):
    """The node with every local $ref replaced by what it points at."""
    if isinstance(node, dict):
        if "$ref" in node:
            target = spec
            for part in node["$ref"].removeprefix("#/").split("/"):
                target = target[part]
            return deref(target)
        return {key: deref(value) for key, value in node.items()}
    if isinstance(node, list):
        return [deref(item) for item in node]
    return node


operations = deref(spec["paths"][INSTALL_PATH])
not_allowed = deref(spec["components"]["responses"]["MethodNotAllowed"])

problems, seen = [], collections.Counter()
for path in sys.argv[2:]:
    for line in open(path):
        answer = json.loads(line)
        method, status = answer["method"], answer["status"]
        where = f"{method} {answer['path']} -> {status}"
        body = json.loads(answer["body"]) if answer["body"] else None
        if status == 404 and body == {"detail": "Not Found"}:
            seen["404 (outside the API)"] += 1
            continue
        seen[f"{method} {status}"] += 1
        operation = operations.get(method.lower())
        responses = operation["responses"] if operation else {"405": not_allowed}
        documented = responses.get(str(status))
        if documented is None:
            problems.append(f"{where}: status not documented")
            continue
        headers = {name.lower(): value for name, value in answer["headers"].items()}
        schema = documented["content"]["application/json"]["schema"]
        if not headers.get("content-type", "").startswith("application/json"):
            problems.append(f"{where}: content-type {headers.get('content-type')}")
        try:
            jsonschema.validate(body, schema)
        except jsonschema.ValidationError as e:
            problems.append(f"{where}: body {answer['body']}: {e.message}")
        for name, header in documented.get("headers", {}).items():
            value = headers.get(name.lower())
            if value is None:
                if header.get("required"):
                    problems.append(f"{where}: no {name} header")
                continue
            if header["schema"].get("type") == "integer":
                value = int(value) if value.isdigit() else value
            try:
                jsonschema.validate(value, header["schema"])
            except jsonschema.ValidationError as e:
                problems.append(f"{where}: {name}: {e.message}")

for problem in problems:
    print(f"FAIL {problem}")
print(f"responses checked against openapi.yaml: {sum(seen.values())} "
      f"({', '.join(f'{k}: {n}' for k, n in sorted(seen.items()))}), {len(problems)} problems")
sys.exit(1 if problems else 0)
