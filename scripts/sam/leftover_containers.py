"""The ids of containers a killed run left behind, from `podman ps -a
--format json` on stdin: stopped ones, and running ones older than any
`sam local` invocation lasts. A container of a run going on beside this
one is neither, and is left alone.

usage: podman ps -a --filter ancestor=IMAGE --format json | leftover_containers.py
"""
import json
import sys
import time

# The worker's Timeout is 60 s and SAM removes a container when its
# invocation ends; ten minutes is no run's container.
OLDER_THAN_SECONDS = 600

containers = json.load(sys.stdin)
now = time.time()
print(" ".join(
    c["Id"] for c in containers
    if c.get("State") != "running" or now - c.get("StartedAt", now) > OLDER_THAN_SECONDS
))
