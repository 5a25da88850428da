#!/usr/bin/env python3
"""Set up and inspect the local AWS world (moto) the way the rest of Nectr
writes it: the table of CONTRACT §3, a KMS key for OAuth tokens (encrypted
with the encryption context {"user_id": ...}), the JWT signing secret and the
Neo4j credentials secret.

    local_aws.py setup      create everything and seed the demo user and
                            installations
    local_aws.py reset      wipe moto and set up again
    local_aws.py item SK    print the installation item of fixture-user

Talks to AWS_ENDPOINT_URL with the usual AWS_* variables (AWS_CA_BUNDLE to
trust the local world's CA). The user is
`fixture-user` and the secret holds the local test key, so the fixtures in
events/ work against this world too.
"""
import json
import os
import ssl
import sys
import urllib.request

import boto3

import local_graph
from mint_jwt import LOCAL_TEST_KEY

TABLE = "nectr-local"
SECRET_ID = "nectr/local/jwt-signing-key"
NEO4J_SECRET_ID = "nectr/local/neo4j"
KEY_ALIAS = "alias/nectr-local-oauth-tokens"
USER = "fixture-user"
OAUTH_TOKEN = "gho_localDemoTokenNotARealOne0000000000"


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
    secrets.create_secret(Name=SECRET_ID, SecretString=LOCAL_TEST_KEY)
    secrets.create_secret(
        Name=NEO4J_SECRET_ID,
        SecretString=json.dumps({"username": local_graph.USERNAME, "password": local_graph.PASSWORD}),
    )

    ciphertext = kms.encrypt(
        KeyId=key_id, Plaintext=OAUTH_TOKEN.encode(), EncryptionContext={"user_id": USER}
    )["CiphertextBlob"]
    dynamodb.put_item(
        TableName=TABLE,
        Item={
            "pk": {"S": f"USER#{USER}"},
            "sk": {"S": "PROFILE"},
            "github_login": {"S": "fixture-dev"},
            "github_token": {"B": ciphertext},
        },
    )
    for repo, installation_id, webhook_id in [("acme/my-backend", "inst-backend", 42), ("acme/docs", "inst-docs", None)]:
        item = {
            "pk": {"S": f"USER#{USER}"},
            "sk": {"S": f"INSTALL#{repo.lower()}#{installation_id}"},
            "installation_id": {"S": installation_id},
            "repo_full_name": {"S": repo},
            "is_active": {"BOOL": True},
            "installed_at": {"S": "2026-01-02T03:04:05Z"},
        }
        if webhook_id is not None:
            item["webhook_id"] = {"N": str(webhook_id)}
        dynamodb.put_item(TableName=TABLE, Item=item)


def reset():
    request = urllib.request.Request(f"{os.environ['AWS_ENDPOINT_URL']}/moto-api/reset", method="POST")
    context = ssl.create_default_context(cafile=os.environ.get("AWS_CA_BUNDLE"))
    urllib.request.urlopen(request, context=context)
    setup()


def item(sk):
    found = boto3.client("dynamodb").get_item(
        TableName=TABLE, Key={"pk": {"S": f"USER#{USER}"}, "sk": {"S": sk}}, ConsistentRead=True
    ).get("Item")
    print(json.dumps(found, indent=2, sort_keys=True))


if __name__ == "__main__":
    command = sys.argv[1] if len(sys.argv) > 1 else ""
    if command == "setup":
        setup()
    elif command == "reset":
        reset()
    elif command == "item" and len(sys.argv) == 3:
        item(sys.argv[2])
    else:
        sys.exit(__doc__)
