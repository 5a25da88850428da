"""Checks one fixture's answer against tests/expected-responses.json, as the
handler-level fixture test does: an API Gateway event's status, body and
headers; an SQS batch's response and the hooks GitHub was asked to delete.
Used for `cargo lambda invoke` (invoke_fixtures.sh) and `sam local invoke`
(scripts/sam/sam_local.sh).

usage: check_fixture_answer.py NAME ANSWER_FILE GITHUB_RECEIVED_FILE
"""
import json
import pathlib
import re
import sys

ROOT = pathlib.Path(__file__).resolve().parents[2]
name, out, github = sys.argv[1:4]
expected = json.loads((ROOT / "tests/expected-responses.json").read_text())[name]
response = json.load(open(out))
problems = []
if name.startswith("sqs-"):
    removed = [int(m.group(1)) for r in json.load(open(github)) if (m := re.search(r"/hooks/(\d+)$", r["path"]))]
    if response != expected["response"]:
        problems.append(f"answered {json.dumps(response)}, expected {json.dumps(expected['response'])}")
    if removed != expected["webhooks_removed"]:
        problems.append(f"GitHub got deletes of {removed}, expected {expected['webhooks_removed']}")
    summary = f"{len(response.get('batchItemFailures', []))} failures"
else:
    headers = {k.lower(): v for k, v in (response.get("headers") or {}).items()}
    headers.update({k.lower(): v[0] for k, v in (response.get("multiValueHeaders") or {}).items()})
    if response["statusCode"] != expected["status"]:
        problems.append(f"status {response['statusCode']}, expected {expected['status']}")
    if json.loads(response["body"]) != expected["body"]:
        problems.append(f"body {response['body']}, expected {json.dumps(expected['body'])}")
    for header, value in {"content-type": "application/json", **expected.get("headers", {})}.items():
        if headers.get(header) != value:
            problems.append(f"{header}: {headers.get(header)!r}, expected {value!r}")
    summary = str(response["statusCode"])
print(f"{'ok  ' if not problems else 'FAIL'} {name} -> {summary}")
for problem in problems:
    print(f"     {problem}")
sys.exit(1 if problems else 0)
