"""Checks what the real binaries wrote while every fixture in events/ went
through them once: every line of a function is one JSON object; log lines
carry the Powertools keys (and, inside an invocation, its request id, trace
id and cold_start, true only for the first invocation of each function,
told apart by `service`); the functions wrote one metric document per
disconnect and one per cleanup message.

usage: check_function_log.py LAMBDA_LOG [--untraced] [--every-invocation-cold]

--untraced: the emulator gives no X-Ray trace id (sam local).
--every-invocation-cold: each invocation starts a fresh environment
(`sam local invoke`).
"""
import glob
import json
import pathlib
import sys

ROOT = pathlib.Path(__file__).resolve().parents[2]
# Defined once for the suite and this script.
KEYS = json.loads((ROOT / "tests/log-line-keys.json").read_text())
LOG_KEYS = KEYS["every_line"]

path, options = sys.argv[1], set(sys.argv[2:])
unknown = options - {"--untraced", "--every-invocation-cold"}
if unknown:
    sys.exit(__doc__)
# cargo lambda watch gives every invocation an X-Ray trace id, so its lines
# carry the traced keys too.
INVOCATION_KEYS = KEYS["every_invocation_line"] + ([] if "--untraced" in options else KEYS["traced_invocation_line"])
every_invocation_cold = "--every-invocation-cold" in options
invocations = sum(
    len(json.load(open(f))["Records"]) if "/sqs-" in f else 1 for f in glob.glob(str(ROOT / "events/*.json"))
)
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
        first = every_invocation_cold or entry["function_request_id"] == seen[0]
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
