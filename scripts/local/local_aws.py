#!/usr/bin/env python3
"""Set up and inspect the local AWS world (moto) the way the rest of Nectr
writes it: the table of CONTRACT §3, a KMS key for OAuth tokens (encrypted
with the encryption context {"user_id": ...}), the JWT signing secret and the
Neo4j credentials secret.

    local_aws.py setup      create everything and seed the fixtures' state
                            (tests/fixture-state.json)
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

TABLE = "nectr-local"
CLEANUP_QUEUE = "nectr-webhook-cleanup"
DEAD_LETTER_QUEUE = "nectr-webhook-cleanup-dlq"
# The template's redrive policy.
MAX_RECEIVES = 8
SECRET_ID = "nectr/local/jwt-signing-key"
NEO4J_SECRET_ID = "nectr/local/neo4j"
KEY_ALIAS = "alias/nectr-local-oauth-tokens"
ROOT = pathlib.Path(__file__).resolve().parents[2]
# The fixtures' state, defined once for the demo, the suite's fakes and the bench.
STATE = json.loads((ROOT / "tests/fixture-state.json").read_text())
USER = STATE["user"]


def user_key():
    return {"S": f"USER#{USER}"}


def installation_key(repo, installation_id):
    """The sort key of CONTRACT §3: the repository in lower case, then the id."""
    return {"S": f"INSTALL#{repo.lower()}#{installation_id}"}


def setup():
    dynamodb = boto3.client("dynamodb")
    kms = boto3.client("kms")
    secrets = boto3.client("secretsmanager")

    dynamodb.create_table(
        TableName=TABLE,
        BillingMode="PAY_PER_REQUEST",
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}],
        AttributeDefinitions=[
            {"AttributeName": "pk", "AttributeType": "S"},
            {"AttributeName": "sk", "AttributeType": "S"},
        ],
    )
    key_id = kms.create_key(Description="nectr OAuth tokens (local)")["KeyMetadata"]["KeyId"]
    kms.create_alias(AliasName=KEY_ALIAS, TargetKeyId=key_id)
    secrets.create_secret(Name=SECRET_ID, SecretString=test_world.run("fixture-key").strip())
    secrets.create_secret(
        Name=NEO4J_SECRET_ID,
        SecretString=json.dumps({"username": local_graph.USERNAME, "password": local_graph.PASSWORD}),
    )

    ciphertext = kms.encrypt(
        KeyId=key_id, Plaintext=STATE["oauth_token"].encode(), EncryptionContext={"user_id": USER}
    )["CiphertextBlob"]
    dynamodb.put_item(
        TableName=TABLE,
        Item={
            "pk": user_key(),
            "sk": {"S": "PROFILE"},
            "github_login": {"S": STATE["github_login"]},
            "github_token": {"B": ciphertext},
        },
    )
    sqs = boto3.client("sqs")
    dead_letters = sqs.create_queue(QueueName=DEAD_LETTER_QUEUE)["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=dead_letters, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    sqs.create_queue(
        QueueName=CLEANUP_QUEUE,
        Attributes={"RedrivePolicy": json.dumps({"deadLetterTargetArn": arn, "maxReceiveCount": MAX_RECEIVES})},
    )

    for installation in STATE["installations"]:
        item = {
            "pk": user_key(),
            "sk": installation_key(installation["repo"], installation["installation_id"]),
            "installation_id": {"S": installation["installation_id"]},
            "repo_full_name": {"S": installation["repo"]},
            "is_active": {"BOOL": "disconnected_at" not in installation},
            "installed_at": {"S": STATE["installed_at"]},
        }
        if installation["webhook_id"] is not None:
            item["webhook_id"] = {"N": str(installation["webhook_id"])}
        if "disconnected_at" in installation:
            item["disconnected_at"] = {"S": installation["disconnected_at"]}
        dynamodb.put_item(TableName=TABLE, Item=item)


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
    key = {"pk": user_key(), "sk": installation_key(repo, installation_id)}
    found = boto3.client("dynamodb").get_item(TableName=TABLE, Key=key, ConsistentRead=True).get("Item")
    print(json.dumps(found, indent=2, sort_keys=True))


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
