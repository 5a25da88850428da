#!/usr/bin/env python3
"""Set up and inspect the local AWS world (moto). Setting it up and reading
an item are the test-world CLI's (`test-world seed`, `test-world item`),
which writes the table, keys and items the way the rest of Nectr does and
the suite does; this script adds the queue work the demo and the checks do.

    local_aws.py setup      create what env.json names and seed the
                            fixtures' state (tests/fixture-state.json)
    local_aws.py reset      wipe moto and set up again
    local_aws.py item REPO INSTALLATION_ID
                            print that installation item of the fixture user
    local_aws.py queue-url  print the URL of the webhook cleanup queue
    local_aws.py receive FILE [SECONDS]
                            wait up to SECONDS (default 90) for cleanup jobs
                            and write them to FILE as Lambda's SQS event
    local_aws.py settle EVENT RESPONSE
                            what the event source mapping does after the
                            worker answered RESPONSE: delete every message
                            of EVENT not reported as a failure
    local_aws.py depth      print how many jobs the queue and its
                            dead-letter queue hold

Talks to AWS_ENDPOINT_URL with the usual AWS_* variables (AWS_CA_BUNDLE to
trust the local world's CA). The secret holds the local test key, so the
fixtures in events/ work against this world too.
"""
import json
import os
import pathlib
import ssl
import sys
import time
import urllib.request

import boto3

import local_graph
import test_world

ROOT = pathlib.Path(__file__).resolve().parents[2]
# The queue env.json configures, and its dead-letter queue as test-world
# seed names it.
CLEANUP_QUEUE = json.loads((ROOT / "env.json").read_text())["DisconnectFunction"]["CLEANUP_QUEUE_URL"].rsplit("/", 1)[1]
DEAD_LETTER_QUEUE = f"{CLEANUP_QUEUE}-dlq"


def setup():
    test_world.run("seed", local_graph.PASSWORD)


def reset():
    request = urllib.request.Request(f"{os.environ['AWS_ENDPOINT_URL']}/moto-api/reset", method="POST")
    context = ssl.create_default_context(cafile=os.environ.get("AWS_CA_BUNDLE"))
    urllib.request.urlopen(request, context=context)
    setup()


def queue_url(name=CLEANUP_QUEUE):
    return boto3.client("sqs").get_queue_url(QueueName=name)["QueueUrl"]


def receive(path, seconds=90):
    sqs = boto3.client("sqs")
    messages = []
    deadline = time.monotonic() + seconds
    while not messages and time.monotonic() < deadline:
        messages = sqs.receive_message(
            QueueUrl=queue_url(), MaxNumberOfMessages=10, WaitTimeSeconds=1,
            MessageSystemAttributeNames=["All"],
        ).get("Messages", [])
    arn = sqs.get_queue_attributes(QueueUrl=queue_url(), AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    records = [{
        "messageId": m["MessageId"], "receiptHandle": m["ReceiptHandle"], "body": m["Body"],
        "attributes": m.get("Attributes", {}), "messageAttributes": {}, "md5OfBody": m["MD5OfBody"],
        "eventSource": "aws:sqs", "eventSourceARN": arn, "awsRegion": os.environ["AWS_DEFAULT_REGION"],
    } for m in messages]
    with open(path, "w") as f:
        json.dump({"Records": records}, f, indent=2)
    print(f"{len(records)} cleanup job(s) received")


def settle(event_path, response_path):
    failed = {f["itemIdentifier"] for f in json.load(open(response_path))["batchItemFailures"]}
    sqs = boto3.client("sqs")
    for record in json.load(open(event_path))["Records"]:
        if record["messageId"] not in failed:
            sqs.delete_message(QueueUrl=queue_url(), ReceiptHandle=record["receiptHandle"])


def depth():
    sqs = boto3.client("sqs")
    names = ["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesDelayed", "ApproximateNumberOfMessagesNotVisible"]
    for queue in (CLEANUP_QUEUE, DEAD_LETTER_QUEUE):
        attributes = sqs.get_queue_attributes(QueueUrl=queue_url(queue), AttributeNames=names)["Attributes"]
        print(f"{queue}: {sum(int(attributes[n]) for n in names)} job(s)")


def item(repo, installation_id):
    print(test_world.run("item", repo, installation_id), end="")


if __name__ == "__main__":
    command = sys.argv[1] if len(sys.argv) > 1 else ""
    if command == "setup":
        setup()
    elif command == "reset":
        reset()
    elif command == "item" and len(sys.argv) == 4:
        item(sys.argv[2], sys.argv[3])
    elif command == "queue-url":
        print(queue_url())
    elif command == "receive" and len(sys.argv) in (3, 4):
        receive(sys.argv[2], *(int(s) for s in sys.argv[3:]))
    elif command == "settle" and len(sys.argv) == 4:
        settle(sys.argv[2], sys.argv[3])
    elif command == "depth":
        depth()
    else:
        sys.exit(__doc__)
