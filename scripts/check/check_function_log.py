"""Checks what the real binaries wrote under `cargo lambda watch`: every
line of a function is one JSON object; log lines carry the Powertools keys
(and, inside an invocation, its request id, trace id and cold_start, true
only for the first invocation of each function, told apart by `service`);
the functions wrote METRIC_DOCUMENTS metric documents (one per disconnect,
one per cleanup message).

usage: check_function_log.py LAMBDA_LOG METRIC_DOCUMENTS
"""
import json
import pathlib
import sys

# Defined once for the suite and this script. cargo lambda watch gives every
# invocation an X-Ray trace id, so its lines carry the traced keys too.
KEYS = json.loads((pathlib.Path(__file__).resolve().parents[2] / "tests/log-line-keys.json").read_text())
LOG_KEYS = KEYS["every_line"]
INVOCATION_KEYS = KEYS["every_invocation_line"] + KEYS["traced_invocation_line"]

path, invocations = sys.argv[1], int(sys.argv[2])
problems, documents, requests = [], [], {}
# cargo lambda watch prefixes its own lines; the function's start with "{".
lines = [line for line in open(path) if line.startswith("{")]
for line in lines:
    try:
        entry = json.loads(line)
    except ValueError as e:
        problems.append(f"not JSON ({e}): {line.strip()}")
        continue
    if "_aws" in entry:
        documents.append(entry)
        if not entry["_aws"].get("CloudWatchMetrics") or "Timestamp" not in entry["_aws"]:
            problems.append(f"metric document without directives or Timestamp: {line.strip()}")
        continue
    missing = [key for key in LOG_KEYS if not isinstance(entry.get(key), str)]
    if "function_request_id" in entry:
        missing += [key for key in INVOCATION_KEYS if key not in entry]
        seen = requests.setdefault(entry.get("service"), [])
        if entry["function_request_id"] not in seen:
            seen.append(entry["function_request_id"])
        first = entry["function_request_id"] == seen[0]
        if entry.get("cold_start") is not first:
            problems.append(f"cold_start should be {first}: {line.strip()}")
    if "requestId" in entry:
        problems.append(f"lambda_runtime's span leaked into the line: {line.strip()}")
    if missing:
        problems.append(f"no {', '.join(missing)}: {line.strip()}")
if len(documents) != invocations:
    problems.append(f"{len(documents)} metric documents for {invocations} invocations")
for problem in problems:
    print(f"FAIL {problem}")
print(f"function log: {len(lines)} lines, {len(documents)} metric documents, "
      f"{len(problems)} problems")
sys.exit(1 if problems else 0)
