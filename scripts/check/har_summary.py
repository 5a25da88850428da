"""What a schemathesis run exercised: each answer of its HAR report by
method and status, on one line.

usage: har_summary.py HAR_FILE
"""
import collections
import json
import sys

entries = json.load(open(sys.argv[1]))["log"]["entries"]
seen = collections.Counter((e["request"]["method"], e["response"]["status"]) for e in entries)
print("schemathesis requests by method and status:",
      ", ".join(f"{method} {status}: {n}" for (method, status), n in sorted(seen.items())))
